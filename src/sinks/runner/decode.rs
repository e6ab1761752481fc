//! Consumed message -> [`SinkRecord`]: the value is decoded in the schema its `pix-schema` header
//! names (`fraud_report`, else the canonical event, also when the header is absent). A record of
//! a schema the sink does not take is dead-lettered (`sink.schema`), one that does not decode too
//! (`sink.decode`); both at stage `sink_decode`, so the writer only ever sees what it can write.

use pix_domain::{FraudReport, PixEvent, Published};
use rdkafka::message::{Headers, Message, OwnedMessage};

use super::process::letter;
use crate::dead_letter::{DeadLetterRecord, DlqReason, Stage};
use crate::kafka::headers;
use crate::sinks::{RecordSchema, SinkRecord};

/// Decodes every message; a record the sink cannot take is a poison letter.
pub(super) fn decode(
    id: &str,
    accepts: &[RecordSchema],
    batch: &[OwnedMessage],
) -> (Vec<SinkRecord>, Vec<DeadLetterRecord>) {
    let mut records = Vec::with_capacity(batch.len());
    let mut letters = Vec::new();
    for msg in batch {
        let payload = msg.payload().unwrap_or_default().to_vec();
        let traceparent = header(msg, headers::TRACEPARENT).map(|v| String::from_utf8_lossy(v).into_owned());
        let schema = RecordSchema::from_header(header(msg, headers::SCHEMA));
        let decoded = if accepts.contains(&schema) {
            value(schema, &payload)
        } else {
            // Config load refuses such a category for this kind; a record that gets here anyway
            // (a producer outside pix-ingest, a mislabelled topic) is parked, never dropped.
            Err(DlqReason {
                code: "sink.schema".into(),
                path: String::new(),
                detail: format!("this sink does not take `{}` records", schema.as_str()),
            })
        };
        match decoded {
            Ok(value) => records.push(SinkRecord {
                topic: msg.topic().to_owned(),
                partition: msg.partition(),
                offset: msg.offset(),
                payload,
                value,
                traceparent,
                key: msg.key().map(<[u8]>::to_vec),
                headers: msg.headers().cloned(),
            }),
            // A poison record: park it in the dead-letter topic with its coordinates, move on.
            Err(reason) => letters.push(letter(id, Stage::SinkDecode, msg, payload, reason, traceparent)),
        }
    }
    (records, letters)
}

fn header<'a>(msg: &'a OwnedMessage, key: &str) -> Option<&'a [u8]> {
    msg.headers().and_then(|h| h.iter().find(|x| x.key == key).and_then(|x| x.value))
}

/// The value in `schema`, or why it is not one.
fn value(schema: RecordSchema, payload: &[u8]) -> Result<Published, DlqReason> {
    let (decoded, what) = match schema {
        RecordSchema::PixEvent => {
            (serde_json::from_slice::<PixEvent>(payload).map(Published::Pix), "canonical Pix event")
        }
        RecordSchema::FraudReport => {
            (serde_json::from_slice::<FraudReport>(payload).map(Published::FraudReport), "fraud report")
        }
    };
    decoded.map_err(|e| DlqReason {
        code: "sink.decode".into(),
        path: String::new(),
        detail: format!("not a {what}: {}", json_error_kind(&e)),
    })
}

fn json_error_kind(e: &serde_json::Error) -> &'static str {
    match e.classify() {
        serde_json::error::Category::Io => "I/O error",
        serde_json::error::Category::Syntax => "not JSON",
        serde_json::error::Category::Data => "JSON of the wrong shape",
        serde_json::error::Category::Eof => "truncated JSON",
    }
}

#[cfg(test)]
mod tests {
    use rdkafka::Timestamp;

    use super::*;
    use crate::sinks::samples::{payment, report};

    fn msg(offset: i64, value: &Published, schema: Option<&str>) -> OwnedMessage {
        let h = schema.map(|s| headers::build([(headers::SCHEMA, s)]));
        OwnedMessage::new(Some(value.to_json()), None, "t".into(), Timestamp::NotAvailable, 0, offset, h)
    }

    fn codes(letters: &[DeadLetterRecord]) -> Vec<(i64, &str, Stage)> {
        letters.iter().map(|l| (l.origin.as_ref().unwrap().offset, l.reasons[0].code.as_str(), l.stage)).collect()
    }

    #[test]
    fn records_decode_in_the_schema_their_header_names() {
        let (payment, report) = (payment(), report());
        let batch =
            [msg(0, &payment, Some("pix-event")), msg(1, &payment, None), msg(2, &report, Some("fraud_report"))];
        let both = [RecordSchema::PixEvent, RecordSchema::FraudReport];
        let (records, letters) = decode("s", &both, &batch);
        assert!(letters.is_empty(), "{letters:?}");
        assert_eq!(records.iter().map(SinkRecord::schema).collect::<Vec<_>>(), [both[0], both[0], both[1]]);
        assert_eq!((records[1].pix(), records[2].fraud_report()), (payment.as_pix(), report.as_fraud_report()));
        assert_eq!(records[2].end_to_end_id(), Some("E9999901012341234123412345678900"));
        assert_eq!(records[2].event_id(), report.event_id());
    }

    #[test]
    fn a_record_of_a_schema_the_sink_does_not_take_is_dead_lettered_not_dropped() {
        let (payment, report) = (payment(), report());
        let batch = [msg(0, &report, Some("fraud_report")), msg(1, &payment, Some("pix-event"))];
        let (records, letters) = decode("s", &[RecordSchema::PixEvent], &batch);
        assert_eq!(records.iter().map(|r| r.offset).collect::<Vec<_>>(), [1]);
        assert_eq!(codes(&letters), [(0, "sink.schema", Stage::SinkDecode)]);
        assert_eq!(letters[0].payload, report.to_json(), "the original bytes");
        let (records, letters) = decode("s", &[RecordSchema::FraudReport], &batch);
        assert_eq!((records[0].offset, codes(&letters)), (0, vec![(1, "sink.schema", Stage::SinkDecode)]));
        // A report without the header is read as a canonical event: it does not decode.
        let (records, letters) = decode("s", &[RecordSchema::PixEvent], &[msg(2, &report, None)]);
        assert!(records.is_empty());
        assert_eq!(codes(&letters), [(2, "sink.decode", Stage::SinkDecode)]);
    }
}
