//! A small fake PSP for the poller tests: the API Pix `GET /pix` over mutual TLS (a client
//! certificate from the test CA is required), serving the real GET /pix example of the API Pix
//! specification (`crates/pix-domain/tests/data/bcb-api-pix/derived/getPix1.resolved.json`, see
//! that folder's README for its provenance) split into pages of the size the client asks for,
//! and an OAuth2 client-credentials token endpoint. It records every request (time, page, window,
//! token, answer) and can revoke the first token after some pages, answer one page with 429 and
//! `Retry-After`, and hold pages from some number on until released.
//!
//! It is also a fake DICT for `dict_poll`: `GET /dict/api/v2/infraction-reports` and
//! `/dict/api/v2/refunds` answer the real DICT list examples
//! (`crates/pix-domain/tests/data/bcb-dict-api/{infractions,refunds}/List*Response.xml`, see that
//! folder's README), their one report repeated `DICT_REPORTS` times with its own id, endToEndId
//! and `LastModified` one second apart: the reports modified at or after `ModifiedAfter`, `Limit`
//! of them, `HasMoreElements` telling whether more remain. A list's n-th request is its `page` n
//! (for `throttle` and `hold_from`).

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
    /// (path, LastModified, report element) of the fake DICT, oldest first.
    dict: Vec<(&'static str, chrono::DateTime<chrono::Utc>, String)>,
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
        dict: dict_reports(),
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
            .route("/dict/api/v2/infraction-reports", web::get().to(dict_infractions))
            .route("/dict/api/v2/refunds", web::get().to(dict_refunds))
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
    if let Some(refused) = gate(&psp, &s).await {
        return refused;
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

/// The token check, 429, garbage and hold behaviours; `Some`: the answer instead of a page.
async fn gate(psp: &Psp, s: &Seen) -> Option<HttpResponse> {
    let s = s.clone();
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
        return Some(HttpResponse::Unauthorized().json(json!({"title": "Não Autorizado"})));
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
        return Some(HttpResponse::TooManyRequests().insert_header(("retry-after", secs.to_string())).finish());
    }
    let garbage = {
        let mut g = b.garbage.lock().unwrap();
        if *g == Some(s.page) { g.take() } else { None }
    };
    if garbage.is_some() {
        psp.record(Seen { status: 200, ..s });
        return Some(HttpResponse::Ok().content_type("text/html").body(GARBAGE));
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
    None
}

/// How many DICT reports each list has.
pub const DICT_REPORTS: usize = 3;

/// The example's report of each list, `DICT_REPORTS` times, one second apart.
fn dict_reports() -> Vec<(&'static str, chrono::DateTime<chrono::Utc>, String)> {
    let dir = crate::harness::repo().join("crates/pix-domain/tests/data/bcb-dict-api");
    let mut out = Vec::new();
    for (path, file, el) in [
        ("infraction-reports", "infractions/ListInfractionReportsResponse.xml", "InfractionReport"),
        ("refunds", "refunds/ListRefundsResponse.xml", "Refund"),
    ] {
        let doc = std::fs::read_to_string(dir.join(file)).unwrap();
        let (open, close) = (format!("<{el}>"), format!("</{el}>"));
        let one = &doc[doc.find(&open).unwrap()..doc.find(&close).unwrap() + close.len()];
        for n in 0..DICT_REPORTS {
            let at = chrono::DateTime::parse_from_rfc3339("2020-01-17T10:00:00Z").unwrap().to_utc()
                + chrono::Duration::seconds(n as i64);
            let report = one
                .replace("73625da1f9fc", &format!("73625da1f9f{n}"))
                .replace("12345678900<", &format!("1234567890{n}<"))
                .replace("<LastModified>2020-01-17T10:00:00.000Z", &format!("<LastModified>{}", dict_time(at)));
            out.push((path, at, report));
        }
    }
    out
}

fn dict_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

async fn dict_infractions(req: HttpRequest, psp: web::Data<Psp>) -> HttpResponse {
    dict_list(req, psp, "infraction-reports").await
}

async fn dict_refunds(req: HttpRequest, psp: web::Data<Psp>) -> HttpResponse {
    dict_list(req, psp, "refunds").await
}

/// A DICT list page: the reports modified at or after `ModifiedAfter`, `Limit` of them.
async fn dict_list(req: HttpRequest, psp: web::Data<Psp>, path: &'static str) -> HttpResponse {
    let q: std::collections::HashMap<String, String> =
        web::Query::<std::collections::HashMap<String, String>>::from_query(req.query_string())
            .map(|q| q.into_inner())
            .unwrap_or_default();
    let mut s = seen(&req, path, 200);
    s.page = psp.log().iter().filter(|x| x.path == path && x.status == 200).count() as u32;
    s.inicio = q.get("ModifiedAfter").cloned().unwrap_or_default();
    s.per_page = q.get("Limit").and_then(|l| l.parse().ok()).unwrap_or(0);
    s.fim = q.get("Participant").cloned().unwrap_or_default();
    if let Some(refused) = gate(&psp, &s).await {
        return refused;
    }
    let after = chrono::DateTime::parse_from_rfc3339(&s.inicio).map(|t| t.to_utc()).unwrap_or_default();
    let matching: Vec<&String> =
        psp.dict.iter().filter(|(p, at, _)| *p == path && *at >= after).map(|(_, _, r)| r).collect();
    let per = (s.per_page as usize).max(1);
    let (root, list) = if path == "refunds" {
        ("ListRefundsResponse", "Refunds")
    } else {
        ("ListInfractionReportsResponse", "InfractionReports")
    };
    let reports: String = matching.iter().take(per).map(|r| r.as_str()).collect();
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<{root}>\n<Signature></Signature>\n\
         <ResponseTime>2020-01-10T10:00:00.000Z</ResponseTime>\n<CorrelationId>a9f13566e19f5ca51329479a5bae60c5</CorrelationId>\n\
         <HasMoreElements>{}</HasMoreElements>\n<{list}>{reports}</{list}>\n</{root}>",
        matching.len() > per
    );
    psp.record(s);
    HttpResponse::Ok().content_type("application/xml").body(body)
}
