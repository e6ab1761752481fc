//! The HTTP sink over mutual TLS against the real broker: the scoring service is an HTTPS
//! listener with its own private CA that requires a client certificate; the sink trusts that CA
//! (`tls.ca_file`, not the system store) and presents its certificate (`tls.cert_file`/`key_file`).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};

use crate::config_builder::ConfigBuilder;
use crate::fixtures::{self, OWN};
use crate::harness::TestApp;
use crate::tls_support::{Ca, write};

type Seen = Arc<Mutex<Vec<(String, String)>>>;

/// Records (client certificate subject, endToEndId) of every POST.
async fn score(req: HttpRequest, body: web::Bytes, seen: web::Data<Seen>) -> HttpResponse {
    let subject = req.conn_data::<pix_ingest::tls::PeerIdentity>().map(|c| c.subject.clone()).unwrap_or_default();
    let event: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let e2e = event["end_to_end_id"].as_str().unwrap_or_default().to_owned();
    seen.lock().unwrap().push((subject, e2e));
    HttpResponse::Ok().finish()
}

#[actix_rt::test]
async fn http_sink_reaches_an_https_service_with_a_private_ca_and_a_client_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (service_ca, client_ca) = (Ca::new("scoring CA"), Ca::new("pix-ingest clients CA"));
    let server = service_ca.leaf("scoring.test");
    let client = client_ca.leaf("pix-ingest-sink");
    let p = |n: &str, t: &str| write(dir.path(), n, t).display().to_string();
    let service_tls = pix_ingest::tls::ListenerTls {
        cert_file: p("scoring.pem", &server.cert).into(),
        key_file: p("scoring.key", &server.key).into(),
        client_ca_file: Some(p("clients.pem", &client_ca.pem()).into()),
        client_auth: pix_ingest::tls::ClientAuth::Required,
        reload_interval: Duration::from_secs(10),
    };
    let seen: Seen = Arc::default();
    let data = web::Data::new(Arc::clone(&seen));
    let service = HttpServer::new(move || App::new().app_data(data.clone()).route("/score", web::post().to(score)))
        .workers(1)
        .disable_signals()
        .on_connect(pix_ingest::tls::record_peer)
        .bind_rustls_0_23("127.0.0.1:0", pix_ingest::tls::server_config(&service_tls).unwrap())
        .unwrap();
    let port = service.addrs()[0].port();
    let service = service.run();
    let handle = service.handle();
    actix_rt::spawn(service);

    let sink = serde_json::json!({
        "id": "scoring", "type": "http", "url": format!("https://127.0.0.1:{port}/score"), "topics": ["payment"],
        "batch": {"max_events": 1, "max_age": "100ms"},
        "tls": {
            "ca_file": p("service-ca.pem", &service_ca.pem()),
            "cert_file": p("sink.pem", &client.cert),
            "key_file": p("sink.key", &client.key),
        },
    });
    let t = TestApp::start_with(&ConfigBuilder::for_test("sink-tls").sink(sink)).await;
    let e2e = fixtures::e2e(OWN);
    assert_eq!(t.post("application/json", fixtures::payment(&e2e).to_string()).await.status, 200);

    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some((subject, _)) = seen.lock().unwrap().iter().find(|(_, e)| *e == e2e) {
            assert!(subject.contains("CN=pix-ingest-sink"), "the sink presented its certificate: {subject}");
            break;
        }
        assert!(Instant::now() < deadline, "the sink never delivered {e2e} over mutual TLS");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    t.stop().await;
    handle.stop(true).await;
}
