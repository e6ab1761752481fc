//! The poller's HTTP side: one rustls client (mutual TLS with the configured certificate, the
//! configured CA) for the token endpoint and the API; the OAuth2 client-credentials token, cached
//! and renewed `token_renew_before` its expiry (or at half its life when that is shorter), and
//! renewed at once when the API answers 401; one GET of a page (a URL and its query, which the
//! poller builds), read up to `max_page_bytes`.
//!
//! What an answer means for the caller is an [`Attempt`]: bytes, "retry after" (429, 5xx, no
//! connection; with the server's `Retry-After` when it sent one) or a refusal that retrying will
//! not fix (other 4xx, a token endpoint refusing the credentials). No secret, token or body is
//! ever logged or put in an error message.

use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::StatusCode;
use serde::Deserialize;
use tokio::time::Instant;

use crate::base::{Secret, error_chain};
use crate::tls::ClientTls;

/// What the client needs from a poller's config.
#[derive(Debug, Clone)]
pub struct ClientSettings {
    /// The source id (logs).
    pub id: String,
    /// OAuth2 token endpoint (client credentials grant).
    pub token_url: String,
    /// OAuth2 client id.
    pub client_id: Secret,
    /// OAuth2 client secret.
    pub client_secret: Secret,
    /// Scope asked for; none when absent.
    pub scope: Option<String>,
    /// Trusted CA and client certificate.
    pub tls: Option<ClientTls>,
    /// Per-request timeout (token and pages).
    pub timeout: Duration,
    /// How early a token is renewed before it expires.
    pub token_renew_before: Duration,
    /// Largest page body read.
    pub max_page_bytes: usize,
}

/// What one attempt gave.
#[derive(Debug)]
pub enum Attempt {
    /// The page body.
    Page(Vec<u8>),
    /// Try again later; `after` is the server's `Retry-After` when it sent one.
    Retry {
        /// The server's delay.
        after: Option<Duration>,
        /// What happened (status or connection error).
        why: String,
    },
    /// Retrying will not help (the task fails and the supervisor restarts it with backoff).
    Refused(String),
}

/// The client could not be built.
#[derive(Debug, thiserror::Error)]
#[error("poller client: {0}")]
pub struct ClientError(String);

struct Token {
    value: Secret,
    renew_at: Instant,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    #[serde(default)]
    expires_in: Option<serde_json::Value>,
}

/// The API client of one poller.
pub struct Api {
    http: reqwest::Client,
    cfg: ClientSettings,
    token: Option<Token>,
    /// Tokens obtained so far (progress).
    pub tokens_issued: u64,
}

impl Api {
    /// Builds the client (reads the TLS files).
    pub fn new(cfg: &ClientSettings) -> Result<Self, ClientError> {
        let tls = crate::tls::client_config(&cfg.tls.clone().unwrap_or_default())
            .map_err(|e| ClientError(format!("TLS: {e}")))?;
        let http = reqwest::Client::builder()
            .use_preconfigured_tls(tls)
            .timeout(cfg.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| ClientError(error_chain(&e)))?;
        Ok(Self { http, cfg: cfg.clone(), token: None, tokens_issued: 0 })
    }

    /// One page, `GET url?query`: with a token (renewed once on 401).
    pub async fn page(&mut self, url: &str, query: &[(&str, String)]) -> Attempt {
        for renewed in [false, true] {
            let token = match self.token().await {
                Ok(t) => t,
                Err(a) => return a,
            };
            match self.get(url, query, &token).await {
                Ok(bytes) => return Attempt::Page(bytes),
                Err(None) if !renewed => {
                    tracing::info!(source = %self.cfg.id, "The API refused the token (401); renewing it.");
                    self.token = None;
                }
                Err(None) => {
                    self.token = None;
                    return Attempt::Retry { after: None, why: "401 with a freshly issued token".into() };
                }
                Err(Some(a)) => return a,
            }
        }
        Attempt::Retry { after: None, why: "unreachable".into() }
    }

    /// `Err(None)`: 401 (renew the token); `Err(Some)`: any other outcome than a page.
    async fn get(&self, url: &str, query: &[(&str, String)], token: &Secret) -> Result<Vec<u8>, Option<Attempt>> {
        let sent = self.http.get(url).query(query).bearer_auth(token.expose()).send().await;
        let mut resp = sent.map_err(|e| Some(unreachable(&e)))?;
        match resp.status() {
            StatusCode::OK => {}
            StatusCode::UNAUTHORIZED => return Err(None),
            s => return Err(Some(answer(s, &resp))),
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp.chunk().await.map_err(|e| Some(unreachable(&e)))? {
            if body.len() + chunk.len() > self.cfg.max_page_bytes {
                let why =
                    format!("a page is larger than max_page_bytes ({}); lower page_size", self.cfg.max_page_bytes);
                return Err(Some(Attempt::Refused(why)));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }

    /// The cached token, or a new one.
    async fn token(&mut self) -> Result<Secret, Attempt> {
        if let Some(t) = &self.token
            && Instant::now() < t.renew_at
        {
            return Ok(t.value.clone());
        }
        let mut form = vec![("grant_type", "client_credentials")];
        if let Some(scope) = &self.cfg.scope {
            form.push(("scope", scope.as_str()));
        }
        let sent = self
            .http
            .post(&self.cfg.token_url)
            .basic_auth(self.cfg.client_id.expose(), Some(self.cfg.client_secret.expose()))
            .form(&form)
            .send()
            .await;
        let resp = sent.map_err(|e| unreachable(&e))?;
        let status = resp.status();
        if status == StatusCode::BAD_REQUEST || status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(Attempt::Refused(format!("the token endpoint refused the client credentials ({status})")));
        }
        if status != StatusCode::OK {
            return Err(answer(status, &resp));
        }
        let answer: TokenAnswer = resp.json().await.map_err(|_| {
            Attempt::Refused("the token endpoint's answer has no access_token (not an OAuth2 token response)".into())
        })?;
        let life = lifetime(answer.expires_in.as_ref());
        let early = self.cfg.token_renew_before.min(life / 2);
        let value = Secret::new(answer.access_token);
        self.token = Some(Token { value: value.clone(), renew_at: Instant::now() + life - early });
        self.tokens_issued += 1;
        Ok(value)
    }
}

/// `expires_in` (seconds, as a number or a string); 300 s when absent or unreadable.
fn lifetime(v: Option<&serde_json::Value>) -> Duration {
    let secs = match v {
        Some(serde_json::Value::Number(n)) => n.as_u64(),
        Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    };
    Duration::from_secs(secs.unwrap_or(300))
}

fn unreachable(e: &reqwest::Error) -> Attempt {
    Attempt::Retry { after: None, why: error_chain(e) }
}

/// A non-200, non-401 answer: 429 and 5xx (and 408) are retried, with `Retry-After` when sent.
fn answer(status: StatusCode, resp: &reqwest::Response) -> Attempt {
    if status == StatusCode::TOO_MANY_REQUESTS || status == StatusCode::REQUEST_TIMEOUT || status.is_server_error() {
        let after =
            resp.headers().get(reqwest::header::RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(retry_after);
        return Attempt::Retry { after, why: format!("the server answered {status}") };
    }
    Attempt::Refused(format!("the server answered {status}"))
}

/// `Retry-After`: delay-seconds or an HTTP date (RFC 9110 §10.2.3).
pub fn retry_after(v: &str) -> Option<Duration> {
    let v = v.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = DateTime::parse_from_rfc2822(v).ok()?.with_timezone(&Utc);
    Some((at - Utc::now()).to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_and_http_dates() {
        assert_eq!(retry_after(" 3 "), Some(Duration::from_secs(3)));
        let later = (Utc::now() + chrono::Duration::seconds(30)).to_rfc2822();
        let d = retry_after(&later).unwrap();
        assert!(d > Duration::from_secs(25) && d <= Duration::from_secs(30), "{d:?}");
        assert_eq!(retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO));
        assert_eq!(retry_after("soon"), None);
    }

    #[test]
    fn token_lifetime_is_read_as_a_number_or_a_string() {
        assert_eq!(lifetime(Some(&serde_json::json!(3600))), Duration::from_secs(3600));
        assert_eq!(lifetime(Some(&serde_json::json!("60"))), Duration::from_secs(60));
        assert_eq!(lifetime(None), Duration::from_secs(300));
    }
}
