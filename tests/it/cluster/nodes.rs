//! The cluster a test runs on: its bootstrap list, its nodes (stopped, killed and started through
//! `scripts/kafka node`), and what its metadata says of leaders and in-sync replicas.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};

use crate::harness::repo;
use crate::wait::{holds, wait_until_blocking};

pub struct Cluster {
    pub dir: PathBuf,
    pub bootstrap: String,
}

impl Cluster {
    /// The cluster `scripts/test` started (PIX_INGEST_TEST_CLUSTER = its directory).
    pub fn from_env() -> Self {
        let dir = PathBuf::from(std::env::var("PIX_INGEST_TEST_CLUSTER").unwrap_or_else(|_| {
            panic!("PIX_INGEST_TEST_CLUSTER is not set: run `scripts/test`, or `scripts/kafka start-cluster DIR` and export DIR")
        }));
        let bootstrap = std::fs::read_to_string(dir.join("bootstrap")).expect("DIR/bootstrap").trim().to_owned();
        Self { dir, bootstrap }
    }

    /// `scripts/kafka node DIR <node> <action>` (stop, kill or start; start waits until it answers).
    pub fn node(&self, node: i32, action: &str) {
        let out = Command::new(repo().join("scripts/kafka"))
            .args(["node", self.dir.to_str().unwrap(), &node.to_string(), action])
            .output()
            .expect("scripts/kafka");
        assert!(out.status.success(), "node {node} {action}: {}", String::from_utf8_lossy(&out.stderr));
    }

    fn admin(&self) -> BaseConsumer {
        ClientConfig::new().set("bootstrap.servers", &self.bootstrap).create().unwrap()
    }

    /// (leader, in-sync replicas) of each partition of `topic`, in partition order.
    pub fn partitions(&self, topic: &str) -> Result<Vec<(i32, Vec<i32>)>, String> {
        let md = self.admin().fetch_metadata(Some(topic), Duration::from_secs(10)).map_err(|e| e.to_string())?;
        let t = &md.topics()[0];
        if t.partitions().is_empty() {
            return Err(format!("{topic} has no partitions yet"));
        }
        Ok(t.partitions().iter().map(|p| (p.leader(), p.isr().to_vec())).collect())
    }

    /// The leader of partition 0 of `topic` (a node number, 1-3).
    pub fn leader(&self, topic: &str) -> i32 {
        wait_until_blocking("a leader of partition 0", Duration::from_secs(60), || {
            let p = self.partitions(topic)?;
            if p[0].0 > 0 { Ok(p[0].0) } else { Err(format!("{p:?}")) }
        })
    }

    /// Waits until every partition of `topic` has all `n` replicas in sync again.
    pub fn wait_in_sync(&self, topic: &str, n: usize) {
        wait_until_blocking(
            &format!("{n} in-sync replicas on every partition of {topic}"),
            Duration::from_secs(120),
            || {
                let p = self.partitions(topic)?;
                holds(p.iter().all(|(leader, isr)| *leader > 0 && isr.len() == n), format!("{p:?}"))
            },
        );
    }
}
