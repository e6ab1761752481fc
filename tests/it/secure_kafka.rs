//! The ingest path and a sink against the secured broker of `scripts/kafka start-secure`
//! (PIX_INGEST_TEST_SECURE_*): SCRAM-SHA-512 over TLS, and mutual TLS with a client certificate.
//! HTTP -> category topic and DLQ, read back with an independent client over the same listener;
//! a file sink consumes over it and lands the record.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::OwnedMessage;
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};

use crate::config_builder::ConfigBuilder;
use crate::fixtures::{self, OWN};
use crate::harness::{TestApp, Topics, unique};

/// The secured broker's addresses and credentials.
pub struct Secure {
    pub sasl_ssl: String,
    pub mtls: String,
    pub ca: String,
    pub cert: String,
    pub key: String,
    pub user: String,
    pub password: String,
}

pub fn secure() -> Secure {
    let var = |n: &str| {
        std::env::var(format!("PIX_INGEST_TEST_SECURE_{n}")).unwrap_or_else(|_| {
            panic!(
                "PIX_INGEST_TEST_SECURE_{n} is not set: these tests need the secured broker that `scripts/test` \
                 starts (`scripts/kafka start-secure DIR` prints the variables)."
            )
        })
    };
    Secure {
        sasl_ssl: var("SASL_SSL"),
        mtls: var("MTLS"),
        ca: var("CA"),
        cert: var("CLIENT_CERT"),
        key: var("CLIENT_KEY"),
        user: var("USER"),
        password: var("PASSWORD"),
    }
}

impl Secure {
    /// SASL_SSL with SCRAM-SHA-512, trusting `ca`.
    pub fn scram(&self, password: &str, ca: &str) -> Vec<(&'static str, String)> {
        vec![
            ("security.protocol", "SASL_SSL".into()),
            ("sasl.mechanism", "SCRAM-SHA-512".into()),
            ("sasl.username", self.user.clone()),
            ("sasl.password", password.to_owned()),
            ("ssl.ca.location", ca.to_owned()),
        ]
    }

    /// SSL with the test client certificate.
    pub fn mutual(&self) -> Vec<(&'static str, String)> {
        vec![
            ("security.protocol", "SSL".into()),
            ("ssl.ca.location", self.ca.clone()),
            ("ssl.certificate.location", self.cert.clone()),
            ("ssl.key.location", self.key.clone()),
        ]
    }
}

/// The `properties:` block of `kafka:`.
pub fn properties_yaml(props: &[(&str, String)]) -> String {
    let mut out = "  properties:\n".to_owned();
    for (k, v) in props {
        out.push_str(&format!("    {k}: \"{v}\"\n"));
    }
    out
}

/// Every record of `topic`, read with its own client over the secured listener.
fn read_all(bootstrap: &str, props: &[(&str, String)], topic: &str) -> Vec<OwnedMessage> {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", bootstrap).set("group.id", "pix-ingest-it-secure-reader");
    for (k, v) in props {
        c.set(*k, v);
    }
    let consumer: BaseConsumer = c.create().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let partitions: Vec<i32> = loop {
        let md = consumer.fetch_metadata(Some(topic), Duration::from_secs(10));
        if let Ok(md) = md
            && let Some(t) = md.topics().first()
            && !t.partitions().is_empty()
        {
            break t.partitions().iter().map(|p| p.id()).collect();
        }
        assert!(Instant::now() < deadline, "metadata of {topic}");
        std::thread::sleep(Duration::from_millis(200));
    };
    let mut expected = 0;
    let mut tpl = TopicPartitionList::new();
    for p in &partitions {
        let (low, high) = consumer.fetch_watermarks(topic, *p, Duration::from_secs(10)).unwrap();
        expected += high - low;
        tpl.add_partition_offset(topic, *p, Offset::Beginning).unwrap();
    }
    consumer.assign(&tpl).unwrap();
    let mut out = Vec::new();
    while (out.len() as i64) < expected {
        assert!(Instant::now() < deadline, "read {} of {expected} records of {topic}", out.len());
        if let Some(m) = consumer.poll(Duration::from_millis(200)) {
            out.push(m.unwrap().detach());
        }
    }
    out
}

/// Files under `dir` (recursively) whose content mentions `needle`.
fn landed(dir: &std::path::Path, needle: &str) -> bool {
    let Ok(entries) = std::fs::read_dir(dir) else { return false };
    entries.flatten().any(|e| {
        let p = e.path();
        if p.is_dir() {
            return landed(&p, needle);
        }
        let name = p.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        !name.starts_with('.') && std::fs::read_to_string(&p).is_ok_and(|t| t.contains(needle))
    })
}

async fn ingest_and_sink_over(test: &str, bootstrap: &str, props: Vec<(&'static str, String)>) {
    let landing = tempfile::tempdir().unwrap();
    let sink = serde_json::json!({"id": "landing", "type": "file", "dir": landing.path(), "batch": {"max_events": 1, "max_age": "200ms"}});
    let mut config = ConfigBuilder::new(bootstrap, Topics::new(&unique(test))).sink(sink);
    for (k, v) in &props {
        config = config.kafka_property(k, v);
    }
    let t = TestApp::start_with(&config).await;
    let e2e = fixtures::e2e(OWN);
    let body = serde_json::json!([fixtures::payment(&e2e), fixtures::bad_cpf(&fixtures::e2e(OWN))]);
    let r = t.post("application/json", body.to_string()).await;
    assert_eq!(r.status, 207, "one accepted, one dead-lettered: {}", r.json);

    let (b, p, topics) = (bootstrap.to_owned(), props.clone(), t.topics.clone());
    let (payments, dlq) =
        tokio::task::spawn_blocking(move || (read_all(&b, &p, &topics.payment), read_all(&b, &p, &topics.dlq)))
            .await
            .unwrap();
    let keys: Vec<String> =
        payments.iter().map(|m| String::from_utf8_lossy(m.key().unwrap_or_default()).into_owned()).collect();
    assert_eq!(keys, std::slice::from_ref(&e2e));
    assert_eq!(dlq.len(), 1);
    let reasons: HashMap<String, String> = crate::kafka::headers(&dlq[0]);
    assert!(reasons["pix-dlq-reason"].contains("tax_id"), "{reasons:?}");

    let deadline = Instant::now() + Duration::from_secs(30);
    while !landed(landing.path(), &e2e) {
        assert!(Instant::now() < deadline, "the file sink never landed {e2e} over the secured listener");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    t.stop().await;
}

#[actix_rt::test]
async fn ingest_and_sink_over_scram_sha_512_and_tls() {
    let s = secure();
    ingest_and_sink_over("scram", &s.sasl_ssl, s.scram(&s.password, &s.ca)).await;
}

#[actix_rt::test]
async fn ingest_and_sink_over_mutual_tls() {
    let s = secure();
    ingest_and_sink_over("mtls-kafka", &s.mtls, s.mutual()).await;
}
