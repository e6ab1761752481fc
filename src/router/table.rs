//! The routing table: category -> topic, and which field is the partition key.

use pix_domain::{Category, KeyField, SCHEMA_VERSION};

use crate::config::{RoutingKey, TopicsConfig};
use crate::kafka::headers;
use crate::kafka::produce::OutRecord;
use crate::router::messages::RouteBatch;

/// Category -> topic and key choice.
#[derive(Debug, Clone)]
pub struct RoutingTable {
    payment: String,
    receipt: String,
    refund: String,
    key: KeyField,
}

impl RoutingTable {
    /// From the `topics:` and `routing:` config.
    pub fn new(topics: &TopicsConfig, key: RoutingKey) -> Self {
        Self {
            payment: topics.payment.as_str().to_owned(),
            receipt: topics.receipt.as_str().to_owned(),
            refund: topics.refund.as_str().to_owned(),
            key: match key {
                RoutingKey::EndToEndId => KeyField::EndToEndId,
                RoutingKey::PayerAccount => KeyField::PayerAccount,
                RoutingKey::EventId => KeyField::EventId,
            },
        }
    }

    /// The topic of a category.
    pub fn topic(&self, category: Category) -> &str {
        match category {
            Category::Payment => &self.payment,
            Category::Receipt => &self.receipt,
            Category::Refund => &self.refund,
        }
    }

    /// The Kafka records of a batch, in order.
    pub(crate) fn records(&self, batch: &RouteBatch) -> Vec<OutRecord> {
        batch
            .events
            .iter()
            .map(|e| {
                let event_id = e.event.event_id.to_string();
                // serde_json cannot fail on these types (string keys, no non-finite floats).
                let payload = serde_json::to_vec(&e.event).unwrap_or_default();
                OutRecord {
                    topic: self.topic(e.event.category).to_owned(),
                    key: Some(e.event.partition_key(self.key).into_bytes()),
                    payload,
                    headers: headers::build([
                        (headers::TRACEPARENT, e.traceparent.as_str()),
                        (headers::EVENT_ID, event_id.as_str()),
                        (headers::SOURCE, &*batch.source_id),
                        (headers::SCHEMA_VERSION, SCHEMA_VERSION),
                        (headers::CONTENT_TYPE, "application/json"),
                    ]),
                }
            })
            .collect()
    }
}
