//! What the runner hands a writer (`SinkRecord`) and what a writer answers per record (`Verdict`).

use pix_domain::PixEvent;

/// One consumed record, decoded.
#[derive(Debug, Clone)]
pub struct SinkRecord {
    /// Topic it was read from.
    pub topic: String,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
    /// The original value bytes (the canonical event JSON).
    pub payload: Vec<u8>,
    /// The decoded event.
    pub event: PixEvent,
    /// W3C trace context from the record headers.
    pub traceparent: Option<String>,
    /// The record's Kafka key.
    pub key: Option<Vec<u8>>,
    /// The record's headers, as consumed.
    pub headers: Option<rdkafka::message::OwnedHeaders>,
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
