//! The admin listener (actix-web, its own port, 127.0.0.1 by default): liveness, readiness,
//! Prometheus metrics, the registry of supervised actors, and (in `api`) the mutating calls behind
//! the bearer token. It talks only to the Supervisor (readiness, the registry and every change
//! are supervisor messages) and, for the dead letters (`dlq`), to `crate::redrive`; it reads no
//! environment: the variables a submitted entry may use come from the `VarSource` the app hands
//! it. Every error is a problem document (RFC 9457, the ingest API's shape and codes), a method
//! a route does not take is a 405 with `Allow`. The OpenAPI document is `openapi.json`.

pub mod api;
mod dlq;

use std::net::SocketAddr;
use std::sync::Arc;

use actix::Addr;
use actix_web::dev::ServerHandle;
use actix_web::http::StatusCode;
use actix_web::{App, HttpRequest, HttpResponse, HttpServer, Route, web};
use serde_json::json;

use crate::base::vars::VarSource;
use crate::sources::http::problem::{Problem, method_not_allowed};
use crate::supervisor::reload::Reloader;
use crate::supervisor::{CheckReadiness, ListChildren, Supervisor};
use crate::telemetry::metrics::Metrics;

/// What the handlers share.
pub struct AdminState {
    /// The registry.
    pub supervisor: Addr<Supervisor>,
    /// The app's metrics (and the drain flag readiness reads).
    pub metrics: Arc<Metrics>,
    /// `POST /api/v1/reload`.
    pub reloader: Arc<Reloader>,
    /// `admin.token`: mutations need it.
    pub token: Option<crate::config::Secret>,
    /// The loaded config (the baseline that new entries are validated against).
    pub base: Arc<crate::config::Config>,
    /// Where `${VAR}` in a submitted entry is looked up.
    pub vars: Arc<dyn VarSource + Send + Sync>,
    /// The bootstrap servers in use (the embedded broker's when embedded): the dead-letter
    /// browse and redrive connect there.
    pub bootstrap: String,
}

/// The OpenAPI 3.1 document of this API, kept in the repo.
pub const OPENAPI: &str = include_str!("openapi.json");

/// Why the admin listener could not start.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// The address cannot be bound.
    #[error(transparent)]
    Bind(#[from] std::io::Error),
    /// `admin.tls` does not load.
    #[error("admin.tls: {0}")]
    Tls(#[from] crate::tls::TlsError),
}

/// A route: `methods` (the `Allow` of its 405) and the handler of each.
fn resource(path: &str, allow: &'static str, routes: Vec<Route>) -> actix_web::Resource {
    routes
        .into_iter()
        .fold(web::resource(path), |r, route| r.route(route))
        .default_service(web::to(method_not_allowed(allow)))
}

fn routes(cfg: &mut web::ServiceConfig) {
    let get = web::get;
    cfg.service(resource("/healthz", "GET", vec![get().to(healthz)]))
        .service(resource("/readyz", "GET", vec![get().to(readyz)]))
        .service(resource("/readyz/{id}", "GET", vec![get().to(readyz_actor)]))
        .service(resource("/metrics", "GET", vec![get().to(metrics)]))
        .service(resource("/api/v1/openapi.json", "GET", vec![get().to(openapi)]))
        .service(resource("/api/v1/reload", "POST", vec![web::post().to(api::reload)]))
        .service(resource("/api/v1/sources", "POST", vec![web::post().to(api::add_source)]))
        .service(resource("/api/v1/sinks", "POST", vec![web::post().to(api::add_sink)]))
        .service(resource("/api/v1/dlq", "GET", vec![get().to(dlq::list)]))
        .service(resource("/api/v1/dlq/redrive", "POST", vec![web::post().to(dlq::redrive)]))
        .service(resource("/api/v1/actors", "GET", vec![get().to(actors)]))
        .service(resource("/api/v1/actors/{id}", "GET, DELETE", vec![get().to(actor), web::delete().to(api::delete)]))
        .service(resource("/api/v1/actors/{id}/config", "PUT", vec![web::put().to(api::replace_config)]))
        .service(resource("/api/v1/actors/{id}/{action}", "POST", vec![web::post().to(api::lifecycle)]));
}

/// Binds the admin listener (HTTPS when `tls` is set); returns its handle and bound address.
pub fn start(
    listen: SocketAddr,
    tls: Option<&crate::tls::ListenerTls>,
    state: AdminState,
) -> Result<(ServerHandle, SocketAddr), AdminError> {
    let state = web::Data::new(state);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(web::PayloadConfig::new(64 * 1024))
            .configure(routes)
            .default_service(web::to(not_found))
    })
    .workers(1)
    .disable_signals()
    .on_connect(crate::tls::record_peer);
    let server = match tls {
        Some(tls) => server.bind_rustls_0_23(listen, crate::tls::server_config(tls)?)?,
        None => server.bind(listen)?,
    };
    let addr = server.addrs().first().copied().unwrap_or(listen);
    let server = server.run();
    let handle = server.handle();
    actix_rt::spawn(server);
    tracing::info!(listen = %addr, tls = tls.is_some(), "Admin listener up.");
    Ok((handle, addr))
}

/// A problem document (RFC 9457, the ingest API's shape) of the admin API.
pub(crate) fn problem(status: StatusCode, code: &str, detail: impl AsRef<str>) -> Problem {
    Problem::new(status, code, detail.as_ref())
}

async fn not_found(req: HttpRequest) -> HttpResponse {
    let detail = format!("no route {}; see GET /api/v1/openapi.json", req.path());
    problem(StatusCode::NOT_FOUND, "route.not_found", detail).response()
}

async fn openapi() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(OPENAPI)
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "alive"}))
}

/// The instance: ready when not draining, Kafka answers a metadata request, and no actor of the
/// config file (nor a pipeline actor) is FAILED or RESTARTING. An admin-added actor that fails,
/// and a DEGRADED one, are listed under `degraded` and leave it ready. A 503 names what is not.
async fn readyz(state: web::Data<AdminState>) -> HttpResponse {
    readiness(&state, None).await
}

/// One actor: ready when RUNNING or DEGRADED (a listener: bound) and Kafka answers; 404 when
/// there is no such actor.
async fn readyz_actor(state: web::Data<AdminState>, id: web::Path<String>) -> HttpResponse {
    readiness(&state, Some(id.into_inner())).await
}

async fn readiness(state: &AdminState, actor: Option<String>) -> HttpResponse {
    let mut not_ready = Vec::new();
    if state.metrics.health.is_draining() {
        not_ready.push("shutting down".to_owned());
    }
    let mut degraded = Vec::new();
    match state.supervisor.send(CheckReadiness { actor: actor.clone() }).await {
        Ok(r) if !r.found => {
            let id = actor.unwrap_or_default();
            return problem(StatusCode::NOT_FOUND, "actor.not_found", format!("no actor with id `{id}`")).response();
        }
        Ok(r) => {
            not_ready.extend(r.not_ready);
            degraded = r.degraded;
        }
        Err(e) => not_ready.push(format!("supervisor: {e}")),
    }
    let mut body = json!({"status": if not_ready.is_empty() { "ready" } else { "not ready" }, "degraded": degraded});
    if let Some(id) = actor {
        body["actor"] = json!(id);
    }
    if not_ready.is_empty() {
        HttpResponse::Ok().json(body)
    } else {
        body["not_ready"] = json!(not_ready);
        HttpResponse::ServiceUnavailable().json(body)
    }
}

async fn metrics(state: web::Data<AdminState>) -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; version=0.0.4; charset=utf-8").body(state.metrics.render())
}

async fn actors(state: web::Data<AdminState>) -> HttpResponse {
    HttpResponse::Ok().json(state.supervisor.send(ListChildren).await.unwrap_or_default())
}

async fn actor(state: web::Data<AdminState>, id: web::Path<String>) -> HttpResponse {
    let all = state.supervisor.send(ListChildren).await.unwrap_or_default();
    match all.into_iter().find(|c| c.id == *id) {
        Some(c) => HttpResponse::Ok().json(c),
        None => problem(StatusCode::NOT_FOUND, "actor.not_found", format!("no actor with id `{id}`")).response(),
    }
}
