//! The binary: check-config errors, and the README's first command (embedded broker) end to end.

use std::io::Read;
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::fixtures::{self, OWN};
use crate::harness::repo;

const BIN: &str = env!("CARGO_BIN_EXE_pix-ingest");

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
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let cfg = std::fs::read_to_string(repo().join("config/dev.yaml"))
        .unwrap()
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{port}"))
        .replace("127.0.0.1:9090", "127.0.0.1:0");
    let path = dir.path().join("dev.yaml");
    std::fs::write(&path, cfg).unwrap();
    let log = std::fs::File::create(dir.path().join("log")).unwrap();
    let mut child = Command::new(BIN)
        .args(["run", "--config", path.to_str().unwrap()])
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .stdin(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "the service did not listen");
        assert!(child.try_wait().unwrap().is_none(), "the service exited early");
        std::thread::sleep(Duration::from_millis(50));
    }
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

    let st = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(st.success());
    let code = child.wait().unwrap();
    let mut logs = String::new();
    std::fs::File::open(dir.path().join("log")).unwrap().read_to_string(&mut logs).unwrap();
    assert!(code.success(), "exit {code:?}: {logs}");
    assert!(logs.contains("NON-DURABLE DEV MODE"), "the log must say it loudly: {logs}");
    assert!(!logs.contains("52998224725"), "no CPF in the logs");
}
