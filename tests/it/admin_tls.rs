//! The admin listener over mutual TLS, run as the real binary against the real broker: a
//! mutation with `authorization: bearer` (any case) from an operator's certificate is served and
//! the audit log names the certificate; without a certificate the handshake fails; a literal
//! secret in a submitted entry is refused with 400 and never reaches the state file; and a
//! webhook listener without TLS says loudly that it is not for production.

use std::net::SocketAddr;

use crate::harness::{Topics, bootstrap, unique};
use crate::service::{free_port, read_log, sigterm, spawn, wait_listening};
use crate::tls_support::{Ca, Leaf, listener_tls, request, write};

fn call(addr: SocketAddr, line: &str, ca: &str, client: Option<&Leaf>, body: &str) -> Result<(u16, String), String> {
    request(addr, line, "authorization: bearer t0k3n\r\n", ca, client, body).map(|a| (a.status, a.body))
}

#[test]
fn admin_over_mtls_audits_the_client_and_refuses_literal_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("ops CA");
    let server = ca.leaf("admin.pix-ingest.test");
    let (cert, key) = (write(dir.path(), "a.pem", &server.cert), write(dir.path(), "a.key", &server.key));
    let clients = write(dir.path(), "ops.pem", &ca.pem());
    let (admin_port, hook_port) = (free_port(), free_port());
    let topics = Topics::new(&unique("admin-tls"));
    let state = dir.path().join("state.json");
    let config = write(
        dir.path(),
        "config.yaml",
        &format!(
            "kafka: {{ bootstrap_servers: \"{b}\", create_topics: {{ partitions: 1, replication_factor: 1 }} }}\n\
             topics: {{ payment: {p}, receipt: {r}, refund: {f}, dead_letter: {d} }}\n\
             pix: {{ own_ispbs: [\"99999010\"] }}\n\
             sources:\n  - {{ id: hook, type: http, listen: \"127.0.0.1:{hook_port}\", format: bcb_webhook }}\n\
             telemetry: {{ log_format: json }}\n\
             admin: {{ listen: \"127.0.0.1:{admin_port}\", token: t0k3n, state_file: \"{s}\", allowed_env: [HOME], tls: {tls} }}\n",
            b = bootstrap(),
            p = topics.payment,
            r = topics.receipt,
            f = topics.refund,
            d = topics.dlq,
            s = state.display(),
            tls = serde_json::to_string(&listener_tls(&cert, &key, Some(&clients))).unwrap(),
        ),
    );
    let log = dir.path().join("log");
    let mut child = spawn(&config, &log);
    wait_listening(&mut child, admin_port, &log);
    let addr: SocketAddr = format!("127.0.0.1:{admin_port}").parse().unwrap();
    let operator = ca.leaf("operator-maria");

    let paused = call(addr, "POST /api/v1/actors/hook/pause", &ca.pem(), Some(&operator), "");
    assert_eq!(paused.as_ref().map(|a| a.0), Ok(200), "{paused:?}");
    let anonymous = call(addr, "POST /api/v1/actors/hook/resume", &ca.pem(), None, "");
    assert!(anonymous.is_err(), "no client certificate, no admin call: {anonymous:?}");

    let literal =
        r#"{"id": "scoring", "type": "http", "url": "https://scoring.test/", "bearer_token": "hunter2-literal"}"#;
    let (status, body) = call(addr, "POST /api/v1/sinks", &ca.pem(), Some(&operator), literal).unwrap();
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("bearer_token") && body.contains("${VAR}"), "names the field and the way out: {body}");
    let reference = literal.replace("hunter2-literal", "${HOME}");
    let (status, body) = call(addr, "POST /api/v1/sinks", &ca.pem(), Some(&operator), &reference).unwrap();
    assert_eq!(status, 201, "{body}");
    let saved = std::fs::read_to_string(&state).unwrap();
    assert!(saved.contains("${HOME}") && !saved.contains("hunter2-literal"), "{saved}");
    let home = std::env::var("HOME").unwrap();
    assert!(!saved.contains(&format!("\"{home}\"")), "the resolved value is never written: {saved}");

    assert!(sigterm(&mut child).success());
    let logs = read_log(&log);
    assert!(logs.contains("WEBHOOK WITHOUT TLS: NOT ACCEPTABLE IN PRODUCTION"), "{logs}");
    let audit: Vec<&str> = logs.lines().filter(|l| l.contains("Admin mutation.") && l.contains("\"pause\"")).collect();
    assert_eq!(audit.len(), 1, "{logs}");
    assert!(audit[0].contains("CN=operator-maria"), "the audit names the certificate: {}", audit[0]);
    assert!(audit[0].contains("tls.client.serial_number"), "{}", audit[0]);
}
