//! Memory of the event-id index per million ids, measured as the growth of the process's resident
//! set (Linux `/proc/self/statm`) while one partition's index takes the ids, and the time per
//! lookup and insert. Run with `cargo bench -p pix-dedupe` (scripts/bench does).
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::disallowed_methods)]

use std::time::Instant;

use pix_dedupe::SeenIds;

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm.split_whitespace().nth(1).and_then(|p| p.parse().ok()).unwrap_or(0);
    pages * 4096
}

fn main() {
    let n: usize = std::env::var("BENCH_IDS").ok().and_then(|v| v.parse().ok()).unwrap_or(2_000_000);
    let ids: Vec<String> = (0..n).map(|i| format!("E99999010202611251430{i:011}:TRANSFER:PENDING")).collect();
    let mut index: SeenIds<(String, i32)> = SeenIds::new(7, usize::MAX);
    let part = ("pix.pagamentos".to_owned(), 0);
    index.load(part.clone(), [], None);
    let before = rss_bytes();
    let started = Instant::now();
    for (i, id) in ids.iter().enumerate() {
        let key = index.key(id);
        assert!(!index.contains(&part, &key));
        index.insert(&part, key, 20_782 + (i * 7 / n) as i32);
    }
    let took = started.elapsed();
    let grown = rss_bytes().saturating_sub(before);
    println!(
        "pix-dedupe: {n} ids over 7 days in one partition: {:.1} MB resident, {:.1} bytes per id ({:.1} MB per million); {:.0} ns per lookup + insert",
        grown as f64 / 1e6,
        grown as f64 / n as f64,
        grown as f64 / n as f64,
        took.as_nanos() as f64 / n as f64
    );
}
