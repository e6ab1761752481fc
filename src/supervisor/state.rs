//! The desired set of actors that the admin API changed, persisted so changes survive a restart.
//!
//! Choice: a JSON state file (written atomically: temp file, fsync, rename) rather than a compacted
//! Kafka topic as Kafka Connect uses. pix-ingest runs as one process per deployment, the file sits
//! on the container's volume next to the file-source checkpoints, and it keeps working in embedded
//! dev mode. The YAML stays the baseline; the file is an overlay of what the API did, by id:
//! an entry added or replaced through the API (its request body as sent, so `${VAR}` references
//! are kept as references and no interpolated secret is written), a YAML entry deleted through the
//! API, and the paused flag. At start the overlay is applied on top of the YAML.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// What the API did to one id.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overlay {
    /// `source` or `sink`.
    pub kind: String,
    /// The entry as sent to the API (JSON or YAML text), when added or replaced through it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Deleted through the API.
    #[serde(default)]
    pub deleted: bool,
    /// Paused through the API.
    #[serde(default)]
    pub paused: bool,
}

/// Why the state file cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// Reading or writing failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a state file.
    #[error("{path}: not a pix-ingest admin state file: {source}")]
    Format {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: serde_json::Error,
    },
}

/// The state file.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct DesiredState {
    #[serde(skip)]
    path: Option<PathBuf>,
    /// Format version.
    pub version: u32,
    /// Overlays by actor id.
    pub actors: BTreeMap<String, Overlay>,
}

impl DesiredState {
    /// Loads the file at `path` (an empty overlay when it does not exist yet).
    pub fn load(path: &Path) -> Result<Self, StateError> {
        let mut s = match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice::<DesiredState>(&bytes)
                .map_err(|source| StateError::Format { path: path.to_owned(), source })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => DesiredState { version: 1, ..Default::default() },
            Err(source) => return Err(StateError::Io { path: path.to_owned(), source }),
        };
        s.path = Some(path.to_owned());
        Ok(s)
    }

    /// Writes the file durably, readable by its owner only (0600).
    pub fn save(&self) -> Result<(), StateError> {
        let Some(path) = &self.path else { return Ok(()) };
        let write = || -> std::io::Result<()> {
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir)?;
            }
            let tmp = path.with_extension("json.tmp");
            let mut f = open_private(&tmp)?;
            f.write_all(&serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?)?;
            f.sync_all()?;
            std::fs::rename(&tmp, path)?;
            if let Some(dir) = path.parent() {
                std::fs::File::open(dir)?.sync_all()?;
            }
            Ok(())
        };
        write().map_err(|source| StateError::Io { path: path.clone(), source })
    }

    /// An empty overlay that is never written (admin disabled, tests).
    pub fn in_memory() -> Self {
        DesiredState { version: 1, ..Default::default() }
    }

    /// The overlay of `id`, created on first use.
    pub fn entry(&mut self, id: &str, kind: &str) -> &mut Overlay {
        self.actors.entry(id.to_owned()).or_insert_with(|| Overlay { kind: kind.to_owned(), ..Default::default() })
    }
}

/// Creates (truncating) a file only its owner can read and write.
fn open_private(path: &Path) -> std::io::Result<std::fs::File> {
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        o.mode(0o600);
    }
    let f = o.open(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(f)
}
