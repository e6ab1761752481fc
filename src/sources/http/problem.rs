//! The one error shape of the ingest API: every non-2xx answer is `application/problem+json`
//! (RFC 9457) with `type`, `title`, `status`, `detail` and our stable `code`, plus extension
//! members where they apply (`reasons` of an unusable body, the per-record counts and `results` of
//! a report). `type` is `urn:pix-ingest:problem:<code>`: stable, not meant to be fetched; the
//! README and the OpenAPI document list every code.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse};
use serde_json::{Map, Value, json};

/// The media type of every error answer.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// Seconds a client should wait before retrying after a 503.
pub const RETRY_AFTER_UNAVAILABLE: &str = "5";
/// Seconds a client should wait before retrying after a 429.
pub const RETRY_AFTER_BUSY: &str = "1";

/// One problem answer being built.
pub struct Problem {
    status: StatusCode,
    body: Map<String, Value>,
    retry_after: Option<&'static str>,
    allow: Option<&'static str>,
    /// Members appended as they were serialised (a report: written once, no JSON tree of it).
    members: Option<String>,
}

impl Problem {
    /// A problem with its status, stable code and a human explanation (never a payload value).
    pub fn new(status: StatusCode, code: &str, detail: &str) -> Self {
        let mut body = Map::new();
        body.insert("type".into(), json!(format!("urn:pix-ingest:problem:{code}")));
        body.insert("title".into(), json!(status.canonical_reason().unwrap_or("Error")));
        body.insert("status".into(), json!(status.as_u16()));
        body.insert("detail".into(), json!(detail));
        body.insert("code".into(), json!(code));
        Self { status, body, retry_after: None, allow: None, members: None }
    }

    /// Adds an extension member.
    pub fn with(mut self, name: &str, value: Value) -> Self {
        self.body.insert(name.to_owned(), value);
        self
    }

    /// Adds every member of `object` (a report), which must serialise as a JSON object whose
    /// member names are not the problem's own. Serialised straight to text: a report of 10,000
    /// records never becomes a JSON tree in memory.
    pub fn with_all(mut self, object: &impl serde::Serialize) -> Self {
        self.members = serde_json::to_string(object).ok().filter(|m| m.len() > 2 && m.starts_with('{'));
        self
    }

    /// Adds the one-entry `reasons` list (code, empty path, detail) every refused body carries.
    pub fn with_reasons(self) -> Self {
        let reason = json!([{"code": self.body["code"], "path": "", "detail": self.body["detail"]}]);
        self.with("reasons", reason)
    }

    /// Sets `Retry-After` (seconds).
    pub fn retry_after(mut self, seconds: &'static str) -> Self {
        self.retry_after = Some(seconds);
        self
    }

    /// Sets `Allow` (a 405).
    pub fn allow(mut self, methods: &'static str) -> Self {
        self.allow = Some(methods);
        self
    }

    /// The answer.
    pub fn response(self) -> HttpResponse {
        let mut resp = HttpResponse::build(self.status);
        resp.content_type(PROBLEM_JSON);
        if let Some(s) = self.retry_after {
            resp.insert_header((header::RETRY_AFTER, HeaderValue::from_static(s)));
        }
        if let Some(m) = self.allow {
            resp.insert_header((header::ALLOW, HeaderValue::from_static(m)));
        }
        let mut text = Value::Object(self.body).to_string();
        if let Some(members) = self.members {
            text.pop(); // the closing brace
            text.push(',');
            text.push_str(&members[1..]);
        }
        resp.body(text)
    }
}

/// A problem with the usual single `reasons` entry (the shape of a refused body since v1).
pub fn with_reason(status: StatusCode, code: &str, detail: &str) -> HttpResponse {
    Problem::new(status, code, detail).with_reasons().response()
}

/// 404 for a path the ingest API does not have.
pub async fn not_found(req: HttpRequest) -> HttpResponse {
    let detail = format!("no route {}; see GET /v1/openapi.json", req.path());
    Problem::new(StatusCode::NOT_FOUND, "route.not_found", &detail).response()
}

/// 405 for a route that exists under other methods (`Allow` names them).
pub fn method_not_allowed(
    allow: &'static str,
) -> impl Fn(HttpRequest) -> std::future::Ready<HttpResponse> + Clone + 'static {
    move |req: HttpRequest| {
        let detail = format!("{} does not take {}; use {allow}", req.path(), req.method());
        std::future::ready(
            Problem::new(StatusCode::METHOD_NOT_ALLOWED, "method.not_allowed", &detail).allow(allow).response(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_has_the_rfc_9457_members_and_our_code() {
        let resp = Problem::new(StatusCode::TOO_MANY_REQUESTS, "backpressure.in_flight", "busy")
            .with("max_in_flight_records", json!(10))
            .retry_after(RETRY_AFTER_BUSY)
            .response();
        assert_eq!(resp.status(), 429);
        assert_eq!(resp.headers().get(header::CONTENT_TYPE).unwrap(), PROBLEM_JSON);
        assert_eq!(resp.headers().get(header::RETRY_AFTER).unwrap(), "1");
    }

    #[actix_rt::test]
    async fn the_members_of_a_report_are_appended_to_the_problem() {
        let report = json!({"accepted": 0, "results": [{"index": 0, "status": "unavailable"}]});
        let resp =
            Problem::new(StatusCode::SERVICE_UNAVAILABLE, "kafka.unacknowledged", "later").with_all(&report).response();
        let body = actix_web::body::to_bytes(resp.into_body()).await.unwrap();
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!((v["code"].as_str(), v["status"].as_u64()), (Some("kafka.unacknowledged"), Some(503)));
        assert_eq!(v["results"][0]["status"], "unavailable");
        assert_eq!(v["accepted"], 0);
    }
}
