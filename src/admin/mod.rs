//! The admin listener (actix-web, its own port, 127.0.0.1 by default): liveness, readiness,
//! Prometheus metrics, the registry of supervised actors, and (in `api`) the mutating calls behind
//! the bearer token. It talks only to the Supervisor (readiness, the registry and every change
//! are supervisor messages) and reads no environment: the variables a submitted entry may use
//! come from the `VarSource` the app hands it. The OpenAPI document is `openapi.json`.

pub mod api;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use actix::Addr;
use actix_web::dev::ServerHandle;
use actix_web::{App, HttpResponse, HttpServer, web};
use serde_json::json;

use crate::base::vars::VarSource;
use crate::supervisor::{CheckReadiness, ListChildren, Supervisor};
use crate::telemetry::metrics::Metrics;

/// What the handlers share.
pub struct AdminState {
    /// The registry.
    pub supervisor: Addr<Supervisor>,
    /// The app's metrics.
    pub metrics: Arc<Metrics>,
    /// Set at the start of shutdown: readiness drops first.
    pub draining: Arc<AtomicBool>,
    /// `admin.token`: mutations need it.
    pub token: Option<crate::config::Secret>,
    /// The loaded config (the baseline that new entries are validated against).
    pub base: Arc<crate::config::Config>,
    /// Where `${VAR}` in a submitted entry is looked up.
    pub vars: Arc<dyn VarSource + Send + Sync>,
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
            .route("/healthz", web::get().to(healthz))
            .route("/api/v1/openapi.json", web::get().to(openapi))
            .route("/api/v1/sources", web::post().to(api::add_source))
            .route("/api/v1/sinks", web::post().to(api::add_sink))
            .route("/api/v1/actors/{id}/config", web::put().to(api::replace_config))
            .route("/api/v1/actors/{id}/{action}", web::post().to(api::lifecycle))
            .route("/api/v1/actors/{id}", web::delete().to(api::delete))
            .route("/readyz", web::get().to(readyz))
            .route("/metrics", web::get().to(metrics))
            .route("/api/v1/actors", web::get().to(actors))
            .route("/api/v1/actors/{id}", web::get().to(actor))
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

async fn openapi() -> HttpResponse {
    HttpResponse::Ok().content_type("application/json").body(OPENAPI)
}

async fn healthz() -> HttpResponse {
    HttpResponse::Ok().json(json!({"status": "alive"}))
}

/// Ready when not draining, Kafka answers a metadata request, and no actor is FAILED or
/// RESTARTING. A 503 names what is not ready.
async fn readyz(state: web::Data<AdminState>) -> HttpResponse {
    let mut not_ready = Vec::new();
    if state.draining.load(Ordering::SeqCst) {
        not_ready.push("shutting down".to_owned());
    }
    match state.supervisor.send(CheckReadiness).await {
        Ok(r) => not_ready.extend(r.not_ready),
        Err(e) => not_ready.push(format!("supervisor: {e}")),
    }
    if not_ready.is_empty() {
        HttpResponse::Ok().json(json!({"status": "ready"}))
    } else {
        HttpResponse::ServiceUnavailable().json(json!({"status": "not ready", "not_ready": not_ready}))
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
        None => HttpResponse::NotFound().json(json!({"error": format!("no actor with id `{id}`")})),
    }
}
