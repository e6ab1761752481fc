//! The `api_pix_poll` source against the real broker and a fake PSP (`psp_server`) serving the
//! real API Pix GET /pix example over mutual TLS with an OAuth2 token endpoint: every page is
//! read to the end and its records reach Kafka once (later, overlapping windows return the same
//! Pix and publish nothing), a revoked token is renewed, a 429's `Retry-After` is obeyed, and a
//! restart resumes at the page after the last acknowledged one, losing and repeating nothing.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;

use rdkafka::Message;
use serde_json::{Value, json};

use pix_ingest::supervisor::{Command, Op};

use crate::config_builder::ConfigBuilder;
use crate::harness::{CheckDigitPolicy, TestApp};
use crate::kafka::{InKafka, headers, in_kafka_async, key};
use crate::psp_server::{self, Behaviour, CLIENT_ID, CLIENT_SECRET, Running};
use crate::wait::{holds, wait_until};

const E2E_A: &str = "E12345678202009091221abcdef12345";

async fn control(t: &TestApp, op: Op) {
    let cmd = Command { id: "psp".into(), op, grace: Duration::from_secs(10) };
    t.app.supervisor().send(cmd).await.unwrap().unwrap();
}

fn source(psp: &Running, state_dir: &Path) -> Value {
    let start = (chrono::Utc::now() - chrono::Duration::minutes(10)).to_rfc3339();
    json!({
        "id": "psp", "type": "api_pix_poll",
        "base_url": psp.base_url, "token_url": psp.token_url,
        "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "scope": "pix.read",
        "tls": psp.tls, "state_dir": state_dir, "start_at": start,
        "window": "1h", "overlap": "5m", "page_size": 1, "poll_interval": "300ms",
        "backoff_initial": "100ms", "backoff_max": "1s",
    })
}

fn config(test: &str, psp: &Running, state_dir: &Path) -> ConfigBuilder {
    ConfigBuilder::for_test(test).tax_id_check_digits(CheckDigitPolicy::Warn).source(source(psp, state_dir))
}

/// The example's valid records (a receipt and its devolução) and its two refused items.
fn complete(k: &InKafka) -> bool {
    k.published() >= 2 && k.dead_letters.len() >= 2
}

/// Exactly once: one receipt, one refund, two dead letters of the example's bad items.
fn assert_once(k: &InKafka) {
    assert_eq!(k.published(), 2, "{:?}", k.events);
    assert!(k.events.values().all(|&n| n == 1), "an event was published twice: {:?}", k.events);
    assert_eq!(k.dead_letters.len(), 2, "each refused item dead-lettered once");
    for m in &k.dead_letters {
        let h = headers(m);
        assert_eq!((h["pix-dlq-reason"].as_str(), h["pix-source"].as_str()), ("e2e.format", "psp"));
        let letter: Value = serde_json::from_slice(m.payload().unwrap()).unwrap();
        assert_eq!(letter["pix"].as_array().unwrap().len(), 1, "a dead letter carries its item alone");
        assert!(letter["parametros"]["paginacao"].is_object());
    }
}

/// Waits until the poller read a whole window after the first one (which returns the same Pix).
async fn another_window_read(psp: &Running) {
    wait_until("a later window read to its end", Duration::from_secs(60), async || {
        let pages = psp.psp.pages();
        let first = pages.first().map(|p| p.inicio.clone()).unwrap_or_default();
        let later = pages.iter().filter(|p| p.inicio != first && p.status == 200 && p.page == 2).count();
        holds(later >= 1, pages.len())
    })
    .await;
}

#[actix_rt::test]
async fn pages_are_followed_to_the_end_a_revoked_token_renewed_and_retry_after_obeyed() {
    let psp = psp_server::start(Behaviour {
        revoke_first_after: Some(1),
        throttle: std::sync::Mutex::new(Some((2, 2))),
        ..Behaviour::default()
    });
    let state = tempfile::tempdir().unwrap();
    let t = TestApp::start_with(&config("poll-pages", &psp, state.path())).await;

    let k = wait_until("the example's records in Kafka", Duration::from_secs(60), async || {
        let k = in_kafka_async(&t.bootstrap, &t.topics).await;
        if complete(&k) { Ok(k) } else { Err((k.published(), k.dead_letters.len())) }
    })
    .await;
    let receipts = crate::kafka::read_all_async(&t.bootstrap, &t.topics.receipt).await;
    assert_eq!(receipts.iter().map(key).collect::<Vec<_>>(), [E2E_A]);
    another_window_read(&psp).await;
    assert_once(&in_kafka_async(&t.bootstrap, &t.topics).await);
    drop(k);

    let log = psp.psp.log();
    assert!(log.iter().all(|s| s.client_cert), "every request presented the client certificate");
    let pages = psp.psp.pages();
    let first = &pages[0];
    assert_eq!((first.page, first.per_page), (0, 1));
    assert!(chrono::DateTime::parse_from_rfc3339(&first.inicio).is_ok() && first.fim > first.inicio, "{first:?}");
    let window: Vec<u32> =
        pages.iter().filter(|p| p.inicio == first.inicio && p.status == 200).map(|p| p.page).collect();
    assert_eq!(window, [0, 1, 2], "every page of the first window, in order, once");

    // tok-1 was refused after one page: a new token was asked for and the same page read with it.
    let refused = pages.iter().position(|p| p.status == 401).expect("the revoked token was refused");
    assert_eq!(pages[refused].token, "tok-1");
    let retry = &pages[refused + 1];
    assert_eq!((retry.page, retry.token.as_str(), retry.status), (pages[refused].page, "tok-2", 200));
    assert!(psp.psp.tokens_issued() >= 2);

    // Page 2 was answered 429 with Retry-After: 2; the next request for it came 2 s later or more.
    let throttled = pages.iter().position(|p| p.status == 429).expect("the 429");
    let next = pages[throttled + 1..].iter().find(|p| p.page == 2).unwrap();
    let gap = next.at - pages[throttled].at;
    assert!(gap >= Duration::from_millis(1950), "Retry-After: 2 obeyed; the retry came after {gap:?}");

    // The admin API shows the cursor and the last poll time.
    let child = t.child("psp").await;
    let progress = child.progress.expect("the poller reports its progress");
    assert!(progress["cursor"]["done_until"].is_string() && progress["last_poll_at"].is_string(), "{progress}");
    assert_eq!(child.r#type, "api_pix_poll");
    let admin = t.app.admin_addr().unwrap();
    let listed: Value = reqwest::get(format!("http://{admin}/api/v1/actors/psp")).await.unwrap().json().await.unwrap();
    assert!(listed["progress"]["cursor"]["done_until"].is_string(), "the admin API shows the cursor: {listed}");
    assert!(listed["progress"]["last_poll_at"].is_string(), "{listed}");

    // Paused, it asks for nothing (five poll intervals); resumed, it polls again.
    control(&t, Op::Pause).await;
    tokio::time::sleep(Duration::from_millis(500)).await; // the page in flight, if any, finishes
    let asked = psp.psp.pages().len();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(psp.psp.pages().len(), asked, "a paused poller sends no request");
    control(&t, Op::Resume).await;
    wait_until("polling again after resume", Duration::from_secs(30), async || {
        holds(psp.psp.pages().len() > asked, psp.psp.pages().len())
    })
    .await;
    t.stop().await;
    psp.stop().await;
}

#[actix_rt::test]
async fn a_restart_resumes_at_the_cursor_losing_and_repeating_nothing() {
    let psp = psp_server::start(Behaviour { hold_from: Some(1), ..Behaviour::default() });
    psp.psp.behaviour.hold.store(true, Ordering::SeqCst);
    let state = tempfile::tempdir().unwrap();
    let cfg = config("poll-restart", &psp, state.path());
    let t = TestApp::start_with(&cfg).await;
    let cursor = state.path().join("psp.cursor.json");
    let read =
        || -> Value { std::fs::read(&cursor).ok().and_then(|b| serde_json::from_slice(&b).ok()).unwrap_or_default() };
    let saved = wait_until("page 0 acknowledged and checkpointed", Duration::from_secs(60), async || {
        let v = read();
        holds(v["cursor"]["window"]["next_page"] == 1, v.clone()).map(|()| v)
    })
    .await;
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&cursor).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    wait_until("page 1 asked for (and held)", Duration::from_secs(30), async || {
        holds(psp.psp.pages().iter().any(|p| p.page == 1), psp.psp.pages().len())
    })
    .await;
    t.stop().await;
    assert_eq!(read()["cursor"], saved["cursor"], "a stop in the middle of a page leaves the cursor where it was");
    let before = in_kafka_async(&cfg.bootstrap, &cfg.topics).await;
    assert_eq!((before.published(), before.dead_letters.len()), (2, 0), "page 0 only: the receipt and its refund");

    psp.psp.behaviour.hold.store(false, Ordering::SeqCst);
    let t = TestApp::start_with(&cfg).await;
    wait_until("the rest of the window in Kafka", Duration::from_secs(60), async || {
        let k = in_kafka_async(&t.bootstrap, &t.topics).await;
        holds(complete(&k), (k.published(), k.dead_letters.len()))
    })
    .await;
    // The restarted app asks for a token of its own (tok-2): its first page is where it resumed.
    let resumed = psp.psp.pages().into_iter().find(|p| p.token == "tok-2").unwrap();
    let window = &saved["cursor"]["window"];
    assert_eq!(resumed.page, 1, "the restart asked for the page after the checkpointed one");
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(&resumed.inicio).unwrap(),
        chrono::DateTime::parse_from_rfc3339(window["inicio"].as_str().unwrap()).unwrap(),
        "of the same window"
    );
    another_window_read(&psp).await;
    assert_once(&in_kafka_async(&t.bootstrap, &t.topics).await);
    t.stop().await;
    psp.stop().await;
}

#[actix_rt::test]
async fn a_token_is_renewed_before_it_expires() {
    // Tokens live 2 s (`expires_in: 2`); the PSP refuses an older one. The poller renews at half
    // the life (its `token_renew_before` of 60 s is longer than that), so none is ever refused.
    let psp = psp_server::start(Behaviour { token_lifetime: Some(2), ..Behaviour::default() });
    let state = tempfile::tempdir().unwrap();
    let t = TestApp::start_with(&config("poll-token", &psp, state.path())).await;
    wait_until("three tokens issued", Duration::from_secs(60), async || {
        holds(psp.psp.tokens_issued() >= 3, psp.psp.tokens_issued())
    })
    .await;
    let refused: Vec<_> = psp.psp.pages().into_iter().filter(|p| p.status == 401).collect();
    assert!(refused.is_empty(), "a token was used after it expired: {refused:?}");
    let k = wait_until("the example's records in Kafka", Duration::from_secs(60), async || {
        let k = in_kafka_async(&t.bootstrap, &t.topics).await;
        if complete(&k) { Ok(k) } else { Err((k.published(), k.dead_letters.len())) }
    })
    .await;
    assert_once(&k);
    t.stop().await;
    psp.stop().await;
}

#[actix_rt::test]
async fn a_page_that_is_not_a_get_pix_answer_is_dead_lettered_whole_and_the_window_goes_on() {
    let psp = psp_server::start(Behaviour { garbage: std::sync::Mutex::new(Some(1)), ..Behaviour::default() });
    let state = tempfile::tempdir().unwrap();
    let t = TestApp::start_with(&config("poll-garbage", &psp, state.path())).await;
    // Page 1 of the first window was garbage: its item arrives with a later (overlapping) window.
    let k = wait_until("the example's records and the garbage page in Kafka", Duration::from_secs(60), async || {
        let k = in_kafka_async(&t.bootstrap, &t.topics).await;
        if k.published() >= 2 && k.dead_letters.len() >= 3 { Ok(k) } else { Err((k.published(), k.dead_letters.len())) }
    })
    .await;
    let (garbage, items): (Vec<_>, Vec<_>) =
        k.dead_letters.iter().partition(|m| m.payload() == Some(psp_server::GARBAGE.as_bytes()));
    assert_eq!(garbage.len(), 1, "the garbage page is dead-lettered once, with its bytes");
    let h = headers(garbage[0]);
    assert_eq!((h["pix-dlq-stage"].as_str(), h["pix-source"].as_str()), ("decode", "psp"), "{h:?}");
    assert_eq!(items.len(), 2);
    let pages = psp.psp.pages();
    let first = pages[0].inicio.clone();
    let window: Vec<u32> = pages.iter().filter(|p| p.inicio == first).map(|p| p.page).collect();
    assert_eq!(window, [0, 1, 2], "the window went on past the garbage page");
    another_window_read(&psp).await;
    let k = in_kafka_async(&t.bootstrap, &t.topics).await;
    assert_eq!((k.published(), k.dead_letters.len()), (2, 3), "nothing published twice");
    t.stop().await;
    psp.stop().await;
}
