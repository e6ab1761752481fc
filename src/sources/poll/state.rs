//! The durable cursor of a poller and the ids it published recently, in one state file
//! (`<state_dir>/<id>.cursor.json`, mode 0600).
//!
//! The cursor is the poller's own type (what its API pages by). It is written only after Kafka acknowledged every record of
//! a page (the caller's rule), to a temp file that is fsynced and renamed over the old one, then
//! the directory fsynced: a crash leaves the old or the new state, never a torn one. The recent
//! ids (bounded, oldest forgotten first) let the overlap of the next window, and a restart in the
//! middle of it, drop what was already published.

use std::collections::{HashSet, VecDeque};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// Ids published recently, bounded.
#[derive(Debug, Default)]
pub struct Recent {
    order: VecDeque<String>,
    set: HashSet<String>,
    cap: usize,
}

impl Recent {
    fn new(cap: usize, ids: Vec<String>) -> Self {
        let mut r = Self { cap, ..Self::default() };
        ids.into_iter().for_each(|id| r.insert(id));
        r
    }

    /// Whether `id` was published recently.
    pub fn contains(&self, id: &str) -> bool {
        self.set.contains(id)
    }

    /// Remembers `id`, forgetting the oldest past the bound.
    pub fn insert(&mut self, id: String) {
        if self.cap == 0 || !self.set.insert(id.clone()) {
            return;
        }
        self.order.push_back(id);
        while self.order.len() > self.cap {
            if let Some(old) = self.order.pop_front() {
                self.set.remove(&old);
            }
        }
    }

    /// How many are remembered.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether none is remembered.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }
}

/// The state of one poller.
#[derive(Debug)]
pub struct State<C> {
    path: PathBuf,
    /// The cursor.
    pub cursor: C,
    /// Recently published ids.
    pub recent: Recent,
}

#[derive(Serialize, Deserialize)]
struct OnDisk<C> {
    version: u32,
    cursor: C,
    recent: Vec<String>,
}

/// Why the state file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a state file of this version (never silently restarted from scratch).
    #[error("{path}: not a poller state file: {detail}")]
    Corrupt {
        /// The file.
        path: String,
        /// What is wrong.
        detail: String,
    },
}

impl<C: Clone + Serialize + DeserializeOwned> State<C> {
    /// Loads `<dir>/<id>.cursor.json`, or starts with `initial` when there is none.
    pub fn load(dir: &Path, id: &str, initial: C, remember: usize) -> Result<Self, StateError> {
        let path = dir.join(format!("{id}.cursor.json"));
        let io = |source| StateError::Io { path: path.display().to_string(), source };
        std::fs::create_dir_all(dir).map_err(io)?;
        match std::fs::read(&path) {
            Ok(bytes) => {
                let disk: OnDisk<C> = serde_json::from_slice(&bytes)
                    .map_err(|e| StateError::Corrupt { path: path.display().to_string(), detail: e.to_string() })?;
                if disk.version != 1 {
                    let detail = format!("version {} (expected 1)", disk.version);
                    return Err(StateError::Corrupt { path: path.display().to_string(), detail });
                }
                Ok(Self { cursor: disk.cursor, recent: Recent::new(remember, disk.recent), path })
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Ok(Self { path, cursor: initial, recent: Recent::new(remember, vec![]) })
            }
            Err(e) => Err(io(e)),
        }
    }

    /// Writes the state durably (temp file 0600, fsync, rename, fsync directory).
    #[cfg(test)]
    pub fn save(&self) -> Result<(), StateError> {
        self.encoded()?.write()
    }

    /// The bytes to write, apart from the writing (which the poller does on the blocking pool).
    pub fn encoded(&self) -> Result<Encoded, StateError> {
        let disk =
            OnDisk { version: 1, cursor: self.cursor.clone(), recent: self.recent.order.iter().cloned().collect() };
        let bytes = serde_json::to_vec(&disk)
            .map_err(|e| StateError::Io { path: self.path.display().to_string(), source: std::io::Error::other(e) })?;
        Ok(Encoded { path: self.path.clone(), bytes })
    }
}

/// An encoded state, ready to be written.
pub struct Encoded {
    path: PathBuf,
    bytes: Vec<u8>,
}

impl Encoded {
    /// Writes it durably (temp file 0600, fsync, rename, fsync directory).
    pub fn write(self) -> Result<(), StateError> {
        let io = |source| StateError::Io { path: self.path.display().to_string(), source };
        let tmp = self.path.with_extension("json.tmp");
        {
            let mut f = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)
                .map_err(io)?;
            f.write_all(&self.bytes).map_err(io)?;
            f.sync_all().map_err(io)?;
        }
        std::fs::rename(&tmp, &self.path).map_err(io)?;
        if let Some(dir) = self.path.parent() {
            std::fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Cursor {
        done_until: String,
        page: u32,
    }

    #[test]
    fn round_trips_with_mode_0600_and_bounds_the_recent_ids() {
        let dir = tempfile::tempdir().unwrap();
        let start = Cursor { done_until: "2026-11-25T00:00:00Z".into(), page: 0 };
        let mut s = State::load(dir.path(), "psp", start.clone(), 2).unwrap();
        assert_eq!(s.cursor, start);
        s.cursor.page = 3;
        for id in ["a", "b", "c", "b"] {
            s.recent.insert(id.into());
        }
        assert_eq!((s.recent.contains("a"), s.recent.contains("c"), s.recent.len()), (false, true, 2));
        s.save().unwrap();
        let file = dir.path().join("psp.cursor.json");
        assert_eq!(std::fs::metadata(&file).unwrap().permissions().mode() & 0o777, 0o600);
        let again = State::load(dir.path(), "psp", start, 2).unwrap();
        assert_eq!(again.cursor, s.cursor);
        assert!(again.recent.contains("b") && again.recent.contains("c"));
        assert!(!dir.path().join("psp.cursor.json.tmp").exists());
    }

    #[test]
    fn a_corrupt_state_is_an_error_not_a_restart_from_scratch() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("psp.cursor.json"), b"{not json").unwrap();
        let start = Cursor { done_until: String::new(), page: 0 };
        assert!(matches!(State::load(dir.path(), "psp", start, 10), Err(StateError::Corrupt { .. })));
    }
}
