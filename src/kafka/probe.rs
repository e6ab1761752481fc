//! A metadata round trip that says whether the cluster answers (readiness).

use std::sync::Arc;
use std::time::Duration;

use rdkafka::admin::AdminClient;
use rdkafka::client::DefaultClientContext;
use rdkafka::error::KafkaResult;

use super::{KafkaConfig, admin_config};

/// A client kept open for readiness checks.
#[derive(Clone)]
pub struct MetadataProbe {
    client: Arc<AdminClient<DefaultClientContext>>,
}

impl MetadataProbe {
    /// A probe of the cluster at `bootstrap`.
    pub fn new(kafka: &KafkaConfig, bootstrap: &str) -> KafkaResult<Self> {
        let client = admin_config(kafka, bootstrap, "pix-ingest-readiness").create()?;
        Ok(Self { client: Arc::new(client) })
    }

    /// Whether a metadata request is answered within `timeout` (off the event loop: the call
    /// blocks its thread).
    pub async fn reachable(&self, timeout: Duration) -> bool {
        let client = Arc::clone(&self.client);
        let answer = tokio::task::spawn_blocking(move || client.inner().fetch_metadata(None, timeout).is_ok()).await;
        matches!(answer, Ok(true))
    }
}
