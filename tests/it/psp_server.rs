//! A small fake PSP for the poller tests: the API Pix `GET /pix` over mutual TLS (a client
//! certificate from the test CA is required), serving the real GET /pix example of the API Pix
//! specification (`crates/pix-domain/tests/data/bcb-api-pix/derived/getPix1.resolved.json`, see
//! that folder's README for its provenance) split into pages of the size the client asks for,
//! and an OAuth2 client-credentials token endpoint. It records every request (time, page, window,
//! token, answer) and can revoke the first token after some pages, answer one page with 429 and
//! `Retry-After`, and hold pages from some number on until released.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::{Value, json};

use crate::tls_support::{Ca, Leaf, write};

/// `Basic base64("pix-ingest-client:s3cr3t-client")`.
pub const BASIC: &str = "Basic cGl4LWluZ2VzdC1jbGllbnQ6czNjcjN0LWNsaWVudA==";
pub const CLIENT_ID: &str = "pix-ingest-client";
pub const CLIENT_SECRET: &str = "s3cr3t-client";
/// What a broken gateway answers instead of a page.
pub const GARBAGE: &str = "<html><body>502 Bad Gateway</body></html>";

/// One request the PSP answered.
#[derive(Debug, Clone)]
pub struct Seen {
    pub at: Instant,
    /// `token` or `pix`.
    pub path: &'static str,
    pub inicio: String,
    pub fim: String,
    pub page: u32,
    pub per_page: u32,
    pub token: String,
    pub status: u16,
    pub client_cert: bool,
}

/// What the fake PSP does; shared with its handlers.
#[derive(Default)]
pub struct Behaviour {
    /// The first token is refused (401) once it served this many pages.
    pub revoke_first_after: Option<u32>,
    /// Page that is answered 429 with `Retry-After: <secs>` once.
    pub throttle: Mutex<Option<(u32, u64)>>,
    /// Pages from this number on wait while `hold` is set.
    pub hold_from: Option<u32>,
    pub hold: AtomicBool,
    /// Page that is answered once with 200 and [`GARBAGE`] instead of a GET /pix answer.
    pub garbage: Mutex<Option<u32>>,
    /// `expires_in` of the tokens (default 3600 s); a token older than this is refused (401).
    pub token_lifetime: Option<u64>,
}

pub struct Psp {
    pub behaviour: Arc<Behaviour>,
    pub log: Arc<Mutex<Vec<Seen>>>,
    items: Vec<Value>,
    tokens: AtomicU32,
    first_token_pages: AtomicU32,
    /// When each token was issued (token n at n - 1).
    issued_at: Mutex<Vec<Instant>>,
}

impl Psp {
    pub fn log(&self) -> Vec<Seen> {
        self.log.lock().unwrap().clone()
    }
    pub fn pages(&self) -> Vec<Seen> {
        self.log().into_iter().filter(|s| s.path == "pix").collect()
    }
    pub fn tokens_issued(&self) -> u32 {
        self.tokens.load(Ordering::SeqCst)
    }
    fn record(&self, s: Seen) {
        self.log.lock().unwrap().push(s);
    }
}

/// The running fake PSP and the poller's `tls:` block for it.
pub struct Running {
    pub psp: Arc<Psp>,
    pub base_url: String,
    pub token_url: String,
    pub tls: Value,
    handle: actix_web::dev::ServerHandle,
    _dir: tempfile::TempDir,
}

impl Running {
    pub async fn stop(self) {
        self.psp.behaviour.hold.store(false, Ordering::SeqCst);
        self.handle.stop(false).await;
    }
}

/// The pix items of the real GET /pix example.
fn example_items() -> Vec<Value> {
    let path = crate::harness::repo().join("crates/pix-domain/tests/data/bcb-api-pix/derived/getPix1.resolved.json");
    let v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    v["pix"].as_array().unwrap().clone()
}

pub fn start(behaviour: Behaviour) -> Running {
    let dir = tempfile::tempdir().unwrap();
    let (psp_ca, clients_ca) = (Ca::new("PSP CA"), Ca::new("PSP clients CA"));
    let (server, client): (Leaf, Leaf) = (psp_ca.leaf("api.psp.test"), clients_ca.leaf("pix-ingest-poller"));
    let p = |n: &str, t: &str| write(dir.path(), n, t);
    let listener = pix_ingest::tls::ListenerTls {
        cert_file: p("server.pem", &server.cert),
        key_file: p("server.key", &server.key),
        client_ca_file: Some(p("clients.pem", &clients_ca.pem())),
        client_auth: pix_ingest::tls::ClientAuth::Required,
        reload_interval: Duration::from_secs(10),
    };
    let psp = Arc::new(Psp {
        behaviour: Arc::new(behaviour),
        log: Arc::default(),
        items: example_items(),
        tokens: AtomicU32::new(0),
        first_token_pages: AtomicU32::new(0),
        issued_at: Mutex::default(),
    });
    let data = web::Data::from(Arc::clone(&psp));
    let server = HttpServer::new(move || {
        App::new()
            .app_data(data.clone())
            .route("/oauth/token", web::post().to(token))
            .route("/api/v2/pix", web::get().to(pix))
    })
    .workers(2)
    .disable_signals()
    .on_connect(pix_ingest::tls::record_peer)
    .bind_rustls_0_23("127.0.0.1:0", pix_ingest::tls::server_config(&listener).unwrap())
    .unwrap();
    let port = server.addrs()[0].port();
    let server = server.run();
    let handle = server.handle();
    actix_rt::spawn(server);
    let tls = json!({
        "ca_file": p("psp-ca.pem", &psp_ca.pem()),
        "cert_file": p("poller.pem", &client.cert),
        "key_file": p("poller.key", &client.key),
    });
    Running {
        psp,
        base_url: format!("https://127.0.0.1:{port}/api/v2"),
        token_url: format!("https://127.0.0.1:{port}/oauth/token"),
        tls,
        handle,
        _dir: dir,
    }
}

fn seen(req: &HttpRequest, path: &'static str, status: u16) -> Seen {
    let q: std::collections::HashMap<String, String> =
        web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
            .map(|q| q.into_inner())
            .unwrap_or_default();
    let token = req.headers().get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    Seen {
        at: Instant::now(),
        path,
        inicio: q.get("inicio").cloned().unwrap_or_default(),
        fim: q.get("fim").cloned().unwrap_or_default(),
        page: q.get("paginacao.paginaAtual").and_then(|p| p.parse().ok()).unwrap_or(u32::MAX),
        per_page: q.get("paginacao.itensPorPagina").and_then(|p| p.parse().ok()).unwrap_or(0),
        token: token.trim_start_matches("Bearer ").to_owned(),
        status,
        client_cert: req.conn_data::<pix_ingest::tls::PeerIdentity>().is_some(),
    }
}

async fn token(req: HttpRequest, body: String, psp: web::Data<Psp>) -> HttpResponse {
    let auth = req.headers().get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if auth != BASIC || !body.contains("grant_type=client_credentials") {
        psp.record(seen(&req, "token", 401));
        return HttpResponse::Unauthorized().json(json!({"error": "invalid_client"}));
    }
    let n = {
        let mut issued = psp.issued_at.lock().unwrap();
        issued.push(Instant::now());
        psp.tokens.store(issued.len() as u32, Ordering::SeqCst);
        issued.len()
    };
    psp.record(seen(&req, "token", 200));
    let life = psp.behaviour.token_lifetime.unwrap_or(3600);
    HttpResponse::Ok().json(json!({"access_token": format!("tok-{n}"), "token_type": "Bearer", "expires_in": life}))
}

async fn pix(req: HttpRequest, psp: web::Data<Psp>) -> HttpResponse {
    let s = seen(&req, "pix", 200);
    let b = &psp.behaviour;
    let life = Duration::from_secs(b.token_lifetime.unwrap_or(3600));
    let issued = s.token.strip_prefix("tok-").and_then(|n| n.parse::<usize>().ok()).and_then(|n| {
        let at = psp.issued_at.lock().unwrap();
        n.checked_sub(1).and_then(|i| at.get(i).copied())
    });
    let valid = issued.is_some_and(|at| at.elapsed() < life);
    let revoked = s.token == "tok-1"
        && b.revoke_first_after.is_some_and(|after| psp.first_token_pages.load(Ordering::SeqCst) >= after);
    if !valid || revoked {
        psp.record(Seen { status: 401, ..s });
        return HttpResponse::Unauthorized().json(json!({"title": "Não Autorizado"}));
    }
    let throttled = {
        let mut t = b.throttle.lock().unwrap();
        match *t {
            Some((page, secs)) if page == s.page => t.take().map(|_| secs),
            _ => None,
        }
    };
    if let Some(secs) = throttled {
        psp.record(Seen { status: 429, ..s });
        return HttpResponse::TooManyRequests().insert_header(("retry-after", secs.to_string())).finish();
    }
    let garbage = {
        let mut g = b.garbage.lock().unwrap();
        if *g == Some(s.page) { g.take() } else { None }
    };
    if garbage.is_some() {
        psp.record(Seen { status: 200, ..s });
        return HttpResponse::Ok().content_type("text/html").body(GARBAGE);
    }
    if b.hold_from.is_some_and(|from| s.page >= from) && b.hold.load(Ordering::SeqCst) {
        psp.record(Seen { status: 102, ..s.clone() });
        let until = Instant::now() + Duration::from_secs(60);
        while b.hold.load(Ordering::SeqCst) && Instant::now() < until {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    if s.token == "tok-1" {
        psp.first_token_pages.fetch_add(1, Ordering::SeqCst);
    }
    let per = s.per_page.max(1) as usize;
    let pages = psp.items.len().div_ceil(per);
    let from = (s.page as usize).saturating_mul(per).min(psp.items.len());
    let items: Vec<Value> = psp.items[from..(from + per).min(psp.items.len())].to_vec();
    let body = json!({
        "parametros": {
            "inicio": s.inicio, "fim": s.fim,
            "paginacao": {"paginaAtual": s.page, "itensPorPagina": per, "quantidadeDePaginas": pages,
                          "quantidadeTotalDeItens": psp.items.len()}
        },
        "pix": items,
    });
    psp.record(s);
    HttpResponse::Ok().json(body)
}
