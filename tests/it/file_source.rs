//! The file source against the real broker, run as the real binary so it can be killed with -9:
//! lines reach their topics, a kill -9 between batches loses and duplicates nothing, rotated files
//! are followed.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use crate::fixtures::{self, OTHER, OWN};
use crate::harness::{Topics, bootstrap, unique};
use crate::kafka::{headers, read_all, value_json};

use crate::service::{sigterm, spawn, wait_until};

fn lines(n: usize, invalid_every: usize) -> (String, usize, usize) {
    let (mut out, mut good, mut bad) = (String::new(), 0, 0);
    for i in 0..n {
        let v = if invalid_every > 0 && i % invalid_every == 0 {
            bad += 1;
            fixtures::bad_cpf(&fixtures::e2e(OWN))
        } else if i % 2 == 0 {
            good += 1;
            fixtures::payment(&fixtures::e2e(OWN))
        } else {
            good += 1;
            fixtures::receipt(&fixtures::e2e(OTHER))
        };
        out.push_str(&v.to_string());
        out.push('\n');
    }
    (out, good, bad)
}

/// Offsets in the checkpoint by path.
fn checkpointed(dir: &Path) -> HashMap<String, u64> {
    let Ok(bytes) = std::fs::read(dir.join("logs.checkpoint.json")) else { return HashMap::new() };
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e[1]["path"].as_str().unwrap().to_owned(), e[1]["offset"].as_u64().unwrap()))
        .collect()
}

/// Every event id in the three category topics, and every dead letter payload.
fn published(b: &str, t: &Topics) -> (Vec<String>, Vec<Vec<u8>>) {
    let mut ids = Vec::new();
    for topic in [&t.payment, &t.receipt, &t.refund] {
        ids.extend(read_all(b, topic).iter().map(|m| value_json(m)["event_id"].as_str().unwrap().to_owned()));
    }
    let dlq = read_all(b, &t.dlq)
        .iter()
        .map(|m| {
            assert_eq!(headers(m)["pix-source"], "logs");
            rdkafka::Message::payload(m).unwrap().to_vec()
        })
        .collect();
    (ids, dlq)
}

#[test]
fn kill_9_between_batches_loses_and_duplicates_nothing_and_rotation_is_followed() {
    let b = bootstrap();
    let topics = Topics::new(&unique("file"));
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    let ckpt = dir.path().join("ckpt");
    std::fs::create_dir_all(&logs).unwrap();
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "kafka:\n  bootstrap_servers: \"{b}\"\n  create_topics: {{ partitions: 3, replication_factor: 1 }}\n\
             topics: {{ payment: {}, receipt: {}, refund: {}, dead_letter: {} }}\n\
             pix: {{ own_ispbs: [\"{OWN}\"] }}\n\
             sources:\n  - {{ id: logs, type: file, path: \"{}/app.log*\", checkpoint_dir: \"{}\", batch_lines: 40, poll_interval: 50ms }}\n\
             telemetry: {{ log_format: json, log_level: info }}\nadmin: {{ listen: \"127.0.0.1:0\" }}\n",
            topics.payment,
            topics.receipt,
            topics.refund,
            topics.dlq,
            logs.display(),
            ckpt.display()
        ),
    )
    .unwrap();
    let log = dir.path().join("service.log");
    let app_log = logs.join("app.log");

    // 1. 200 lines, one in ten invalid; all acknowledged and checkpointed, then kill -9.
    let (text, mut good, mut bad) = lines(200, 10);
    std::fs::write(&app_log, &text).unwrap();
    let mut child = spawn(&config, &log);
    let len = text.len() as u64;
    wait_until("the first file to be checkpointed", Duration::from_secs(60), || {
        assert!(child.try_wait().unwrap().is_none(), "{}", std::fs::read_to_string(&log).unwrap());
        checkpointed(&ckpt).get(app_log.to_str().unwrap()) == Some(&len)
    });
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();

    // 2. while it is down: more lines, then a rename rotation and a new file
    let (more, g, x) = lines(60, 0);
    std::fs::OpenOptions::new().append(true).open(&app_log).unwrap().write_all(more.as_bytes()).unwrap();
    good += g;
    bad += x;
    std::fs::rename(&app_log, logs.join("app.log.1")).unwrap();
    let (fresh, g, x) = lines(50, 25);
    std::fs::write(&app_log, &fresh).unwrap();
    good += g;
    bad += x;

    // 3. restart: it resumes at the checkpoint, reads the rotated file to its end and the new one
    let mut child = spawn(&config, &log);
    wait_until("every line to be published", Duration::from_secs(60), || {
        assert!(child.try_wait().unwrap().is_none(), "{}", std::fs::read_to_string(&log).unwrap());
        let (ids, dlq) = published(&b, &topics);
        ids.len() + dlq.len() >= good + bad
    });
    // and then a last batch must not appear: wait for the checkpoint to cover both files
    wait_until("both files checkpointed", Duration::from_secs(30), || {
        let c = checkpointed(&ckpt);
        c.get(app_log.to_str().unwrap()) == Some(&(fresh.len() as u64))
    });
    let (ids, dlq) = published(&b, &topics);
    let mut unique_ids = ids.clone();
    unique_ids.sort();
    unique_ids.dedup();
    assert_eq!(unique_ids.len(), ids.len(), "no line published twice");
    assert_eq!(ids.len(), good, "every valid line published once");
    assert_eq!(dlq.len(), bad, "every invalid line dead-lettered once");
    assert!(sigterm(&mut child).success());
}
