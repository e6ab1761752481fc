//! Record headers, written in this one place.
//!
//! Routed records: `traceparent` (W3C), `pix-event-id`, `pix-source`, `pix-schema-version`,
//! `content-type`, and with a client certificate (mutual TLS) `pix-client-subject` and
//! `pix-client-serial`; a record a redrive published again from a dead letter adds
//! `pix-redriven-from` (`topic/partition/offset` of that dead letter). Dead letters:
//! `pix-dlq-reason` (first code), `pix-dlq-reasons` (JSON list of `{code, path, detail}`),
//! `pix-dlq-stage`, `pix-source`, `pix-item-index`, `pix-received-at`, `traceparent`, and
//! `content-type` of the original bytes; a dead letter from a consumer adds
//! `pix-dlq-origin-topic`, `-partition` and `-offset`; the client certificate headers too.

use rdkafka::message::{Header, OwnedHeaders};

/// W3C trace context.
pub const TRACEPARENT: &str = "traceparent";
/// W3C trace state (vendor data), when present.
pub const TRACESTATE: &str = "tracestate";
/// The derived event id.
pub const EVENT_ID: &str = "pix-event-id";
/// The id of the source that received the record.
pub const SOURCE: &str = "pix-source";
/// Version of the value's schema (`pix-schema`).
pub const SCHEMA_VERSION: &str = "pix-schema-version";
/// Which schema the value follows: `pix-event` (the canonical event) or `fraud_report`.
pub const SCHEMA: &str = "pix-schema";
/// Media type of the value.
pub const CONTENT_TYPE: &str = "content-type";
/// First reason code of a dead letter.
pub const DLQ_REASON: &str = "pix-dlq-reason";
/// All reasons of a dead letter, JSON.
pub const DLQ_REASONS: &str = "pix-dlq-reasons";
/// The stage that failed (decode, validate, produce, ...).
pub const DLQ_STAGE: &str = "pix-dlq-stage";
/// Index of the item in the body it came in.
pub const ITEM_INDEX: &str = "pix-item-index";
/// When pix-ingest received the bytes (RFC 3339 UTC).
pub const RECEIVED_AT: &str = "pix-received-at";
/// Origin topic of a dead letter raised by a consumer.
pub const DLQ_ORIGIN_TOPIC: &str = "pix-dlq-origin-topic";
/// Origin partition of a dead letter raised by a consumer.
pub const DLQ_ORIGIN_PARTITION: &str = "pix-dlq-origin-partition";
/// Origin offset of a dead letter raised by a consumer.
pub const DLQ_ORIGIN_OFFSET: &str = "pix-dlq-origin-offset";
/// Length in bytes of the original of a truncated dead letter (absent when it is whole).
pub const DLQ_TRUNCATED: &str = "pix-dlq-truncated";
/// SHA-256 (hex) of the original bytes of a truncated dead letter.
pub const DLQ_ORIGINAL_SHA256: &str = "pix-dlq-original-sha256";

/// `topic/partition/offset` of the dead letter a redrive published this record again from.
pub const REDRIVEN_FROM: &str = "pix-redriven-from";

/// Subject of the verified client certificate of the connection the record came in on.
pub const CLIENT_SUBJECT: &str = "pix-client-subject";
/// Serial number of that certificate.
pub const CLIENT_SERIAL: &str = "pix-client-serial";

/// Builds `OwnedHeaders` from (name, value) pairs.
pub fn build<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> OwnedHeaders {
    pairs.into_iter().fold(OwnedHeaders::new(), |h, (key, value)| h.insert(Header { key, value: Some(value) }))
}
