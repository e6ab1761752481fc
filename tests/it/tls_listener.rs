//! HTTPS on an `http` source against the real broker: a client with a valid certificate gets 200
//! and its certificate's subject and serial travel in the records' headers; no certificate, an
//! expired one or one signed by another CA fails the handshake and nothing reaches Kafka;
//! replacing the certificate files and the client CA bundle is picked up without a restart.

use std::time::Duration;

use crate::fixtures::{self, OWN};
use serde_json::json;

use crate::config_builder::ConfigBuilder;
use crate::harness::TestApp;
use crate::kafka::{headers, read_all_async};
use crate::tls_support::{Ca, listener_tls, post_async, write};

async fn start(test: &str, tls: serde_json::Value) -> (TestApp, std::net::SocketAddr) {
    let source = json!({"id": "secure", "type": "http", "listen": "127.0.0.1:0", "request_timeout": "8s", "tls": tls});
    let t = TestApp::start_with(&ConfigBuilder::for_test(test).source(source)).await;
    let addr = t.app.source_addr("secure", Duration::from_secs(10)).await.expect("secure source bound");
    (t, addr)
}

#[actix_rt::test]
async fn client_certificates_are_required_verified_and_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, other) = (Ca::new("pix-ingest test CA"), Ca::new("some other CA"));
    let server = ca.leaf("pix-ingest.test");
    let (cert, key) = (write(dir.path(), "server.pem", &server.cert), write(dir.path(), "server.key", &server.key));
    let client_ca = write(dir.path(), "clients.pem", &ca.pem());
    let (t, addr) = start("mtls", listener_tls(&cert, &key, Some(&client_ca))).await;

    let good = ca.leaf("psp-client");
    let body = fixtures::payment(&fixtures::e2e(OWN)).to_string();
    let ok = post_async(addr, "/v1/events", &ca.pem(), Some(&good), &body).await.expect("valid client certificate");
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(ok.server_cn, "pix-ingest.test");

    for (what, client) in [
        ("no certificate", None),
        ("an expired certificate", Some(ca.expired_leaf("psp-client"))),
        ("a certificate of another CA", Some(other.leaf("psp-client"))),
    ] {
        let body = fixtures::payment(&fixtures::e2e(OWN)).to_string();
        let r = post_async(addr, "/v1/events", &ca.pem(), client.as_ref(), &body).await;
        assert!(r.is_err(), "{what} must fail the handshake, got {r:?}");
    }

    // Only the authenticated request reached the pipeline, and its record names the client.
    let records = read_all_async(&t.bootstrap, &t.topics.payment).await;
    assert_eq!(records.len(), 1, "refused connections never reach a handler");
    let h = headers(&records[0]);
    let subject = h.get("pix-client-subject").expect("client subject header");
    assert!(subject.contains("CN=psp-client") && subject.contains("O=PSP de Teste"), "{subject}");
    assert!(!h.get("pix-client-serial").expect("client serial header").is_empty());
    t.stop().await;
}

#[actix_rt::test]
async fn tls_without_client_auth_serves_any_client_and_plain_http_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::new("pix-ingest test CA");
    let server = ca.leaf("pix-ingest.test");
    let (cert, key) = (write(dir.path(), "s.pem", &server.cert), write(dir.path(), "s.key", &server.key));
    let (t, addr) = start("tls", listener_tls(&cert, &key, None)).await;
    let body = fixtures::payment(&fixtures::e2e(OWN)).to_string();
    let ok = post_async(addr, "/v1/events", &ca.pem(), None, &body).await.expect("TLS without client auth");
    assert_eq!(ok.status, 200, "{}", ok.body);
    let plain = reqwest::Client::new().post(format!("http://{addr}/v1/events")).body(body).send().await;
    assert!(plain.is_err() || plain.unwrap().status().as_u16() != 200, "plain HTTP must not be served");
    let records = read_all_async(&t.bootstrap, &t.topics.payment).await;
    assert_eq!(records.len(), 1);
    assert!(!headers(&records[0]).contains_key("pix-client-subject"), "no client certificate, no header");
    t.stop().await;
}

#[actix_rt::test]
async fn replaced_certificate_and_client_ca_files_are_picked_up_without_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (ca1, ca2) = (Ca::new("CA one"), Ca::new("CA two"));
    let first = ca1.leaf("server-one");
    let (cert, key) = (write(dir.path(), "s.pem", &first.cert), write(dir.path(), "s.key", &first.key));
    let clients = write(dir.path(), "clients.pem", &ca1.pem());
    let (t, addr) = start("rotate", listener_tls(&cert, &key, Some(&clients))).await;
    let body = || fixtures::payment(&fixtures::e2e(OWN)).to_string();
    let (c1, c2) = (ca1.leaf("client-one"), ca2.leaf("client-two"));

    let before = post_async(addr, "/v1/events", &ca1.pem(), Some(&c1), &body()).await.unwrap();
    assert_eq!((before.status, before.server_cn.as_str()), (200, "server-one"));

    // Rotate: a new server certificate from CA two, and clients of CA two only.
    let second = ca2.leaf("server-two");
    write(dir.path(), "s.pem", &second.cert);
    write(dir.path(), "s.key", &second.key);
    write(dir.path(), "clients.pem", &ca2.pem());
    tokio::time::sleep(Duration::from_millis(400)).await;

    let after = post_async(addr, "/v1/events", &ca2.pem(), Some(&c2), &body()).await.expect("the new files serve");
    assert_eq!((after.status, after.server_cn.as_str()), (200, "server-two"));
    let old_client = post_async(addr, "/v1/events", &ca2.pem(), Some(&c1), &body()).await;
    assert!(old_client.is_err(), "a client of the replaced CA is refused: {old_client:?}");
    t.stop().await;
}
