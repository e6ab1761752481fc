//! Everything before decoding a request: pause, the in-flight bound, the media type, the size
//! limit, the body itself (within `body_read_timeout`: a slow or truncated body gets 408 and its
//! connection closed), its signature and its item count (`max_items_per_request`). Each refusal is a problem answer and touches nothing
//! downstream (no record, no dead letter).

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use futures::StreamExt;
use pix_domain::formats::{Format, Framing};

use super::HandlerState;
use super::problem::{Problem, RETRY_AFTER_BUSY, RETRY_AFTER_UNAVAILABLE, with_reason};

/// A request body ready for decoding.
pub(super) struct Body {
    pub(super) bytes: web::Bytes,
    pub(super) framing: Framing,
    pub(super) content_type: &'static str,
}

/// Reads the body, or answers the problem that stops it.
pub(super) async fn read(
    req: &HttpRequest,
    payload: web::Payload,
    state: &HandlerState,
) -> Result<Body, Box<HttpResponse>> {
    if state.paused.load(std::sync::atomic::Ordering::SeqCst) {
        // Paused: take nothing in; the client keeps its data and retries.
        let p = Problem::new(StatusCode::SERVICE_UNAVAILABLE, "source.paused", "this source is paused; retry later");
        return Err(Box::new(p.with_reasons().retry_after(RETRY_AFTER_UNAVAILABLE).response()));
    }
    if state.in_flight.full() {
        return Err(Box::new(busy(state)));
    }
    let max = state.config.max_body_bytes;
    let (framing, content_type) = media_type(req, state.config.format)?;
    let declared = req.headers().get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok());
    let declared = declared.and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > max) {
        return Err(Box::new(too_large(max)));
    }
    let read_timeout = state.config.body_read_timeout.min(state.config.request_timeout);
    let bytes = match tokio::time::timeout(read_timeout, read_limited(payload, max, declared.unwrap_or(0))).await {
        Ok(Ok(b)) => b,
        Err(_elapsed) => return Err(Box::new(read_timed_out(state, read_timeout))),
        Ok(Err(ReadError::TooLarge)) => return Err(Box::new(too_large(max))),
        Ok(Err(ReadError::Io(e))) => {
            let detail = format!("cannot read the body: {e}");
            return Err(Box::new(with_reason(StatusCode::BAD_REQUEST, "payload.unreadable", &detail)));
        }
    };
    let header_str = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok());
    if let Some(hmac) = &state.config.hmac
        && !super::signature::verify(hmac, header_str(&hmac.header), &bytes)
    {
        tracing::warn!(source = %state.source_id, "Request without a valid HMAC signature refused.");
        let detail = format!("missing or invalid HMAC-SHA256 signature in header {}", hmac.header);
        return Err(Box::new(with_reason(StatusCode::UNAUTHORIZED, "auth.signature", &detail)));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        let detail = "the body is empty: send one event, an array of events or NDJSON lines";
        return Err(Box::new(with_reason(StatusCode::BAD_REQUEST, "payload.empty", detail)));
    }
    let most = state.config.max_items_per_request;
    if let Some(n) = super::limits::items_in(&bytes, framing)
        && n > most
    {
        return Err(Box::new(too_many_items(n, most)));
    }
    Ok(Body { bytes, framing, content_type })
}

/// 413: more items than `max_items_per_request` (nothing decoded, nothing written).
pub(super) fn too_many_items(n: usize, most: usize) -> HttpResponse {
    let detail = format!("the body holds {n} items, over the limit of {most} per request; split it");
    with_reason(StatusCode::PAYLOAD_TOO_LARGE, "payload.too_many_items", &detail)
}

/// 408 and the connection closed: the body did not arrive within `body_read_timeout`.
fn read_timed_out(state: &HandlerState, timeout: std::time::Duration) -> HttpResponse {
    tracing::warn!(source = %state.source_id, "Request body not received in time; answering 408.");
    let detail = format!(
        "the body did not arrive within {} (slow or truncated); nothing was written",
        humantime::format_duration(timeout)
    );
    let mut resp = with_reason(StatusCode::REQUEST_TIMEOUT, "payload.timeout", &detail);
    resp.head_mut().set_connection_type(actix_web::http::ConnectionType::Close);
    resp
}

/// 429: the source holds `max_in_flight_records` already.
pub(super) fn busy(state: &HandlerState) -> HttpResponse {
    state.deps.metrics.backpressure.with_label_values(&[&state.source_id, "in_flight"]).inc();
    let max = state.config.max_in_flight_records;
    let detail = format!("this source already holds {max} records in flight; nothing was written, retry later");
    Problem::new(StatusCode::TOO_MANY_REQUESTS, "backpressure.in_flight", &detail)
        .with_reasons()
        .retry_after(RETRY_AFTER_BUSY)
        .response()
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
            Err(Box::new(with_reason(StatusCode::UNSUPPORTED_MEDIA_TYPE, "payload.media_type", &detail)))
        }
    }
}

enum ReadError {
    TooLarge,
    Io(actix_web::error::PayloadError),
}

/// Reads the whole body, refusing it past `max`. With a declared length the buffer is taken at
/// that size once (pages are resident only as the bytes arrive), so it never grows by doubling.
async fn read_limited(mut payload: web::Payload, max: usize, declared: usize) -> Result<web::Bytes, ReadError> {
    let mut buf = web::BytesMut::with_capacity(declared.min(max));
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
    let detail = format!("the body is over the limit of {max} bytes; split it into smaller requests");
    with_reason(StatusCode::PAYLOAD_TOO_LARGE, "payload.too_large", &detail)
}
