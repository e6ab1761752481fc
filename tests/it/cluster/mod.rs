//! Tests against a real three-broker KRaft cluster (`scripts/kafka start-cluster`, replication
//! factor 3, `min.insync.replicas=2`): a partition leader killed under load, a rolling restart of
//! every broker under load, and two pix-ingest instances sharing one sink's work while one dies.
//! They are `#[ignore]`d in the main run and run in their own step of `scripts/test`
//! (`cargo test --test it cluster:: -- --ignored`), once the single brokers are stopped, with
//! PIX_INGEST_TEST_CLUSTER naming the cluster's directory.

mod load;
mod nodes;
mod rolling;
mod shared_sinks;

use std::time::Duration;

use crate::config_builder::ConfigBuilder;
use crate::harness::{Topics, unique};

pub use load::Load;
pub use nodes::Cluster;

/// A config on the cluster: topics of their own with 3 partitions replicated 3 times, the
/// request deadline long enough for a leader election.
pub fn config(cluster: &Cluster, test: &str) -> ConfigBuilder {
    ConfigBuilder::new(&cluster.bootstrap, Topics::new(&unique(test)))
        .create_topics(true, 3, 3)
        .delivery_timeout(Duration::from_secs(20))
        .api_request_timeout(Duration::from_secs(25))
}
