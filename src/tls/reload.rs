//! A value built from files and rebuilt when their content changes, checked at most once per
//! interval by whoever asks for it (the TLS handshake). Content, not mtime, decides: a file copied
//! with its old mtime, or two writes within one mtime tick, are still seen.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::TlsError;
use super::files::read;

type Build<T> = Box<dyn Fn(&[Vec<u8>]) -> Result<T, TlsError> + Send + Sync>;

/// The current value and what it was built from.
pub(crate) struct Reloading<T> {
    /// For logs: `listener certificate`, `client CA bundle`, ...
    what: &'static str,
    paths: Vec<PathBuf>,
    interval: Duration,
    build: Build<T>,
    state: Mutex<State<T>>,
}

struct State<T> {
    current: Arc<T>,
    /// Digest of the files the current value was built from.
    digest: [u8; 32],
    /// Digest of files that failed to build (logged once, retried when they change again).
    refused: Option<[u8; 32]>,
    checked: Instant,
}

fn digest(contents: &[Vec<u8>]) -> [u8; 32] {
    let mut h = Sha256::new();
    for c in contents {
        h.update((c.len() as u64).to_be_bytes());
        h.update(c);
    }
    h.finalize().into()
}

impl<T> std::fmt::Debug for Reloading<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reloading").field("what", &self.what).field("paths", &self.paths).finish_non_exhaustive()
    }
}

impl<T> Reloading<T> {
    /// Reads the files and builds the first value; an error here is a start-up error.
    pub(crate) fn new(
        what: &'static str,
        paths: Vec<PathBuf>,
        interval: Duration,
        build: impl Fn(&[Vec<u8>]) -> Result<T, TlsError> + Send + Sync + 'static,
    ) -> Result<Self, TlsError> {
        let contents = paths.iter().map(|p| read(p)).collect::<Result<Vec<_>, _>>()?;
        let first = build(&contents)?;
        let state =
            State { current: Arc::new(first), digest: digest(&contents), refused: None, checked: Instant::now() };
        Ok(Self { what, paths, interval, build: Box::new(build), state: Mutex::new(state) })
    }

    /// The current value, rebuilt first when the interval has passed and the files changed.
    pub(crate) fn current(&self) -> Arc<T> {
        let mut st = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        if st.checked.elapsed() >= self.interval {
            st.checked = Instant::now();
            self.check(&mut st);
        }
        Arc::clone(&st.current)
    }

    fn check(&self, st: &mut State<T>) {
        let contents = match self.paths.iter().map(|p| read(p)).collect::<Result<Vec<_>, _>>() {
            Ok(c) => c,
            Err(error) => {
                // Mid-rotation (a file briefly missing): keep serving the current value.
                tracing::warn!(what = self.what, %error, "TLS file unreadable; the loaded one stays in use.");
                return;
            }
        };
        let d = digest(&contents);
        if d == st.digest || Some(d) == st.refused {
            return;
        }
        match (self.build)(&contents) {
            Ok(v) => {
                st.current = Arc::new(v);
                st.digest = d;
                st.refused = None;
                tracing::info!(what = self.what, files = ?self.paths, "TLS files changed; reloaded.");
            }
            Err(error) => {
                st.refused = Some(d);
                tracing::error!(what = self.what, %error,
                    "TLS files changed but do not load; the previous ones stay in use.");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rebuilds_on_new_content_and_keeps_the_old_value_on_a_bad_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v");
        std::fs::write(&path, "1").unwrap();
        let parse = |c: &[Vec<u8>]| {
            String::from_utf8_lossy(&c[0])
                .trim()
                .parse::<u32>()
                .map_err(|e| TlsError::Pem { path: "v".into(), what: e.to_string() })
        };
        let r = Reloading::new("test", vec![path.clone()], Duration::ZERO, parse).unwrap();
        assert_eq!(*r.current(), 1);
        std::fs::write(&path, "2").unwrap();
        assert_eq!(*r.current(), 2);
        std::fs::write(&path, "not a number").unwrap();
        assert_eq!(*r.current(), 2, "a file that does not load keeps the previous value");
        std::fs::remove_file(&path).unwrap();
        assert_eq!(*r.current(), 2, "a missing file keeps the previous value");
        std::fs::write(&path, "3").unwrap();
        assert_eq!(*r.current(), 3);
    }

    #[test]
    fn checks_at_most_once_per_interval() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v");
        std::fs::write(&path, "a").unwrap();
        let r = Reloading::new("test", vec![path.clone()], Duration::from_secs(3600), |c: &[Vec<u8>]| Ok(c[0].clone()))
            .unwrap();
        std::fs::write(&path, "b").unwrap();
        assert_eq!(&*r.current(), b"a", "not re-read before the interval");
    }
}
