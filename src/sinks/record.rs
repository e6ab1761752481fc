//! What the runner hands a writer (`SinkRecord`, the decoded value in its own schema), which
//! schemas a writer takes (`RecordSchema`) and what a writer answers per record (`Verdict`).

use pix_domain::event::{FRAUD_REPORT_SCHEMA, PIX_EVENT_SCHEMA, Timestamp};
use pix_domain::{Category, FraudReport, PixEvent, Published};

/// The schema of a record value, as its `pix-schema` header names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordSchema {
    /// The canonical Pix event (`pix-event`, payment / receipt / refund topics).
    PixEvent,
    /// A DICT infraction report or MED refund request (`fraud_report`).
    FraudReport,
}

impl RecordSchema {
    /// The schema a `pix-schema` header value names: `fraud_report`, else the canonical event (a
    /// record without the header predates fraud reports and is a canonical event).
    pub fn from_header(value: Option<&[u8]>) -> Self {
        match value {
            Some(v) if v == FRAUD_REPORT_SCHEMA.as_bytes() => Self::FraudReport,
            _ => Self::PixEvent,
        }
    }

    /// The schema of the records of a category's topic.
    pub fn of(category: Category) -> Self {
        match category {
            Category::FraudReport => Self::FraudReport,
            _ => Self::PixEvent,
        }
    }

    /// The header value (`pix-event`, `fraud_report`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PixEvent => PIX_EVENT_SCHEMA,
            Self::FraudReport => FRAUD_REPORT_SCHEMA,
        }
    }
}

/// One consumed record, decoded.
#[derive(Debug, Clone)]
pub struct SinkRecord {
    /// Topic it was read from.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
    /// The original value bytes (the event or report JSON).
    pub payload: Vec<u8>,
    /// The decoded value, in the schema its `pix-schema` header names.
    pub value: Published,
    /// W3C trace context from the record headers.
    pub traceparent: Option<String>,
    /// The record's Kafka key.
    pub key: Option<Vec<u8>>,
    /// The record's headers, as consumed.
    pub headers: Option<rdkafka::message::OwnedHeaders>,
}

impl SinkRecord {
    /// The canonical event, when the record is one.
    pub fn pix(&self) -> Option<&PixEvent> {
        self.value.as_pix()
    }

    /// The fraud report, when the record is one.
    pub fn fraud_report(&self) -> Option<&FraudReport> {
        self.value.as_fraud_report()
    }

    /// The value's schema.
    pub fn schema(&self) -> RecordSchema {
        match self.value {
            Published::Pix(_) => RecordSchema::PixEvent,
            Published::FraudReport(_) => RecordSchema::FraudReport,
        }
    }

    /// The event id (both schemas have one).
    pub fn event_id(&self) -> &str {
        self.value.event_id()
    }

    /// The endToEndId of the transaction the record is about, when it names one.
    pub fn end_to_end_id(&self) -> Option<&str> {
        self.value.end_to_end_id()
    }

    /// The category (picks the file sink's directory).
    pub fn category(&self) -> Category {
        self.value.category()
    }

    /// When the event happened, or the report reached this state.
    pub fn event_time(&self) -> &Timestamp {
        match &self.value {
            Published::Pix(e) => &e.event_time,
            Published::FraudReport(r) => &r.event_time,
        }
    }

    /// When pix-ingest accepted it.
    pub fn ingested_at(&self) -> &Timestamp {
        match &self.value {
            Published::Pix(e) => &e.ingested_at,
            Published::FraudReport(r) => &r.ingested_at,
        }
    }
}

/// A writer's answer for one record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Durably handed to the destination (or will be, at the next flush).
    Written,
    /// The destination refused it for good: it goes to the dead-letter topic with this reason.
    DeadLetter {
        /// Stable reason code.
        code: &'static str,
        /// Explanation (no PII).
        detail: String,
    },
}

/// A writer whose records are independent deliveries (the HTTP sink in `single` mode): the runner
/// streams records through it one by one (`runner/stream.rs`) instead of writing batches.
pub trait RecordSender {
    /// Delivers one record with the writer's own retries: its verdict, or `Err` when the
    /// destination cannot be reached at all (the runner retries the record later, committing
    /// nothing past it meanwhile).
    fn send<'a>(&'a self, record: &'a SinkRecord) -> futures::future::LocalBoxFuture<'a, super::SinkResult<Verdict>>;
    /// Most deliveries in flight at once.
    fn concurrency(&self) -> usize;
}

/// Records as the sources publish them, for the sinks' unit tests.
#[cfg(test)]
pub(crate) mod samples {
    use pix_domain::Published;
    use pix_domain::formats::{DecodeContext, Format};

    /// A DICT example: an infraction report (`ACKNOWLEDGED`) of `E9999901012341234123412345678900`.
    pub(crate) fn report() -> Published {
        published(
            Format::DictXml,
            include_bytes!(
                "../../crates/pix-domain/tests/data/bcb-dict-api/infractions/GetInfractionReportResponse.xml"
            ),
        )
    }

    /// A canonical payment.
    pub(crate) fn payment() -> Published {
        let json = br#"{"schema_version": "1", "event_type": "TRANSFER",
            "end_to_end_id": "E9999901020261125143000000000001", "amount": "150.25",
            "event_time": "2026-11-25T14:30:05.120Z", "status": "PENDING",
            "payer": {"ispb": "99999010"}, "payee": {"ispb": "12345678"}}"#;
        published(Format::Canonical, json)
    }

    /// The first record the domain decoder makes of `body`.
    fn published(format: Format, body: &[u8]) -> Published {
        let ctx = DecodeContext {
            own_ispbs: vec!["99999010".parse().unwrap()],
            tax_id_check_digits: Default::default(),
            unknown_fields: Default::default(),
            ingested_at: chrono::Utc::now(),
            source_id: "t".into(),
        };
        let items = pix_domain::formats::decode(format, body, &ctx).unwrap();
        items[0].verdict.clone().unwrap().remove(0)
    }

    /// `value` consumed from topic `t`, partition 0, at `offset`.
    pub(crate) fn record(offset: i64, value: Published) -> super::SinkRecord {
        super::SinkRecord {
            topic: "t".into(),
            partition: 0,
            offset,
            payload: value.to_json(),
            value,
            traceparent: None,
            key: None,
            headers: None,
        }
    }
}
