//! A dead letter as read back from the dead-letter topic (its headers parsed, its bytes kept),
//! and the masked summary a browse shows of it.

use chrono::{DateTime, Utc};
use rdkafka::Message;
use rdkafka::message::Headers;
use serde::Serialize;

use crate::kafka::headers;

/// One consumed dead letter.
#[derive(Debug, Clone)]
pub(crate) struct Letter {
    /// Its partition in the dead-letter topic.
    pub partition: i32,
    /// Its offset there.
    pub offset: i64,
    /// `pix-dlq-stage`, as written (`None` when absent: not a dead letter of ours).
    pub stage: Option<String>,
    /// `pix-dlq-reasons` as published (a JSON list of `{code, path, detail}`; details never
    /// quote a value).
    pub reasons: serde_json::Value,
    /// The codes of `reasons` (or `pix-dlq-reason` when the list does not parse).
    pub codes: Vec<String>,
    /// `pix-source`: the source or sink that refused it.
    pub source: String,
    /// `content-type` of the original bytes.
    pub content_type: String,
    /// `pix-received-at`, else the record's timestamp.
    pub received_at: DateTime<Utc>,
    /// When the dead letter was written (the record's timestamp).
    pub written_at: Option<DateTime<Utc>>,
    /// `pix-item-index`: which item of its body it was.
    pub item_index: Option<usize>,
    /// `pix-dlq-truncated`: the bytes were cut to fit; they cannot be decoded again.
    pub truncated: bool,
    /// `traceparent`.
    pub traceparent: Option<String>,
    /// The bytes.
    pub payload: Vec<u8>,
}

impl Letter {
    /// Reads a consumed record of the dead-letter topic.
    pub fn of(m: &impl Message) -> Self {
        let header = |name: &str| -> Option<String> {
            let hs = m.headers()?;
            hs.iter().find(|h| h.key == name).and_then(|h| h.value).map(|v| String::from_utf8_lossy(v).into_owned())
        };
        let written_at = m.timestamp().to_millis().and_then(DateTime::from_timestamp_millis);
        let reasons: serde_json::Value =
            header(headers::DLQ_REASONS).and_then(|r| serde_json::from_str(&r).ok()).unwrap_or_default();
        let mut codes: Vec<String> = reasons
            .as_array()
            .map(|list| list.iter().filter_map(|r| r["code"].as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        if codes.is_empty() {
            codes.extend(header(headers::DLQ_REASON));
        }
        let received_at = header(headers::RECEIVED_AT)
            .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
            .map(|t| t.with_timezone(&Utc))
            .or(written_at)
            .unwrap_or_default();
        Self {
            partition: m.partition(),
            offset: m.offset(),
            stage: header(headers::DLQ_STAGE),
            reasons,
            codes,
            source: header(headers::SOURCE).unwrap_or_default(),
            content_type: header(headers::CONTENT_TYPE).unwrap_or_default(),
            received_at,
            written_at,
            item_index: header(headers::ITEM_INDEX).and_then(|i| i.parse().ok()),
            truncated: header(headers::DLQ_TRUNCATED).is_some(),
            traceparent: header(headers::TRACEPARENT),
            payload: m.payload().map(<[u8]>::to_vec).unwrap_or_default(),
        }
    }

    /// The first reason code.
    pub fn reason(&self) -> &str {
        self.codes.first().map_or("unknown", String::as_str)
    }

    /// `topic/partition/offset`: the value of `pix-redriven-from`.
    pub fn coordinates(&self, topic: &str) -> String {
        format!("{topic}/{}/{}", self.partition, self.offset)
    }

    /// What a browse shows: the headers and a masked preview, never the bytes.
    pub fn summary(&self) -> Summary {
        Summary {
            partition: self.partition,
            offset: self.offset,
            reason: self.reason().to_owned(),
            reasons: self.reasons.clone(),
            stage: self.stage.clone().unwrap_or_default(),
            source: self.source.clone(),
            received_at: self.received_at,
            dead_lettered_at: self.written_at,
            content_type: self.content_type.clone(),
            item_index: self.item_index,
            size: self.payload.len(),
            truncated: self.truncated,
            preview: super::mask::preview(&self.payload),
        }
    }
}

/// One dead letter in a browse.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// Partition of the dead-letter topic.
    pub partition: i32,
    /// Offset there.
    pub offset: i64,
    /// First reason code.
    pub reason: String,
    /// Every reason (`{code, path, detail}`).
    pub reasons: serde_json::Value,
    /// The stage that refused it.
    pub stage: String,
    /// The source or sink id.
    pub source: String,
    /// When pix-ingest received the bytes.
    pub received_at: DateTime<Utc>,
    /// When the dead letter was written.
    pub dead_lettered_at: Option<DateTime<Utc>>,
    /// Media type of the bytes.
    pub content_type: String,
    /// Which item of its body it was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item_index: Option<usize>,
    /// Bytes it holds.
    pub size: usize,
    /// The bytes were cut to fit in one record.
    pub truncated: bool,
    /// The shape of the bytes with every value masked ([`super::mask`]).
    pub preview: String,
}
