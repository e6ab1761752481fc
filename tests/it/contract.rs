//! The ingest contract on the wire, against the real broker: duplicate answers with the original
//! coordinates, one error shape (problem+json) and 405 on every route, an empty body that writes
//! nothing, dead letters keyed by the endToEndId, schema evolution, and 429 past the in-flight
//! bound with nothing accepted lost.

use rdkafka::Message;
use serde_json::{Value, json};

use crate::config_builder::ConfigBuilder;
use crate::fixtures::{self, OTHER, OWN};
use crate::harness::TestApp;
use crate::kafka::{key, read_all_async, value_json};

/// Asserts the RFC 9457 members and our code; returns the body.
async fn problem(resp: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(resp.status().as_u16(), status);
    let ct = resp.headers().get("content-type").map(|v| v.to_str().unwrap().to_owned());
    assert_eq!(ct.as_deref(), Some("application/problem+json"), "status {status}");
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["type"], format!("urn:pix-ingest:problem:{code}"), "{body}");
    assert!(body["title"].is_string() && body["detail"].is_string(), "{body}");
    body
}

#[actix_rt::test]
async fn the_same_event_and_the_same_batch_again_answer_duplicate_and_are_not_produced() {
    let t = TestApp::start("dup-http").await;
    let event = fixtures::payment(&fixtures::e2e(OWN));
    let first = t.post("application/json", event.to_string()).await;
    assert_eq!(first.status, 200, "{}", first.json);
    let again = t.post("application/json", event.to_string()).await;
    assert_eq!(again.status, 200, "{}", again.json);
    let (a, b) = (&first.json["results"][0], &again.json["results"][0]);
    assert_eq!((a["status"].as_str(), b["status"].as_str()), (Some("accepted"), Some("duplicate")));
    for member in ["topic", "partition", "offset", "event_id", "category"] {
        assert_eq!(a[member], b[member], "the original {member}");
    }
    assert_eq!((again.json["accepted"].as_u64(), again.json["duplicate"].as_u64()), (Some(0), Some(1)));

    // A batch of 20 twice, with a copy inside the second one too: 20 records in all.
    let batch = fixtures::mixed(20);
    assert_eq!(t.post_events(&batch).await.status, 200);
    let mut twice = batch.clone();
    twice.push(batch[3].clone());
    let r = t.post_events(&twice).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["duplicate"], 21, "{}", r.json);
    assert!(r.json["results"].as_array().unwrap().iter().all(|x| x["status"] == "duplicate" && x["offset"].is_i64()));
    // Inside one new batch, the second copy answers duplicate with the first one's coordinates.
    let fresh = fixtures::receipt(&fixtures::e2e(OTHER));
    let r = t.post_events(&[fresh.clone(), fresh]).await;
    assert_eq!(r.status, 200, "{}", r.json);
    let res = r.json["results"].as_array().unwrap();
    assert_eq!((res[0]["status"].as_str(), res[1]["status"].as_str()), (Some("accepted"), Some("duplicate")));
    assert_eq!((&res[0]["offset"], &res[0]["partition"]), (&res[1]["offset"], &res[1]["partition"]));

    let payments = read_all_async(&t.bootstrap, &t.topics.payment).await.len();
    let receipts = read_all_async(&t.bootstrap, &t.topics.receipt).await.len();
    assert_eq!((payments, receipts), (11, 11), "each event once in Kafka");
    t.stop().await;
}

#[actix_rt::test]
async fn every_error_is_a_problem_document_and_a_wrong_method_is_405_with_allow() {
    let t = TestApp::start("problems").await;
    let client = reqwest::Client::new();
    for route in ["/v1/events", "/v1/webhooks/pix", "/v1/webhooks", "/v1/spi"] {
        for method in [reqwest::Method::GET, reqwest::Method::PUT, reqwest::Method::DELETE] {
            let resp = client.request(method.clone(), t.url(route)).send().await.unwrap();
            assert_eq!(resp.headers().get("allow").unwrap(), "POST", "{method} {route}");
            problem(resp, 405, "method.not_allowed").await;
        }
    }
    for route in ["/healthz", "/v1/openapi.json"] {
        let resp = client.post(t.url(route)).send().await.unwrap();
        assert_eq!(resp.headers().get("allow").unwrap(), "GET", "{route}");
        problem(resp, 405, "method.not_allowed").await;
    }
    let doc: Value = client.get(t.url("/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    problem(client.get(t.url("/v2/nothing")).send().await.unwrap(), 404, "route.not_found").await;

    let post = |body: &'static str, ct: &'static str| {
        client.post(t.url("/v1/events")).header("content-type", ct).body(body).send()
    };
    let empty = problem(post("", "application/json").await.unwrap(), 400, "payload.empty").await;
    assert_eq!(empty["reasons"][0]["code"], "payload.empty");
    problem(post(" \n ", "application/x-ndjson").await.unwrap(), 400, "payload.empty").await;
    problem(post("x", "text/plain").await.unwrap(), 415, "payload.media_type").await;
    let not_json = problem(post("not json", "application/json").await.unwrap(), 400, "payload.unparseable").await;
    assert_eq!(not_json["dead_letter"]["topic"], t.topics.dlq.as_str(), "{not_json}");
    let big = "x".repeat(2 * 1024 * 1024);
    let resp =
        client.post(t.url("/v1/events")).header("content-type", "application/json").body(big).send().await.unwrap();
    problem(resp, 413, "payload.too_large").await;

    // All rejected: 422, a problem that carries the per-record results.
    let e2e = fixtures::e2e(OWN);
    let resp = client.post(t.url("/v1/events")).json(&fixtures::bad_cpf(&e2e)).send().await.unwrap();
    let all_bad = problem(resp, 422, "records.rejected").await;
    assert_eq!((all_bad["rejected"].as_u64(), all_bad["accepted"].as_u64()), (Some(1), Some(0)));
    assert_eq!(all_bad["results"][0]["reasons"][0]["code"], "tax_id.check_digit");

    // Only the not-JSON body and the bad CPF were dead-lettered (not the empty bodies); the bad
    // CPF's dead letter is keyed by its endToEndId, the unreadable body has no key.
    let dlq = read_all_async(&t.bootstrap, &t.topics.dlq).await;
    assert_eq!(dlq.len(), 2, "nothing dead-lettered for an empty body");
    let keys: Vec<Option<String>> = dlq.iter().map(|m| m.key().map(|_| key(m))).collect();
    assert!(keys.contains(&Some(e2e)) && keys.contains(&None), "{keys:?}");
    t.stop().await;
}

#[actix_rt::test]
async fn an_unknown_member_is_flagged_and_left_out_or_refused_as_configured() {
    let mut event = fixtures::payment(&fixtures::e2e(OWN));
    event["loyalty_points"] = json!(12);
    let t = TestApp::start("unknown-flag").await;
    let r = t.post("application/json", event.to_string()).await;
    assert_eq!(r.status, 200, "default: flag: {}", r.json);
    let published = value_json(&read_all_async(&t.bootstrap, &t.topics.payment).await[0]);
    assert!(published.get("loyalty_points").is_none(), "{published}");
    assert_eq!(published["flags"], json!(["UNKNOWN_FIELD"]), "{published}");
    t.stop().await;

    let t = TestApp::start_with(&ConfigBuilder::for_test("unknown-reject").unknown_fields("reject")).await;
    let r = t.post("application/json", event.to_string()).await;
    assert_eq!(r.status, 422, "{}", r.json);
    assert_eq!(r.json["results"][0]["reasons"][0]["code"], "field.unknown");
    assert_eq!(r.json["results"][0]["reasons"][0]["path"], "loyalty_points");
    t.stop().await;
}

#[actix_rt::test]
async fn a_flood_past_the_in_flight_bound_gets_429_and_nothing_accepted_is_lost() {
    // A long linger keeps each request's records in flight long enough for the next ones to meet
    // the bound of 50 records (requests of 20).
    let config = ConfigBuilder::for_test("flood").api_max_in_flight_records(50).kafka_property("linger.ms", "400");
    let t = TestApp::start_with(&config).await;
    let bodies: Vec<Vec<Value>> = (0..12).map(|_| fixtures::mixed(20)).collect();
    let requests = bodies.iter().map(|b| t.post_events(b));
    let answers = futures::future::join_all(requests).await;
    let (mut accepted, mut refused) = (0, 0);
    for a in &answers {
        match a.status {
            200 => accepted += a.json["accepted"].as_u64().unwrap(),
            429 => {
                assert_eq!(a.retry_after.as_deref(), Some("1"));
                assert_eq!(a.json["code"], "backpressure.in_flight", "{}", a.json);
                refused += 1;
            }
            other => panic!("unexpected {other}: {}", a.json),
        }
    }
    assert!(refused > 0 && accepted > 0, "{refused} refused, {accepted} accepted");
    let in_kafka = read_all_async(&t.bootstrap, &t.topics.payment).await.len()
        + read_all_async(&t.bootstrap, &t.topics.receipt).await.len();
    assert_eq!(in_kafka as u64, accepted, "every accepted record is in Kafka, nothing refused is");
    assert!(read_all_async(&t.bootstrap, &t.topics.dlq).await.is_empty(), "a 429 dead-letters nothing");
    let metric = t.app.metrics().backpressure.with_label_values(&["api", "in_flight"]).get();
    assert_eq!(metric, refused);
    t.stop().await;
}
