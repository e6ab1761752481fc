//! The `dict_poll` source against the real broker and the fake DICT of `psp_server` (the real
//! DICT list examples, their report repeated with its own id and `LastModified`, over mutual TLS
//! with an OAuth2 token endpoint): pages are asked from the newest `LastModified` while
//! `HasMoreElements` is true and every report reaches Kafka once (what a page returns again is
//! dropped), a 429's `Retry-After` is obeyed, and a restart resumes at the cursor, losing and
//! repeating nothing.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::{Value, json};

use crate::config_builder::ConfigBuilder;
use crate::harness::TestApp;
use crate::kafka::{InKafka, read_all_async, value_json};
use crate::psp_server::{self, Behaviour, CLIENT_ID, CLIENT_SECRET, DICT_REPORTS, Running, Seen};
use crate::wait::{holds, wait_until};

fn config(test: &str, dict: &Running, state_dir: &Path) -> ConfigBuilder {
    let base = dict.base_url.replace("/api/v2", "/dict/api/v2");
    ConfigBuilder::for_test(test).source(json!({
        "id": "dict", "type": "dict_poll",
        "base_url": base, "token_url": dict.token_url, "participant": "99999010",
        "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
        "tls": dict.tls, "state_dir": state_dir, "start_at": "2020-01-01T00:00:00Z",
        "limit": 2, "poll_interval": "300ms", "backoff_initial": "100ms", "backoff_max": "1s",
    }))
}

fn requests(dict: &Running, path: &str) -> Vec<Seen> {
    dict.psp.log().into_iter().filter(|s| s.path == path).collect()
}

/// The fraud reports and the dead letters of a test.
async fn in_kafka_async(bootstrap: &str, topics: &crate::harness::Topics) -> InKafka {
    let mut events = std::collections::BTreeMap::new();
    for m in read_all_async(bootstrap, &topics.fraud_report).await {
        *events.entry(value_json(&m)["event_id"].as_str().unwrap().to_owned()).or_default() += 1;
    }
    InKafka { events, dead_letters: read_all_async(bootstrap, &topics.dlq).await }
}

/// Every report of both lists once, nothing dead-lettered.
fn assert_once(k: &InKafka) {
    assert_eq!(k.published(), 2 * DICT_REPORTS, "{:?}", k.events);
    assert!(k.events.values().all(|&n| n == 1), "a report was published twice: {:?}", k.events);
    assert!(k.dead_letters.is_empty(), "{} dead letters", k.dead_letters.len());
}

async fn all_in_kafka(t: &TestApp) {
    wait_until("every report in Kafka", Duration::from_secs(60), async || {
        let k = in_kafka_async(&t.bootstrap, &t.topics).await;
        holds(k.published() >= 2 * DICT_REPORTS, k.published())
    })
    .await;
}

/// Waits until both lists were polled again after reaching their end.
async fn polled_again(dict: &Running, from: u32) {
    wait_until("another poll of both lists", Duration::from_secs(60), async || {
        let n = |p| requests(dict, p).iter().filter(|s| s.status == 200 && s.page >= from).count();
        holds(n("infraction-reports") >= 1 && n("refunds") >= 1, dict.psp.log().len())
    })
    .await;
}

fn at(s: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(s).unwrap().to_utc()
}

#[actix_rt::test]
async fn pages_are_followed_while_has_more_elements_and_retry_after_is_obeyed() {
    let dict = psp_server::start(Behaviour { throttle: std::sync::Mutex::new(Some((1, 2))), ..Behaviour::default() });
    let state = tempfile::tempdir().unwrap();
    let t = TestApp::start_with(&config("dict-pages", &dict, state.path())).await;
    all_in_kafka(&t).await;
    polled_again(&dict, 3).await;
    assert_once(&in_kafka_async(&t.bootstrap, &t.topics).await);

    for path in ["infraction-reports", "refunds"] {
        let asked: Vec<(u32, chrono::DateTime<chrono::Utc>)> =
            requests(&dict, path).iter().filter(|s| s.status == 200).map(|s| (s.page, at(&s.inicio))).collect();
        // Limit 2: [r0, r1] (more), then from r1's LastModified [r1, r2] (r1 dropped), then r2 on.
        let expected = ["2020-01-01T00:00:00Z", "2020-01-17T10:00:01Z", "2020-01-17T10:00:02Z"];
        let got: Vec<_> = asked.iter().take(3).map(|(_, a)| *a).collect();
        assert_eq!(got, expected.map(at), "{path}: ModifiedAfter follows the newest LastModified");
        assert!(requests(&dict, path).iter().all(|s| s.client_cert && s.fim == "99999010" && s.per_page == 2));
    }
    // One list's page 1 was answered 429 with Retry-After: 2; its retry came 2 s later or more.
    let log = dict.psp.log();
    let throttled = log.iter().position(|s| s.status == 429).expect("the 429");
    let retry = log[throttled + 1..].iter().find(|s| s.path == log[throttled].path).unwrap();
    let gap = retry.at - log[throttled].at;
    assert!(gap >= Duration::from_millis(1950), "Retry-After: 2 obeyed; the retry came after {gap:?}");

    let child = t.child("dict").await;
    assert_eq!(child.r#type, "dict_poll");
    let progress = child.progress.expect("the poller reports its progress");
    assert_eq!(at(progress["cursor"]["refunds"].as_str().unwrap()), at("2020-01-17T10:00:02Z"), "{progress}");
    assert!(progress["last_poll_at"].is_string(), "{progress}");
    t.stop().await;
    dict.stop().await;
}

#[actix_rt::test]
async fn a_restart_resumes_at_the_cursor_losing_and_repeating_nothing() {
    let dict = psp_server::start(Behaviour { hold_from: Some(1), ..Behaviour::default() });
    dict.psp.behaviour.hold.store(true, Ordering::SeqCst);
    let state = tempfile::tempdir().unwrap();
    let cfg = config("dict-restart", &dict, state.path());
    let t = TestApp::start_with(&cfg).await;
    let cursor = state.path().join("dict.cursor.json");
    let read =
        || -> Value { std::fs::read(&cursor).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default() };
    wait_until("page 0 of both lists checkpointed", Duration::from_secs(60), async || {
        let v = read();
        let moved = |l: &str| v["cursor"][l].as_str().is_some_and(|s| at(s) == at("2020-01-17T10:00:01Z"));
        holds(moved("infraction_reports") && moved("refunds"), v.clone())
    })
    .await;
    wait_until("page 1 asked for (and held)", Duration::from_secs(30), async || {
        holds(dict.psp.log().iter().any(|s| s.status == 102), dict.psp.log().len())
    })
    .await;
    let saved = read();
    t.stop().await;
    assert_eq!(read()["cursor"], saved["cursor"], "a stop in the middle of a page leaves the cursor where it was");
    let before = in_kafka_async(&cfg.bootstrap, &cfg.topics).await;
    assert_eq!(before.published(), 4, "page 0 of each list only");

    dict.psp.behaviour.hold.store(false, Ordering::SeqCst);
    let asked_before = dict.psp.log().len();
    let t = TestApp::start_with(&cfg).await;
    all_in_kafka(&t).await;
    let resumed = dict.psp.log()[asked_before..].iter().find(|s| s.path == "infraction-reports").cloned().unwrap();
    assert_eq!(at(&resumed.inicio), at("2020-01-17T10:00:01Z"), "the restart asked from the cursor");
    polled_again(&dict, 4).await;
    assert_once(&in_kafka_async(&t.bootstrap, &t.topics).await);
    t.stop().await;
    dict.stop().await;
}
