//! Fast sink recovery against the real broker: with `kafka.instance_id` (static group membership,
//! cooperative rebalancing) a sink whose process was killed with -9 takes its partitions back as
//! soon as the restarted process joins, instead of after the broker expires the dead consumer's
//! session (`session.timeout.ms`, 45 s). The figure is printed; the bound is generous (30 s, the
//! old behaviour needs the full 45 s session timeout).

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::config_builder::ConfigBuilder;
use crate::fixtures::{self, OTHER};
use crate::service::{self, free_port, read_log, wait_listening};
use crate::wait::{holds, wait_until_blocking};

/// The event ids the file sink under `dir` has written (complete files only; a copy counts once).
pub fn landed(dir: &Path) -> HashSet<String> {
    let mut out = HashSet::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            let name = e.file_name().to_string_lossy().into_owned();
            if p.is_dir() {
                stack.push(p);
            } else if name.ends_with(".ndjson") && !name.starts_with('.') {
                for line in std::fs::read_to_string(&p).unwrap_or_default().lines() {
                    if let Ok(v) = serde_json::from_str::<Value>(line) {
                        out.insert(v["event_id"].as_str().unwrap_or_default().to_owned());
                    }
                }
            }
        }
    }
    out
}

fn post(port: u16, events: &[Value]) {
    let body = serde_json::to_string(events).unwrap();
    let out = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "content-type: application/json"])
        .args(["--max-time", "30", "--data-binary", &body, &format!("http://127.0.0.1:{port}/v1/events")])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "200", "post to the service");
}

fn event_ids(n: usize) -> (Vec<Value>, Vec<String>) {
    let events: Vec<Value> = (0..n).map(|_| fixtures::receipt(&fixtures::e2e(OTHER))).collect();
    let ids = events.iter().map(|e| format!("{}:TRANSFER:SETTLED", e["end_to_end_id"].as_str().unwrap())).collect();
    (events, ids)
}

#[test]
fn a_killed_sink_with_an_instance_id_consumes_again_seconds_after_its_restart() {
    let work = tempfile::tempdir().unwrap();
    let landing = work.path().join("landing");
    let (port, admin) = (free_port(), free_port());
    // A sink id (so a consumer group) of this test alone: no other test's members in the group.
    let sink = format!("recovery-{}", std::process::id());
    let config = ConfigBuilder::for_test("recovery")
        .api_port(port)
        .admin_listen(([127, 0, 0, 1], admin).into())
        .sink(json!({ "id": sink, "type": "file", "dir": landing, "batch": { "max_events": 50, "max_age": "200ms" } }))
        .write(&work.path().join("config.yaml"));
    let log = work.path().join("service.log");
    let instance = format!("it-{}", std::process::id());
    let start = || {
        let mut cmd = service::command(
            work.path(),
            &["run", "--config", config.to_str().unwrap()],
            &[("PIX_INGEST_KAFKA_INSTANCE_ID", instance.as_str())],
            &log,
        );
        let mut child = cmd.spawn().unwrap();
        wait_listening(&mut child, port, &log);
        child
    };
    let wait_landed = |ids: &[String], what: &str| {
        wait_until_blocking(what, Duration::from_secs(120), || {
            let seen = landed(&landing);
            let missing = ids.iter().filter(|i| !seen.contains(*i)).count();
            holds(missing == 0, format!("{missing} of {} not landed yet", ids.len()))
        });
    };

    let mut first = start();
    let (events, ids) = event_ids(20);
    post(port, &events);
    wait_landed(&ids, "the first events to land");
    assert!(Command::new("kill").args(["-KILL", &first.id().to_string()]).status().unwrap().success());
    first.wait().unwrap();

    let restarted_at = Instant::now();
    let mut second = start();
    let (events, ids) = event_ids(20);
    post(port, &events);
    wait_landed(&ids, "the events after the restart to land");
    let seconds = restarted_at.elapsed().as_secs_f64();
    println!("sink recovery after kill -9: consuming again {seconds:.1} s after the restart (static membership)");
    let log_text = read_log(&log);
    service::sigterm(&mut second);
    assert!(seconds < 30.0, "took {seconds:.1} s, as long as a session timeout:\n{log_text}");
}

/// A sink restarted inside the process (admin API `restart`) closes its consumer before the new
/// incarnation joins under the same `group.instance.id`: it is not fenced and consumes again at
/// once. The figure is printed.
#[actix_rt::test]
async fn a_sink_restarted_through_the_admin_api_reuses_its_instance_id_and_consumes_at_once() {
    let landing = tempfile::tempdir().unwrap();
    let sink = format!("restart-{}", std::process::id());
    let builder = ConfigBuilder::for_test("restart").sink(json!({
        "id": sink, "type": "file", "dir": landing.path(), "batch": { "max_events": 50, "max_age": "200ms" }
    }));
    let mut config = builder.load();
    config.kafka.instance_id = Some(format!("it-{}", std::process::id()));
    let app = crate::harness::AppHandle::start(config).await.unwrap();
    let api = app.source_addr("api", Duration::from_secs(10)).await.unwrap();
    let admin = app.admin_addr().unwrap();
    let send = async |n: u64| {
        let (events, _) = event_ids(usize::try_from(n).unwrap());
        let r = reqwest::Client::new().post(format!("http://{api}/v1/events")).json(&events).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
    };
    let written = |n: u64, what: &'static str| {
        let app = &app;
        let sink = sink.clone();
        async move {
            crate::wait::wait_until(what, Duration::from_secs(90), async || {
                let w = app.metrics().sink_written.with_label_values(&[sink.as_str()]).get();
                holds(w >= n, format!("{w} of {n} written"))
            })
            .await;
        }
    };
    send(10).await;
    written(10, "the first events").await;
    let restarted_at = Instant::now();
    let r = reqwest::Client::new()
        .post(format!("http://{admin}/api/v1/actors/{sink}/restart"))
        .bearer_auth(crate::config_builder::ADMIN_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    send(10).await;
    written(20, "the events after the restart").await;
    let seconds = restarted_at.elapsed().as_secs_f64();
    println!("sink recovery after an admin restart: consuming again {seconds:.1} s after it");
    let children = app.children().await;
    let info = children.iter().find(|c| c.id == sink).unwrap();
    assert_eq!(info.state, crate::harness::ChildState::Running, "not fenced: {info:?}");
    app.shutdown(Duration::from_secs(10)).await;
    assert!(seconds < 30.0, "took {seconds:.1} s");
}
