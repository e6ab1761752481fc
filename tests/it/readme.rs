//! Every `curl` example of the README's ingest API, run as written (only the address changes to the
//! test instance's) from the repository root against the real broker: each one must be answered
//! 200 with its records accepted (or `duplicate` of an earlier example).

use std::process::Command;

use serde_json::Value;

use crate::harness::{TestApp, repo};

/// The shell blocks of the README that call the ingest API with curl.
fn curl_blocks(readme: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in readme.lines() {
        match (&mut current, line.trim_start()) {
            (None, l) if l.starts_with("```sh") => current = Some(String::new()),
            (Some(_), l) if l.starts_with("```") => blocks.extend(current.take()),
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            _ => {}
        }
    }
    blocks.retain(|b| b.lines().any(|l| l.starts_with("curl") && l.contains("127.0.0.1:8080/v1/")));
    blocks
}

#[actix_rt::test]
async fn every_curl_example_of_the_readme_is_answered_200() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let blocks = curl_blocks(&readme);
    let commands: usize = blocks.iter().map(|b| b.lines().filter(|l| l.starts_with("curl")).count()).sum();
    assert!(commands >= 3, "the set-up example, NDJSON and traceparent: found {commands} in {blocks:#?}");
    let t = TestApp::start("readme").await;
    let addr = t.addr.to_string();
    for block in blocks {
        let script = block.replace("127.0.0.1:8080", &addr);
        let out = tokio::task::spawn_blocking({
            let script = script.clone();
            move || {
                // `-w` adds the status after each answer; everything else runs as written.
                let script = script.replace("curl -s ", "curl -s -w '\\n%{http_code}\\n' ");
                Command::new("sh").arg("-c").arg(&script).current_dir(repo()).output().unwrap()
            }
        })
        .await
        .unwrap();
        assert!(out.status.success(), "{script}: {}", String::from_utf8_lossy(&out.stderr));
        let text = String::from_utf8(out.stdout).unwrap();
        let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len() % 2, 0, "an answer and a status per command: {text}");
        for pair in lines.chunks(2) {
            let (body, status) = (pair[0], pair[1]);
            assert_eq!(status, "200", "{script}\n{body}");
            let json: Value = serde_json::from_str(body).unwrap();
            let done = json["accepted"].as_u64().unwrap() + json["duplicate"].as_u64().unwrap();
            assert!(done >= 1 && json["rejected"] == 0, "{script}\n{body}");
        }
    }
    t.stop().await;
}
