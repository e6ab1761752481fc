//! Two pix-ingest instances on the cluster with the same file sink (one consumer group): both
//! take a share of the partitions, and when one dies (`kill -9`) the other takes its partitions
//! and writes every event the dead one had not committed.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde_json::json;

use super::Cluster;
use crate::harness::{TestApp, unique};
use crate::service::{self, read_log};
use crate::wait::{holds, wait_until};

/// event_id -> times written, over every complete file under `dir`.
fn written(dir: &Path) -> BTreeMap<String, usize> {
    let mut out = BTreeMap::new();
    for f in crate::sinks::files(dir) {
        if f.to_string_lossy().ends_with(".tmp") {
            continue;
        }
        for line in std::fs::read_to_string(&f).unwrap_or_default().lines() {
            let v: serde_json::Value = serde_json::from_str(line).unwrap();
            *out.entry(v["event_id"].as_str().unwrap().to_owned()).or_insert(0) += 1;
        }
    }
    out
}

/// Posts `n` new payments as one batch, resending the same batch (as a client does) until it is
/// answered 200: a topic a moment old may still be electing its leaders on a busy machine.
async fn post_batch(t: &TestApp, n: usize) -> Vec<String> {
    let events: Vec<_> =
        (0..n).map(|_| crate::fixtures::payment(&crate::fixtures::e2e(crate::fixtures::OWN))).collect();
    let r = wait_until("a batch to be acknowledged", Duration::from_secs(120), async || {
        let r = t.post_events(&events).await;
        if r.status == 200 { Ok(r) } else { Err(r.json) }
    })
    .await;
    r.json["results"].as_array().unwrap().iter().map(|x| x["event_id"].as_str().unwrap().to_owned()).collect()
}

#[ignore = "needs the three-broker cluster: scripts/test runs it in its cluster step"]
#[actix_rt::test]
async fn two_instances_share_a_sink_and_one_survives_the_others_death() {
    let cluster = Cluster::from_env();
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let sink_id = format!("share-{}", &unique("s")[5..].replace('.', "-"));
    let sink = |dir: &Path| json!({ "id": sink_id, "type": "file", "dir": dir, "batch": { "max_events": 20, "max_age": "200ms" } });
    let base = super::config(&cluster, "shared");
    let t = TestApp::start_with(&base.clone().sink(sink(dir_a.path()))).await;
    let topic = t.topics.payment.clone();
    let cluster = std::sync::Arc::new(cluster);
    let c = cluster.clone();
    tokio::task::spawn_blocking(move || c.wait_in_sync(&topic, 3)).await.unwrap();

    let work = tempfile::tempdir().unwrap();
    let config_b = base.without_api().admin_state_file(&work.path().join("state.json")).sink(sink(dir_b.path()));
    let path_b = config_b.write(&work.path().join("b.yaml"));
    let log_b = work.path().join("b.log");
    let mut b = service::spawn(&path_b, &log_b);

    // Both instances must be writing: keep sending until each has written something.
    let mut sent = Vec::new();
    wait_until("both instances to write a share", Duration::from_secs(120), async || {
        assert!(b.try_wait().unwrap().is_none(), "instance B exited:\n{}", read_log(&log_b));
        sent.extend(post_batch(&t, 30).await);
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (a, bb) = (written(dir_a.path()).len(), written(dir_b.path()).len());
        holds(a > 0 && bb > 0, (a, bb))
    })
    .await;
    let before_kill = (written(dir_a.path()).len(), written(dir_b.path()).len());

    assert!(std::process::Command::new("kill").args(["-9", &b.id().to_string()]).status().unwrap().success());
    b.wait().unwrap();
    for _ in 0..5 {
        sent.extend(post_batch(&t, 30).await);
    }
    let died = std::time::Instant::now();
    wait_until("every event written by A or by B before its death", Duration::from_secs(180), async || {
        let (a, bb) = (written(dir_a.path()), written(dir_b.path()));
        let missing = sent.iter().filter(|id| !a.contains_key(*id) && !bb.contains_key(*id)).count();
        holds(missing == 0, format!("{missing} of {} missing", sent.len()))
    })
    .await;
    let (a, bb) = (written(dir_a.path()), written(dir_b.path()));
    let twice = sent.iter().filter(|id| a.get(*id).unwrap_or(&0) + bb.get(*id).unwrap_or(&0) > 1).count();
    eprintln!(
        "shared sink: before the kill A wrote {} and B {}; after it A took over in {:?}; {} events, {} written twice (at-least-once after a crash)",
        before_kill.0,
        before_kill.1,
        died.elapsed(),
        sent.len(),
        twice
    );
    t.stop().await;
}
