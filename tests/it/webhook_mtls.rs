//! The BCB API Pix webhook contract over mutual TLS against the real broker: `POST {path}` is the
//! PSP's activation check (200 once authenticated), `POST {path}/pix` carries the notifications
//! to the receipts topic with the PSP certificate's identity in the headers; a caller without the
//! PSP's certificate never gets past the handshake.

use std::time::Duration;

use chrono::Utc;

use crate::config_builder::ConfigBuilder;
use crate::fixtures::{self, OTHER};
use crate::harness::TestApp;
use crate::kafka::{headers, read_all_async};
use crate::tls_support::{Ca, listener_tls, post_async, write};

#[actix_rt::test]
async fn activation_and_notifications_need_the_psps_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (ours, psp) = (Ca::new("our server CA"), Ca::new("PSP published chain"));
    let server = ours.leaf("webhook.bank.test");
    let (cert, key) = (write(dir.path(), "s.pem", &server.cert), write(dir.path(), "s.key", &server.key));
    let chain = write(dir.path(), "psp-chain.pem", &psp.pem());
    let tls = listener_tls(&cert, &key, Some(&chain));
    let source = serde_json::json!({
        "id": "pix-webhook", "type": "http", "listen": "127.0.0.1:0", "format": "bcb_webhook",
        "path": "/pix-ingest/webhook", "request_timeout": "8s", "tls": tls,
    });
    let t = TestApp::start_with(&ConfigBuilder::for_test("webhook-mtls").source(source)).await;
    let addr = t.app.source_addr("pix-webhook", Duration::from_secs(10)).await.unwrap();
    let psp_client = psp.leaf("webhook-sender.psp.test");

    let activation = post_async(addr, "/pix-ingest/webhook", &ours.pem(), Some(&psp_client), "{}").await.unwrap();
    assert_eq!(activation.status, 200, "activation check: {}", activation.body);
    let stranger = post_async(addr, "/pix-ingest/webhook", &ours.pem(), None, "{}").await;
    assert!(stranger.is_err(), "activation without the PSP's certificate must fail: {stranger:?}");

    let e2e = fixtures::e2e(OTHER);
    let now = Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let body = serde_json::json!({"pix": [{"endToEndId": e2e, "txid": "pixingesttxid0001", "valor": "10.50", "horario": now}]});
    let notified =
        post_async(addr, "/pix-ingest/webhook/pix", &ours.pem(), Some(&psp_client), &body.to_string()).await.unwrap();
    assert_eq!(notified.status, 200, "{}", notified.body);
    let refused = post_async(addr, "/pix-ingest/webhook/pix", &ours.pem(), Some(&ours.leaf("not-the-psp")), "{}").await;
    assert!(refused.is_err(), "a certificate outside the PSP's chain is refused: {refused:?}");

    let receipts = read_all_async(&t.bootstrap, &t.topics.receipt).await;
    assert_eq!(receipts.len(), 1, "one notification, one receipt");
    let h = headers(&receipts[0]);
    assert!(h["pix-client-subject"].contains("CN=webhook-sender.psp.test"), "{h:?}");
    assert!(!h["pix-client-serial"].is_empty());
    t.stop().await;
}
