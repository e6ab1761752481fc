//! Request handlers of the HTTP source.

use std::panic::AssertUnwindSafe;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::Utc;
use futures::{FutureExt, StreamExt};
use pix_domain::formats::{Format, Framing};
use serde_json::json;
use tokio::time::Instant;

use super::HandlerState;
use crate::dead_letter::DeadLetterRecord;
use crate::sources::decoding::decode_body;
use crate::sources::pipeline::{RecordStatus, Report, Submission, submit};
use crate::telemetry::propagation::{TraceParent, extract};
use tracing::Instrument;
use tracing_opentelemetry::OpenTelemetrySpanExt;

/// Seconds a client should wait before retrying after a 503.
const RETRY_AFTER_SECS: &str = "5";
/// Time kept back from the request deadline to build and send the answer.
const ANSWER_MARGIN: Duration = Duration::from_millis(250);

pub(crate) async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "ok"}))
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
    // A bug in our own code must answer 500, not drop the connection.
    let resp = match AssertUnwindSafe(handle(req, payload, state).instrument(span.clone())).catch_unwind().await {
        Ok(resp) => resp,
        Err(_) => {
            tracing::error!("Panic while handling POST /v1/events.");
            problem(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error; nothing was reported accepted")
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
    let route = "/v1/events";
    metrics.http_requests.with_label_values(&[&source, route, resp.status().as_str()]).inc();
    metrics.http_request_seconds.with_label_values(&[&source, route]).observe(started.elapsed().as_secs_f64());
    resp
}

async fn handle(req: HttpRequest, payload: web::Payload, state: web::Data<HandlerState>) -> HttpResponse {
    let received_at = Utc::now();
    let deadline = Instant::now() + state.config.request_timeout.saturating_sub(ANSWER_MARGIN);
    let (body, format, content_type) = match read(&req, payload, &state).await {
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
        decode_body(state.config.format, format, &body, &state.deps.validation, &source_id, received_at, None)
    });
    if let Ok(items) = &decoded {
        decode_span.record("pix.items", items.len());
    }
    drop(decode_span);
    let inputs = match decoded {
        Ok(items) => items,
        Err((stage, reasons)) => {
            let letter = DeadLetterRecord::new(stage, &source_id, body.to_vec(), content_type, reasons, received_at)
                .with_traceparent(trace.child().to_header())
                .with_client(super::client_of(&req));
            return undecodable(&state, letter, deadline).await;
        }
    };
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
    answer(report)
}

/// Everything before decoding: pause, media type, size, the body itself, its signature.
async fn read(
    req: &HttpRequest,
    payload: web::Payload,
    state: &HandlerState,
) -> Result<(web::Bytes, Framing, &'static str), Box<HttpResponse>> {
    if state.paused.load(std::sync::atomic::Ordering::SeqCst) {
        // Paused: take nothing in; the client keeps its data and retries.
        let mut resp = problem(StatusCode::SERVICE_UNAVAILABLE, "source.paused", "this source is paused; retry later");
        resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECS));
        return Err(Box::new(resp));
    }
    let max = state.config.max_body_bytes;
    let (format, content_type) = media_type(req, state.config.format)?;
    if req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok())
        .is_some_and(|n| n > max)
    {
        return Err(Box::new(too_large(max)));
    }
    let body = match read_limited(payload, max).await {
        Ok(b) => b,
        Err(ReadError::TooLarge) => return Err(Box::new(too_large(max))),
        Err(ReadError::Io(e)) => {
            let detail = format!("cannot read the body: {e}");
            return Err(Box::new(problem(StatusCode::BAD_REQUEST, "payload.unreadable", &detail)));
        }
    };
    let header_str = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    if let Some(hmac) = &state.config.hmac
        && !super::signature::verify(hmac, header_str(&hmac.header), &body)
    {
        tracing::warn!(source = %state.source_id, "Request without a valid HMAC signature refused.");
        let detail = format!("missing or invalid HMAC-SHA256 signature in header {}", hmac.header);
        return Err(Box::new(problem(StatusCode::UNAUTHORIZED, "auth.signature", &detail)));
    }
    Ok((body, format, content_type))
}

/// The envelope is unusable (not JSON/XML at all, DOCTYPE, unknown namespace, count mismatch...):
/// 400, and the whole body goes to the dead-letter topic unchanged.
async fn undecodable(state: &HandlerState, letter: DeadLetterRecord, deadline: Instant) -> HttpResponse {
    let (reasons, stage) = (letter.reasons.clone(), letter.stage);
    let out =
        state.deps.dead_letter.send(crate::dead_letter::DeadLetterBatch { records: vec![letter], deadline }).await;
    match out {
        Ok(mut o) if matches!(o.first(), Some(Ok(_))) => {
            let Some(Ok(p)) = o.pop() else { return unavailable_empty() };
            let code = reasons.first().map_or("unknown", |r| r.code.as_str());
            state.deps.metrics.dead_letters.with_label_values(&[stage.as_str(), code]).inc();
            HttpResponse::BadRequest().json(json!({
                "error": "the body cannot be decoded as a whole",
                "reasons": reasons,
                "dead_letter": p,
            }))
        }
        _ => unavailable_empty(),
    }
}

/// The status code that sums up a report.
fn answer(report: Report) -> HttpResponse {
    let status = if report.unavailable > 0 {
        StatusCode::SERVICE_UNAVAILABLE
    } else if report.rejected == 0 {
        StatusCode::OK
    } else if report.accepted == 0 {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::MULTI_STATUS
    };
    let mut resp = HttpResponse::build(status);
    if status == StatusCode::SERVICE_UNAVAILABLE {
        resp.insert_header((header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECS)));
        tracing::warn!(unavailable = report.unavailable, "Kafka did not acknowledge in time; answering 503.");
    }
    debug_assert!(
        report.results.iter().all(|r| r.status != RecordStatus::Unavailable)
            || status == StatusCode::SERVICE_UNAVAILABLE
    );
    resp.json(report)
}

fn unavailable_empty() -> HttpResponse {
    HttpResponse::ServiceUnavailable()
        .insert_header((header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER_SECS)))
        .json(json!({"error": "Kafka did not acknowledge the dead letter in time; nothing was written", "accepted": 0}))
}

/// The media type of the request among those the source's format accepts (the first when the
/// request names none); 415 otherwise.
fn media_type(req: &HttpRequest, format: Format) -> Result<(Framing, &'static str), Box<HttpResponse>> {
    let essence = req
        .headers()
        .get(header::CONTENT_TYPE)
        .map(|ct| ct.to_str().unwrap_or("?").split(';').next().unwrap_or("").trim().to_ascii_lowercase());
    let accepted = format.wire().media_types();
    let found = match essence.as_deref() {
        None | Some("") => accepted.first(),
        Some(e) => accepted.iter().find(|m| m.essence == e),
    };
    match found {
        Some(m) => Ok((m.framing, m.canonical)),
        None => {
            let mut names: Vec<&str> = accepted.iter().map(|m| m.canonical).collect();
            names.dedup();
            let detail = format!("expected {}", names.join(" or "));
            Err(Box::new(problem(StatusCode::UNSUPPORTED_MEDIA_TYPE, "payload.media_type", &detail)))
        }
    }
}

enum ReadError {
    TooLarge,
    Io(actix_web::error::PayloadError),
}

async fn read_limited(mut payload: web::Payload, max: usize) -> Result<web::Bytes, ReadError> {
    let mut buf = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(ReadError::Io)?;
        if buf.len() + chunk.len() > max {
            return Err(ReadError::TooLarge);
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

fn too_large(max: usize) -> HttpResponse {
    problem(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload.too_large",
        &format!("the body is over the limit of {max} bytes; split it into smaller requests"),
    )
}

fn problem(status: StatusCode, code: &str, detail: &str) -> HttpResponse {
    HttpResponse::build(status)
        .json(json!({"error": detail, "reasons": [{"code": code, "path": "", "detail": detail}]}))
}
