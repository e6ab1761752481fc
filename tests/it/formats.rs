//! The other wire formats end to end against the real broker: the BCB API Pix webhook (with an
//! HMAC signature), ISO 20022 SPI XML, and system log lines tailed from a file.

use std::time::Duration;

use rdkafka::Message;
use serde_json::{Value, json};

use crate::config_builder::ConfigBuilder;
use crate::harness::{CheckDigitPolicy, TestApp, hmac_signature};
use crate::kafka::{headers, key, read_all_async, value_json};
use crate::wait::wait_until;

const E2E_K: &str = "E12345678202009091221kkkkkkkkkkk";
const E2E_D: &str = "E87654321202009091221dfghi123456";
const E2E_A: &str = "E12345678202009091221abcdef12345";
const CAT_E2E: &str = "E9999901012341234123412345678900";

fn sample(rel: &str) -> Vec<u8> {
    let path = crate::harness::repo().join("crates/pix-domain/tests/data").join(rel);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

async fn start(test: &str, source: Value) -> TestApp {
    let config = ConfigBuilder::for_test(test).tax_id_check_digits(CheckDigitPolicy::Warn).source(source);
    TestApp::start_with(&config).await
}

async fn post(url: String, content_type: &str, body: Vec<u8>, signature: Option<String>) -> (u16, serde_json::Value) {
    let mut req = reqwest::Client::new().post(url).header("content-type", content_type).body(body);
    if let Some(s) = signature {
        req = req.header("x-pix-signature", s);
    }
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or_default())
}

#[actix_rt::test]
async fn bcb_webhook_samples_reach_their_topics_and_invalid_items_the_dlq_with_their_index() {
    let t = start(
        "webhook",
        json!({
            "id": "webhook", "type": "http", "listen": "127.0.0.1:0", "format": "bcb_webhook",
            "hmac": { "secret": "s3cr3t" }
        }),
    )
    .await;
    let addr = t.app.source_addr("webhook", Duration::from_secs(10)).await.unwrap();
    let url = format!("http://{addr}/v1/webhooks/pix");
    let body = sample("bcb-api-pix/derived/webhookPixBody.resolved.json");

    let (status, _) = post(url.clone(), "application/json", body.clone(), None).await;
    assert_eq!(status, 401, "no signature, no entry");
    let (status, _) = post(url.clone(), "application/json", body.clone(), Some("sha256=00".into())).await;
    assert_eq!(status, 401, "a wrong signature is refused");

    let sign = |b: &[u8]| hmac_signature("s3cr3t", b);
    let (status, json) = post(url.clone(), "application/json", body.clone(), Some(sign(&body))).await;
    assert_eq!(status, 200, "{json}");
    let receipts = read_all_async(&t.bootstrap, &t.topics.receipt).await;
    let mut keys: Vec<String> = receipts.iter().map(key).collect();
    keys.sort();
    assert_eq!(keys, [E2E_K, E2E_D]);
    let refunds = read_all_async(&t.bootstrap, &t.topics.refund).await;
    assert_eq!(refunds.len(), 1);
    assert_eq!(key(&refunds[0]), E2E_K, "a devolução is keyed by its parent's endToEndId");
    let refund = value_json(&refunds[0]);
    assert_eq!(refund["return_id"], "D12345678202009091221abcdf098765");
    assert!(refund["flags"].as_array().unwrap().iter().any(|f| f == "DEVOLUCOES_NOT_ARRAY"));
    assert_eq!(refund["source"]["kind"], "bcb_webhook");

    // GET /pix response: two valid items, two with 34-character endToEndIds
    let body = sample("bcb-api-pix/derived/getPix1.resolved.json");
    let (status, json) = post(url, "application/json", body.clone(), Some(sign(&body))).await;
    assert_eq!(status, 207, "{json}");
    assert_eq!((json["accepted"].as_u64(), json["rejected"].as_u64()), (Some(2), Some(2)), "{json}");
    let rejected: Vec<String> = json["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["status"] == "rejected")
        .map(|r| r["index"].to_string())
        .collect();
    let dlq = read_all_async(&t.bootstrap, &t.topics.dlq).await;
    assert_eq!(dlq.len(), 2);
    let mut dlq_index: Vec<String> = dlq.iter().map(|m| headers(m)["pix-item-index"].clone()).collect();
    dlq_index.sort();
    assert_eq!(dlq_index, rejected);
    for m in &dlq {
        assert_eq!(m.payload().unwrap(), body.as_slice(), "a webhook item is dead-lettered with the whole body");
        assert_eq!(headers(m)["pix-dlq-reason"], "e2e.format");
    }
    assert!(read_all_async(&t.bootstrap, &t.topics.receipt).await.iter().any(|m| key(m) == E2E_A));
    t.stop().await;
}

#[actix_rt::test]
async fn spi_xml_batches_and_status_reports_are_routed_and_bad_envelopes_refused() {
    let t = start("spi", json!({ "id": "spi", "type": "http", "listen": "127.0.0.1:0", "format": "spi_xml" })).await;
    let addr = t.app.source_addr("spi", Duration::from_secs(10)).await.unwrap();
    let url = format!("http://{addr}/v1/spi");

    let (status, json) =
        post(url.clone(), "application/xml", sample("bcb-spi-catalog-5.13.1/pacs.008_END_10_msg.xml"), None).await;
    assert_eq!(status, 200, "{json}");
    assert_eq!(json["accepted"], 10);
    let receipts = read_all_async(&t.bootstrap, &t.topics.receipt).await;
    let mut keys: Vec<String> = receipts.iter().map(key).collect();
    keys.sort();
    let want: Vec<String> = (0..10).map(|i| format!("{}{i}", &CAT_E2E[..31])).collect();
    assert_eq!(keys, want, "one receipt per transaction, keyed by its endToEndId");
    let v = value_json(&receipts[0]);
    assert_eq!(
        (v["source"]["kind"].as_str(), v["source"]["msg_def"].as_str()),
        (Some("spi_xml"), Some("pacs.008.spi.1.16"))
    );

    let (status, json) =
        post(url.clone(), "application/xml", sample("bcb-spi-catalog-5.13.1/pacs.002_ERRO_1_msg.xml"), None).await;
    assert_eq!(status, 200, "{json}");
    let payments = read_all_async(&t.bootstrap, &t.topics.payment).await;
    assert_eq!(payments.len(), 1, "a rejection of our own payment is a payment status");
    assert_eq!(value_json(&payments[0])["status"], "REJECTED");

    let doctype = br#"<?xml version="1.0"?><!DOCTYPE lol [<!ENTITY lol "lol">]><Envelope>&lol;</Envelope>"#.to_vec();
    let (status, json) = post(url, "application/xml", doctype.clone(), None).await;
    assert_eq!(status, 400, "{json}");
    assert_eq!(json["reasons"][0]["code"], "payload.dtd_forbidden");
    let dlq = read_all_async(&t.bootstrap, &t.topics.dlq).await;
    assert_eq!(dlq.len(), 1);
    assert_eq!(dlq[0].payload().unwrap(), doctype.as_slice());
    t.stop().await;
}

#[actix_rt::test]
async fn log_lines_with_prefixes_are_tailed_into_their_topics() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("spi.log");
    let xml =
        String::from_utf8(sample("bcb-spi-catalog-5.13.1/pacs.002_PSP_1_msg.xml")).unwrap().replace(['\n', '\r'], "");
    let canonical = crate::fixtures::payment(&crate::fixtures::e2e(crate::fixtures::OWN)).to_string();
    std::fs::write(
        &log,
        format!(
            "2026-11-25T10:00:00.000Z INFO spi-out {xml}\n2026-11-25T10:00:01.000Z INFO api {canonical}\n\
             2026-11-25T10:00:02.000Z WARN nothing to see here\n"
        ),
    )
    .unwrap();
    let t = start(
        "loglines",
        json!({
            "id": "logs", "type": "file", "format": "log_line", "path": log, "checkpoint_dir": dir.path().join("ckpt"),
            "poll_interval": "50ms"
        }),
    )
    .await;
    let (r, p, d) = wait_until("the three lines in Kafka", Duration::from_secs(30), async || {
        let (r, p, d) = (
            read_all_async(&t.bootstrap, &t.topics.receipt).await,
            read_all_async(&t.bootstrap, &t.topics.payment).await,
            read_all_async(&t.bootstrap, &t.topics.dlq).await,
        );
        let seen = format!("receipts + payments + dead letters: {} + {} + {}", r.len(), p.len(), d.len());
        if r.len() + p.len() + d.len() >= 3 { Ok((r, p, d)) } else { Err(seen) }
    })
    .await;
    assert_eq!((r.len(), p.len(), d.len()), (1, 1, 1));
    assert_eq!(key(&r[0]), CAT_E2E, "the SPI status report from the log");
    assert_eq!(headers(&d[0])["pix-dlq-reason"], "payload.unparseable");
    assert!(d[0].payload().unwrap().starts_with(b"2026-11-25T10:00:02.000Z WARN"), "the whole line");
    t.stop().await;
}
