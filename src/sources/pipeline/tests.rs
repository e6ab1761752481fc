//! `submit`'s report, with stub recipients standing in for the router and the dead-letter actor.

use std::sync::{Arc, Mutex};

use actix::prelude::*;
use chrono::Utc;
use rdkafka::types::RDKafkaErrorCode;

use super::*;
use crate::dead_letter::DeadLetterBatch;
use crate::sources::decoding::decode_line;
use crate::sources::{SourceDeps, ValidationSettings};
use crate::synth::Synth;

/// Answers each routed event with the next scripted outcome (Ok when the script is exhausted).
struct StubRouter {
    script: Vec<DeliveryOutcome>,
    seen: Arc<Mutex<usize>>,
}

impl Actor for StubRouter {
    type Context = Context<Self>;
}

impl Handler<RouteBatch> for StubRouter {
    type Result = MessageResult<RouteBatch>;
    fn handle(&mut self, msg: RouteBatch, _: &mut Self::Context) -> Self::Result {
        let mut out = Vec::new();
        for (i, e) in msg.events.iter().enumerate() {
            let mut seen = self.seen.lock().unwrap();
            *seen += 1;
            let scripted = if self.script.is_empty() { None } else { Some(self.script.remove(0)) };
            out.push(scripted.unwrap_or_else(|| {
                Ok(Produced { topic: e.event.category().as_str().into(), partition: 0, offset: i as i64 })
            }));
        }
        MessageResult(out)
    }
}

/// Acknowledges every dead letter (or none) and keeps them.
struct StubDlq {
    available: bool,
    kept: Arc<Mutex<Vec<DeadLetterRecord>>>,
}

impl Actor for StubDlq {
    type Context = Context<Self>;
}

impl Handler<DeadLetterBatch> for StubDlq {
    type Result = MessageResult<DeadLetterBatch>;
    fn handle(&mut self, msg: DeadLetterBatch, _: &mut Self::Context) -> Self::Result {
        let out = msg
            .records
            .iter()
            .enumerate()
            .map(|(i, _)| {
                if self.available {
                    Ok(Produced { topic: "dlq".into(), partition: 0, offset: i as i64 })
                } else {
                    Err(DeliveryError::Unavailable("stub".into()))
                }
            })
            .collect();
        self.kept.lock().unwrap().extend(msg.records);
        MessageResult(out)
    }
}

struct Harness {
    deps: SourceDeps,
    letters: Arc<Mutex<Vec<DeadLetterRecord>>>,
}

fn harness(script: Vec<DeliveryOutcome>, dlq_available: bool) -> Harness {
    let letters = Arc::new(Mutex::new(Vec::new()));
    let router = StubRouter { script, seen: Arc::default() }.start();
    let dlq = StubDlq { available: dlq_available, kept: Arc::clone(&letters) }.start();
    let validation = ValidationSettings {
        own_ispbs: vec!["99999010".parse().unwrap()],
        check_digits: Default::default(),
        unknown_fields: Default::default(),
    };
    let deps = SourceDeps {
        router: router.recipient(),
        dead_letter: dlq.recipient(),
        validation: Arc::new(validation),
        metrics: Arc::default(),
        breaker: Arc::new(crate::kafka::Breaker::new(Arc::default())),
        acked: Arc::new(AckIndex::new(Default::default(), None)),
    };
    Harness { deps, letters }
}

/// Item `index`: a valid synthetic event, or a line that is not JSON.
fn item(deps: &SourceDeps, index: usize, valid: bool) -> ItemInput {
    let bytes = if valid { Synth::new(index as u64, "99999010", 0.0).next_event().0 } else { b"not json".to_vec() };
    let mut items = decode_line(Format::Canonical, index, &bytes, &deps.validation, "api", Utc::now());
    items.remove(0)
}

fn submission(items: Vec<ItemInput>) -> Submission {
    Submission {
        source_id: Arc::from("api"),
        content_type: "application/json".into(),
        received_at: Utc::now(),
        trace: TraceParent::continue_or_new(None, None),
        items,
        deadline: Instant::now() + std::time::Duration::from_secs(5),
        client: None,
    }
}

use pix_domain::formats::Format;

#[actix_rt::test]
async fn every_item_gets_the_status_kafka_gave_it_in_input_order() {
    let refused = Err(DeliveryError::Refused { code: RDKafkaErrorCode::MessageSizeTooLarge });
    let unavailable = Err(DeliveryError::Unavailable("broker down".into()));
    let first = Ok(Produced { topic: "pix.pagamentos".into(), partition: 2, offset: 41 });
    let h = harness(vec![first, refused, unavailable], true);
    let items = vec![item(&h.deps, 3, true), item(&h.deps, 0, false), item(&h.deps, 1, true), item(&h.deps, 2, true)];
    let report = submit(&h.deps, submission(items)).await;

    let statuses: Vec<(usize, RecordStatus)> = report.results.iter().map(|r| (r.index, r.status)).collect();
    assert_eq!(
        statuses,
        vec![
            (0, RecordStatus::Rejected),
            (1, RecordStatus::Rejected),
            (2, RecordStatus::Unavailable),
            (3, RecordStatus::Accepted)
        ]
    );
    assert_eq!((report.accepted, report.rejected, report.unavailable), (1, 2, 1));
    let accepted = &report.results[3];
    assert_eq!((accepted.partition, accepted.offset), (Some(2), Some(41)));
    assert!(accepted.event_id.is_some() && accepted.category.is_some());
    assert_eq!(report.results[0].stage, Some(Stage::Decode));
    assert_eq!(report.results[1].stage, Some(Stage::Produce), "Kafka refused it for good");
    assert_eq!(report.results[1].reasons[0].code, "produce.too_large");
    assert_eq!(report.results[1].topic.as_deref(), Some("dlq"), "rejected means its dead letter is durable");
    assert!(report.results[2].error.as_deref().unwrap_or("").contains("broker down"));

    let letters = h.letters.lock().unwrap();
    assert_eq!(letters.len(), 2);
    assert_eq!(letters[0].payload, b"not json", "the original bytes");
    assert_eq!(letters.iter().map(|l| l.stage).collect::<Vec<_>>(), vec![Stage::Decode, Stage::Produce]);
}

#[actix_rt::test]
async fn a_rejection_whose_dead_letter_is_not_acknowledged_is_unavailable() {
    let h = harness(Vec::new(), false);
    let report = submit(&h.deps, submission(vec![item(&h.deps, 0, false), item(&h.deps, 1, true)])).await;
    assert_eq!(report.results[0].status, RecordStatus::Unavailable, "not durable, so not `rejected`");
    assert_eq!(report.results[1].status, RecordStatus::Accepted);
    assert_eq!((report.accepted, report.rejected, report.unavailable), (1, 0, 1));
}
