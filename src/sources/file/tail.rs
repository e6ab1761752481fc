//! Following files: discovery by glob, rotation and truncation, line batches, and the checkpoint.
//! Everything here is blocking file I/O; the actor runs it on the blocking pool.

use std::collections::BTreeMap;
use std::fs::File;
use std::io;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::PathBuf;

use super::checkpoint::{Checkpoint, FileId, Position};
use super::config::{FileSourceConfig, StartAt};

/// Bytes read per `pread` while looking for line ends.
const CHUNK: usize = 64 * 1024;

struct Tracked {
    path: PathBuf,
    /// Kept open so a file renamed away by rotation can still be read to its end.
    file: File,
    /// Offset after the last line handed out and committed.
    offset: u64,
    /// Whether the glob still matches this file.
    matched: bool,
}

/// A batch of complete lines of one file.
#[derive(Debug)]
pub struct Batch {
    /// File identity.
    pub file: FileId,
    /// Path it was read under.
    pub path: PathBuf,
    /// Offset after the last line of the batch (the checkpoint once acknowledged).
    pub end: u64,
    /// The lines (without the line break); `true` when the line was cut at `max_line_bytes`.
    pub lines: Vec<(Vec<u8>, bool)>,
}

/// The file-following state of one source.
pub struct Tailer {
    cfg: FileSourceConfig,
    checkpoint: Checkpoint,
    files: BTreeMap<FileId, Tracked>,
}

impl Tailer {
    /// Loads the checkpoint; files are discovered by `scan`.
    pub fn new(cfg: FileSourceConfig) -> io::Result<Self> {
        let checkpoint = Checkpoint::load(&cfg.checkpoint_dir, &cfg.id)?;
        Ok(Self { cfg, checkpoint, files: BTreeMap::new() })
    }

    /// Finds files matching the glob, opens new ones, notices truncation and forgets files that
    /// are gone and fully read.
    pub fn scan(&mut self) -> io::Result<()> {
        for t in self.files.values_mut() {
            t.matched = false;
        }
        let paths =
            glob::glob(&self.cfg.path).map_err(|e| io::Error::new(io::ErrorKind::InvalidInput, e.to_string()))?;
        for path in paths.flatten() {
            let Ok(meta) = std::fs::metadata(&path) else { continue };
            if !meta.is_file() {
                continue;
            }
            let id = FileId { dev: meta.dev(), ino: meta.ino() };
            if let Some(t) = self.files.get_mut(&id) {
                t.matched = true;
                t.path = path;
                continue;
            }
            let Ok(file) = File::open(&path) else { continue };
            let offset = match self.checkpoint.files.get(&id) {
                Some(pos) => pos.offset,
                None => match self.cfg.start_at {
                    StartAt::Beginning => 0,
                    StartAt::End => meta.len(),
                },
            };
            tracing::info!(source = %self.cfg.id, path = %path.display(), offset, "Following file.");
            self.files.insert(id, Tracked { path, file, offset, matched: true });
        }
        let mut gone = Vec::new();
        for (id, t) in &mut self.files {
            let len = t.file.metadata()?.len();
            if len < t.offset {
                // copytruncate-style rotation: the file was cut; start over from its beginning.
                tracing::warn!(source = %self.cfg.id, path = %t.path.display(), "File truncated; reading from the start.");
                t.offset = 0;
            }
            if !t.matched && t.offset >= len {
                gone.push(*id);
            }
        }
        if !gone.is_empty() {
            for id in gone {
                self.files.remove(&id);
                self.checkpoint.files.remove(&id);
            }
            self.checkpoint.save()?;
        }
        Ok(())
    }

    /// Up to `batch_lines` complete lines from the first file that has some (files that no
    /// longer match the glob, i.e. rotated away, first).
    pub fn next_batch(&mut self) -> io::Result<Option<Batch>> {
        let mut order: Vec<(&FileId, &Tracked)> = self.files.iter().collect();
        order.sort_by_key(|(_, t)| (t.matched, t.path.clone()));
        for (id, t) in order {
            let lines = read_lines(&t.file, t.offset, self.cfg.batch_lines, self.cfg.max_line_bytes)?;
            if let Some((lines, end)) = lines {
                return Ok(Some(Batch { file: *id, path: t.path.clone(), end, lines }));
            }
        }
        Ok(None)
    }

    /// Records that every line of `batch` is acknowledged, durably.
    pub fn commit(&mut self, batch: &Batch) -> io::Result<()> {
        if let Some(t) = self.files.get_mut(&batch.file) {
            t.offset = batch.end;
        }
        self.checkpoint.files.insert(batch.file, Position { path: batch.path.clone(), offset: batch.end });
        self.checkpoint.save()
    }
}

/// Lines read (each with its "cut at max_line_bytes" mark) and the offset after the last one.
type ReadLines = (Vec<(Vec<u8>, bool)>, u64);

/// Reads complete lines from `offset`. A final line without a line break is left for later (the
/// writer may be in the middle of it). Returns the lines and the offset after the last one.
fn read_lines(file: &File, offset: u64, max_lines: usize, max_line: usize) -> io::Result<Option<ReadLines>> {
    let mut lines = Vec::new();
    let mut pos = offset;
    let mut current: Vec<u8> = Vec::new();
    let mut cut = false;
    let mut buf = vec![0u8; CHUNK];
    let mut read_at = offset;
    while lines.len() < max_lines {
        let n = file.read_at(&mut buf, read_at)?;
        if n == 0 {
            break;
        }
        let mut start = 0;
        for i in 0..n {
            if buf[i] == b'\n' {
                append(&mut current, &buf[start..i], max_line, &mut cut);
                read_at += (i + 1 - start) as u64;
                pos = read_at;
                start = i + 1;
                let mut line = std::mem::take(&mut current);
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                if !line.iter().all(u8::is_ascii_whitespace) {
                    lines.push((line, cut));
                }
                cut = false;
                if lines.len() >= max_lines {
                    break;
                }
            }
        }
        if lines.len() >= max_lines {
            break;
        }
        append(&mut current, &buf[start..n], max_line, &mut cut);
        read_at += (n - start) as u64;
    }
    if pos == offset { Ok(None) } else { Ok(Some((lines, pos))) }
}

fn append(line: &mut Vec<u8>, bytes: &[u8], max: usize, cut: &mut bool) {
    let room = max.saturating_sub(line.len());
    if bytes.len() > room {
        *cut = true;
    }
    line.extend_from_slice(&bytes[..bytes.len().min(room)]);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn cfg(dir: &std::path::Path) -> FileSourceConfig {
        FileSourceConfig {
            id: "logs".into(),
            path: dir.join("*.log").display().to_string(),
            format: pix_domain::formats::Format::Canonical,
            checkpoint_dir: dir.join("ckpt"),
            start_at: StartAt::Beginning,
            batch_lines: 2,
            poll_interval: std::time::Duration::from_millis(10),
            max_line_bytes: 16,
        }
    }

    fn drain(t: &mut Tailer) -> Vec<String> {
        let mut out = Vec::new();
        t.scan().unwrap();
        while let Some(b) = t.next_batch().unwrap() {
            out.extend(b.lines.iter().map(|(l, _)| String::from_utf8_lossy(l).into_owned()));
            t.commit(&b).unwrap();
        }
        out
    }

    #[test]
    fn batches_complete_lines_and_resumes_from_the_checkpoint() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("a.log");
        std::fs::write(&log, "one\ntwo\r\n\nthree\nfour-partial").unwrap();
        let mut t = Tailer::new(cfg(dir.path())).unwrap();
        t.scan().unwrap();
        let b = t.next_batch().unwrap().unwrap();
        assert_eq!(b.lines.len(), 2, "batch_lines bounds a batch");
        t.commit(&b).unwrap();
        assert_eq!(drain(&mut t), ["three"], "the partial last line waits");
        // a restart reads nothing twice
        let mut again = Tailer::new(cfg(dir.path())).unwrap();
        assert!(drain(&mut again).is_empty());
        std::fs::OpenOptions::new().append(true).open(&log).unwrap().write_all(b"\nfive\n").unwrap();
        assert_eq!(drain(&mut again), ["four-partial", "five"]);
    }

    #[test]
    fn follows_rotation_by_rename_and_truncation() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("a.log");
        std::fs::write(&log, "1\n2\n").unwrap();
        let mut t = Tailer::new(cfg(dir.path())).unwrap();
        assert_eq!(drain(&mut t), ["1", "2"]);
        // the writer appends one more line, then the file is rotated away and a new one created
        std::fs::OpenOptions::new().append(true).open(&log).unwrap().write_all(b"3\n").unwrap();
        std::fs::rename(&log, dir.path().join("a.log.1")).unwrap();
        std::fs::write(&log, "new-1\n").unwrap();
        let got = drain(&mut t);
        assert_eq!(got, ["3", "new-1"], "the rotated file is read to its end first");
        // copytruncate
        std::fs::write(&log, "x\n").unwrap();
        assert_eq!(drain(&mut t), ["x"]);
    }

    #[test]
    fn an_overlong_line_is_cut_and_marked() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("a.log"), format!("{}\nok\n", "y".repeat(100))).unwrap();
        let mut t = Tailer::new(cfg(dir.path())).unwrap();
        t.scan().unwrap();
        let b = t.next_batch().unwrap().unwrap();
        assert_eq!(b.lines[0].0.len(), 16);
        assert!(b.lines[0].1);
        assert_eq!(b.lines[1], (b"ok".to_vec(), false));
    }
}
