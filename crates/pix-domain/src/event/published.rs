//! [`Published`]: one record a decoder hands to the pipeline, in the schema of its category: a
//! canonical event ([`PixEvent`], `pix-event` v1) or a fraud report ([`FraudReport`],
//! `fraud_report` v1). The router needs only what is here (category, key, id, schema, bytes), so
//! it never looks inside either schema.

use super::fraud::{FRAUD_REPORT_SCHEMA, FraudReport};
use super::{Category, KeyField, PixEvent, SCHEMA_VERSION};

/// The `pix-schema` header of a canonical event.
pub const PIX_EVENT_SCHEMA: &str = "pix-event";

/// A record to publish.
///
/// Not boxed: a record is built once and moved once into its batch, and most records are canonical
/// events, so a box would add an allocation per event for no saving.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(clippy::large_enum_variant)]
pub enum Published {
    /// A canonical Pix event (payment, receipt, refund).
    Pix(PixEvent),
    /// A DICT infraction report or MED refund request.
    FraudReport(FraudReport),
}

impl From<PixEvent> for Published {
    fn from(e: PixEvent) -> Self {
        Published::Pix(e)
    }
}

impl From<FraudReport> for Published {
    fn from(r: FraudReport) -> Self {
        Published::FraudReport(r)
    }
}

impl Published {
    /// The category (picks the topic).
    pub fn category(&self) -> Category {
        match self {
            Published::Pix(e) => e.category,
            Published::FraudReport(r) => r.category,
        }
    }

    /// The event id (dedupe, `pix-event-id` header).
    pub fn event_id(&self) -> &str {
        match self {
            Published::Pix(e) => e.event_id.as_str(),
            Published::FraudReport(r) => &r.event_id,
        }
    }

    /// The endToEndId of the transaction the record is about, when it names one.
    pub fn end_to_end_id(&self) -> Option<&str> {
        match self {
            Published::Pix(e) => Some(e.end_to_end_id.as_str()),
            Published::FraudReport(r) => r.end_to_end_id.as_ref().map(|e| e.as_str()),
        }
    }

    /// The Kafka key for `field`.
    pub fn partition_key(&self, field: KeyField) -> String {
        match self {
            Published::Pix(e) => e.partition_key(field),
            Published::FraudReport(r) => r.partition_key(field),
        }
    }

    /// The schema name (`pix-schema` header): `pix-event` or `fraud_report`.
    pub fn schema(&self) -> &'static str {
        match self {
            Published::Pix(_) => PIX_EVENT_SCHEMA,
            Published::FraudReport(_) => FRAUD_REPORT_SCHEMA,
        }
    }

    /// The schema version (`pix-schema-version` header); `"1"` for both schemas today.
    pub fn schema_version(&self) -> &'static str {
        SCHEMA_VERSION
    }

    /// The record value: the JSON of the event or report.
    pub fn to_json(&self) -> Vec<u8> {
        // serde_json cannot fail on these types (string keys, no non-finite floats).
        match self {
            Published::Pix(e) => serde_json::to_vec(e).unwrap_or_default(),
            Published::FraudReport(r) => serde_json::to_vec(r).unwrap_or_default(),
        }
    }

    /// The canonical event, when this is one.
    pub fn as_pix(&self) -> Option<&PixEvent> {
        match self {
            Published::Pix(e) => Some(e),
            Published::FraudReport(_) => None,
        }
    }

    /// The fraud report, when this is one.
    pub fn as_fraud_report(&self) -> Option<&FraudReport> {
        match self {
            Published::FraudReport(r) => Some(r),
            Published::Pix(_) => None,
        }
    }
}
