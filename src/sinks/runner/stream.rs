//! The streaming path of the runner, for a writer whose records are independent deliveries (the
//! HTTP sink in `single` mode): each record is delivered as soon as it is consumed, up to the
//! writer's `concurrency` at once, each with its own retries, so a failing or hanging record costs
//! only its own time. Records of one Kafka key stay in offset order (a lane: the next starts when
//! the previous finished); records of different keys are independent. Offsets are committed per
//! partition only up to the lowest record not yet finished (delivered, or durably dead-lettered),
//! so a crash re-delivers every unfinished record (at-least-once). What is held is bounded: past
//! `max(concurrency, batch.max_events)` records the partitions are paused (the consumer keeps
//! polling, so the group does not drop it).

use std::collections::BTreeSet;
use std::rc::Rc;
use std::time::Duration;

use super::assignment::SinkConsumer;
use chrono::Utc;
use futures::StreamExt;
use futures::future::LocalBoxFuture;
use futures::stream::FuturesUnordered;
use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::message::{Message, OwnedMessage};
use rdkafka::{Offset, TopicPartitionList};
use tokio::time::Instant;
use tracing::Instrument;

use super::retry::Retrier;
use super::window::{CommitWindow, LaneKey, Lanes, Tp};
use super::{LagClock, SinkCtx, process};
use crate::dead_letter::{DeadLetterRecord, DlqReason, Origin, Stage};
use crate::lifecycle::task::{RunSignal, RunState, TaskEnd, is_stopping};
use crate::sinks::quarantine::{Mode, QUARANTINE_AFTER};
use crate::sinks::{OnPermanent, RecordSender, SinkError, SinkRecord, Verdict};

/// How long a stopping sink waits for its deliveries in flight before it commits and ends.
const DRAIN: Duration = Duration::from_secs(5);

/// One unit of work: a record to deliver, or a letter to publish (a record that is not an event,
/// or a quarantined one).
enum Job {
    Deliver(Box<SinkRecord>),
    Letter(Tp, i64, Box<DeadLetterRecord>),
}

/// How a job ended.
enum Outcome {
    /// Delivered, or its dead letter acknowledged: its offset may be committed.
    Finished,
    /// Stopping while it still failed: left unfinished, re-delivered later.
    Abandoned,
    /// A permanent refusal with `on_permanent: fail`.
    Fatal(String),
}

struct Done {
    tp: Tp,
    offset: i64,
    lane: Option<LaneKey>,
    outcome: Outcome,
}

struct Stream<'a> {
    ctx: &'a SinkCtx<'a>,
    sender: Rc<dyn RecordSender>,
    window: CommitWindow,
    lanes: Lanes<Job>,
    ready: std::collections::VecDeque<(Option<LaneKey>, Job)>,
    in_flight: FuturesUnordered<LocalBoxFuture<'a, Done>>,
    /// Records after a crash still to be delivered one at a time (so a next crash names one).
    isolate: usize,
    assigned: BTreeSet<Tp>,
    watch: super::assignment::AssignmentWatch,
    paused: bool,
    lag: LagClock,
    last_commit: Instant,
}

/// Runs the streaming path until the sink stops or fails.
pub(super) async fn run(
    ctx: &SinkCtx<'_>,
    sender: Rc<dyn RecordSender>,
    consumer: &SinkConsumer,
    stop: &mut RunSignal,
    batch: &crate::sinks::batch::BatchConfig,
) -> TaskEnd {
    let max_held = sender.concurrency().max(batch.max_events);
    let isolate = if ctx.deps.crashes.mode(ctx.id) == Mode::Isolate { batch.max_events } else { 0 };
    let tick = batch.max_age.clamp(Duration::from_millis(20), Duration::from_millis(500));
    let mut s = Stream {
        ctx,
        sender,
        window: CommitWindow::default(),
        lanes: Lanes::default(),
        ready: Default::default(),
        in_flight: FuturesUnordered::new(),
        isolate,
        assigned: BTreeSet::new(),
        watch: Default::default(),
        paused: false,
        lag: LagClock::default(),
        last_commit: Instant::now(),
    };
    loop {
        s.follow_assignment(consumer);
        let state = *stop.borrow_and_update();
        if state == RunState::Stopping {
            return s.drain(consumer).await;
        }
        s.throttle(consumer, state == RunState::Paused || s.held() >= max_held);
        s.start_ready();
        let mut messages = consumer.stream();
        tokio::select! {
            biased;
            _ = stop.changed() => {}
            Some(done) = s.in_flight.next(), if !s.in_flight.is_empty() => {
                if let Some(end) = s.finish(done, consumer) {
                    return end;
                }
            }
            next = tokio::time::timeout(tick, messages.next()) => match next {
                Ok(Some(Ok(m))) => s.admit(&m.detach()),
                Ok(Some(Err(error))) => {
                    if let Some(end) = super::fatal(&ctx.deps.kafka, &ctx.group, &error) {
                        return end;
                    }
                    tracing::warn!(sink = %ctx.id, %error, "Consumer error.");
                }
                Ok(None) | Err(_) => {}
            },
        }
        if s.last_commit.elapsed() >= batch.max_age {
            s.commit(consumer, CommitMode::Async);
        }
    }
}

impl<'a> Stream<'a> {
    /// Records held: in flight, ready to start, waiting behind their key.
    fn held(&self) -> usize {
        self.in_flight.len() + self.ready.len() + self.lanes.waiting()
    }

    fn follow_assignment(&mut self, consumer: &SinkConsumer) {
        let Some(a) = self.watch.changed(consumer) else { return };
        let now = super::assignment::partitions(&a);
        if now != self.assigned {
            self.window.retain(&now);
            self.assigned = now;
            if self.paused {
                // A newly assigned partition starts unpaused.
                let _ = consumer.pause(&a);
            }
        }
    }

    /// Pauses fetching while the sink is paused or holds enough, resumes otherwise.
    fn throttle(&mut self, consumer: &SinkConsumer, pause: bool) {
        if pause != self.paused
            && let Ok(a) = consumer.assignment()
        {
            let _ = if pause { consumer.pause(&a) } else { consumer.resume(&a) };
            self.paused = pause;
        }
    }

    /// A consumed message: decoded (or a letter), then started or queued behind its key.
    fn admit(&mut self, msg: &OwnedMessage) {
        let tp = (msg.topic().to_owned(), msg.partition());
        self.window.consumed(&tp.0, tp.1, msg.offset());
        let (mut records, mut letters) =
            super::decode::decode(self.ctx.id, self.ctx.accepts, std::slice::from_ref(msg));
        let job = match (records.pop(), letters.pop()) {
            (Some(r), _) => self.quarantined(r),
            (None, Some(l)) => Job::Letter(tp, msg.offset(), Box::new(l)),
            (None, None) => return,
        };
        let lane = match &job {
            Job::Deliver(r) => r.key.clone().map(|k| (r.topic.clone(), k)),
            Job::Letter(..) => None,
        };
        if let Some(job) = self.lanes.admit(lane.clone(), job) {
            self.ready.push_back((lane, job));
        }
    }

    /// A record that crashed the sink `QUARANTINE_AFTER` times becomes its dead letter.
    fn quarantined(&self, r: SinkRecord) -> Job {
        let (id, crashes) = (self.ctx.id, &self.ctx.deps.crashes);
        let coord = (r.topic.clone(), r.partition, r.offset);
        if !crashes.is_poison(id, &coord) {
            return Job::Deliver(Box::new(r));
        }
        tracing::error!(sink = %id, topic = %coord.0, partition = coord.1, offset = coord.2,
            "Record crashed the sink repeatedly; quarantined to the dead-letter topic.");
        crashes.forget(id, &coord);
        let detail = format!("the record crashed the sink {QUARANTINE_AFTER} times");
        let letter = letter_of(id, &r, "sink.quarantined", detail);
        Job::Letter((r.topic, r.partition), r.offset, Box::new(letter))
    }

    /// Starts ready jobs up to the writer's concurrency (one at a time after a crash).
    fn start_ready(&mut self) {
        let limit = if self.isolate > 0 { 1 } else { self.sender.concurrency() };
        while self.in_flight.len() < limit
            && let Some((lane, job)) = self.ready.pop_front()
        {
            let (ctx, sender) = (self.ctx, Rc::clone(&self.sender));
            if limit == 1
                && let Job::Deliver(r) = &job
            {
                // The crash log names the one record in flight; a clean finish clears it.
                ctx.deps.crashes.begin(ctx.id, vec![(r.topic.clone(), r.partition, r.offset)]);
            }
            self.in_flight.push(Box::pin(run_job(ctx, sender, lane, job)));
        }
    }

    /// A job ended: its offset is finished (or not), its lane's next record may start.
    fn finish(&mut self, done: Done, consumer: &SinkConsumer) -> Option<TaskEnd> {
        if self.isolate > 0 {
            self.ctx.deps.crashes.end(self.ctx.id);
            self.isolate -= 1;
        }
        match done.outcome {
            Outcome::Finished => self.window.finished(&done.tp.0, done.tp.1, done.offset),
            Outcome::Abandoned => {}
            Outcome::Fatal(e) => {
                self.commit(consumer, CommitMode::Sync);
                return Some(TaskEnd::Failed(format!("the destination refused a record: {e}")));
            }
        }
        if let Some(lane) = &done.lane
            && let Some(next) = self.lanes.done(lane)
        {
            self.ready.push_front((done.lane, next));
        }
        None
    }

    /// Commits each partition up to its lowest unfinished record.
    fn commit(&mut self, consumer: &SinkConsumer, mode: CommitMode) {
        self.last_commit = Instant::now();
        let due = self.window.due();
        if due.is_empty() {
            return;
        }
        let mut tpl = TopicPartitionList::new();
        for ((t, p), o) in &due {
            let _ = tpl.add_partition_offset(t, *p, Offset::Offset(*o));
        }
        match consumer.commit(&tpl, mode) {
            Ok(()) => self.window.committed(&due),
            // Revoked by a rebalance: the new owner re-delivers, the destination absorbs repeats.
            Err(error) => {
                tracing::warn!(sink = %self.ctx.id, %error, "Offset commit failed; records may be re-delivered.")
            }
        }
        self.lag.refresh(self.ctx, consumer, &due);
    }

    /// Stopping: nothing new starts; what is in flight gets `DRAIN` to finish; then the finished
    /// offsets are committed. The rest is re-delivered to the next owner.
    async fn drain(mut self, consumer: &SinkConsumer) -> TaskEnd {
        let deadline = Instant::now() + DRAIN;
        while !self.in_flight.is_empty() {
            match tokio::time::timeout_at(deadline, self.in_flight.next()).await {
                Ok(Some(done)) => {
                    if let Outcome::Finished = done.outcome {
                        self.window.finished(&done.tp.0, done.tp.1, done.offset);
                    }
                }
                Ok(None) | Err(_) => break,
            }
        }
        let left = self.window.unfinished();
        if left > 0 {
            tracing::info!(sink = %self.ctx.id, records = left, "Stopping with records unfinished; they will be re-delivered.");
        }
        self.commit(consumer, CommitMode::Sync);
        TaskEnd::Stopped
    }
}

/// Runs one job to its outcome.
async fn run_job(ctx: &SinkCtx<'_>, sender: Rc<dyn RecordSender>, lane: Option<LaneKey>, job: Job) -> Done {
    let (tp, offset, outcome) = match job {
        Job::Letter(tp, offset, letter) => (tp, offset, publish(ctx, *letter).await),
        Job::Deliver(r) => {
            let outcome = deliver(ctx, &*sender, &r).await;
            let r = *r;
            ((r.topic, r.partition), r.offset, outcome)
        }
    };
    Done { tp, offset, lane, outcome }
}

/// Delivers one record: the writer's own retries, then this loop's while the destination is
/// unreachable; a refused record is dead-lettered.
async fn deliver(ctx: &SinkCtx<'_>, sender: &dyn RecordSender, r: &SinkRecord) -> Outcome {
    let (id, m) = (ctx.id, &ctx.deps.metrics);
    let span = process::spans(ctx, std::slice::from_ref(r));
    let mut delays = super::retry::delays();
    let started = Instant::now();
    let verdict = loop {
        match sender.send(r).instrument(span.clone()).await {
            Ok(v) => break v,
            Err(SinkError::Permanent(e)) => match ctx.on_permanent {
                OnPermanent::Fail => return Outcome::Fatal(e),
                OnPermanent::DeadLetter => break Verdict::DeadLetter { code: "sink.refused", detail: e },
            },
            Err(SinkError::Transient(error)) => {
                m.sink_retries.with_label_values(&[id]).inc();
                m.health.failing(id, format!("write failed: {error}"));
                if is_stopping(ctx.stop) {
                    return Outcome::Abandoned;
                }
                let delay = delays.next().unwrap_or(Duration::from_secs(10));
                tracing::warn!(sink = %id, %error, ?delay, "Sink delivery failed; retrying the record.");
                tokio::time::sleep(delay).await;
            }
        }
    };
    m.sink_write_seconds.with_label_values(&[id]).observe(started.elapsed().as_secs_f64());
    match verdict {
        Verdict::Written => {
            // The destination took a record: a sink shown DEGRADED by failing deliveries is not.
            m.health.recovered(id);
            m.sink_written.with_label_values(&[id]).inc();
            let waited = Utc::now().signed_duration_since(r.ingested_at().as_utc());
            m.end_to_end_seconds
                .with_label_values(&[id])
                .observe(waited.num_microseconds().unwrap_or(0).max(0) as f64 / 1e6);
            Outcome::Finished
        }
        Verdict::DeadLetter { code, detail } => {
            m.sink_failed.with_label_values(&[id]).inc();
            publish(ctx, letter_of(id, r, code, detail)).await
        }
    }
}

/// Publishes one dead letter, retried until Kafka acknowledges it (or the sink stops).
async fn publish(ctx: &SinkCtx<'_>, letter: DeadLetterRecord) -> Outcome {
    let mut retrier = Retrier::new(ctx.id, &ctx.deps.metrics, ctx.stop);
    match process::publish_letters(ctx, vec![letter], &mut retrier).await {
        Ok(()) => Outcome::Finished,
        Err(_) => Outcome::Abandoned,
    }
}

fn letter_of(id: &str, r: &SinkRecord, code: &'static str, detail: String) -> DeadLetterRecord {
    let reason = DlqReason { code: code.into(), path: String::new(), detail };
    let mut l =
        DeadLetterRecord::new(Stage::SinkWrite, id, r.payload.clone(), "application/json", vec![reason], Utc::now());
    l.origin = Some(Origin { topic: r.topic.clone(), partition: r.partition, offset: r.offset });
    l.key.clone_from(&r.key);
    l.traceparent.clone_from(&r.traceparent);
    l
}
