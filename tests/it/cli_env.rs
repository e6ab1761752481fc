//! What the binary takes from its environment, as a container or a unit file gives it: the config
//! file from `PIX_INGEST_CONFIG` (for `run`, `check-config` and `healthcheck`), and the standard
//! `OTEL_EXPORTER_OTLP_ENDPOINT` / `OTEL_SERVICE_NAME`, checked by a real OTLP/HTTP receiver on
//! loopback that records what the trace exporter posts.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::config_builder::ConfigBuilder;
use crate::fixtures::{self, OWN};
use crate::harness::LogFormat;
use crate::service::{command, free_port, read_log, sigterm, wait_listening};
use crate::wait::{holds, wait_until_blocking};

/// Request line and body of every request an OTLP/HTTP receiver got.
type Received = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

/// A minimal OTLP/HTTP receiver on 127.0.0.1: records each request and answers 200 with an empty
/// protobuf (a valid ExportTraceServiceResponse). Its thread ends with the test process.
fn otlp_receiver() -> (u16, Received) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let received: Received = Arc::default();
    let seen = Arc::clone(&received);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let seen = Arc::clone(&seen);
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut stream = stream;
                loop {
                    let mut request = String::new();
                    if reader.read_line(&mut request).unwrap_or(0) == 0 {
                        return;
                    }
                    let mut length = 0;
                    loop {
                        let mut header = String::new();
                        reader.read_line(&mut header).unwrap();
                        if header.trim().is_empty() {
                            break;
                        }
                        if let Some((k, v)) = header.split_once(':')
                            && k.eq_ignore_ascii_case("content-length")
                        {
                            length = v.trim().parse().unwrap();
                        }
                    }
                    let mut body = vec![0; length];
                    reader.read_exact(&mut body).unwrap();
                    seen.lock().unwrap().push((request.trim().to_owned(), body));
                    let answer = "HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n";
                    if stream.write_all(answer.as_bytes()).is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, received)
}

#[test]
fn check_config_reads_the_file_pix_ingest_config_names() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "kafka:\n  bootstrap_servers: embedded\npix:\n  own_ispbs: [nope]\n").unwrap();
    let log = dir.path().join("log");
    let code =
        command(dir.path(), &["check-config"], &[("PIX_INGEST_CONFIG", bad.to_str().unwrap())], &log).status().unwrap();
    assert_eq!(code.code(), Some(64));
    assert!(read_log(&log).contains(&format!("{}:4", bad.display())), "{}", read_log(&log));

    let good = ConfigBuilder::for_test("config-var").write(&dir.path().join("good.yaml"));
    let ok = command(dir.path(), &["check-config"], &[("PIX_INGEST_CONFIG", good.to_str().unwrap())], &log)
        .status()
        .unwrap();
    assert!(ok.success(), "{}", read_log(&log));
    assert!(read_log(&log).contains(&format!("{}: OK", good.display())));
    // --config wins over the variable; with neither, the bundled demo is checked.
    let flag = command(
        dir.path(),
        &["check-config", "--config", good.to_str().unwrap()],
        &[("PIX_INGEST_CONFIG", "/nope")],
        &log,
    )
    .status()
    .unwrap();
    assert!(flag.success(), "{}", read_log(&log));
    assert!(command(dir.path(), &["check-config"], &[], &log).status().unwrap().success());
    assert!(read_log(&log).contains("config/dev.yaml (bundled): OK"), "{}", read_log(&log));
}

/// `run` with only the environment a container gives it: the config from `PIX_INGEST_CONFIG`,
/// traces to `OTEL_EXPORTER_OTLP_ENDPOINT` (a base URL: the exporter posts to /v1/traces) under
/// `OTEL_SERVICE_NAME`, which the JSON logs carry too; `healthcheck` finds the same admin listener.
#[test]
fn run_takes_its_config_and_trace_export_from_the_environment() {
    let (otlp, received) = otlp_receiver();
    let (port, admin) = (free_port(), free_port());
    let dir = tempfile::tempdir().unwrap();
    let cfg = ConfigBuilder::for_test("otel-env")
        .api_port(port)
        .admin_listen(([127, 0, 0, 1], admin).into())
        .log(LogFormat::Json, "info")
        .write(&dir.path().join("config.yaml"));
    let endpoint = format!("http://127.0.0.1:{otlp}");
    let env = [
        ("PIX_INGEST_CONFIG", cfg.to_str().unwrap()),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_SERVICE_NAME", "pix-ingest-it"),
    ];
    let log = dir.path().join("log");
    let mut child = command(dir.path(), &["run"], &env, &log).spawn().unwrap();
    wait_listening(&mut child, port, &log);
    let hc_log = dir.path().join("healthcheck.log");
    let healthy = command(dir.path(), &["healthcheck"], &env[..1], &hc_log).status().unwrap();
    assert!(healthy.success(), "{}", read_log(&hc_log));

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let status = rt.block_on(async {
        let url = format!("http://127.0.0.1:{port}/v1/events");
        let r = reqwest::Client::new().post(url).json(&fixtures::payment(&fixtures::e2e(OWN))).send().await.unwrap();
        r.status().as_u16()
    });
    assert_eq!(status, 200);
    assert!(sigterm(&mut child).success(), "{}", read_log(&log)); // flushes the exporter
    wait_until_blocking("spans posted to the OTLP receiver", Duration::from_secs(20), || {
        let got = received.lock().unwrap();
        let traces: Vec<_> = got.iter().filter(|(line, _)| line.starts_with("POST /v1/traces ")).collect();
        let named = traces.iter().any(|(_, body)| body.windows(13).any(|w| w == b"pix-ingest-it"));
        holds(named, got.iter().map(|(line, body)| format!("{line} ({} bytes)", body.len())).collect::<Vec<_>>())
    });
    let logs = read_log(&log);
    let line = logs.lines().find(|l| l.contains("pix-ingest started")).unwrap_or_else(|| panic!("{logs}"));
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    assert_eq!(v["service.name"], "pix-ingest-it", "{line}");
}

#[test]
fn healthcheck_fails_with_the_cause_when_nothing_answers() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let url = format!("http://127.0.0.1:{}/healthz", free_port());
    let code = command(dir.path(), &["healthcheck", "--url", &url, "--timeout", "2s"], &[], &log).status().unwrap();
    assert_eq!(code.code(), Some(1));
    let err = read_log(&log);
    assert!(err.contains("UNHEALTHY") && err.contains(&url) && err.contains("Connection refused"), "{err}");
}
