//! POST /v1/events against the real broker: routing, keys, headers, per-record results, the DLQ.

use rdkafka::Message;

use crate::fixtures::{self, OTHER, OWN};
use crate::harness::TestApp;
use crate::kafka::{headers, key, read_all_async, value_json};

#[actix_rt::test]
async fn each_category_lands_in_its_topic_with_key_and_headers() {
    let t = TestApp::start("categories").await;
    let (e_pay, e_rec, e_ref) = (fixtures::e2e(OWN), fixtures::e2e(OTHER), fixtures::e2e(OTHER));
    let body = serde_json::json!([fixtures::payment(&e_pay), fixtures::receipt(&e_rec), fixtures::refund(&e_ref)]);
    let traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
    let resp = reqwest::Client::new()
        .post(t.url("/v1/events"))
        .header("traceparent", traceparent)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    let json: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(json["accepted"], 3, "{json}");
    let results = json["results"].as_array().unwrap();
    let expect = [
        (&t.topics.payment, &e_pay, "payment"),
        (&t.topics.receipt, &e_rec, "receipt"),
        (&t.topics.refund, &e_ref, "refund"),
    ];
    for (i, (topic, e2e, category)) in expect.iter().enumerate() {
        let r = &results[i];
        assert_eq!(r["index"], i, "{json}");
        assert_eq!(r["status"], "accepted");
        assert_eq!(r["topic"], topic.as_str());
        assert_eq!(r["category"], *category);
        assert_eq!(r["end_to_end_id"], e2e.as_str());
        assert!(r["offset"].as_i64().is_some() && r["partition"].as_i64().is_some());

        let records = read_all_async(&t.bootstrap, topic).await;
        assert_eq!(records.len(), 1, "exactly one record in {topic}");
        let m = &records[0];
        assert_eq!(key(m), **e2e, "the key is the original endToEndId");
        assert_eq!(i64::from(m.partition()), r["partition"].as_i64().unwrap());
        assert_eq!(m.offset(), r["offset"].as_i64().unwrap());
        let h = headers(m);
        assert!(
            h["traceparent"].starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"),
            "incoming trace continued: {h:?}"
        );
        assert_eq!(h["pix-source"], "api");
        assert_eq!(h["pix-schema-version"], "1");
        assert_eq!(h["content-type"], "application/json");
        let v = value_json(m);
        assert_eq!(h["pix-event-id"], v["event_id"].as_str().unwrap());
        assert_eq!(v["category"], *category);
        assert_eq!(v["end_to_end_id"], e2e.as_str());
        assert_eq!(r["event_id"], v["event_id"]);
    }
    // the refund's value keeps the parent's endToEndId and carries its own return id
    let refund = value_json(&read_all_async(&t.bootstrap, &t.topics.refund).await[0]);
    assert!(refund["return_id"].as_str().unwrap().starts_with('D'));
    assert!(read_all_async(&t.bootstrap, &t.topics.dlq).await.is_empty(), "nothing dead-lettered");
    t.stop().await;
}

#[actix_rt::test]
async fn mixed_batch_gets_per_record_results_and_invalid_items_reach_the_dlq_unchanged() {
    let t = TestApp::start("mixed").await;
    let good = serde_json::to_string(&fixtures::payment(&fixtures::e2e(OWN))).unwrap();
    let bad_e2e = fixtures::e2e(OWN);
    // the original bytes of the bad item, with odd spacing that a re-serialisation would lose
    let bad = serde_json::to_string(&fixtures::bad_cpf(&bad_e2e)).unwrap().replacen('{', "{  ", 1);
    let not_pix = r#"{"hello": "world"}"#;
    let body = format!("[{good}, {bad},{not_pix}]");
    let r = t.post("application/json", body).await;
    assert_eq!(r.status, 207, "{:?}", r.json);
    assert_eq!((r.json["accepted"].as_u64(), r.json["rejected"].as_u64()), (Some(1), Some(2)), "{}", r.json);
    let res = r.json["results"].as_array().unwrap();
    assert_eq!(res[0]["status"], "accepted");
    assert_eq!(res[1]["status"], "rejected");
    assert_eq!(res[1]["index"], 1);
    assert_eq!(res[1]["end_to_end_id"], bad_e2e.as_str());
    let codes = |r: &serde_json::Value| -> Vec<String> {
        r["reasons"].as_array().unwrap().iter().map(|x| x["code"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(codes(&res[1]), ["tax_id.check_digit"]);
    assert_eq!(res[1]["topic"], t.topics.dlq.as_str(), "the report points at the dead letter");
    assert_eq!(res[2]["status"], "rejected");
    assert!(codes(&res[2]).iter().any(|c| c.starts_with("field.")), "{:?}", codes(&res[2]));

    let dlq = read_all_async(&t.bootstrap, &t.topics.dlq).await;
    assert_eq!(dlq.len(), 2);
    let mut by_index: Vec<_> = dlq.iter().map(|m| (headers(m)["pix-item-index"].clone(), m)).collect();
    by_index.sort_by(|a, b| a.0.cmp(&b.0));
    let (idx, m) = &by_index[0];
    assert_eq!(idx, "1");
    assert_eq!(m.payload().unwrap(), bad.as_bytes(), "original bytes unchanged");
    let h = headers(m);
    assert_eq!(h["pix-dlq-reason"], "tax_id.check_digit");
    assert_eq!(h["pix-dlq-stage"], "validate");
    assert_eq!(h["pix-source"], "api");
    assert!(h.contains_key("pix-received-at") && h.contains_key("traceparent"));
    let reasons: serde_json::Value = serde_json::from_str(&h["pix-dlq-reasons"]).unwrap();
    assert_eq!(reasons[0]["code"], "tax_id.check_digit");
    assert_eq!(reasons[0]["path"], "payer.tax_id");
    assert!(!h["pix-dlq-reasons"].contains("52998224724"), "no CPF in the reason");
    assert_eq!(by_index[1].1.payload().unwrap(), not_pix.as_bytes());
    assert_eq!(read_all_async(&t.bootstrap, &t.topics.payment).await.len(), 1);
    t.stop().await;
}

#[actix_rt::test]
async fn ndjson_not_json_too_large_and_all_rejected() {
    let t = TestApp::start("bodies").await;
    // NDJSON: a broken line is one rejected item; its siblings are published
    let a = serde_json::to_string(&fixtures::receipt(&fixtures::e2e(OTHER))).unwrap();
    let b = serde_json::to_string(&fixtures::payment(&fixtures::e2e(OWN))).unwrap();
    let r = t.post("application/x-ndjson", format!("{a}\n{{\"truncated\": \n{b}\n")).await;
    assert_eq!(r.status, 207, "{}", r.json);
    assert_eq!(r.json["accepted"], 2);
    assert_eq!(r.json["results"][1]["reasons"][0]["code"], "payload.unparseable");

    // not JSON at all: 400, and the body is dead-lettered whole
    let r = t.post("application/json", "this is not json").await;
    assert_eq!(r.status, 400, "{}", r.json);
    assert_eq!(r.json["reasons"][0]["code"], "payload.unparseable");

    // over the size limit: 413
    let big = format!("[{}]", vec![a.as_str(); 20_000].join(","));
    assert!(big.len() > 1024 * 1024);
    let r = t.post("application/json", big).await;
    assert_eq!(r.status, 413);
    assert_eq!(r.json["reasons"][0]["code"], "payload.too_large");

    // a single invalid event: 422 with the reason
    let r = t.post("application/json", serde_json::to_string(&fixtures::bad_cpf(&fixtures::e2e(OWN))).unwrap()).await;
    assert_eq!(r.status, 422, "{}", r.json);
    // neither side is ours: category.undeterminable
    let mut stranger = fixtures::receipt(&fixtures::e2e(OTHER));
    stranger["payee"]["ispb"] = serde_json::json!("87654321");
    let r = t.post("application/json", stranger.to_string()).await;
    assert_eq!(r.status, 422, "{}", r.json);
    assert_eq!(r.json["results"][0]["reasons"][0]["code"], "category.undeterminable");

    // unsupported media type
    let r = t.post("text/plain", "x").await;
    assert_eq!(r.status, 415);

    let dlq = read_all_async(&t.bootstrap, &t.topics.dlq).await;
    let stages: Vec<String> = dlq.iter().map(|m| headers(m)["pix-dlq-stage"].clone()).collect();
    assert_eq!(dlq.len(), 4, "ndjson line, not-json body, bad cpf, stranger: {stages:?}");
    assert!(dlq.iter().any(|m| m.payload() == Some(b"this is not json".as_slice())
        && headers(m)["pix-dlq-stage"] == "decode"
        && !headers(m).contains_key("pix-item-index")));
    t.stop().await;
}

#[actix_rt::test]
async fn intra_psp_transfer_is_both_payment_and_receipt() {
    let t = TestApp::start("intra").await;
    let e = fixtures::e2e(OWN);
    let mut ev = fixtures::payment(&e);
    ev["payee"]["ispb"] = serde_json::json!(OWN);
    let r = t.post("application/json", ev.to_string()).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["accepted"], 2);
    let pay = read_all_async(&t.bootstrap, &t.topics.payment).await;
    let rec = read_all_async(&t.bootstrap, &t.topics.receipt).await;
    assert_eq!((pay.len(), rec.len()), (1, 1));
    let (p, q) = (value_json(&pay[0]), value_json(&rec[0]));
    assert_eq!(p["event_id"], q["event_id"]);
    assert_eq!(p["intra_psp"], true);
    t.stop().await;
}
