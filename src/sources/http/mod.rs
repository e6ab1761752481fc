//! The HTTP source: one actor per listener, owning an actix-web server.
//!
//! `POST /v1/events` takes one JSON object, a JSON array, or NDJSON. It answers only once Kafka has
//! acknowledged every accepted record and every dead letter: 200 all accepted (or `duplicate`);
//! 207 some rejected; 422 all rejected; 400 not decodable at all, or empty; 408 a body not
//! received within `body_read_timeout`; 413 over `max_body_bytes` or `max_items_per_request`;
//! 415 unknown media type; 429 past `max_in_flight_records`; 503 + Retry-After
//! when Kafka could not take the records before the producer's delivery timeout (shorter than the
//! request deadline, so 503 means "not acknowledged"), or at once while the cluster is known to be
//! unreachable; every answer comes within `request_timeout`. The listener holds at most
//! `max_connections`. Every non-2xx answer is a problem document (`problem`); the routes and their
//! answers are described by `openapi.json`, served at `GET /v1/openapi.json`.
//!
//! With `tls:` the listener speaks HTTPS only (rustls, see [`crate::tls`]); with a client CA it
//! authenticates clients during the handshake, and the certificate's subject and serial of each
//! connection reach the request log and the records' headers. A `bcb_webhook` listener serves
//! the API Pix webhook contract (`webhook`).

pub mod config;
mod handlers;
mod limits;
mod openapi;
pub mod problem;
mod read;
pub mod signature;
mod webhook;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use actix::prelude::*;
use actix_web::dev::ServerHandle;
use actix_web::{App, HttpServer, web};

use self::config::HttpSourceConfig;
use crate::lifecycle::{ChildGuard, Control};
use crate::sources::{CheckContext, SourceDeps, SourceKind};
use pix_domain::formats::Format;

/// What the request handlers share.
pub(crate) struct HandlerState {
    pub(crate) source_id: Arc<str>,
    /// Set while the source is paused: requests get 503 and nothing is read.
    pub(crate) paused: Arc<AtomicBool>,
    pub(crate) config: HttpSourceConfig,
    pub(crate) deps: SourceDeps,
    /// Records between reading and answering, against `max_in_flight_records`.
    pub(crate) in_flight: limits::InFlight,
    /// The OpenAPI document of this source (its format's request bodies).
    pub(crate) openapi: String,
}

/// The verified client certificate of the request's connection (mutual TLS).
pub(crate) fn client_of(req: &actix_web::HttpRequest) -> Option<Arc<crate::tls::PeerIdentity>> {
    req.conn_data::<crate::tls::PeerIdentity>().cloned().map(Arc::new)
}

/// The HTTP source actor.
pub struct HttpSource {
    config: HttpSourceConfig,
    deps: SourceDeps,
    /// Reports this actor's exit (stop, error or panic) to the supervisor when dropped.
    guard: ChildGuard,
    /// Handle of the running server; `None` before bind and after stop.
    server: Option<ServerHandle>,
    /// Shared with the handlers.
    paused: Arc<AtomicBool>,
}

impl HttpSource {
    /// A source that will listen when started.
    pub fn new(config: HttpSourceConfig, deps: SourceDeps, guard: ChildGuard) -> Self {
        Self { config, deps, guard, server: None, paused: Arc::new(AtomicBool::new(false)) }
    }

    fn bind(&mut self) -> Result<(actix_web::dev::Server, std::net::SocketAddr), BindError> {
        let state = web::Data::new(HandlerState {
            source_id: Arc::from(self.config.id.as_str()),
            paused: Arc::clone(&self.paused),
            config: self.config.clone(),
            deps: self.deps.clone(),
            in_flight: limits::InFlight::new(
                self.config.max_in_flight_records,
                Arc::from(self.config.id.as_str()),
                Arc::clone(&self.deps.metrics),
            ),
            openapi: openapi::document(self.config.format),
        });
        let webhook = (self.config.format == Format::BcbWebhook).then(|| self.config.path.clone());
        let server = HttpServer::new(move || {
            let post = |path: &str| {
                web::resource(path)
                    .route(web::post().to(handlers::post_events))
                    .default_service(web::to(problem::method_not_allowed("POST")))
            };
            let only_get = || web::to(problem::method_not_allowed("GET"));
            let mut app = App::new().app_data(state.clone());
            if let Some(path) = &webhook {
                // Registered first: the activation check and the notifications of the API Pix.
                let activation = web::resource(path.as_str())
                    .route(web::post().to(webhook::activation))
                    .default_service(web::to(problem::method_not_allowed("POST")));
                app = app.service(activation).service(post(&format!("{path}/pix")));
            }
            app.service(post("/v1/events"))
                .service(post("/v1/webhooks/pix"))
                .service(post("/v1/webhooks"))
                .service(post("/v1/spi"))
                .service(web::resource("/healthz").route(web::get().to(handlers::healthz)).default_service(only_get()))
                .service(web::resource("/readyz").route(web::get().to(handlers::readyz)).default_service(only_get()))
                .service(
                    web::resource("/v1/openapi.json")
                        .route(web::get().to(handlers::openapi))
                        .default_service(only_get()),
                )
                .default_service(web::to(problem::not_found))
        })
        .workers(self.config.workers)
        .max_connections(self.config.connections_per_worker())
        .disable_signals()
        .on_connect(crate::tls::record_peer)
        // Graceful stop lets in-flight requests finish within the request deadline.
        .shutdown_timeout(self.config.request_timeout.as_secs().max(1) + 1);
        let server = match &self.config.tls {
            Some(tls) => server.bind_rustls_0_23(self.config.listen, crate::tls::server_config(tls)?)?,
            None => server.bind(self.config.listen)?,
        };
        let addr = server.addrs().first().copied().unwrap_or(self.config.listen);
        Ok((server.run(), addr))
    }
}

/// Why a listener could not start.
#[derive(Debug, thiserror::Error)]
enum BindError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error("TLS: {0}")]
    Tls(#[from] crate::tls::TlsError),
}

impl SourceKind for HttpSourceConfig {
    fn id(&self) -> &str {
        &self.id
    }
    fn format(&self) -> pix_domain::formats::Format {
        self.format
    }
    fn listen(&self) -> Option<std::net::SocketAddr> {
        (self.listen.port() != 0).then_some(self.listen)
    }
    fn problems(&self, ctx: &CheckContext) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        let least = ctx.delivery_timeout + std::time::Duration::from_secs(1);
        if self.request_timeout < least {
            out.push((
                "request_timeout",
                format!(
                    "expected at least kafka.delivery_timeout + 1s ({}), so that a 503 means Kafka did not acknowledge",
                    humantime::format_duration(least)
                ),
            ));
        }
        if self.max_body_bytes == 0 {
            out.push(("max_body_bytes", "expected a positive number".into()));
        }
        if self.format.wire().media_types().is_empty() {
            let served = crate::sources::format_names(|f| !f.wire().media_types().is_empty());
            out.push(("format", format!("`{}` is not served over HTTP; expected one of {served}", self.format.name())));
        }
        if self.workers == 0 || self.workers > 64 {
            out.push(("workers", "expected 1 to 64".into()));
        }
        out.extend(webhook::problems(self));
        if self.max_in_flight_records == 0 {
            out.push(("max_in_flight_records", "expected a positive number".into()));
        }
        if self.max_items_per_request == 0 {
            out.push(("max_items_per_request", "expected a positive number".into()));
        }
        if self.body_read_timeout.is_zero() {
            out.push(("body_read_timeout", "expected more than 0s".into()));
        }
        if self.max_connections < self.workers {
            out.push(("max_connections", format!("expected at least `workers` ({})", self.workers)));
        }
        if let Some(problem) = ctx.record_size_problem(self.max_body_bytes) {
            out.push(("max_body_bytes", problem));
        }
        out
    }
    fn start(&self, deps: SourceDeps, guard: ChildGuard) -> Recipient<Control> {
        HttpSource::new(self.clone(), deps, guard).start().recipient()
    }
}

impl Actor for HttpSource {
    type Context = Context<Self>;

    fn started(&mut self, ctx: &mut Self::Context) {
        match self.bind() {
            Ok((server, addr)) => {
                let tls = self.config.tls.as_ref().map_or("off", |t| if t.mutual() { "mutual" } else { "on" });
                tracing::info!(source = %self.config.id, listen = %addr, tls, "HTTP source listening.");
                webhook::warn_if_plain(&self.config);
                self.server = Some(server.handle());
                self.guard.bound(addr);
                ctx.spawn(server.into_actor(self).map(|res, act, ctx| {
                    if let Err(e) = res {
                        act.guard.fail(format!("HTTP server failed: {e}"));
                    }
                    ctx.stop();
                }));
            }
            Err(e) => {
                tracing::error!(source = %self.config.id, listen = %self.config.listen, error = %e,
                    "HTTP source cannot bind.");
                self.guard.fail(format!("cannot bind {}: {e}", self.config.listen));
                ctx.stop();
            }
        }
    }

    fn stopped(&mut self, _ctx: &mut Self::Context) {
        if let Some(h) = self.server.take() {
            actix_rt::spawn(h.stop(false));
        }
    }
}

impl Handler<Control> for HttpSource {
    type Result = ResponseActFuture<Self, ()>;

    fn handle(&mut self, msg: Control, _ctx: &mut Self::Context) -> Self::Result {
        match msg {
            Control::Stop { grace } => {
                let handle = self.server.take();
                Box::pin(
                    async move {
                        if let Some(h) = handle {
                            // graceful: stop accepting, let in-flight requests finish
                            if tokio::time::timeout(grace, h.stop(true)).await.is_err() {
                                tracing::warn!("HTTP source did not drain within the grace period.");
                            }
                        }
                    }
                    .into_actor(self)
                    .map(|(), _act, ctx| ctx.stop()),
                )
            }
            Control::Pause | Control::Resume => {
                self.paused.store(matches!(msg, Control::Pause), Ordering::SeqCst);
                Box::pin(async {}.into_actor(self))
            }
        }
    }
}
