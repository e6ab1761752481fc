//! The file source against the real broker, run as the real binary so it can be killed with -9:
//! lines reach their topics, a kill -9 between batches loses and duplicates nothing, rotated files
//! are followed.

use std::collections::HashMap;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use serde_json::json;

use crate::config_builder::ConfigBuilder;
use crate::fixtures::{self, OTHER, OWN};
use crate::harness::LogFormat;
use crate::kafka::{InKafka, headers, in_kafka};
use crate::service::{sigterm, spawn};
use crate::wait::{holds, wait_until_blocking};

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

/// Every dead letter came from the file source.
fn from_the_file_source(published: &InKafka) {
    for m in &published.dead_letters {
        assert_eq!(headers(m)["pix-source"], "logs");
    }
}

#[test]
fn kill_9_between_batches_loses_and_duplicates_nothing_and_rotation_is_followed() {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    let ckpt = dir.path().join("ckpt");
    std::fs::create_dir_all(&logs).unwrap();
    let source = json!({
        "id": "logs", "type": "file", "path": format!("{}/app.log*", logs.display()), "checkpoint_dir": ckpt,
        "batch_lines": 40, "poll_interval": "50ms"
    });
    let builder = ConfigBuilder::for_test("file").without_api().source(source).log(LogFormat::Json, "info");
    let (b, topics) = (builder.bootstrap.clone(), builder.topics.clone());
    let config = builder.write(&dir.path().join("config.yaml"));
    let log = dir.path().join("service.log");
    let app_log = logs.join("app.log");

    // 1. 200 lines, one in ten invalid; all acknowledged and checkpointed, then kill -9.
    let (text, mut good, mut bad) = lines(200, 10);
    std::fs::write(&app_log, &text).unwrap();
    let mut child = spawn(&config, &log);
    let len = text.len() as u64;
    wait_until_blocking("the first file to be checkpointed", Duration::from_secs(60), || {
        assert!(child.try_wait().unwrap().is_none(), "{}", std::fs::read_to_string(&log).unwrap());
        let at = checkpointed(&ckpt);
        holds(at.get(app_log.to_str().unwrap()) == Some(&len), at)
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
    wait_until_blocking("every line to be published", Duration::from_secs(60), || {
        assert!(child.try_wait().unwrap().is_none(), "{}", std::fs::read_to_string(&log).unwrap());
        let p = in_kafka(&b, &topics);
        from_the_file_source(&p);
        let n = p.published() + p.dead_letters.len();
        holds(n >= good + bad, format!("{n} of {} lines", good + bad))
    });
    // and then a last batch must not appear: wait for the checkpoint to cover both files
    wait_until_blocking("both files checkpointed", Duration::from_secs(30), || {
        let c = checkpointed(&ckpt);
        holds(c.get(app_log.to_str().unwrap()) == Some(&(fresh.len() as u64)), c)
    });
    let p = in_kafka(&b, &topics);
    from_the_file_source(&p);
    assert!(p.events.values().all(|n| *n == 1), "no line published twice");
    assert_eq!(p.published(), good, "every valid line published once");
    assert_eq!(p.dead_letters.len(), bad, "every invalid line dead-lettered once");
    assert!(sigterm(&mut child).success());
}
