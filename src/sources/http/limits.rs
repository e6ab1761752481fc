//! The bounds of one HTTP source that are not sizes: records in flight (`max_in_flight_records`:
//! a request whose records would take the source past it is answered 429 at once instead of
//! queueing, so an overload shows up at the client as "slow down" while the records already taken
//! are answered; one atomic per request, nothing here waits or locks) and items per request
//! (`max_items_per_request`, counted in one pass over the bytes before anything is decoded, so
//! a small body of very many tiny items never becomes that many results and dead letters).

use pix_domain::formats::Framing;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::telemetry::metrics::Metrics;

/// Records in flight in one source.
pub struct InFlight {
    max: usize,
    now: AtomicUsize,
    source: Arc<str>,
    metrics: Arc<Metrics>,
}

/// Records of one request, counted in flight until dropped.
pub struct Permit<'a> {
    of: &'a InFlight,
    n: usize,
}

impl InFlight {
    /// A bound of `max` records for `source`.
    pub fn new(max: usize, source: Arc<str>, metrics: Arc<Metrics>) -> Self {
        Self { max, now: AtomicUsize::new(0), source, metrics }
    }

    /// Whether the source is already at its bound (checked before a body is read).
    pub fn full(&self) -> bool {
        self.now.load(Ordering::Acquire) >= self.max
    }

    /// Takes `n` records in, or `None` when that would pass the bound. A request larger than the
    /// bound on its own is taken when nothing else is in flight, so it cannot starve.
    pub fn try_take(&self, n: usize) -> Option<Permit<'_>> {
        let mut cur = self.now.load(Ordering::Acquire);
        loop {
            if cur > 0 && cur.saturating_add(n) > self.max {
                return None;
            }
            match self.now.compare_exchange_weak(cur, cur + n, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => {
                    self.gauge(cur + n);
                    return Some(Permit { of: self, n });
                }
                Err(seen) => cur = seen,
            }
        }
    }

    fn gauge(&self, n: usize) {
        self.metrics.in_flight.with_label_values(&[&self.source]).set(i64::try_from(n).unwrap_or(i64::MAX));
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let before = self.of.now.fetch_sub(self.n, Ordering::AcqRel);
        self.of.gauge(before.saturating_sub(self.n));
    }
}

/// How many items a body holds, counted without decoding: the non-blank lines of NDJSON, the
/// elements of a top-level JSON array (1 for any other JSON value). `None` for the envelopes
/// whose items sit deeper (webhook, XML): those are counted once decoded.
pub fn items_in(body: &[u8], framing: Framing) -> Option<usize> {
    match framing {
        Framing::Ndjson => Some(body.split(|b| *b == b'\n').filter(|l| !l.iter().all(u8::is_ascii_whitespace)).count()),
        Framing::Json => match body.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'[') => Some(array_elements(body)),
            Some(b'{') => None,
            _ => Some(1),
        },
        Framing::Xml => None,
    }
}

/// Elements of the top-level JSON array `body` starts with (strings skipped, nesting followed).
fn array_elements(body: &[u8]) -> usize {
    let (mut depth, mut in_string, mut escaped, mut items, mut in_value) = (0usize, false, false, 0usize, false);
    for &b in body {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        if b.is_ascii_whitespace() {
            continue;
        }
        match b {
            b']' | b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    break;
                }
                continue;
            }
            b',' if depth == 1 => {
                in_value = false;
                continue;
            }
            _ => {}
        }
        if depth == 1 && !in_value {
            in_value = true;
            items += 1;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => depth += 1,
            _ => {}
        }
    }
    items
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_items_without_decoding() {
        let json = |s: &str| items_in(s.as_bytes(), Framing::Json);
        assert_eq!(json(r#" [{"a": [1, 2, {"b": "],"}]}, "x\"]", 3, [4, 5], {}] "#), Some(5));
        assert_eq!((json("[]"), json("[ ]"), json("{\"pix\": []}"), json("7")), (Some(0), Some(0), None, Some(1)));
        assert_eq!(items_in(&b"{},".repeat(3), Framing::Json), None, "an object: counted once decoded");
        let mut many = b"[".to_vec();
        many.extend(b"{},".repeat(300_000));
        many.extend(b"{}]");
        assert_eq!(items_in(&many, Framing::Json), Some(300_001));
        assert_eq!(items_in(b"{}\n\n  \n{}\n{}", Framing::Ndjson), Some(3));
        assert_eq!(items_in(b"<x/>", Framing::Xml), None);
    }

    #[test]
    fn takes_up_to_the_bound_and_gives_back_on_drop() {
        let f = InFlight::new(10, Arc::from("api"), Arc::default());
        let a = f.try_take(6).unwrap();
        assert!(f.try_take(5).is_none(), "6 + 5 > 10");
        let b = f.try_take(4).unwrap();
        assert!(f.full());
        drop(a);
        assert!(!f.full());
        drop(b);
        let alone = f.try_take(50);
        assert!(alone.is_some(), "a request over the bound passes alone");
        assert!(f.try_take(1).is_none());
    }
}
