//! The durable read position of each followed file.
//!
//! A file is identified by (device, inode), not by its name, so a rotated file keeps its position
//! under its new name and a new file under the old name starts from zero. The checkpoint is
//! written to a temp file, fsynced, renamed over the old one and the directory fsynced: a crash
//! leaves either the old or the new checkpoint, never a torn one.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// (device, inode) of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FileId {
    /// Device.
    pub dev: u64,
    /// Inode.
    pub ino: u64,
}

/// Position of one file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// Last path the file was seen under (for operators; identity is the FileId).
    pub path: PathBuf,
    /// Byte offset after the last acknowledged line.
    pub offset: u64,
}

/// The checkpoint file of one source.
#[derive(Debug)]
pub struct Checkpoint {
    path: PathBuf,
    /// Positions by file identity.
    pub files: BTreeMap<FileId, Position>,
}

#[derive(Serialize, Deserialize)]
struct OnDisk {
    version: u32,
    files: Vec<(FileId, Position)>,
}

impl Checkpoint {
    /// Loads `<dir>/<source id>.checkpoint.json`, or starts empty when there is none.
    pub fn load(dir: &Path, source_id: &str) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(format!("{source_id}.checkpoint.json"));
        let files = match std::fs::read(&path) {
            Ok(bytes) => {
                let disk: OnDisk = serde_json::from_slice(&bytes).map_err(|e| {
                    std::io::Error::new(std::io::ErrorKind::InvalidData, format!("{}: {e}", path.display()))
                })?;
                disk.files.into_iter().collect()
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => BTreeMap::new(),
            Err(e) => return Err(e),
        };
        Ok(Self { path, files })
    }

    /// Writes the checkpoint durably (temp file, fsync, rename, fsync directory).
    pub fn save(&self) -> std::io::Result<()> {
        let disk = OnDisk { version: 1, files: self.files.iter().map(|(k, v)| (*k, v.clone())).collect() };
        let bytes = serde_json::to_vec_pretty(&disk).map_err(std::io::Error::other)?;
        let tmp = self.path.with_extension("json.tmp");
        {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&bytes)?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &self.path)?;
        if let Some(dir) = self.path.parent() {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_survives_a_reload() {
        let dir = tempfile::tempdir().unwrap();
        let mut c = Checkpoint::load(dir.path(), "logs").unwrap();
        assert!(c.files.is_empty());
        c.files.insert(FileId { dev: 1, ino: 2 }, Position { path: "/x/a.log".into(), offset: 42 });
        c.save().unwrap();
        let again = Checkpoint::load(dir.path(), "logs").unwrap();
        assert_eq!(again.files, c.files);
        assert!(!dir.path().join("logs.checkpoint.json.tmp").exists());
    }

    #[test]
    fn a_corrupt_checkpoint_is_an_error_not_a_silent_restart_from_zero() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("logs.checkpoint.json"), b"{not json").unwrap();
        assert!(Checkpoint::load(dir.path(), "logs").is_err());
    }
}
