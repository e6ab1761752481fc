//! Rate limit of Kafka client log lines. librdkafka repeats the same error for every retry of
//! every broker (an unreachable cluster wrote hundreds of ERROR lines a minute), which buries
//! everything else. A line from librdkafka, rdkafka or pix-ingest's own Kafka client contexts is
//! written once per `WINDOW`; its repeats within the window are counted, and a summary line
//! ("repeated N more times") follows at the end of the window. Lines that differ only in their
//! numbers (ports, milliseconds, counters) count as the same line.
//!
//! It is a per-layer filter of the log layer only: traces and metrics see every event. The
//! summary is written by a thread of its own (never from inside the subscriber, which would
//! re-enter it).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Filter};

/// A line is written at most once per window.
pub const WINDOW: Duration = Duration::from_secs(10);

/// Whether events of `target` are limited.
fn limited(target: &str) -> bool {
    target == "librdkafka" || target.starts_with("rdkafka") || target.starts_with("pix_ingest::kafka")
}

struct Seen {
    /// When the line was last written.
    written: Instant,
    /// Repeats not written since.
    suppressed: u64,
    level: Level,
    /// The line's text as last seen (for the summary).
    sample: String,
}

/// The filter (clone it into the layer; the summary thread holds a weak reference).
#[derive(Clone)]
pub struct LogLimit {
    window: Duration,
    seen: Arc<Mutex<HashMap<String, Seen>>>,
}

impl LogLimit {
    /// A limiter of `window`, and its summary thread (which ends when the limiter is dropped).
    pub fn new(window: Duration) -> Self {
        let limit = Self { window, seen: Arc::default() };
        let weak = Arc::downgrade(&limit.seen);
        let spawned = std::thread::Builder::new().name("log-limit".into()).spawn(move || summaries(&weak, window));
        if let Err(error) = spawned {
            tracing::warn!(%error, "Cannot start the log rate limiter's summary thread; repeats are counted silently.");
        }
        limit
    }

    /// Whether a line with this key is written now (counted as a repeat otherwise).
    fn admit(&self, key: String, level: Level, sample: String, now: Instant) -> bool {
        let mut seen = match self.seen.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        match seen.get_mut(&key) {
            Some(s) if now.duration_since(s.written) < self.window => {
                s.suppressed += 1;
                s.sample = sample;
                false
            }
            Some(s) => {
                // A new window: written again (the repeats of the last one are summarised).
                (s.written, s.level, s.sample) = (now, level, sample);
                true
            }
            None => {
                seen.insert(key, Seen { written: now, suppressed: 0, level, sample });
                true
            }
        }
    }
}

/// Every window: one summary line per line that was repeated, then forgets quiet lines.
fn summaries(seen: &Weak<Mutex<HashMap<String, Seen>>>, window: Duration) {
    loop {
        std::thread::sleep(window);
        let Some(seen) = seen.upgrade() else { return };
        let mut due = Vec::new();
        {
            let mut map = match seen.lock() {
                Ok(g) => g,
                Err(p) => p.into_inner(),
            };
            let now = Instant::now();
            map.retain(|_, s| s.suppressed > 0 || now.duration_since(s.written) < window * 6);
            for s in map.values_mut().filter(|s| s.suppressed > 0) {
                due.push((s.level, std::mem::take(&mut s.suppressed), s.sample.clone()));
            }
        }
        for (level, n, line) in due {
            let secs = window.as_secs();
            match level {
                Level::ERROR => {
                    tracing::error!(repeated = n, line = %line, "A Kafka client log line repeated {n} more times in {secs}s (written once per {secs}s).")
                }
                Level::WARN => {
                    tracing::warn!(repeated = n, line = %line, "A Kafka client log line repeated {n} more times in {secs}s (written once per {secs}s).")
                }
                _ => {
                    tracing::info!(repeated = n, line = %line, "A Kafka client log line repeated {n} more times in {secs}s (written once per {secs}s).")
                }
            }
        }
    }
}

/// The text of an event's fields, in order.
#[derive(Default)]
struct Text(String);

impl Visit for Text {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, "{}={:?} ", field.name(), value);
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        let _ = write!(self.0, "{}={} ", field.name(), value);
    }
}

/// The key of a line: its target, level and text with every run of digits as `#`.
fn key(target: &str, level: Level, text: &str) -> String {
    let mut k = format!("{target} {level} ");
    let mut in_digits = false;
    for c in text.chars() {
        if c.is_ascii_digit() {
            if !in_digits {
                k.push('#');
            }
            in_digits = true;
        } else {
            k.push(c);
            in_digits = false;
        }
    }
    k
}

impl<S: Subscriber> Filter<S> for LogLimit {
    fn enabled(&self, _meta: &Metadata<'_>, _cx: &Context<'_, S>) -> bool {
        true
    }

    fn event_enabled(&self, event: &Event<'_>, _cx: &Context<'_, S>) -> bool {
        let meta = event.metadata();
        if !limited(meta.target()) {
            return true;
        }
        let mut text = Text::default();
        event.record(&mut text);
        self.admit(key(meta.target(), *meta.level(), &text.0), *meta.level(), text.0, Instant::now())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_written_once_per_window_and_its_repeats_are_counted() {
        let l = LogLimit { window: Duration::from_secs(10), seen: Arc::default() };
        let t0 = Instant::now();
        let k = |s: &str| format!("librdkafka ERROR {s}");
        assert!(l.admit(k("a"), Level::ERROR, "a".into(), t0));
        assert!(!l.admit(k("a"), Level::ERROR, "a".into(), t0 + Duration::from_secs(1)));
        assert!(!l.admit(k("a"), Level::ERROR, "a".into(), t0 + Duration::from_secs(2)));
        assert!(l.admit(k("b"), Level::ERROR, "b".into(), t0 + Duration::from_secs(2)), "another line");
        assert_eq!(l.seen.lock().unwrap()[&k("a")].suppressed, 2);
        assert!(l.admit(k("a"), Level::ERROR, "a".into(), t0 + Duration::from_secs(11)), "next window");
    }

    #[test]
    fn lines_that_differ_in_numbers_share_a_key() {
        let k = |s: &str| key("librdkafka", Level::ERROR, s);
        assert_eq!(k("Connect to 127.0.0.1:1 failed (after 3ms)"), k("Connect to 127.0.0.1:1 failed (after 12ms)"));
        assert_ne!(k("Connect failed"), k("Disconnected"));
        assert!(limited("librdkafka") && limited("rdkafka::client") && limited("pix_ingest::kafka::stats"));
        assert!(!limited("pix_ingest::audit"));
    }

    /// Through a real subscriber: 50 identical librdkafka lines write one line, other targets
    /// are untouched.
    #[test]
    fn a_log_layer_with_the_limit_writes_a_repeated_line_once() {
        use tracing_subscriber::filter::{EnvFilter, FilterExt};
        use tracing_subscriber::layer::SubscriberExt;
        use tracing_subscriber::{Layer, fmt};
        #[derive(Clone, Default)]
        struct Buf(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Buf {
            fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(b);
                Ok(b.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let buf = Buf::default();
        let out = buf.clone();
        let filter = EnvFilter::new("info").and(LogLimit::new(Duration::from_secs(60)));
        let layer = fmt::layer().with_writer(move || out.clone()).with_ansi(false).with_filter(filter);
        tracing::subscriber::with_default(tracing_subscriber::registry().with(layer), || {
            for i in 0..50 {
                tracing::error!(target: "librdkafka", "librdkafka: FAIL 127.0.0.1:1/bootstrap: Connect failed (after {i}ms)");
                tracing::info!(target: "pix_ingest::audit", "other {i}");
            }
        });
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        assert_eq!(text.matches("Connect failed").count(), 1, "{text}");
        assert_eq!(text.matches("other").count(), 50, "{text}");
    }
}
