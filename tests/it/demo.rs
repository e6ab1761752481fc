//! The README's first screen, as a newcomer runs it: `pix-ingest run` with no config at all in an
//! empty directory (the bundled demo: embedded broker, a generator, a file sink and a Delta sink
//! under ./data/), then the README's own Python snippet, taken from the README itself, reads the
//! Delta table that run produced with the independent `deltalake` package.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::harness::repo;
use crate::service::{command, free_port, read_log, sigterm, wait_listening};
use crate::wait::{holds, wait_until_blocking};

/// The README marks the snippet the newcomer runs; this is the marker.
const MARKER: &str = "<!-- tests/it/demo.rs runs the next python block -->";

/// The Python block that follows `MARKER` in README.md.
fn readme_snippet() -> String {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let after = readme.split_once(MARKER).unwrap_or_else(|| panic!("README.md has no {MARKER}")).1;
    let block = after.split_once("```python\n").expect("a ```python block after the marker").1;
    block.split_once("```").expect("the block ends").0.to_owned()
}

/// Runs the snippet in `dir`; the number it prints first (the table's rows), or why not.
///
/// The snippet runs as written, then `os._exit(0)`: the deltalake wheel can abort in interpreter
/// teardown after a correct read ("terminate called without an active exception", delta-rs#2184),
/// which says nothing about the table; the README says so next to the snippet.
fn snippet_rows(dir: &Path, snippet: &str) -> Result<u64, String> {
    let script = format!("{snippet}\nimport os, sys\nsys.stdout.flush()\nos._exit(0)\n");
    let out = Command::new("python3").arg("-c").arg(script).current_dir(dir).output().map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        return Err(format!("exit {:?}: {}{}", out.status.code(), stdout, String::from_utf8_lossy(&out.stderr)));
    }
    stdout.split_whitespace().next().and_then(|n| n.parse().ok()).ok_or(stdout)
}

#[test]
fn the_bundled_demo_fills_a_delta_table_the_readme_snippet_reads() {
    let snippet = readme_snippet();
    assert!(snippet.lines().filter(|l| !l.trim().is_empty()).count() <= 3, "three lines:\n{snippet}");
    let dir = tempfile::tempdir().unwrap();
    let (api, admin) = (free_port(), free_port());
    let (listen, admin_listen) = (format!("127.0.0.1:{api}"), format!("127.0.0.1:{admin}"));
    let log = dir.path().join("pix-ingest.log");
    // The README's command is `run` with nothing else; the two variables only move the listeners
    // to free ports of this shared machine.
    let env = [("PIX_INGEST_LISTEN", listen.as_str()), ("PIX_INGEST_ADMIN_LISTEN", admin_listen.as_str())];
    let mut child = command(dir.path(), &["run"], &env, &log).spawn().unwrap();
    wait_listening(&mut child, api, &log);

    let table = dir.path().join("data/lake/pix_events");
    let rows = wait_until_blocking("the README snippet to read rows", Duration::from_secs(90), || {
        assert!(child.try_wait().unwrap().is_none(), "the demo exited:\n{}", read_log(&log));
        if !table.join("_delta_log").exists() {
            return Err("no table yet".to_owned());
        }
        // A read can race a commit: a failed read is only "not yet".
        let rows = snippet_rows(dir.path(), &snippet)?;
        holds(rows > 0, format!("{rows} rows")).map(|()| rows)
    });
    assert!(rows > 0);
    let landing = dir.path().join("data/landing");
    wait_until_blocking("NDJSON files from the file sink", Duration::from_secs(30), || {
        let files = glob::glob(&format!("{}/dt=*/category=*/part-*.ndjson", landing.display())).unwrap().count();
        holds(files > 0, files)
    });

    let status = sigterm(&mut child);
    let logs = read_log(&log);
    assert!(status.success(), "exit {status:?}:\n{logs}");
    assert!(logs.contains("NON-DURABLE DEV MODE"), "the embedded broker says so loudly:\n{logs}");
    for pointer in [format!("POST http://{listen}/v1/events"), format!("http://{admin_listen}/metrics")] {
        assert!(logs.contains(&pointer), "the demo says where to look ({pointer}):\n{logs}");
    }
    assert!(logs.contains("data/lake/pix_events") && logs.contains("data/landing"), "{logs}");
    let after = snippet_rows(dir.path(), &snippet).unwrap();
    assert!(after >= rows, "the table keeps its rows after the stop: {after} < {rows}");
}
