//! The mutating half of the admin API: add sources and sinks, replace a config, pause, resume,
//! restart and delete actors, reload the config file. Every call needs `Authorization: Bearer <admin.token>` (compared in
//! constant time; with no token configured every mutation is refused), is validated by the same
//! code as the config file, and is written to the audit log (what, when, from where; never a
//! secret). The supervisor carries it out and persists it in the desired-state file.

use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;
use subtle::ConstantTimeEq;

use super::{AdminState, problem};
use crate::config;
use crate::sinks::SinkConfig;
use crate::sources::SourceConfig;
use crate::supervisor::{AddChild, ChildConfig, Command, Configs, Op, SupervisorError};

/// Time allowed to a graceful stop requested through the API.
const GRACE: Duration = Duration::from_secs(30);

fn error(status: StatusCode, code: &str, detail: impl AsRef<str>) -> HttpResponse {
    problem(status, code, detail).response()
}

pub(super) fn audit(req: &HttpRequest, action: &str, id: &str, status: StatusCode) {
    let peer = req.peer_addr().map(|a| a.to_string()).unwrap_or_default();
    let client = req.conn_data::<crate::tls::PeerIdentity>();
    tracing::info!(
        target: "pix_ingest::audit",
        action,
        actor = %id,
        peer = %peer,
        status = status.as_u16(),
        tls.client.subject = client.map(|c| c.subject.as_str()),
        tls.client.serial_number = client.map(|c| c.serial.as_str()),
        "Admin mutation."
    );
}

/// The credentials of an `Authorization: Bearer <token>` header; the scheme name is
/// case-insensitive (RFC 9110, section 11.1).
fn bearer(value: &str) -> Option<&str> {
    let (scheme, rest) = value.trim_start().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
}

/// `Ok` when the request carries the configured bearer token; `Err` is the finished 401.
#[allow(clippy::result_large_err)]
pub(super) fn authorize(req: &HttpRequest, state: &AdminState) -> Result<(), HttpResponse> {
    let Some(token) = state.token.as_ref().filter(|t| !t.is_empty()) else {
        let detail = "admin mutations are disabled: no admin.token is configured";
        return Err(error(StatusCode::UNAUTHORIZED, "auth.disabled", detail));
    };
    let given = req.headers().get("authorization").and_then(|v| v.to_str().ok()).and_then(bearer).unwrap_or("");
    if bool::from(given.as_bytes().ct_eq(token.expose().as_bytes())) {
        Ok(())
    } else {
        let mut resp = error(StatusCode::UNAUTHORIZED, "auth.token", "missing or wrong bearer token");
        resp.headers_mut().insert(
            actix_web::http::header::WWW_AUTHENTICATE,
            actix_web::http::header::HeaderValue::from_static("Bearer"),
        );
        Err(resp)
    }
}

/// Validates a new or replacing entry the way the config file is validated: parse with field
/// paths, then the cross-field checks on the whole set (duplicate ids, listen addresses...).
#[allow(clippy::result_large_err)]
async fn validated(
    state: &AdminState,
    kind: &str,
    body: &str,
    replacing: Option<&str>,
) -> Result<ChildConfig, HttpResponse> {
    let bad = |errors: Vec<serde_json::Value>| {
        problem(StatusCode::BAD_REQUEST, "config.invalid", "the entry does not validate; see `errors`")
            .with("errors", json!(errors))
            .response()
    };
    let vars = &*state.vars;
    // Only the variables of `admin.allowed_env`: named, never their value.
    let allowed = &state.base.admin.allowed_env;
    let refused: Vec<serde_json::Value> = crate::base::vars::references(body)
        .into_iter()
        .filter(|(name, _)| !allowed.contains(name))
        .map(|(name, line)| {
            json!({"field": "", "line": line, "variable": name, "message": format!(
                "environment variable {name} is not in admin.allowed_env: an entry sent to the admin API may only \
                 reference the variables listed there")})
        })
        .collect();
    if !refused.is_empty() {
        return Err(bad(refused));
    }
    // No literal secret may reach the state file: every secret field must be a `${VAR}`.
    let parsed = match kind {
        "source" => config::parse_entry::<SourceConfig>("request body", body, vars)
            .and_then(|s| config::require_references("request body", body, &s, vars).map(|()| ChildConfig::Source(s))),
        _ => config::parse_entry::<SinkConfig>("request body", body, vars)
            .and_then(|s| config::require_references("request body", body, &s, vars).map(|()| ChildConfig::Sink(s))),
    };
    let child = parsed.map_err(|e| {
        bad(e.0.into_iter().map(|e| json!({"field": e.field, "line": e.line, "message": e.message})).collect())
    })?;
    // The candidate set: the running actors (minus the one replaced) plus this one, last.
    let mut candidate = (*state.base).clone();
    candidate.sources.clear();
    candidate.sinks.clear();
    let current = state.supervisor.send(Configs).await.unwrap_or_default();
    if replacing.is_none() && current.iter().any(|c| c.id() == child.id()) {
        let detail = format!("an actor with id `{}` already exists", child.id());
        return Err(error(StatusCode::CONFLICT, "actor.exists", detail));
    }
    for c in current.into_iter().filter(|c| Some(c.id()) != replacing).chain(std::iter::once(child.clone())) {
        match c {
            ChildConfig::Source(s) => candidate.sources.push(s),
            ChildConfig::Sink(s) => candidate.sinks.push(s),
        }
    }
    let (prefix, index) = match &child {
        ChildConfig::Source(_) => ("sources", candidate.sources.len().saturating_sub(1)),
        ChildConfig::Sink(_) => ("sinks", candidate.sinks.len().saturating_sub(1)),
    };
    let own = format!("{prefix}[{index}]");
    let problems: Vec<serde_json::Value> = config::check(&candidate)
        .into_iter()
        .filter(|(field, _)| field.starts_with(&own))
        .map(|(field, message)| json!({"field": field.trim_start_matches(&own).trim_start_matches('.'), "message": message}))
        .collect();
    if problems.is_empty() { Ok(child) } else { Err(bad(problems)) }
}

/// The HTTP answer of a supervisor error.
fn refused(e: SupervisorError) -> HttpResponse {
    let (status, code) = match e {
        SupervisorError::NotFound(_) => (StatusCode::NOT_FOUND, "actor.not_found"),
        SupervisorError::AlreadyExists(_) => (StatusCode::CONFLICT, "actor.exists"),
        SupervisorError::InvalidState { .. } => (StatusCode::CONFLICT, "actor.state"),
        SupervisorError::IdentityChange(_) => (StatusCode::BAD_REQUEST, "actor.identity"),
        // The request was valid; the actor could not start where it runs (port taken, files).
        SupervisorError::StartFailed { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "actor.start_failed"),
    };
    error(status, code, e.to_string())
}

async fn add(req: HttpRequest, body: web::Bytes, state: web::Data<AdminState>, kind: &'static str) -> HttpResponse {
    let action = format!("add_{kind}");
    if let Err(resp) = authorize(&req, &state) {
        audit(&req, &action, "", resp.status());
        return resp;
    }
    let text = String::from_utf8_lossy(&body).into_owned();
    let child = match validated(&state, kind, &text, None).await {
        Ok(c) => c,
        Err(resp) => {
            audit(&req, &action, "", resp.status());
            return resp;
        }
    };
    let id = child.id().to_owned();
    let resp = match state.supervisor.send(AddChild { config: child, body: text }).await {
        Ok(Ok(info)) => HttpResponse::Created().json(info),
        Ok(Err(e)) => refused(e),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, "supervisor.unavailable", e.to_string()),
    };
    audit(&req, &action, &id, resp.status());
    resp
}

pub(super) async fn add_source(req: HttpRequest, body: web::Bytes, state: web::Data<AdminState>) -> HttpResponse {
    add(req, body, state, "source").await
}

pub(super) async fn add_sink(req: HttpRequest, body: web::Bytes, state: web::Data<AdminState>) -> HttpResponse {
    add(req, body, state, "sink").await
}

pub(super) async fn replace_config(
    req: HttpRequest,
    id: web::Path<String>,
    body: web::Bytes,
    state: web::Data<AdminState>,
) -> HttpResponse {
    if let Err(resp) = authorize(&req, &state) {
        audit(&req, "replace_config", &id, resp.status());
        return resp;
    }
    let kind = match state.supervisor.send(Configs).await.unwrap_or_default().iter().find(|c| c.id() == *id) {
        Some(c) => c.kind(),
        None => return error(StatusCode::NOT_FOUND, "actor.not_found", format!("no actor with id `{id}`")),
    };
    let text = String::from_utf8_lossy(&body).into_owned();
    let resp = match validated(&state, kind, &text, Some(&id)).await {
        Ok(config) => run(&state, &id, Op::Replace { config: Box::new(config), body: text }).await,
        Err(resp) => resp,
    };
    audit(&req, "replace_config", &id, resp.status());
    resp
}

async fn run(state: &AdminState, id: &str, op: Op) -> HttpResponse {
    match state.supervisor.send(Command { id: id.to_owned(), op, grace: GRACE }).await {
        Ok(Ok(Some(info))) => HttpResponse::Ok().json(info),
        Ok(Ok(None)) => HttpResponse::NoContent().finish(),
        Ok(Err(e)) => refused(e),
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, "supervisor.unavailable", e.to_string()),
    }
}

pub(super) async fn lifecycle(
    req: HttpRequest,
    path: web::Path<(String, String)>,
    state: web::Data<AdminState>,
) -> HttpResponse {
    let (id, action) = path.into_inner();
    if let Err(resp) = authorize(&req, &state) {
        audit(&req, &action, &id, resp.status());
        return resp;
    }
    let op = match action.as_str() {
        "pause" => Op::Pause,
        "resume" => Op::Resume,
        "restart" => Op::Restart,
        _ => {
            let detail = format!("unknown action `{action}`: pause, resume or restart");
            return error(StatusCode::NOT_FOUND, "action.unknown", detail);
        }
    };
    let resp = run(&state, &id, op).await;
    audit(&req, &action, &id, resp.status());
    resp
}

pub(super) async fn delete(req: HttpRequest, id: web::Path<String>, state: web::Data<AdminState>) -> HttpResponse {
    if let Err(resp) = authorize(&req, &state) {
        audit(&req, "delete", &id, resp.status());
        return resp;
    }
    let resp = run(&state, &id, Op::Delete).await;
    audit(&req, "delete", &id, resp.status());
    resp
}

/// `POST /api/v1/reload`: the config file read again; 200 with what changed, 400 with the
/// file's errors (nothing changed), 409 when the instance has no file.
pub(super) async fn reload(req: HttpRequest, state: web::Data<AdminState>) -> HttpResponse {
    if let Err(resp) = authorize(&req, &state) {
        audit(&req, "reload", "", resp.status());
        return resp;
    }
    use crate::supervisor::reload::ReloadError;
    let resp = match state.reloader.reload().await {
        Ok(report) => HttpResponse::Ok().json(report),
        Err(ReloadError::NoFile) => error(StatusCode::CONFLICT, "reload.no_file", ReloadError::NoFile.to_string()),
        Err(ReloadError::Invalid(e)) => {
            let errors: Vec<_> =
                e.0.iter().map(|e| json!({"field": e.field, "line": e.line, "message": e.message})).collect();
            problem(StatusCode::BAD_REQUEST, "config.invalid", "the config file is refused; the running config stays")
                .with("errors", json!(errors))
                .response()
        }
        Err(e) => error(StatusCode::SERVICE_UNAVAILABLE, "supervisor.unavailable", e.to_string()),
    };
    audit(&req, "reload", "", resp.status());
    resp
}

#[cfg(test)]
mod tests {
    #[test]
    fn bearer_scheme_is_case_insensitive() {
        assert_eq!(super::bearer("Bearer abc"), Some("abc"));
        assert_eq!(super::bearer("bearer abc"), Some("abc"));
        assert_eq!(super::bearer("BEARER  abc "), Some("abc"));
        assert_eq!(super::bearer("Basic abc"), None);
        assert_eq!(super::bearer("Bearerabc"), None);
    }
}
