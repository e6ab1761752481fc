//! Dead letters brought back (`pix-ingest dlq`, `GET /api/v1/dlq`, `POST /api/v1/dlq/redrive`):
//! records a strict config dead-lettered are published by a redrive under a config that accepts
//! them (same event id, `pix-redriven-from`), those still invalid stay with their reason, a run
//! of the same selection goes on where the last stopped and then moves nothing, sink-stage dead
//! letters go back to their category topic, and a browse never shows a value.

use std::time::{Duration, Instant};

use rdkafka::Message;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use serde_json::{Value, json};

use crate::admin_api::call;
use crate::config_builder::{ADMIN_TOKEN, ConfigBuilder};
use crate::fixtures::{self, OWN};
use crate::harness::{CheckDigitPolicy, TestApp, unique};
use crate::kafka::{headers, read_all_async};

/// A body of `n` payments with a wrong CPF check digit (dead letters under `strict`, valid under
/// `warn`) and one item that no config accepts; their endToEndIds.
fn rejected_body(n: usize) -> (String, Vec<String>) {
    let ids: Vec<String> = (0..n).map(|_| fixtures::e2e(OWN)).collect();
    let mut items: Vec<Value> = ids.iter().map(|e| fixtures::bad_cpf(e)).collect();
    items.push(json!({"hello": "world"}));
    (serde_json::to_string(&items).unwrap(), ids)
}

async fn admin(t: &TestApp, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
    let url = format!("http://{}{path}", t.app.admin_addr().unwrap());
    let (status, json) = call(method, url, Some(ADMIN_TOKEN), body.map(|b| b.to_string())).await;
    assert_eq!(status, 200, "{path}: {json}");
    json
}

async fn redrive(t: &TestApp, selection: Value) -> Value {
    admin(t, reqwest::Method::POST, "/api/v1/dlq/redrive", Some(selection)).await
}

#[actix_rt::test]
async fn a_redrive_publishes_what_the_config_accepts_now_and_a_second_run_moves_nothing_new() {
    let strict = ConfigBuilder::for_test("redrive").tax_id_check_digits(CheckDigitPolicy::Strict);
    let t = TestApp::start_with(&strict).await;
    let (body, ids) = rejected_body(3);
    assert_eq!(t.post("application/json", body).await.status, 422);
    t.stop().await;

    // The rule is relaxed: the same topics, `warn` instead of `strict`.
    let t = TestApp::start_with(&strict.clone().tax_id_check_digits(CheckDigitPolicy::Warn)).await;
    let listing = admin(&t, reqwest::Method::GET, "/api/v1/dlq?stage=validate&limit=10", None).await;
    let letters = listing["letters"].as_array().unwrap();
    assert_eq!(letters.len(), 4, "{listing}");
    let text = listing.to_string();
    for pii in ["52998224724", "Maria", "11222333000181", &ids[0]] {
        assert!(!text.contains(pii), "the browse shows {pii}: {text}");
    }
    let cpf: Vec<&Value> = letters.iter().filter(|l| l["reason"] == "tax_id.check_digit").collect();
    assert_eq!(cpf.len(), 3, "{listing}");
    assert!(cpf.iter().all(|l| l["preview"].as_str().unwrap().contains("\"amount\":\"***.**\"")), "{listing}");

    // Two runs of one selection: the first stops at its limit, the second goes on from there.
    let first = redrive(&t, json!({"stage": "validate", "limit": 2})).await;
    assert_eq!(first["complete"], false, "{first}");
    let second = redrive(&t, json!({"stage": "validate"})).await;
    assert_eq!(second["complete"], true, "{second}");
    assert_eq!(first["group"], second["group"]);
    let count = |r: &Value, k: &str| r[k].as_u64().unwrap();
    assert_eq!(count(&first, "redriven") + count(&second, "redriven"), 3, "{first}\n{second}");
    let invalid: Vec<&Value> = [&first, &second].iter().flat_map(|r| r["invalid"].as_array().unwrap()).collect();
    assert_eq!(invalid.len(), 1, "{first}\n{second}");
    assert!(invalid[0]["reason"].as_str().unwrap().starts_with("field."), "{}", invalid[0]);

    // A third run has nothing left; a restart takes everything again (deduplicated downstream).
    let third = redrive(&t, json!({"stage": "validate"})).await;
    assert_eq!((count(&third, "examined"), count(&third, "redriven"), &third["complete"]), (0, 0, &json!(true)));

    let published = read_all_async(&t.bootstrap, &t.topics.payment).await;
    assert_eq!(published.len(), 3);
    let dlq = read_all_async(&t.bootstrap, &t.topics.dlq).await;
    assert_eq!(dlq.len(), 4, "the dead letters stay where they are");
    let moved: Vec<&Value> = [&first, &second].iter().flat_map(|r| r["moved"].as_array().unwrap()).collect();
    for m in &published {
        let h = headers(m);
        let event = crate::kafka::value_json(m);
        let e2e = event["end_to_end_id"].as_str().unwrap();
        assert!(ids.iter().any(|i| i == e2e));
        // The event id a first publish would have had: derived from the event, not the run.
        assert_eq!(h["pix-event-id"], format!("{e2e}:TRANSFER:PENDING"));
        assert!(event["flags"].to_string().contains("TAX_ID_CHECK_DIGIT"), "{event}");
        let from = &h["pix-redriven-from"];
        let letter = dlq.iter().find(|l| format!("{}/{}/{}", t.topics.dlq, l.partition(), l.offset()) == *from);
        assert!(letter.is_some_and(|l| headers(l)["pix-dlq-reason"] == "tax_id.check_digit"), "{from}");
        assert!(moved.iter().any(|x| x["records"][0]["event_id"] == h["pix-event-id"].as_str()));
    }
    t.stop().await;
}

/// A dead letter as a sink writes it: the record it could not take, unchanged.
async fn sink_dead_letter(bootstrap: &str, topic: &str, record: &[u8], sink: &str) {
    let producer: FutureProducer = rdkafka::ClientConfig::new().set("bootstrap.servers", bootstrap).create().unwrap();
    let hs = [("pix-dlq-reason", "sink.http.exhausted"), ("pix-dlq-stage", "sink_write"), ("pix-source", sink)]
        .into_iter()
        .fold(OwnedHeaders::new(), |h, (key, v)| h.insert(Header { key, value: Some(v) }));
    let reasons = r#"[{"code":"sink.http.exhausted","path":"","detail":"503 five times"}]"#;
    let hs = hs.insert(Header { key: "pix-dlq-reasons", value: Some(reasons) });
    let rec = FutureRecord::<(), _>::to(topic).payload(record).headers(hs);
    producer.send(rec, Duration::from_secs(10)).await.unwrap();
}

#[actix_rt::test]
async fn a_sink_stage_dead_letter_goes_back_to_its_category_topic() {
    let t = TestApp::start("redrive-sink").await;
    assert_eq!(t.post_events(&[fixtures::payment(&fixtures::e2e(OWN))]).await.status, 200);
    let original = read_all_async(&t.bootstrap, &t.topics.payment).await;
    let record = original[0].payload().unwrap().to_vec();
    sink_dead_letter(&t.bootstrap, &t.topics.dlq, &record, "scoring").await;
    sink_dead_letter(&t.bootstrap, &t.topics.dlq, b"{\"not\": \"a record\"}", "scoring").await;

    let report = redrive(&t, json!({"source": "scoring"})).await;
    assert_eq!(report["redriven"], 1, "{report}");
    assert_eq!(report["still_invalid"]["redrive.not_a_record"], 1, "{report}");
    let payments = read_all_async(&t.bootstrap, &t.topics.payment).await;
    assert_eq!(payments.len(), 2);
    let again = payments.iter().find(|m| headers(m).contains_key("pix-redriven-from")).unwrap();
    assert_eq!(again.payload().unwrap(), record.as_slice(), "the record as the sink got it");
    assert_eq!(headers(again)["pix-event-id"], headers(&original[0])["pix-event-id"]);
    assert_eq!(headers(again)["pix-source"], "api", "the source that received it, not the sink");
    t.stop().await;
}

/// `pix-ingest dlq list|redrive --config F`: the JSON it prints.
fn cli(config: &std::path::Path, args: &[&str]) -> Value {
    let out = std::process::Command::new(crate::service::BIN)
        .args(["dlq"])
        .args(args)
        .args(["--config", config.to_str().unwrap()])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "dlq {args:?}: {stderr}");
    if args[0] == "redrive" {
        assert!(stderr.contains("pix_ingest::audit") && stderr.contains("dlq_redrive"), "{stderr}");
    }
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// The CLI on a backlog of 2000 dead letters: a browse is masked, and a redrive takes them all
/// within a bound (a failure to finish, not a speed goal) and prints its rate.
#[actix_rt::test]
async fn the_cli_lists_masked_and_redrives_a_backlog_within_a_bound() {
    let strict = ConfigBuilder::for_test("redrive-cli").tax_id_check_digits(CheckDigitPolicy::Strict);
    let t = TestApp::start_with(&strict).await;
    for _ in 0..4 {
        let items: Vec<Value> = (0..500).map(|_| fixtures::bad_cpf(&fixtures::e2e(OWN))).collect();
        assert_eq!(t.post_events(&items).await.status, 422);
    }
    let (bootstrap, payments) = (t.bootstrap.clone(), t.topics.payment.clone());
    t.stop().await;
    let dir = tempfile::tempdir().unwrap();
    // The config names the source `api` the dead letters came from (the CLI starts nothing).
    let warn = strict.clone().tax_id_check_digits(CheckDigitPolicy::Warn);
    let config = warn.write(&dir.path().join(format!("{}.yaml", unique("cli"))));

    let list = tokio::task::spawn_blocking({
        let config = config.clone();
        move || cli(&config, &["list", "--reason", "tax_id.check_digit", "--limit", "5"])
    })
    .await
    .unwrap();
    assert_eq!((list["letters"].as_array().unwrap().len(), &list["more"]), (5, &json!(true)), "{list}");
    assert!(!list.to_string().contains("52998224724") && !list.to_string().contains("Maria"), "{list}");

    let started = Instant::now();
    let run = tokio::task::spawn_blocking(move || cli(&config, &["redrive", "--reason", "tax_id.check_digit"]));
    let report = tokio::time::timeout(Duration::from_secs(120), run).await.expect("the redrive finished").unwrap();
    let took = started.elapsed();
    assert_eq!((report["redriven"].as_u64(), &report["complete"]), (Some(2000), &json!(true)), "{}", report["skipped"]);
    eprintln!(
        "dlq redrive (CLI, real broker): 2000 dead letters in {:.2} s, {:.0} dead letters/s",
        took.as_secs_f64(),
        2000.0 / took.as_secs_f64()
    );
    assert_eq!(read_all_async(&bootstrap, &payments).await.len(), 2000);
}
