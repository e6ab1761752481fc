//! The binary's signals against the real broker: SIGTERM drains (readiness 503 at once, requests
//! during `shutdown.drain_delay` still answered, exit 0), SIGHUP and `POST /api/v1/reload` read
//! the config file again (an actor added, one changed, one removed, the others untouched) and
//! refuse an invalid file while the old config keeps running.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command};
use std::time::Duration;

use serde_json::{Value, json};

use crate::config_builder::{ADMIN_TOKEN, ConfigBuilder};
use crate::fixtures::{self, OTHER};
use crate::harness::LogFormat;
use crate::service::{free_port, read_log, sigterm, spawn, wait_listening};
use crate::wait::{holds, wait_until_blocking};

/// One HTTP request, blocking: (status, JSON body); status 0 when nothing answered.
fn call(method: reqwest::Method, url: &str, json_body: Option<String>, token: bool) -> (u16, Value) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let mut req = reqwest::Client::new().request(method, url).timeout(Duration::from_secs(20));
        if let Some(b) = json_body {
            req = req.header("content-type", "application/json").body(b);
        }
        if token {
            req = req.bearer_auth(ADMIN_TOKEN);
        }
        match req.send().await {
            Ok(r) => (r.status().as_u16(), r.json().await.unwrap_or_default()),
            Err(_) => (0, Value::Null),
        }
    })
}

/// Writes `config` with `patch` merged into its top level (sections the builder has no knob for).
fn write_config(config: &ConfigBuilder, path: &Path, patch: Value) {
    config.load();
    let mut doc: Value = serde_json::from_str(&config.render()).unwrap();
    for (k, v) in patch.as_object().unwrap() {
        doc[k] = v.clone();
    }
    std::fs::write(path, serde_json::to_string_pretty(&doc).unwrap()).unwrap();
}

fn status(url: &str) -> u16 {
    call(reqwest::Method::GET, url, None, false).0
}

fn post_one(port: u16) -> u16 {
    let body = fixtures::receipt(&fixtures::e2e(OTHER)).to_string();
    call(reqwest::Method::POST, &format!("http://127.0.0.1:{port}/v1/events"), Some(body), false).0
}

fn reload(admin: SocketAddr) -> (u16, Value) {
    call(reqwest::Method::POST, &format!("http://{admin}/api/v1/reload"), None, true)
}

fn hup(child: &Child) {
    assert!(Command::new("kill").args(["-HUP", &child.id().to_string()]).status().unwrap().success());
}

#[test]
fn sigterm_drops_readiness_at_once_and_serves_through_the_drain_delay() {
    let dir = tempfile::tempdir().unwrap();
    let (port, admin_port) = (free_port(), free_port());
    let admin = SocketAddr::from(([127, 0, 0, 1], admin_port));
    let config = ConfigBuilder::for_test("drain").api_port(port).admin_listen(admin).log(LogFormat::Pretty, "info");
    let path = dir.path().join("config.yaml");
    write_config(&config, &path, json!({ "shutdown": { "drain_delay": "6s", "grace": "10s" } }));
    let log = dir.path().join("log");
    let mut child = spawn(&path, &log);
    wait_listening(&mut child, port, &log);
    wait_listening(&mut child, admin_port, &log);
    assert_eq!(post_one(port), 200, "{}", read_log(&log));
    assert_eq!(status(&format!("http://127.0.0.1:{port}/readyz")), 200);

    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    wait_until_blocking("readiness to drop", Duration::from_secs(5), || {
        let (listener, instance) =
            (status(&format!("http://127.0.0.1:{port}/readyz")), status(&format!("http://{admin}/readyz")));
        holds(listener == 503 && instance == 503, (listener, instance))
    });
    // Within the drain delay the listener still takes traffic, and Kafka still acknowledges it.
    let answers: Vec<u16> = (0..5).map(|_| post_one(port)).collect();
    assert_eq!(answers, vec![200; 5], "{}", read_log(&log));
    let exit = child.wait().unwrap();
    assert_eq!(exit.code(), Some(0), "{}", read_log(&log));
    assert!(read_log(&log).contains("Draining"), "{}", read_log(&log));
    assert_eq!(post_one(port), 0, "the listener is closed after the drain");
}

fn actors(admin: SocketAddr) -> Vec<(String, String)> {
    let (_, list) = call(reqwest::Method::GET, &format!("http://{admin}/api/v1/actors"), None, false);
    let mut out: Vec<(String, String)> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["kind"] != "pipeline")
        .map(|a| (a["id"].as_str().unwrap().to_owned(), a["restarts"].to_string()))
        .collect();
    out.sort();
    out
}

fn ids(admin: SocketAddr) -> Vec<String> {
    actors(admin).into_iter().map(|(id, _)| id).collect()
}

fn files_under(dir: &Path) -> usize {
    crate::sinks::files(dir).into_iter().filter(|p| p.extension().is_some_and(|e| e == "ndjson")).count()
}

#[test]
fn sighup_adds_changes_and_removes_actors_and_an_invalid_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (port, admin_port) = (free_port(), free_port());
    let admin = SocketAddr::from(([127, 0, 0, 1], admin_port));
    let (old_dir, new_dir) = (dir.path().join("landing-old"), dir.path().join("landing-new"));
    let file_sink = |d: &Path| json!({ "id": "landing", "type": "file", "dir": d, "batch": { "max_age": "100ms" } });
    let base = ConfigBuilder::for_test("reload").api_port(port).admin_listen(admin).log(LogFormat::Pretty, "info");
    let first =
        base.clone().sink(file_sink(&old_dir)).source(json!({ "id": "synth", "type": "generator", "rate": 1.0 }));
    let path = dir.path().join("config.yaml");
    write_config(&first, &path, json!({}));
    let log = dir.path().join("log");
    let mut child = spawn(&path, &log);
    wait_listening(&mut child, port, &log);
    wait_listening(&mut child, admin_port, &log);
    assert_eq!(ids(admin), ["api", "landing", "synth"]);

    // New file: `landing` writes elsewhere, `synth` is gone, `extra` is new; `api` untouched.
    let extra_port = free_port();
    let second = base
        .clone()
        .sink(file_sink(&new_dir))
        .source(json!({ "id": "extra", "type": "http", "listen": format!("127.0.0.1:{extra_port}") }));
    write_config(&second, &path, json!({}));
    hup(&child);
    wait_until_blocking("the reload to apply", Duration::from_secs(30), || {
        holds(ids(admin) == ["api", "extra", "landing"], ids(admin))
    });
    wait_listening(&mut child, extra_port, &log);
    assert_eq!(post_one(port), 200, "the untouched listener kept serving");
    assert_eq!(post_one(extra_port), 200, "the added listener serves");
    wait_until_blocking("the changed sink to write to its new directory", Duration::from_secs(30), || {
        let n = files_under(&new_dir);
        holds(n > 0, n)
    });
    let text = read_log(&log);
    assert!(text.contains("Config reloaded"), "{text}");

    // An invalid file changes nothing, says why, and the process keeps running.
    std::fs::write(&path, "kafka: { bootstrap_servers: embedded }\npix: { own_ispbs: [nope] }\n").unwrap();
    hup(&child);
    wait_until_blocking("the refusal in the log", Duration::from_secs(30), || {
        holds(read_log(&log).contains("Config reload refused"), "not yet")
    });
    assert!(child.try_wait().unwrap().is_none(), "{}", read_log(&log));
    assert_eq!(ids(admin), ["api", "extra", "landing"]);
    let (code, problem) = reload(admin);
    assert_eq!(code, 400, "{problem}");
    assert_eq!(problem["code"], "config.invalid", "{problem}");
    assert!(problem["errors"].to_string().contains("own_ispbs"), "{problem}");

    // The API reload applies a valid file the same way: `extra` removed again.
    write_config(&base.clone().sink(file_sink(&new_dir)), &path, json!({}));
    let (code, report) = reload(admin);
    assert_eq!(code, 200, "{report}");
    assert_eq!(report["removed"], json!(["extra"]), "{report}");
    assert_eq!(ids(admin), ["api", "landing"]);
    assert_eq!(sigterm(&mut child).code(), Some(0), "{}", read_log(&log));
}
