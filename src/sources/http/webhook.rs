//! The BCB API Pix webhook contract of a `bcb_webhook` listener.
//!
//! The PSP registers `https://host{path}` (`PUT /webhook/{chave}`) and, before it accepts the
//! registration, POSTs to that URL over mutual TLS to see that it answers and that it authenticates
//! its client; notifications then arrive on `POST {path}/pix` with a body `{"pix": [...]}`.
//! Mutual TLS is enforced by the handshake (`tls.client_auth: required` against the PSP's
//! published chain), so a request that reaches these handlers is authenticated. A listener
//! without `tls` is allowed for development only and says so loudly.

use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::json;

use super::HandlerState;
use pix_domain::formats::Format;

use super::config::HttpSourceConfig;
use crate::tls::{ClientAuth, PeerIdentity};

/// `POST {path}`: the PSP's activation check. The body (if any) is not read.
pub(crate) async fn activation(req: HttpRequest, state: web::Data<HandlerState>) -> HttpResponse {
    let client = req.conn_data::<PeerIdentity>();
    tracing::info!(
        source = %state.source_id,
        tls.client.subject = client.map(|c| c.subject.as_str()),
        tls.client.serial_number = client.map(|c| c.serial.as_str()),
        "Webhook activation check answered."
    );
    HttpResponse::Ok().json(json!({"status": "ok"}))
}

/// Field problems of the webhook settings.
pub(crate) fn problems(c: &HttpSourceConfig) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let Some(tls) = &c.tls {
        out.extend(tls.problems());
        if c.format == Format::BcbWebhook {
            if tls.client_ca_file.is_none() {
                out.push((
                    "tls.client_ca_file",
                    "a bcb_webhook listener with TLS needs the PSP's published chain here: the API Pix \
                     requires mutual TLS on every webhook call"
                        .into(),
                ));
            } else if tls.client_auth == ClientAuth::Optional {
                out.push((
                    "tls.client_auth",
                    "expected `required`: the API Pix requires mutual TLS on webhooks".into(),
                ));
            }
        }
    }
    let p = &c.path;
    let shape = p.starts_with('/')
        && p.len() > 1
        && !p.ends_with('/')
        && p.bytes().all(|b| b.is_ascii_alphanumeric() || b"/-._~".contains(&b))
        && !p.contains("//");
    if !shape {
        out.push(("path", "expected an absolute path such as /v1/webhooks (no trailing /, no {, *, %)".into()));
    } else if c.format == Format::BcbWebhook && ["/v1/events", "/v1/spi", "/healthz", "/readyz"].contains(&p.as_str()) {
        out.push(("path", format!("{p} is another route of this listener")));
    }
    out
}

/// The loud start-up warning of a webhook listener without TLS.
pub(crate) fn warn_if_plain(c: &HttpSourceConfig) {
    if c.format == Format::BcbWebhook && c.tls.is_none() {
        tracing::warn!(
            source = %c.id,
            listen = %c.listen,
            "WEBHOOK WITHOUT TLS: NOT ACCEPTABLE IN PRODUCTION. The API Pix requires mutual TLS on every \
             webhook call; this listener speaks plain HTTP and authenticates nobody. Set tls.cert_file, \
             tls.key_file and tls.client_ca_file (the PSP's published certificate chain)."
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::config::HttpSourceConfig;

    fn problems(yaml: &str) -> Vec<&'static str> {
        let c: HttpSourceConfig = serde_saphyr::from_str(yaml).unwrap();
        super::problems(&c).into_iter().map(|(f, _)| f).collect()
    }

    #[test]
    fn a_webhook_with_tls_must_authenticate_the_psp() {
        let base = "id: w\nlisten: 127.0.0.1:0\nformat: bcb_webhook\n";
        assert!(problems(base).is_empty(), "no TLS: allowed, with a loud warning at start");
        let tls = "tls: { cert_file: c.pem, key_file: k.pem }\n";
        assert_eq!(problems(&format!("{base}{tls}")), ["tls.client_ca_file"]);
        let optional = "tls: { cert_file: c.pem, key_file: k.pem, client_ca_file: psp.pem, client_auth: optional }\n";
        assert_eq!(problems(&format!("{base}{optional}")), ["tls.client_auth"]);
        let canonical = format!("id: w\nlisten: 127.0.0.1:0\n{tls}");
        assert!(problems(&canonical).is_empty(), "server-only TLS is fine for other formats");
        assert_eq!(problems(&format!("{base}path: /v1/events\n")), ["path"]);
        assert_eq!(problems(&format!("{base}path: hooks/\n")), ["path"]);
    }
}
