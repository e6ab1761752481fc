//! Supervisor transitions: the pure `on_exit` table, and the actor with stub recipients standing
//! in for the router and the dead-letter actor (no Kafka involved).

use std::sync::Arc;
use std::time::Duration;

use actix::prelude::{Actor, Addr, Context, Handler, MessageResult};

use super::registry::{Child, Transition, on_exit};
use super::state::DesiredState;
use super::*;
use crate::dead_letter::DeadLetterBatch;
use crate::kafka::{DeliveryOutcome, Produced};
use crate::lifecycle::RestartDelay;
use crate::router::RouteBatch;
use crate::sinks::runner::SinkEnv;

fn policy(max_restarts: u32) -> SupervisionConfig {
    SupervisionConfig {
        backoff_initial: Duration::from_millis(10),
        backoff_max: Duration::from_millis(20),
        max_restarts,
        window: Duration::from_secs(60),
    }
}

fn source(yaml: &str) -> ChildConfig {
    ChildConfig::Source(serde_saphyr::from_str(yaml).unwrap())
}

fn exit(id: &str, generation: u64, error: Option<&str>, completed: bool) -> ChildExited {
    ChildExited { id: id.into(), generation, error: error.map(str::to_owned), completed }
}

#[test]
fn exits_map_to_transitions() {
    let mut c = Child::new(source("{id: g, type: generator}"), RestartDelay::new(&policy(2)));
    c.generation = 3;
    assert_eq!(on_exit(&mut c, &exit("g", 2, Some("old"), false)), Transition::Ignore, "an older incarnation");
    assert!(c.last_error.is_none(), "an old report changes nothing");
    assert_eq!(on_exit(&mut c, &exit("g", 3, None, true)), Transition::Completed);
    c.state = ChildState::Stopped;
    assert_eq!(on_exit(&mut c, &exit("g", 3, None, false)), Transition::Ignore, "stopped on purpose");
    c.state = ChildState::Running;
    assert!(matches!(on_exit(&mut c, &exit("g", 3, Some("boom"), false)), Transition::Restart(_)));
    assert_eq!(c.last_error.as_ref().map(|(e, _)| e.as_str()), Some("boom"));
    c.state = ChildState::Paused;
    assert!(matches!(on_exit(&mut c, &exit("g", 3, Some("boom"), false)), Transition::Restart(_)), "paused too");
    c.state = ChildState::Running;
    assert_eq!(on_exit(&mut c, &exit("g", 3, Some("boom"), false)), Transition::Failed, "third crash, budget 2");
    assert_eq!(c.restart.total(), 3);
}

/// Acknowledges everything, as a healthy router and dead-letter actor would.
struct Ack;

impl Actor for Ack {
    type Context = Context<Self>;
}

fn acked(n: usize) -> Vec<DeliveryOutcome> {
    (0..n).map(|i| Ok(Produced { topic: "t".into(), partition: 0, offset: i as i64 })).collect()
}

impl Handler<RouteBatch> for Ack {
    type Result = MessageResult<RouteBatch>;
    fn handle(&mut self, msg: RouteBatch, _: &mut Self::Context) -> Self::Result {
        MessageResult(acked(msg.events.len()))
    }
}

impl Handler<DeadLetterBatch> for Ack {
    type Result = MessageResult<DeadLetterBatch>;
    fn handle(&mut self, msg: DeadLetterBatch, _: &mut Self::Context) -> Self::Result {
        MessageResult(acked(msg.records.len()))
    }
}

fn supervisor(max_restarts: u32) -> Addr<Supervisor> {
    let ack = Ack.start();
    let kafka = serde_saphyr::from_str("{bootstrap_servers: embedded}").unwrap();
    Supervisor::new(SupervisorSpec {
        policy: policy(max_restarts),
        wiring: Wiring::Given { router: ack.clone().recipient(), dead_letter: ack.recipient() },
        validation: Arc::new(crate::sources::ValidationSettings {
            own_ispbs: vec!["99999010".parse().unwrap()],
            check_digits: Default::default(),
            unknown_fields: Default::default(),
        }),
        breaker: Arc::new(crate::kafka::Breaker::new(Arc::default())),
        acked: Arc::new(crate::sources::pipeline::AckIndex::new(Default::default(), None)),
        metrics: Arc::default(),
        sinks: SinkEnv { bootstrap: "127.0.0.1:1".into(), kafka: Arc::new(kafka), topics: Arc::default() },
        probe: None,
        desired: DesiredState::in_memory(),
    })
    .start()
}

async fn state_of(s: &Addr<Supervisor>, id: &str) -> Option<ChildInfo> {
    s.send(ListChildren).await.unwrap().into_iter().find(|c| c.id == id)
}

async fn wait_for(s: &Addr<Supervisor>, id: &str, state: ChildState) -> ChildInfo {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let info = state_of(s, id).await;
        if let Some(i) = info.as_ref().filter(|i| i.state == state) {
            return i.clone();
        }
        assert!(tokio::time::Instant::now() < deadline, "{id} never became {state:?}: {info:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn command(id: &str, op: Op) -> Command {
    Command { id: id.into(), op, grace: Duration::from_secs(5) }
}

#[actix_rt::test]
async fn a_child_that_finishes_is_stopped_and_not_restarted() {
    let s = supervisor(3);
    s.send(StartChild(source("{id: gen, type: generator, rate: 1000, batch: 5, total: 10}"))).await.unwrap().unwrap();
    let info = wait_for(&s, "gen", ChildState::Stopped).await;
    assert_eq!(info.restarts, 0);
    let again = s.send(StartChild(source("{id: gen, type: generator}"))).await.unwrap();
    assert_eq!(again.unwrap_err(), SupervisorError::AlreadyExists("gen".into()));
}

#[actix_rt::test]
async fn a_crashing_child_is_restarted_then_failed_then_brought_back_by_restart() {
    let dir = tempfile::tempdir().unwrap();
    let not_a_dir = dir.path().join("file");
    std::fs::write(&not_a_dir, b"x").unwrap();
    let yaml =
        format!("{{id: tail, type: file, path: '/nonexistent/*.log', checkpoint_dir: '{}'}}", not_a_dir.display());
    let s = supervisor(2);
    s.send(StartChild(source(&yaml))).await.unwrap().unwrap();
    let failed = wait_for(&s, "tail", ChildState::Failed).await;
    assert_eq!(failed.restarts, 3, "two restarts within the budget, the third crash fails it");
    assert!(failed.last_error.as_deref().unwrap_or("").contains("checkpoint"), "{failed:?}");
    // pause is refused in FAILED; restart starts a fresh incarnation with a fresh budget
    let refused = s.send(command("tail", Op::Pause)).await.unwrap();
    assert!(matches!(refused, Err(SupervisorError::InvalidState { .. })), "{refused:?}");
    let back = s.send(command("tail", Op::Restart)).await.unwrap().unwrap().unwrap();
    assert_eq!(back.state, ChildState::Running);
    wait_for(&s, "tail", ChildState::Failed).await;
}

#[actix_rt::test]
async fn pause_resume_and_delete_follow_the_state_machine() {
    let s = supervisor(3);
    s.send(StartChild(source("{id: gen, type: generator, rate: 10}"))).await.unwrap().unwrap();
    let resumed = s.send(command("gen", Op::Resume)).await.unwrap();
    assert!(matches!(resumed, Err(SupervisorError::InvalidState { .. })), "only a PAUSED actor resumes");
    let paused = s.send(command("gen", Op::Pause)).await.unwrap().unwrap().unwrap();
    assert_eq!(paused.state, ChildState::Paused);
    let running = s.send(command("gen", Op::Resume)).await.unwrap().unwrap().unwrap();
    assert_eq!(running.state, ChildState::Running);
    let other = source("{id: other, type: generator}");
    let changed = s.send(command("gen", Op::Replace { config: Box::new(other), body: String::new() })).await.unwrap();
    assert_eq!(changed.unwrap_err(), SupervisorError::IdentityChange("gen".into()));
    assert!(s.send(command("gen", Op::Delete)).await.unwrap().unwrap().is_none());
    assert!(state_of(&s, "gen").await.is_none());
    let gone = s.send(command("gen", Op::Pause)).await.unwrap().unwrap_err();
    assert_eq!(gone, SupervisorError::NotFound("gen".into()));
}
