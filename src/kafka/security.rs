//! What this build of librdkafka can serve, checked without a connection: every property of
//! `kafka.properties` is set on a native librdkafka configuration (librdkafka's own verdict on
//! names and values), the security protocol and SASL mechanism are checked against
//! `builtin.features`, and `preflight` creates a client offline (no bootstrap servers, so no
//! connection) to read librdkafka's verdict on the whole set: certificate files, key passwords,
//! missing credentials.

use rdkafka::ClientConfig;
use rdkafka::client::ClientContext;
use rdkafka::error::KafkaError;
use rdkafka::producer::{BaseProducer, ProducerContext};

use super::KafkaConfig;

/// SASL mechanisms librdkafka knows, and the `builtin.features` entry each needs.
const MECHANISMS: &[(&str, &str)] = &[
    ("PLAIN", "sasl_plain"),
    ("SCRAM-SHA-256", "sasl_scram"),
    ("SCRAM-SHA-512", "sasl_scram"),
    ("GSSAPI", "sasl_gssapi"),
    ("OAUTHBEARER", "sasl_oauthbearer"),
];

/// The `builtin.features` of the linked librdkafka (`ssl`, `sasl_scram`, `oidc`, ...).
pub fn builtin_features() -> Vec<String> {
    let features = ClientConfig::new().create_native_config().and_then(|c| c.get("builtin.features"));
    features.map(|f| f.split(',').map(str::to_owned).collect()).unwrap_or_default()
}

fn prop<'a>(kafka: &'a KafkaConfig, key: &str) -> Option<&'a str> {
    kafka.properties.get(key).map(|v| v.0.as_str())
}

/// The mechanism property as written (`sasl.mechanism` or its alias `sasl.mechanisms`).
fn mechanism(kafka: &KafkaConfig) -> Option<(&'static str, &str)> {
    ["sasl.mechanism", "sasl.mechanisms"].into_iter().find_map(|k| prop(kafka, k).map(|v| (k, v)))
}

/// Problems of `kafka.properties`, as (field below `kafka.`, message).
pub fn property_problems(kafka: &KafkaConfig) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (key, value) in &kafka.properties {
        if let Err(KafkaError::ClientConfig(_, desc, _, _)) =
            ClientConfig::new().set(key, &value.0).create_native_config()
        {
            out.push((format!("properties.{key}"), format!("librdkafka refuses it: {desc}")));
        }
    }
    if !out.is_empty() {
        return out;
    }
    let features = builtin_features();
    let has = |f: &str| features.iter().any(|x| x == f);
    let protocol = prop(kafka, "security.protocol").unwrap_or("plaintext").to_ascii_uppercase();
    let sasl = protocol.starts_with("SASL_");
    if protocol.ends_with("SSL") && !has("ssl") {
        out.push(("properties.security.protocol".into(), "this build of librdkafka has no SSL support".into()));
    }
    match mechanism(kafka) {
        Some((key, m)) => out.extend(mechanism_problems(kafka, key, m, sasl, &has)),
        None if sasl => out.push((
            "properties.security.protocol".into(),
            format!(
                "{protocol} without sasl.mechanism: set it (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512, GSSAPI or OAUTHBEARER)"
            ),
        )),
        None => {}
    }
    out
}

fn mechanism_problems(
    kafka: &KafkaConfig,
    key: &str,
    m: &str,
    sasl: bool,
    has: &dyn Fn(&str) -> bool,
) -> Vec<(String, String)> {
    let field = format!("properties.{key}");
    let Some((name, feature)) = MECHANISMS.iter().find(|(n, _)| n.eq_ignore_ascii_case(m.trim())) else {
        let known: Vec<&str> = MECHANISMS.iter().map(|(n, _)| *n).collect();
        return vec![(field, format!("unsupported SASL mechanism `{m}`: expected one of {}", known.join(", ")))];
    };
    let mut out = Vec::new();
    if !has(feature) {
        out.push((field.clone(), format!("this build of librdkafka cannot serve {name} (no `{feature}` feature)")));
    }
    if !sasl {
        out.push((field, "has no effect: set security.protocol to SASL_SSL (or SASL_PLAINTEXT)".into()));
    }
    if matches!(*name, "PLAIN" | "SCRAM-SHA-256" | "SCRAM-SHA-512") {
        for k in ["sasl.username", "sasl.password"] {
            if prop(kafka, k).is_none_or(str::is_empty) {
                out.push((format!("properties.{k}"), format!("expected with {name}")));
            }
        }
    }
    if prop(kafka, "sasl.oauthbearer.method").is_some_and(|v| v.eq_ignore_ascii_case("oidc")) {
        if *name != "OAUTHBEARER" {
            out.push(("properties.sasl.oauthbearer.method".into(), "`oidc` needs sasl.mechanism OAUTHBEARER".into()));
        } else if !has("oidc") {
            out.push((
                "properties.sasl.oauthbearer.method".into(),
                "this build of librdkafka has no OIDC support".into(),
            ));
        }
        if prop(kafka, "sasl.oauthbearer.token.endpoint.url").is_none() {
            out.push(("properties.sasl.oauthbearer.token.endpoint.url".into(), "expected with method oidc".into()));
        }
    }
    out
}

/// A client context that drops everything: the offline client has nothing to say.
#[derive(Clone, Copy)]
struct Silent;

impl ClientContext for Silent {
    fn log(&self, _: rdkafka::config::RDKafkaLogLevel, _: &str, _: &str) {}
    fn error(&self, _: KafkaError, _: &str) {}
}

impl ProducerContext for Silent {
    type DeliveryOpaque = ();
    fn delivery(&self, _: &rdkafka::message::DeliveryResult<'_>, _: ()) {}
}

/// librdkafka's verdict on a client built from `kafka.properties` with no bootstrap servers:
/// files it cannot read, keys it cannot decrypt, credentials it misses. Skipped for GSSAPI (the
/// client would run `kinit`) and OIDC (it would fetch a token): those are checked by
/// [`property_problems`] only. Problems are (field below `kafka.`, message).
pub fn preflight(kafka: &KafkaConfig) -> Vec<(String, String)> {
    let gssapi = mechanism(kafka).is_some_and(|(_, m)| m.trim().eq_ignore_ascii_case("GSSAPI"));
    let oidc = prop(kafka, "sasl.oauthbearer.method").is_some_and(|v| v.eq_ignore_ascii_case("oidc"));
    if kafka.properties.is_empty() || gssapi || oidc || !property_problems(kafka).is_empty() {
        return Vec::new();
    }
    let mut c = ClientConfig::new();
    for (k, v) in &kafka.properties {
        c.set(k, &v.0);
    }
    match c.create_with_context::<_, BaseProducer<Silent>>(Silent) {
        Ok(_) => Vec::new(),
        Err(e) => {
            let msg = match e {
                KafkaError::ClientCreation(m) => m,
                other => other.to_string(),
            };
            // Point at the property librdkafka names, the longest one that matches.
            let key = kafka.properties.keys().filter(|k| msg.contains(k.as_str())).max_by_key(|k| k.len());
            let field = key.map_or_else(|| "properties".to_owned(), |k| format!("properties.{k}"));
            vec![(field, format!("librdkafka refuses the client: {msg}"))]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kafka::PropertyValue;

    fn kafka(props: &[(&str, &str)]) -> KafkaConfig {
        let yaml = "bootstrap_servers: b:9092\n";
        let mut k: KafkaConfig = serde_saphyr::from_str(yaml).unwrap();
        k.properties = props.iter().map(|(a, b)| ((*a).to_owned(), PropertyValue((*b).to_owned()))).collect();
        k
    }

    #[test]
    fn this_build_serves_every_mechanism() {
        let f = builtin_features();
        for needed in ["ssl", "sasl_plain", "sasl_scram", "sasl_gssapi", "sasl_oauthbearer", "oidc"] {
            assert!(f.iter().any(|x| x == needed), "librdkafka lacks {needed}: {f:?}");
        }
    }

    #[test]
    fn refuses_unknown_properties_mechanisms_and_missing_credentials() {
        let p = property_problems(&kafka(&[("sasl.mechanizm", "PLAIN")]));
        assert_eq!(p[0].0, "properties.sasl.mechanizm", "{p:?}");
        assert!(p[0].1.contains("No such configuration property"), "{p:?}");
        let p = property_problems(&kafka(&[("security.protocol", "SASL_SSL"), ("sasl.mechanism", "SCRAM-SHA-1")]));
        assert_eq!(p[0].0, "properties.sasl.mechanism", "{p:?}");
        assert!(p[0].1.contains("unsupported SASL mechanism `SCRAM-SHA-1`"), "{p:?}");
        let p = property_problems(&kafka(&[("security.protocol", "SASL_SSL"), ("sasl.mechanism", "SCRAM-SHA-512")]));
        assert!(p.iter().any(|(f, _)| f == "properties.sasl.password"), "{p:?}");
        let p = property_problems(&kafka(&[("security.protocol", "SASL_SSL")]));
        assert_eq!(p[0].0, "properties.security.protocol", "{p:?}");
        let ok = [
            ("security.protocol", "SASL_SSL"),
            ("sasl.mechanism", "OAUTHBEARER"),
            ("sasl.oauthbearer.method", "oidc"),
            ("sasl.oauthbearer.client.id", "pix"),
            ("sasl.oauthbearer.client.secret", "s"),
            ("sasl.oauthbearer.token.endpoint.url", "https://idp.example/token"),
        ];
        assert_eq!(property_problems(&kafka(&ok)), vec![]);
        assert_eq!(
            property_problems(&kafka(&[("security.protocol", "SASL_PLAINTEXT"), ("sasl.mechanism", "GSSAPI")])),
            vec![]
        );
    }

    #[test]
    fn preflight_reads_librdkafkas_verdict_on_files() {
        let p = preflight(&kafka(&[("security.protocol", "SSL"), ("ssl.ca.location", "/nonexistent/ca.pem")]));
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!(p[0].0, "properties.ssl.ca.location", "{p:?}");
        assert!(preflight(&kafka(&[("security.protocol", "SSL")])).is_empty());
    }
}
