//! The real binary against the secured broker: a wrong password, an untrusted broker certificate
//! and an unreachable broker each fail the start fast (exit 69) with the broker and the cause in
//! the log; `check-config` refuses what this build of librdkafka cannot serve with file:line:field.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::secure_kafka::{properties_yaml, secure};
use crate::service::{BIN, free_port, read_log, spawn};
use crate::tls_support::{Ca, write};

/// Runs `pix-ingest run` on `kafka` (the `kafka:` section) and waits for its exit: (code, log).
fn run_until_exit(dir: &Path, kafka: &str) -> (Option<i32>, String) {
    let config = write(
        dir,
        "config.yaml",
        &format!(
            "{kafka}pix: {{ own_ispbs: [\"99999010\"] }}\nsources:\n  - {{ id: api, type: http, listen: \"127.0.0.1:0\" }}\n\
             admin: {{ enabled: false }}\ntelemetry: {{ log_format: pretty }}\n"
        ),
    );
    let log = dir.join("log");
    let mut child = spawn(&config, &log);
    // The start must give up well before 30 s (connect_timeout is 20 s below; auth and TLS end it at once).
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return (status.code(), read_log(&log));
        }
        if Instant::now() > deadline {
            let _ = Command::new("kill").args(["-9", &child.id().to_string()]).status();
            panic!("the start did not fail within 30 s:\n{}", read_log(&log));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn kafka_section(bootstrap: &str, props: &[(&str, String)]) -> String {
    format!("kafka:\n  bootstrap_servers: \"{bootstrap}\"\n  connect_timeout: 20s\n{}", properties_yaml(props))
}

#[test]
fn wrong_password_fails_the_start_naming_broker_and_cause() {
    let s = secure();
    let dir = tempfile::tempdir().unwrap();
    let (code, log) = run_until_exit(dir.path(), &kafka_section(&s.sasl_ssl, &s.scram("not-the-password", &s.ca)));
    assert_eq!(code, Some(69), "{log}");
    assert!(log.contains(&format!("cannot connect to Kafka broker sasl_ssl://{}", s.sasl_ssl)), "{log}");
    assert!(log.contains("authentication failed"), "{log}");
    assert!(!log.contains("not-the-password"), "the password is never logged");
}

#[test]
fn untrusted_broker_certificate_fails_the_start_naming_broker_and_cause() {
    let s = secure();
    let dir = tempfile::tempdir().unwrap();
    let stranger = write(dir.path(), "other-ca.pem", &Ca::new("not the broker's CA").pem());
    let props = s.scram(&s.password, stranger.to_str().unwrap());
    let (code, log) = run_until_exit(dir.path(), &kafka_section(&s.sasl_ssl, &props));
    assert_eq!(code, Some(69), "{log}");
    assert!(log.contains(&format!("cannot connect to Kafka broker sasl_ssl://{}", s.sasl_ssl)), "{log}");
    assert!(log.contains("TLS handshake failed") && log.contains("certificate verify failed"), "{log}");

    // mTLS listener without a client certificate: the broker refuses the handshake.
    let props = vec![("security.protocol", "SSL".to_owned()), ("ssl.ca.location", s.ca.clone())];
    let (code, log) = run_until_exit(dir.path(), &kafka_section(&s.mtls, &props));
    assert_eq!(code, Some(69), "{log}");
    assert!(log.contains(&format!("cannot connect to Kafka broker ssl://{}", s.mtls)), "{log}");
}

#[test]
fn unreachable_broker_fails_the_start_after_connect_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let addr = format!("127.0.0.1:{}", free_port());
    let kafka = format!("kafka:\n  bootstrap_servers: \"{addr}\"\n  connect_timeout: 2s\n");
    let (code, log) = run_until_exit(dir.path(), &kafka);
    assert_eq!(code, Some(69), "{log}");
    assert!(log.contains(&format!("cannot connect to Kafka broker {addr}")), "{log}");
    assert!(log.contains("connection refused"), "{log}");
}

#[test]
fn check_config_refuses_what_librdkafka_cannot_serve() {
    let dir = tempfile::tempdir().unwrap();
    let config = write(
        dir.path(),
        "kafka.yaml",
        "kafka:\n  bootstrap_servers: \"b:9093\"\n  properties:\n    security.protocol: SASL_SSL\n    sasl.mechanism: AWS_MSK_IAM\n\
         \x20   sasl.mechanizm: PLAIN\npix: { own_ispbs: [\"99999010\"] }\n",
    );
    let out = Command::new(BIN).args(["check-config", "--config"]).arg(&config).output().unwrap();
    assert_eq!(out.status.code(), Some(64));
    let err = String::from_utf8_lossy(&out.stderr);
    let file = config.display();
    assert!(err.contains(&format!("{file}:6:")) && err.contains("`kafka.properties.sasl.mechanizm`"), "{err}");
    assert!(err.contains("No such configuration property"), "librdkafka's own verdict: {err}");

    std::fs::write(&config, "kafka:\n  bootstrap_servers: \"b:9093\"\n  properties:\n    security.protocol: SASL_SSL\n    sasl.mechanism: AWS_MSK_IAM\npix: { own_ispbs: [\"99999010\"] }\n").unwrap();
    let out = Command::new(BIN).args(["check-config", "--config"]).arg(&config).output().unwrap();
    assert_eq!(out.status.code(), Some(64));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{file}:5:")) && err.contains("`kafka.properties.sasl.mechanism`"), "{err}");
    assert!(err.contains("unsupported SASL mechanism `AWS_MSK_IAM`"), "{err}");

    // A file librdkafka cannot read is caught by check-config too, not at run time.
    std::fs::write(&config, "kafka:\n  bootstrap_servers: \"b:9093\"\n  properties:\n    security.protocol: SSL\n    ssl.ca.location: /nonexistent/ca.pem\npix: { own_ispbs: [\"99999010\"] }\n").unwrap();
    let out = Command::new(BIN).args(["check-config", "--config"]).arg(&config).output().unwrap();
    assert_eq!(out.status.code(), Some(64));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{file}:5:")) && err.contains("`kafka.properties.ssl.ca.location`"), "{err}");

    // So is a listener certificate that does not exist.
    std::fs::write(
        &config,
        "kafka:\n  bootstrap_servers: embedded\npix: { own_ispbs: [\"99999010\"] }\nsources:\n  - id: api\n    type: http\n    listen: 127.0.0.1:0\n    tls: { cert_file: /nonexistent/cert.pem, key_file: /nonexistent/key.pem }\n",
    )
    .unwrap();
    let out = Command::new(BIN).args(["check-config", "--config"]).arg(&config).output().unwrap();
    assert_eq!(out.status.code(), Some(64));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(&format!("{file}:8:")) && err.contains("`sources[0].tls`"), "{err}");
    assert!(err.contains("/nonexistent/cert.pem"), "{err}");
}
