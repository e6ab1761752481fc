//! The dead letters through the admin API: `GET /api/v1/dlq` (masked summaries of a selection)
//! and `POST /api/v1/dlq/redrive` (publish again what today's config accepts). Both need the
//! admin token (a browse shows which sources send what, even masked) and are written to the audit
//! log; both run against the running instance: its Kafka settings and topics, and its sources as
//! the supervisor holds them now (an admin-added source included). The work is `crate::redrive`'s.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use super::api::{audit, authorize};
use super::{AdminState, problem};
use crate::redrive::{self, Instance, RedriveError, Selection};
use crate::supervisor::{ChildConfig, Configs};

/// `GET /api/v1/dlq?reason=&stage=&source=&since=&until=&limit=`.
pub(super) async fn list(req: HttpRequest, state: web::Data<AdminState>) -> HttpResponse {
    if let Err(resp) = authorize(&req, &state) {
        audit(&req, "dlq_list", "", resp.status());
        return resp;
    }
    let resp = match web::Query::<Selection>::from_query(req.query_string()) {
        Ok(selection) => match redrive::list(&instance(&state).await, &selection).await {
            Ok(listing) => HttpResponse::Ok().json(listing),
            Err(e) => failed(e),
        },
        Err(e) => problem(StatusCode::BAD_REQUEST, "selection.invalid", e.to_string()).response(),
    };
    audit(&req, "dlq_list", "", resp.status());
    resp
}

/// `POST /api/v1/dlq/redrive` with the selection as a JSON object (`{}`: every dead letter).
pub(super) async fn redrive(req: HttpRequest, body: web::Bytes, state: web::Data<AdminState>) -> HttpResponse {
    if let Err(resp) = authorize(&req, &state) {
        audit(&req, "dlq_redrive", "", resp.status());
        return resp;
    }
    let resp = match serde_json::from_slice::<Selection>(&body) {
        Ok(selection) => {
            let peer = req.peer_addr().map(|a| a.to_string()).unwrap_or_default();
            let client = req.conn_data::<crate::tls::PeerIdentity>().map(|c| format!(" ({})", c.subject));
            let by = format!("admin:{peer}{}", client.unwrap_or_default());
            match redrive::redrive(&instance(&state).await, &selection, &by).await {
                Ok(report) => HttpResponse::Ok().json(report),
                Err(e) => failed(e),
            }
        }
        Err(e) => problem(StatusCode::BAD_REQUEST, "selection.invalid", e.to_string()).response(),
    };
    audit(&req, "dlq_redrive", "", resp.status());
    resp
}

/// The running instance: the config it started with, its sources as they are now.
async fn instance(state: &AdminState) -> Instance {
    let mut config = (*state.base).clone();
    if let Ok(current) = state.supervisor.send(Configs).await {
        config.sources = current
            .into_iter()
            .filter_map(|c| match c {
                ChildConfig::Source(s) => Some(s),
                ChildConfig::Sink(_) => None,
            })
            .collect();
    }
    Instance { config, bootstrap: state.bootstrap.clone() }
}

fn failed(e: RedriveError) -> HttpResponse {
    let (status, code) = match &e {
        RedriveError::Selection(_) => (StatusCode::BAD_REQUEST, "selection.invalid"),
        RedriveError::Config(_) => (StatusCode::CONFLICT, "dlq.config"),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "dlq.unavailable"),
    };
    problem(status, code, e.to_string()).response()
}
