//! Request handlers of the HTTP source: `POST` of events (read, decode, admit, submit, answer),
//! the health check and the OpenAPI document of the ingest API.

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use futures::FutureExt;
use serde_json::json;
use tokio::time::Instant;

use super::HandlerState;
use super::problem::{Problem, RETRY_AFTER_UNAVAILABLE};
use super::read::{Body, busy, read, too_many_items};
use crate::dead_letter::DeadLetterRecord;
use crate::kafka::Admission;
use crate::sources::decoding::decode_body;
use crate::sources::pipeline::{ItemInput, Report, Submission, submit};
use crate::telemetry::propagation::{TraceParent, extract};
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// Time kept back from the request deadline to build and send the answer.
const ANSWER_MARGIN: Duration = Duration::from_millis(250);

pub(crate) async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// This listener's readiness for a load balancer: 503 while the instance drains (SIGTERM), while
/// the source is paused, or while the producers know Kafka is unreachable; other actors' trouble
/// does not count.
pub(crate) async fn readyz(state: web::Data<HandlerState>) -> HttpResponse {
    let why = if state.deps.metrics.health.is_draining() {
        Some("shutting down")
    } else if state.paused.load(std::sync::atomic::Ordering::SeqCst) {
        Some("source paused")
    } else if state.deps.breaker.is_open() {
        Some("kafka unreachable")
    } else {
        None
    };
    match why {
        None => HttpResponse::Ok().json(json!({"status": "ready", "source": &*state.source_id})),
        Some(why) => HttpResponse::ServiceUnavailable()
            .json(json!({"status": "not ready", "source": &*state.source_id, "not_ready": [why]})),
    }
}

pub(crate) async fn openapi(state: web::Data<HandlerState>) -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(state.openapi.clone())
}

pub(crate) async fn post_events(
    req: HttpRequest,
    payload: web::Payload,
    state: web::Data<HandlerState>,
) -> HttpResponse {
    let started = std::time::Instant::now();
    let metrics = std::sync::Arc::clone(&state.deps.metrics);
    let source = state.source_id.clone();
    let client = super::client_of(&req);
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    // One server span per request, continuing the caller's trace when it sent a traceparent.
    let span = tracing::info_span!(
        "http.request",
        otel.name = %format!("POST {}", req.path()),
        otel.kind = "server",
        http.request.method = "POST",
        url.path = %req.path(),
        pix.source = %source,
        http.response.status_code = tracing::field::Empty,
    );
    let _ = span.set_parent(extract(header("traceparent"), header("tracestate")));
    let route = req.match_pattern().unwrap_or_else(|| "/v1/events".to_owned());
    // Every answer comes within `request_timeout`: the waits inside stop at the deadline
    // already; this guard only answers for a wait that forgot to.
    let timeout = state.config.request_timeout;
    let guarded = tokio::time::timeout(timeout, handle(req, payload, state).instrument(span.clone()));
    // A bug in our own code must answer 500, not drop the connection.
    let resp = match AssertUnwindSafe(guarded).catch_unwind().await {
        Ok(Ok(resp)) => resp,
        Ok(Err(_elapsed)) => {
            tracing::error!(source = %source, "No answer within the request deadline; answering 503.");
            past_deadline()
        }
        Err(_) => {
            tracing::error!("Panic while handling POST /v1/events.");
            let detail = "internal error; nothing was reported accepted";
            Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", detail).response()
        }
    };
    span.record("http.response.status_code", resp.status().as_u16());
    span.in_scope(|| {
        tracing::info!(
            source = %source,
            status = resp.status().as_u16(),
            tls.client.subject = client.as_ref().map(|c| c.subject.as_str()),
            tls.client.serial_number = client.as_ref().map(|c| c.serial.as_str()),
            "Request answered."
        )
    });
    metrics.http_requests.with_label_values(&[&*source, &route, resp.status().as_str()]).inc();
    metrics.http_request_seconds.with_label_values(&[&*source, &route]).observe(started.elapsed().as_secs_f64());
    resp
}

async fn handle(req: HttpRequest, payload: web::Payload, state: web::Data<HandlerState>) -> HttpResponse {
    let received_at = Utc::now();
    let deadline = Instant::now() + state.config.request_timeout.saturating_sub(ANSWER_MARGIN);
    let Body { bytes: body, framing, content_type } = match read(&req, payload, &state).await {
        Ok(read) => read,
        Err(resp) => return *resp,
    };
    let header_str = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    let trace = TraceParent::of_span_or(
        &tracing::Span::current(),
        TraceParent::continue_or_new(header_str("traceparent"), header_str("tracestate")),
    );
    let source_id = state.source_id.clone();

    let decode_span = tracing::info_span!(
        "pix.decode_validate",
        pix.format = ?state.config.format,
        pix.body_bytes = body.len(),
        pix.items = tracing::field::Empty,
    );
    let decoded = decode_span.in_scope(|| {
        decode_body(state.config.format, framing, &body, &state.deps.validation, &source_id, received_at, None)
    });
    if let Ok(items) = &decoded {
        decode_span.record("pix.items", items.len());
    }
    drop(decode_span);
    // While the producers know the cluster is unreachable, answer now: one probe at a time waits.
    let admission = state.deps.breaker.admit();
    if matches!(admission, Admission::Refuse) {
        return unreachable(&state, decoded.as_ref().ok().map(Vec::as_slice));
    }
    let inputs = match decoded {
        Ok(items) => items,
        Err((stage, reasons)) => {
            let letter = DeadLetterRecord::new(stage, &source_id, body.to_vec(), content_type, reasons, received_at)
                .with_traceparent(trace.child().to_header())
                .with_client(super::client_of(&req));
            return undecodable(&state, letter, deadline).await;
        }
    };
    if inputs.len() > state.config.max_items_per_request {
        // The envelopes whose items sit deeper than the top level are counted here.
        return too_many_items(inputs.len(), state.config.max_items_per_request);
    }
    let Some(_permit) = state.in_flight.try_take(inputs.len()) else { return busy(&state) };
    let report = submit(
        &state.deps,
        Submission {
            source_id,
            content_type: content_type.to_owned(),
            received_at,
            trace,
            items: inputs,
            deadline,
            client: super::client_of(&req),
        },
    )
    .await;
    drop(admission);
    answer(report)
}

/// 503 when the request deadline passed before the records' fate was known.
fn past_deadline() -> HttpResponse {
    let detail = "the request deadline passed before Kafka acknowledged the records; their fate is unknown \
                  (they may still be written): retry the request, a retry is deduplicated by event id";
    Problem::new(StatusCode::SERVICE_UNAVAILABLE, "kafka.unacknowledged", detail)
        .retry_after(RETRY_AFTER_UNAVAILABLE)
        .response()
}

/// 503 at once: the cluster is known to be unreachable; every record is unavailable, nothing
/// was written (not even a dead letter).
fn unreachable(state: &HandlerState, items: Option<&[ItemInput]>) -> HttpResponse {
    state.deps.metrics.backpressure.with_label_values(&[&state.source_id, "kafka_unavailable"]).inc();
    let detail = "Kafka is unreachable (every broker down or deliveries timing out); nothing was written, retry later";
    let mut p = Problem::new(StatusCode::SERVICE_UNAVAILABLE, "kafka.unavailable", detail);
    if let Some(items) = items {
        let report = Report::unavailable(items, "Kafka is unreachable; not attempted");
        p = p.with_all(&report);
    }
    p.retry_after(RETRY_AFTER_UNAVAILABLE).response()
}

/// The envelope is unusable (not JSON/XML at all, DOCTYPE, unknown namespace, count mismatch...):
/// 400, and the whole body goes to the dead-letter topic unchanged.
async fn undecodable(state: &HandlerState, letter: DeadLetterRecord, deadline: Instant) -> HttpResponse {
    let (reasons, stage) = (letter.reasons.clone(), letter.stage);
    let out =
        state.deps.dead_letter.send(crate::dead_letter::DeadLetterBatch { records: vec![letter], deadline }).await;
    let code = reasons.first().map_or("unknown", |r| r.code.as_str());
    match out {
        Ok(o) if matches!(o.first(), Some(Ok(_))) => {
            state.deps.metrics.dead_letters.with_label_values(&[stage.as_str(), code]).inc();
            let detail = "the body cannot be decoded as a whole; it was written to the dead-letter topic unchanged";
            Problem::new(StatusCode::BAD_REQUEST, code, detail)
                .with("reasons", json!(reasons))
                .with("dead_letter", json!(o.first().and_then(|p| p.as_ref().ok())))
                .response()
        }
        _ => {
            tracing::warn!(reason = code, "Kafka did not acknowledge the dead letter of an undecodable body in time.");
            let detail = "the body cannot be decoded, and Kafka did not acknowledge its dead letter in time; \
                          retry later";
            Problem::new(StatusCode::SERVICE_UNAVAILABLE, "kafka.unacknowledged", detail)
                .with("reasons", json!(reasons))
                .with("accepted", json!(0))
                .retry_after(RETRY_AFTER_UNAVAILABLE)
                .response()
        }
    }
}

/// The answer that sums up a report: 200 and 207 are the report itself, 422 and 503 a problem
/// carrying the same counts and per-record results.
fn answer(report: Report) -> HttpResponse {
    if report.unavailable > 0 {
        tracing::warn!(unavailable = report.unavailable, "Kafka did not acknowledge in time; answering 503.");
        let detail = "Kafka did not acknowledge every record in time: the records marked `unavailable` were \
                      not written; retry the request (the others answer `duplicate` then)";
        return Problem::new(StatusCode::SERVICE_UNAVAILABLE, "kafka.unacknowledged", detail)
            .with_all(&report)
            .retry_after(RETRY_AFTER_UNAVAILABLE)
            .response();
    }
    if report.rejected > 0 && report.accepted == 0 && report.duplicate == 0 {
        let detail = "every record was rejected; each one is in the dead-letter topic with its reasons";
        return Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "records.rejected", detail).with_all(&report).response();
    }
    let status = if report.rejected == 0 { StatusCode::OK } else { StatusCode::MULTI_STATUS };
    HttpResponse::build(status).json(report)
}
