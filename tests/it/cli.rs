//! The binary: check-config errors, and the README's first command (embedded broker) end to end.
//!
//! The shipped `config/dev.yaml` is run as shipped except for the edits a test needs (ports, log
//! settings), made by `patched`, which fails when the text to edit is not there exactly once, so
//! an edit cannot silently stop applying when the file changes.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::config_builder::ConfigBuilder;
use crate::fixtures::{self, OWN};
use crate::harness::{LogFormat, Topics, bootstrap, repo, unique};
use crate::service::{BIN, free_port, read_log, sigterm, spawn, wait_listening};
use crate::wait::{holds, wait_until_blocking};

/// `config/dev.yaml` with each `(from, to)` edit made (each `from` must occur exactly once), and
/// its bank API on `port` and admin listener on an ephemeral port; written into `dir`.
fn patched_dev_yaml(dir: &Path, port: u16, edits: &[(&str, &str)]) -> PathBuf {
    let listen = format!("127.0.0.1:{port}");
    let ports = [("127.0.0.1:8080", listen.as_str()), ("127.0.0.1:9090", "127.0.0.1:0")];
    let path = dir.join("dev.yaml");
    std::fs::write(&path, patched("config/dev.yaml", ports.iter().chain(edits))).unwrap();
    path
}

fn patched<'a>(file: &str, edits: impl IntoIterator<Item = &'a (&'a str, &'a str)>) -> String {
    let mut text = std::fs::read_to_string(repo().join(file)).unwrap();
    for (from, to) in edits {
        let n = text.matches(from).count();
        assert_eq!(n, 1, "{file}: the text to edit, {from:?}, occurs {n} times (expected once)");
        text = text.replace(from, to);
    }
    text
}

#[test]
fn check_config_names_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    std::fs::write(&path, "kafka:\n  bootstrap_servers: embedded\npix:\n  own_ispbs: [\"99999010\"]\nsources:\n  - id: api\n    type: http\n    listen: nowhere\n").unwrap();
    let out = Command::new(BIN).args(["check-config", "--config", path.to_str().unwrap()]).output().unwrap();
    assert_eq!(out.status.code(), Some(64));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{}:8", path.display())), "{err}");
    assert!(err.contains("listen"), "{err}");

    for f in ["dev.yaml", "local.yaml"] {
        let out =
            Command::new(BIN).args(["check-config", "--config"]).arg(repo().join("config").join(f)).output().unwrap();
        assert!(out.status.success(), "{f}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// `pix-ingest run` on the embedded broker (the README's first command, on a free port).
#[test]
fn run_on_the_embedded_broker_acknowledges_a_post() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let path = patched_dev_yaml(dir.path(), port, &[]);
    let log = dir.path().join("log");
    let mut child = spawn(&path, &log);
    wait_listening(&mut child, port, &log);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let (status, body) = rt.block_on(async {
        let r = reqwest::Client::new()
            .post(format!("http://127.0.0.1:{port}/v1/events"))
            .json(&fixtures::payment(&fixtures::e2e(OWN)))
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    });
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"accepted\":1"), "{body}");

    let code = sigterm(&mut child);
    let logs = read_log(&log);
    assert!(code.success(), "exit {code:?}: {logs}");
    assert!(logs.contains("NON-DURABLE DEV MODE"), "the log must say it loudly: {logs}");
    assert!(!logs.contains("52998224725"), "no CPF in the logs");
}

/// SIGTERM while clients are posting: every record answered 2xx is in Kafka afterwards.
#[test]
fn sigterm_under_load_loses_nothing_acknowledged() {
    use std::collections::HashSet;
    use std::sync::{Arc, Mutex};

    let b = bootstrap();
    let topics = Topics::new(&unique("sigterm"));
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let cfg = ConfigBuilder::new(&b, topics.clone())
        .api_port(port)
        .log(LogFormat::Json, "info")
        .shutdown_grace(Duration::from_secs(20))
        .write(&dir.path().join("config.yaml"));
    let log = dir.path().join("log");
    let mut child = spawn(&cfg, &log);
    wait_listening(&mut child, port, &log);

    let acked: Arc<Mutex<HashSet<String>>> = Arc::default();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let url = format!("http://127.0.0.1:{port}/v1/events");
    let loads: Vec<_> = (0..4)
        .map(|_| {
            let (acked, url) = (Arc::clone(&acked), url.clone());
            rt.spawn(async move {
                let client = reqwest::Client::new();
                // Bounded: at most 400 requests per client; stops at the first refused connection.
                for _ in 0..400 {
                    let events: Vec<_> = (0..10).map(|_| fixtures::payment(&fixtures::e2e(OWN))).collect();
                    let Ok(r) = client.post(&url).json(&events).send().await else { break };
                    if r.status().is_success() {
                        let v: serde_json::Value = r.json().await.unwrap();
                        let mut a = acked.lock().unwrap();
                        for x in v["results"].as_array().unwrap() {
                            a.insert(x["event_id"].as_str().unwrap().to_owned());
                        }
                    }
                }
            })
        })
        .collect();
    wait_until_blocking("the load to get going (300 records acknowledged)", Duration::from_secs(60), || {
        let n = acked.lock().unwrap().len();
        holds(n >= 300, n)
    });
    let status = sigterm(&mut child);
    for l in loads {
        rt.block_on(l).unwrap();
    }
    let logs = read_log(&log);
    assert!(status.success(), "{logs}");
    assert!(logs.contains("Shutdown finished within the grace period"), "{logs}");

    let in_kafka: HashSet<String> = crate::kafka::read_all(&b, &topics.payment)
        .iter()
        .map(|m| crate::kafka::value_json(m)["event_id"].as_str().unwrap().to_owned())
        .collect();
    let acked = acked.lock().unwrap();
    let missing: Vec<_> = acked.difference(&in_kafka).collect();
    assert!(missing.is_empty(), "{} acknowledged records missing, e.g. {:?}", missing.len(), missing.first());
}

/// JSON log lines (ECS) carry the trace id of the request, and no CPF, key or name sent in an
/// event appears in any line, even at debug level and for rejected events.
#[test]
fn json_logs_are_ecs_with_trace_ids_and_never_carry_pii() {
    let port = free_port();
    let dead = free_port();
    let dir = tempfile::tempdir().unwrap();
    let telemetry =
        format!("  log_format: json\n  log_level: debug\n  otlp_endpoint: \"http://127.0.0.1:{dead}/v1/traces\"");
    let path = patched_dev_yaml(dir.path(), port, &[("  log_format: pretty\n  log_level: info", &telemetry)]);
    let log = dir.path().join("log");
    let mut child = spawn(&path, &log);
    wait_listening(&mut child, port, &log);
    let mut good = fixtures::payment(&fixtures::e2e(OWN));
    good["pix_key"] = serde_json::json!("cliente.secreto@example.com.br");
    let bad = fixtures::bad_cpf(&fixtures::e2e(OWN));
    let trace = "0af7651916cd43dd8448eb211c80319c";
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let status = rt.block_on(async {
        reqwest::Client::new()
            .post(format!("http://127.0.0.1:{port}/v1/events"))
            .header("traceparent", format!("00-{trace}-b7ad6b7169203331-01"))
            .json(&serde_json::json!([good, bad]))
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    });
    assert_eq!(status, 207);
    assert!(sigterm(&mut child).success());
    let logs = read_log(&log);
    let mut traced = 0;
    for line in logs.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        for k in ["@timestamp", "log.level", "message", "service.name"] {
            assert!(v.get(k).is_some(), "ECS field {k} missing: {line}");
        }
        if v["trace.id"] == trace {
            traced += 1;
            assert!(v["span.id"].as_str().is_some_and(|s| s.len() == 16));
        }
    }
    assert!(traced > 0, "a line written while answering the request carries its trace id:\n{logs}");
    for pii in ["52998224725", "52998224724", "cliente.secreto@example.com.br", "Maria da Silva", "11222333000181"] {
        assert!(!logs.contains(pii), "{pii} appears in the logs");
    }
}
