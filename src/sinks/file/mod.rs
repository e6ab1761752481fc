//! The file sink: NDJSON files in a landing directory partitioned as
//! `dt=YYYY-MM-DD/category=<category>/` (event date in UTC), for Spark batch jobs. It takes both
//! record schemas: fraud reports land under `category=fraud_report/`, one report JSON per line,
//! dated by their `event_time` (when the report reached that state).
//!
//! Records are appended to hidden temp files (`.part-….ndjson.tmp`); `flush` (run before every
//! offset commit) fsyncs them and renames them to their final `part-….ndjson` name, then fsyncs the
//! directory. A reader therefore only ever sees complete files, and a crash leaves only temp files
//! (removed at the next start) whose records Kafka re-delivers because their offsets were not
//! committed. Files are rolled by the batch thresholds (`batch.max_events`, `max_bytes`,
//! `max_age`): one file per partition directory per batch at most.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use futures::future::LocalBoxFuture;
use serde::{Deserialize, Serialize};

use super::batch::BatchConfig;
use super::{SinkError, SinkRecord, SinkResult, SinkWriter, Verdict};
use pix_domain::Category;

/// `type: file` sink.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct FileSinkConfig {
    /// Unique id; consumer group `pix-ingest.<id>`; part of every file name.
    pub id: String,
    /// Categories to read (`fraud_report` too).
    #[serde(default = "super::default_topics")]
    pub topics: Vec<Category>,
    /// Batch thresholds (also the file roll thresholds).
    #[serde(default = "super::default_batch")]
    pub batch: BatchConfig,
    /// Landing directory.
    pub dir: PathBuf,
    /// `ndjson`.
    #[serde(default)]
    pub format: FileSinkFormat,
    /// Test-only fault injection (feature `fault-injection`, never in release builds).
    #[cfg(feature = "fault-injection")]
    #[serde(default)]
    pub fault: Option<Fault>,
}

/// Faults a test can inject into a file sink.
#[cfg(feature = "fault-injection")]
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// Panic while writing an event with this amount.
    #[serde(default)]
    pub panic_on_amount: Option<String>,
    /// Panic as soon as the writer is built (every incarnation crashes).
    #[serde(default)]
    pub panic_on_start: bool,
}

/// File formats.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileSinkFormat {
    /// One record JSON per line (canonical event, or fraud report under `category=fraud_report`).
    #[default]
    Ndjson,
}

struct OpenFile {
    tmp: PathBuf,
    fin: PathBuf,
    file: std::io::BufWriter<std::fs::File>,
}

/// The writer.
pub struct FileWriter {
    cfg: FileSinkConfig,
    open: BTreeMap<PathBuf, OpenFile>,
    seq: u64,
}

impl FileWriter {
    /// Prepares the directory and removes temp files a crash of this sink left behind.
    pub fn new(cfg: &FileSinkConfig) -> SinkResult<Self> {
        #[cfg(feature = "fault-injection")]
        if cfg.fault.as_ref().is_some_and(|f| f.panic_on_start) {
            #[allow(clippy::panic)]
            {
                panic!("fault injection: panic_on_start");
            }
        }
        std::fs::create_dir_all(&cfg.dir).map_err(|e| io_error(&cfg.dir, &e))?;
        remove_stale(&cfg.dir, &format!(".part-{}-", cfg.id)).map_err(|e| io_error(&cfg.dir, &e))?;
        Ok(Self { cfg: cfg.clone(), open: BTreeMap::new(), seq: 0 })
    }

    fn file_for(&mut self, r: &SinkRecord) -> std::io::Result<&mut OpenFile> {
        let dt = r.event_time().as_utc().format("%Y-%m-%d").to_string();
        let dir = self.cfg.dir.join(format!("dt={dt}")).join(format!("category={}", r.category().as_str()));
        if !self.open.contains_key(&dir) {
            std::fs::create_dir_all(&dir)?;
            self.seq += 1;
            let stem = format!(
                "part-{}-{}-{:05}.ndjson",
                self.cfg.id,
                chrono::Utc::now().format("%Y%m%dT%H%M%S%.6fZ"),
                self.seq
            );
            let tmp = dir.join(format!(".{stem}.tmp"));
            let fin = dir.join(stem);
            let file = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
            self.open.insert(dir.clone(), OpenFile { tmp, fin, file });
        }
        self.open.get_mut(&dir).ok_or_else(|| std::io::Error::other("file vanished from the open set"))
    }
}

/// Permission and read-only errors will not go away by retrying; the rest (disk full, I/O) may.
fn io_error(path: &Path, e: &std::io::Error) -> SinkError {
    use std::io::ErrorKind::{InvalidInput, NotADirectory, PermissionDenied, ReadOnlyFilesystem};
    let msg = format!("{}: {e}", path.display());
    match e.kind() {
        PermissionDenied | ReadOnlyFilesystem | NotADirectory | InvalidInput => SinkError::Permanent(msg),
        _ => SinkError::Transient(msg),
    }
}

fn remove_stale(dir: &Path, prefix: &str) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        if entry.file_type()?.is_dir() {
            remove_stale(&path, prefix)?;
        } else if entry.file_name().to_string_lossy().starts_with(prefix)
            && path.extension().is_some_and(|e| e == "tmp")
        {
            std::fs::remove_file(&path)?;
        }
    }
    Ok(())
}

impl SinkWriter for FileWriter {
    fn write<'a>(&'a mut self, records: &'a [SinkRecord]) -> LocalBoxFuture<'a, SinkResult<Vec<Verdict>>> {
        Box::pin(async move {
            for r in records {
                #[cfg(feature = "fault-injection")]
                if let Some(amount) = self.cfg.fault.as_ref().and_then(|f| f.panic_on_amount.as_deref())
                    && r.pix().and_then(|e| e.amount).map(|a| a.to_string()).as_deref() == Some(amount)
                {
                    #[allow(clippy::panic)]
                    {
                        panic!("fault injection: panic_on_amount");
                    }
                }
                let dir = self.cfg.dir.clone();
                let f = self.file_for(r).map_err(|e| io_error(&dir, &e))?;
                f.file.write_all(&r.payload).and_then(|()| f.file.write_all(b"\n")).map_err(|e| io_error(&dir, &e))?;
            }
            Ok(vec![Verdict::Written; records.len()])
        })
    }

    fn flush(&mut self) -> LocalBoxFuture<'_, SinkResult<()>> {
        Box::pin(async move {
            while let Some((dir, mut f)) = self.open.pop_first() {
                let done = f
                    .file
                    .flush()
                    .and_then(|()| f.file.get_ref().sync_all())
                    .and_then(|()| std::fs::rename(&f.tmp, &f.fin))
                    .and_then(|()| std::fs::File::open(&dir)?.sync_all());
                if let Err(e) = done {
                    // Keep it open: the runner retries the flush.
                    let err = io_error(&f.tmp, &e);
                    self.open.insert(dir, f);
                    return Err(err);
                }
            }
            Ok(())
        })
    }
}

impl super::SinkKind for FileSinkConfig {
    fn id(&self) -> &str {
        &self.id
    }
    fn common(&self) -> super::CommonSinkConfig {
        super::CommonSinkConfig { id: self.id.clone(), topics: self.topics.clone(), batch: self.batch.clone() }
    }
    fn writer(&self) -> SinkResult<Box<dyn SinkWriter>> {
        FileWriter::new(self).map(|w| Box::new(w) as Box<dyn SinkWriter>)
    }
    fn accepts(&self) -> &'static [super::RecordSchema] {
        &[super::RecordSchema::PixEvent, super::RecordSchema::FraudReport]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sinks::samples::{payment, record, report};

    #[test]
    fn fraud_reports_land_under_their_own_category() {
        let dir = tempfile::tempdir().unwrap();
        let yaml = format!("{{id: f, dir: '{}', topics: [payment, fraud_report]}}", dir.path().display());
        let cfg: FileSinkConfig = serde_saphyr::from_str(&yaml).unwrap();
        let mut w = FileWriter::new(&cfg).unwrap();
        let records = [record(0, payment()), record(1, report())];
        let verdicts = futures::executor::block_on(w.write(&records)).unwrap();
        assert_eq!(verdicts, [Verdict::Written, Verdict::Written]);
        futures::executor::block_on(w.flush()).unwrap();
        for (r, category) in records.iter().zip(["payment", "fraud_report"]) {
            let day = r.event_time().as_utc().format("%Y-%m-%d");
            let leaf = dir.path().join(format!("dt={day}")).join(format!("category={category}"));
            let files: Vec<_> = std::fs::read_dir(&leaf).unwrap().map(|e| e.unwrap().path()).collect();
            assert_eq!(files.len(), 1, "{files:?}");
            assert_eq!(std::fs::read(&files[0]).unwrap(), [r.payload.as_slice(), b"\n"].concat());
        }
    }
}
