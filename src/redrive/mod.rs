//! Dead letters brought back: browse the dead-letter topic (masked summaries filtered by reason,
//! stage, source and time) and redrive a selection of it once a rule is fixed or an outage ended.
//!
//! A redrive judges every selected dead letter again with the current config ([`judge`]): a
//! source-stage one is decoded and validated again as its source would today, a sink-stage one
//! is the canonical record a sink could not take. What is valid now is published like the router
//! publishes ([`publish`]), with the same event id (a repeat is dropped by the dedupe downstream)
//! and a `pix-redriven-from` header naming the dead letter; what is still refused stays where it
//! is, and the report gives its new reason. Progress is the committed offsets of a consumer group
//! per selection ([`Selection::group`]), written after a chunk's records were acknowledged, so an
//! interrupted run is taken up again by the next one ([`scan`]). Every run writes an audit line.
//!
//! Used by `pix-ingest dlq` (the CLI, with the config file) and by the admin API (`GET
//! /api/v1/dlq`, `POST /api/v1/dlq/redrive`, with the running instance's config). Owns nothing
//! of the pipeline: it reads the topic and produces with a client of its own.

pub mod cli;
mod judge;
mod letter;
mod mask;
mod publish;
mod report;
mod scan;
mod selection;

use std::collections::HashMap;
use std::time::Duration;

use serde::Serialize;

pub use letter::Summary;
pub use report::{Moved, Placed, Report, StillInvalid};
pub use selection::{Purpose, Selection, SelectionError};

use crate::config::Config;
use crate::kafka::{DeliveryError, producer_config};
use crate::router::RoutingTable;
use crate::sources::ValidationSettings;
use judge::Verdict;
use letter::Letter;
use report::ChunkOutcome;
use scan::{Scan, Start};

/// Dead letters judged and published together; their progress is committed together.
const CHUNK: usize = 500;
/// The group id of a browse (it never commits).
const BROWSE_GROUP: &str = "pix-ingest.dlq-browse";

/// What a browse or a redrive runs against.
pub struct Instance {
    /// The config: Kafka, topics, routing, `pix:`, `formats:` and the sources as they are now.
    pub config: Config,
    /// The bootstrap servers in use.
    pub bootstrap: String,
}

impl Instance {
    /// For the CLI: the config file's cluster, which must be a real one (the embedded broker
    /// lives and dies inside a running pix-ingest).
    pub fn of_file(config: Config) -> Result<Self, RedriveError> {
        match &config.kafka.bootstrap_servers {
            crate::kafka::Bootstrap::Brokers(b) => {
                let bootstrap = b.clone();
                Ok(Self { config, bootstrap })
            }
            crate::kafka::Bootstrap::Embedded => Err(RedriveError::Config(
                "the embedded broker lives inside a running pix-ingest: use its admin API (GET /api/v1/dlq, \
                 POST /api/v1/dlq/redrive)"
                    .into(),
            )),
        }
    }
}

/// Why a browse or a redrive could not run.
#[derive(Debug, thiserror::Error)]
pub enum RedriveError {
    /// The selection is refused.
    #[error("invalid selection: {0}")]
    Selection(#[from] SelectionError),
    /// A Kafka client call failed.
    #[error("kafka: {0}")]
    Kafka(#[source] rdkafka::error::KafkaError),
    /// The topic stopped delivering records.
    #[error("no record from `{topic}` for {idle:?}")]
    Stalled {
        /// The dead-letter topic.
        topic: String,
        /// How long nothing came.
        idle: Duration,
    },
    /// Kafka did not acknowledge a chunk's records in time; its progress was not recorded.
    #[error("kafka did not acknowledge the redriven records ({0}); the next run takes them again")]
    Unavailable(String),
    /// The config cannot serve (an ISPB that does not parse, the embedded broker).
    #[error("{0}")]
    Config(String),
    /// A task failed.
    #[error("internal: {0}")]
    Internal(String),
}

/// A browse.
#[derive(Debug, Clone, Serialize)]
pub struct Listing {
    /// The dead-letter topic.
    pub topic: String,
    /// Dead letters read.
    pub examined: u64,
    /// More selected dead letters than `limit` were found.
    pub more: bool,
    /// The selected dead letters, in the order read (per partition, oldest first).
    pub letters: Vec<Summary>,
}

/// Masked summaries of the dead letters `selection` picks.
pub async fn list(instance: &Instance, selection: &Selection) -> Result<Listing, RedriveError> {
    selection.check(Purpose::List)?;
    let topic = instance.config.topics.dead_letter.as_str();
    let start = Start { group: BROWSE_GROUP.into(), resume: false, since: selection.since };
    let mut scan = Scan::open(&instance.config.kafka, &instance.bootstrap, topic, start).await?;
    let limit = selection.limit_for(Purpose::List);
    let mut out = Listing { topic: topic.to_owned(), examined: 0, more: false, letters: Vec::new() };
    while let Some(letter) = scan.next().await? {
        out.examined += 1;
        if !selected(selection, &letter) {
            continue;
        }
        if out.letters.len() == limit {
            out.more = true;
            break;
        }
        out.letters.push(letter.summary());
    }
    Ok(out)
}

/// Redrives the dead letters `selection` picks, from where the last run of it stopped; `by` names
/// the caller in the audit line.
pub async fn redrive(instance: &Instance, selection: &Selection, by: &str) -> Result<Report, RedriveError> {
    selection.check(Purpose::Redrive)?;
    let config = &instance.config;
    let settings = ValidationSettings::from_config(&config.pix, &config.formats)
        .map_err(|e| RedriveError::Config(e.to_string()))?;
    let topic = config.topics.dead_letter.as_str();
    let group = selection.group(topic);
    let publisher = publish::Publisher::new(
        producer_config(&config.kafka, &instance.bootstrap, "pix-ingest-redrive"),
        RoutingTable::new(&config.topics, &config.routing),
        config.kafka.delivery_timeout + Duration::from_secs(5),
    )?;
    let start = Start { group: group.clone(), resume: !selection.restart, since: selection.since };
    let mut scan = Scan::open(&config.kafka, &instance.bootstrap, topic, start).await?;
    let mut report = Report::new(topic, group, selection.clone());
    let run = Run { selection, config, settings: &settings, publisher: &publisher, topic };
    match run.chunks(&mut scan, &mut report).await {
        Ok(complete) => report.complete = complete,
        Err(e) => report.stopped = Some(e.to_string()),
    }
    report.audit(by);
    Ok(report)
}

fn selected(selection: &Selection, letter: &Letter) -> bool {
    selection.matches(letter.stage.as_deref(), &letter.codes, &letter.source, letter.received_at)
}

/// One redrive run.
struct Run<'a> {
    selection: &'a Selection,
    config: &'a Config,
    settings: &'a ValidationSettings,
    publisher: &'a publish::Publisher,
    topic: &'a str,
}

impl Run<'_> {
    /// Reads, judges, publishes and commits chunk after chunk; whether the end was reached.
    async fn chunks(&self, scan: &mut Scan, report: &mut Report) -> Result<bool, RedriveError> {
        let limit = self.selection.limit_for(Purpose::Redrive);
        let mut taken = 0;
        loop {
            let (mut chunk, mut letters, mut next) = (ChunkOutcome::default(), Vec::new(), HashMap::new());
            let mut ended = false;
            while letters.len() < CHUNK && taken < limit {
                let Some(letter) = scan.next().await? else {
                    ended = true;
                    break;
                };
                chunk.examined += 1;
                next.insert(letter.partition, letter.offset + 1);
                if selected(self.selection, &letter) {
                    taken += 1;
                    letters.push(letter);
                } else {
                    *chunk.skipped.entry("not_selected".into()).or_default() += 1;
                }
            }
            self.handle(&letters, &mut chunk).await?;
            // Progress moves only now that every record of the chunk was acknowledged (or refused
            // for good): committed before, a crash would lose the dead letters still in flight.
            scan.commit(&next).await?;
            report.add(chunk);
            if ended || taken >= limit {
                return Ok(ended);
            }
        }
    }

    /// Judges `letters` and publishes those valid now.
    async fn handle(&self, letters: &[Letter], chunk: &mut ChunkOutcome) -> Result<(), RedriveError> {
        let mut valid = Vec::new();
        for letter in letters {
            match judge::judge(letter, self.config, self.settings) {
                Verdict::Valid(records) => valid.push((letter, records)),
                Verdict::Invalid(reasons) => chunk.invalid.push(still_invalid(letter, reasons)),
                Verdict::Skip(why) => *chunk.skipped.entry(why.into()).or_default() += 1,
            }
        }
        let batch: Vec<(&Letter, &[pix_domain::Published])> = valid.iter().map(|(l, r)| (*l, r.as_slice())).collect();
        let outcomes = self.publisher.publish(self.topic, &batch).await;
        for ((letter, records), outcome) in valid.iter().zip(outcomes) {
            if let Some(Err(e)) = outcome.iter().find(|o| matches!(o, Err(DeliveryError::Unavailable(_)))) {
                return Err(RedriveError::Unavailable(e.to_string()));
            }
            if let Some(Err(e)) = outcome.iter().find(|o| o.is_err()) {
                let reason = crate::dead_letter::DlqReason {
                    code: e.reason_code().into(),
                    path: String::new(),
                    detail: e.to_string(),
                };
                chunk.invalid.push(still_invalid(letter, vec![reason]));
                continue;
            }
            let placed = records.iter().zip(outcome).filter_map(|(r, o)| {
                let p = o.ok()?;
                Some(Placed {
                    event_id: r.event_id().to_owned(),
                    topic: p.topic,
                    partition: p.partition,
                    offset: p.offset,
                })
            });
            chunk.moved.push(Moved { partition: letter.partition, offset: letter.offset, records: placed.collect() });
        }
        Ok(())
    }
}

fn still_invalid(letter: &Letter, reasons: Vec<crate::dead_letter::DlqReason>) -> StillInvalid {
    StillInvalid {
        partition: letter.partition,
        offset: letter.offset,
        stage: letter.stage.clone().unwrap_or_default(),
        reason: reasons.first().map_or("unknown", |r| r.code.as_str()).to_owned(),
        reasons,
    }
}
