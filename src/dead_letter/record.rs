//! A dead letter: the original bytes, why they were refused, and where they came from.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;

use sha2::{Digest, Sha256};

use crate::kafka::headers;
use crate::kafka::produce::OutRecord;

/// Bytes of a record's framing in Kafka besides key, headers and value (librdkafka counts at most
/// this much per message against `message.max.bytes`), with a margin.
const FRAMING: usize = 256;
/// Framing of one header (varint lengths), with a margin.
const HEADER_FRAMING: usize = 16;

/// The stage of the pipeline that refused the record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// The bytes could not be decoded (not JSON, too deep, duplicate keys).
    Decode,
    /// The event broke a validation rule.
    Validate,
    /// Kafka refused the routed record.
    Produce,
    /// A sink could not decode a consumed record.
    SinkDecode,
    /// A sink could not write a record after its retries.
    SinkWrite,
}

impl Stage {
    /// The header / label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Decode => "decode",
            Self::Validate => "validate",
            Self::Produce => "produce",
            Self::SinkDecode => "sink_decode",
            Self::SinkWrite => "sink_write",
        }
    }
}

impl From<pix_domain::Stage> for Stage {
    fn from(s: pix_domain::Stage) -> Self {
        match s {
            pix_domain::Stage::Decode => Self::Decode,
            pix_domain::Stage::Validate => Self::Validate,
        }
    }
}

/// One reason, as published in `pix-dlq-reasons`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DlqReason {
    /// Stable reason code.
    pub code: String,
    /// Field path, empty for the whole record.
    pub path: String,
    /// Human explanation (never the offending PII value).
    pub detail: String,
}

/// Coordinates of a consumed record that a sink dead-letters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// Topic.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
}

/// A record for the dead-letter topic. Build it with a constructor per stage.
#[derive(Debug, Clone)]
pub struct DeadLetterRecord {
    /// The original bytes, unchanged.
    pub payload: Vec<u8>,
    /// Media type of `payload`.
    pub content_type: String,
    /// Which stage refused it.
    pub stage: Stage,
    /// Why (at least one).
    pub reasons: Vec<DlqReason>,
    /// Source or sink id.
    pub component_id: String,
    /// Index of the item in its body, when it came in a batch.
    pub item_index: Option<usize>,
    /// When pix-ingest received the bytes.
    pub received_at: DateTime<Utc>,
    /// W3C trace context.
    pub traceparent: Option<String>,
    /// Where a consumer read it.
    pub origin: Option<Origin>,
    /// Kafka key to keep, if any.
    pub key: Option<Vec<u8>>,
    /// The verified client certificate of the connection the bytes came in on.
    pub client: Option<std::sync::Arc<crate::tls::PeerIdentity>>,
}

impl DeadLetterRecord {
    /// A record refused at `stage` by the source or sink `component_id`.
    pub fn new(
        stage: Stage,
        component_id: &str,
        payload: Vec<u8>,
        content_type: &str,
        reasons: Vec<DlqReason>,
        received_at: DateTime<Utc>,
    ) -> Self {
        Self {
            payload,
            content_type: content_type.to_owned(),
            stage,
            reasons,
            component_id: component_id.to_owned(),
            item_index: None,
            received_at,
            traceparent: None,
            origin: None,
            key: None,
            client: None,
        }
    }

    /// Sets the index of the item in its body.
    pub fn with_item_index(mut self, index: usize) -> Self {
        self.item_index = Some(index);
        self
    }

    /// Sets the Kafka key (the endToEndId, when it could be read), like the record it stands for.
    pub fn with_key(mut self, key: Option<String>) -> Self {
        self.key = key.map(String::into_bytes);
        self
    }

    /// Sets the W3C trace context.
    pub fn with_traceparent(mut self, traceparent: String) -> Self {
        self.traceparent = Some(traceparent);
        self
    }

    /// Sets the client certificate of the connection.
    pub fn with_client(mut self, client: Option<std::sync::Arc<crate::tls::PeerIdentity>>) -> Self {
        self.client = client;
        self
    }

    /// The first reason code.
    pub fn first_code(&self) -> &str {
        self.reasons.first().map_or("unknown", |r| r.code.as_str())
    }

    /// The record for `topic`, at most `max_bytes` long (key, headers and value, with room for
    /// Kafka's own framing): bytes that do not fit are cut, and the record then says so with the
    /// original length and digest.
    pub(crate) fn to_out_record(&self, topic: &str, max_bytes: usize) -> OutRecord {
        let reasons = serde_json::to_string(&self.reasons).unwrap_or_else(|_| "[]".into());
        let received = self.received_at.to_rfc3339_opts(SecondsFormat::Millis, true);
        let index = self.item_index.map(|i| i.to_string());
        let origin = self.origin.as_ref().map(|o| (o.topic.clone(), o.partition.to_string(), o.offset.to_string()));
        let mut pairs: Vec<(&str, &str)> = vec![
            (headers::DLQ_REASON, self.first_code()),
            (headers::DLQ_REASONS, &reasons),
            (headers::DLQ_STAGE, self.stage.as_str()),
            (headers::SOURCE, &self.component_id),
            (headers::RECEIVED_AT, &received),
            (headers::CONTENT_TYPE, &self.content_type),
        ];
        if let Some(i) = &index {
            pairs.push((headers::ITEM_INDEX, i));
        }
        if let Some(tp) = &self.traceparent {
            pairs.push((headers::TRACEPARENT, tp));
        }
        if let Some(c) = &self.client {
            pairs.push((headers::CLIENT_SUBJECT, &c.subject));
            pairs.push((headers::CLIENT_SERIAL, &c.serial));
        }
        if let Some((t, p, o)) = &origin {
            pairs.push((headers::DLQ_ORIGIN_TOPIC, t));
            pairs.push((headers::DLQ_ORIGIN_PARTITION, p));
            pairs.push((headers::DLQ_ORIGIN_OFFSET, o));
        }
        let framing: usize = FRAMING + self.key.as_ref().map_or(0, Vec::len);
        let used = framing + pairs.iter().map(|(k, v)| k.len() + v.len() + HEADER_FRAMING).sum::<usize>();
        if used + self.payload.len() <= max_bytes {
            let payload = self.payload.clone();
            return OutRecord {
                topic: topic.to_owned(),
                key: self.key.clone(),
                payload,
                headers: headers::build(pairs),
            };
        }
        let (length, digest) = (self.payload.len().to_string(), hex::encode(Sha256::digest(&self.payload)));
        pairs.push((headers::DLQ_TRUNCATED, &length));
        pairs.push((headers::DLQ_ORIGINAL_SHA256, &digest));
        let used = used + 2 * HEADER_FRAMING + 128;
        let keep = max_bytes.saturating_sub(used).min(self.payload.len());
        OutRecord {
            topic: topic.to_owned(),
            key: self.key.clone(),
            payload: self.payload[..keep].to_vec(),
            headers: headers::build(pairs),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(r: &OutRecord, name: &str) -> Option<String> {
        use rdkafka::message::Headers;
        r.headers.iter().find(|h| h.key == name).and_then(|h| h.value).map(|v| String::from_utf8_lossy(v).into_owned())
    }

    #[test]
    fn a_dead_letter_too_large_for_one_record_is_cut_and_says_so() {
        let bytes = vec![b'x'; 10_000];
        let letter = DeadLetterRecord::new(Stage::Decode, "api", bytes, "application/json", vec![], Utc::now());
        let whole = letter.to_out_record("dlq", 20_000);
        assert_eq!((whole.payload.len(), header(&whole, headers::DLQ_TRUNCATED)), (10_000, None));
        let cut = letter.to_out_record("dlq", 4_000);
        assert!(cut.payload.len() < 4_000 && cut.payload.len() > 2_000, "{}", cut.payload.len());
        assert_eq!(header(&cut, headers::DLQ_TRUNCATED).as_deref(), Some("10000"));
        assert_eq!(header(&cut, headers::DLQ_ORIGINAL_SHA256).map(|h| h.len()), Some(64));
        let headers_len: usize = {
            use rdkafka::message::Headers;
            cut.headers.iter().map(|h| h.key.len() + h.value.map_or(0, <[u8]>::len)).sum()
        };
        assert!(cut.payload.len() + headers_len + FRAMING <= 4_000);
    }
}
