//! The integration tests' config, built from typed knobs instead of patched text.
//!
//! A knob is a field here, so it always reaches the rendered text; the text (JSON, which is YAML)
//! then goes through the app's own loader (`harness::load_config`), which refuses unknown keys, so
//! a mistyped key in a source or sink entry fails the test instead of being silently ignored.
//! Sources and sinks are given as JSON entries, exactly as a config file would hold them.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::{Value, json};

use crate::fixtures::OWN;
use crate::harness::{CheckDigitPolicy, Config, LogFormat, Topics, bootstrap, load_config, unique};

/// The admin token of a builder's config unless `no_admin_token` is called.
pub const ADMIN_TOKEN: &str = "t0k3n";

/// Everything a test can set; `new` gives the defaults every test shares.
#[derive(Clone, Debug)]
pub struct ConfigBuilder {
    pub bootstrap: String,
    pub topics: Topics,
    delivery_timeout: Duration,
    kafka_properties: BTreeMap<String, String>,
    /// enabled, partitions, replication factor
    create_topics: (bool, i32, i32),
    own_ispbs: Vec<String>,
    tax_id_check_digits: Option<CheckDigitPolicy>,
    /// The `api` HTTP source: where it listens and its request deadline (None: no such source).
    api: Option<(SocketAddr, Duration)>,
    /// `max_in_flight_records` of the `api` source.
    api_max_in_flight: Option<usize>,
    /// More fields of the `api` source entry (`max_items_per_request`, `body_read_timeout`, ...).
    api_options: BTreeMap<String, Value>,
    /// `admin.allowed_env`.
    admin_allowed_env: Option<Vec<String>>,
    /// `duplicates.window`.
    duplicates_window: Option<Duration>,
    /// `formats.canonical.unknown_fields`.
    unknown_fields: Option<String>,
    sources: Vec<Value>,
    sinks: Vec<Value>,
    backoff: (Duration, Duration),
    max_restarts: Option<u32>,
    restart_window: Option<Duration>,
    admin_listen: SocketAddr,
    admin_token: Option<String>,
    state_file: PathBuf,
    log: (LogFormat, String),
    otlp_endpoint: Option<String>,
    shutdown_grace: Option<Duration>,
}

impl ConfigBuilder {
    /// A config for the broker at `bootstrap` writing to `topics`: one HTTP source `api` on an
    /// ephemeral port, an admin listener with a token, quick restarts, quiet logs.
    pub fn new(bootstrap: &str, topics: Topics) -> Self {
        let state_file = std::env::temp_dir().join(format!("{}.admin-state.json", topics.dlq));
        Self {
            bootstrap: bootstrap.to_owned(),
            topics,
            delivery_timeout: Duration::from_secs(5),
            kafka_properties: BTreeMap::new(),
            create_topics: (true, 3, 1),
            own_ispbs: vec![OWN.to_owned()],
            tax_id_check_digits: None,
            api: Some((SocketAddr::from(([127, 0, 0, 1], 0)), Duration::from_secs(8))),
            api_max_in_flight: None,
            api_options: BTreeMap::new(),
            admin_allowed_env: None,
            duplicates_window: None,
            unknown_fields: None,
            sources: Vec::new(),
            sinks: Vec::new(),
            backoff: (Duration::from_millis(50), Duration::from_secs(1)),
            max_restarts: None,
            restart_window: None,
            admin_listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            admin_token: Some(ADMIN_TOKEN.to_owned()),
            state_file,
            log: (LogFormat::Pretty, "warn".to_owned()),
            otlp_endpoint: None,
            shutdown_grace: None,
        }
    }

    /// `new` on the shared test broker with topics of their own for `test`.
    pub fn for_test(test: &str) -> Self {
        Self::new(&bootstrap(), Topics::new(&unique(test)))
    }

    pub fn delivery_timeout(mut self, timeout: Duration) -> Self {
        self.delivery_timeout = timeout;
        self
    }

    pub fn kafka_property(mut self, name: &str, value: &str) -> Self {
        self.kafka_properties.insert(name.to_owned(), value.to_owned());
        self
    }

    pub fn create_topics(mut self, enabled: bool, partitions: i32, replication_factor: i32) -> Self {
        self.create_topics = (enabled, partitions, replication_factor);
        self
    }

    pub fn own_ispbs(mut self, ispbs: &[&str]) -> Self {
        self.own_ispbs = ispbs.iter().map(|s| (*s).to_owned()).collect();
        self
    }

    pub fn tax_id_check_digits(mut self, policy: CheckDigitPolicy) -> Self {
        self.tax_id_check_digits = Some(policy);
        self
    }

    /// The `api` source listens on `127.0.0.1:port` instead of an ephemeral port.
    pub fn api_port(mut self, port: u16) -> Self {
        self.api_mut().0 = SocketAddr::from(([127, 0, 0, 1], port));
        self
    }

    pub fn api_request_timeout(mut self, timeout: Duration) -> Self {
        self.api_mut().1 = timeout;
        self
    }

    pub fn api_max_in_flight_records(mut self, n: usize) -> Self {
        self.api_max_in_flight = Some(n);
        self
    }

    /// One more field of the `api` source entry, as the config file would hold it.
    pub fn api_option(mut self, field: &str, value: Value) -> Self {
        self.api_options.insert(field.to_owned(), value);
        self
    }

    /// `admin.allowed_env`: the variables an admin-submitted entry may reference.
    pub fn admin_allowed_env(mut self, names: &[&str]) -> Self {
        self.admin_allowed_env = Some(names.iter().map(|s| (*s).to_owned()).collect());
        self
    }

    /// `duplicates.window` (`0s`: no duplicate answers, every copy is produced).
    pub fn duplicates_window(mut self, window: Duration) -> Self {
        self.duplicates_window = Some(window);
        self
    }

    /// `formats.canonical.unknown_fields`: `flag` or `reject`.
    pub fn unknown_fields(mut self, policy: &str) -> Self {
        self.unknown_fields = Some(policy.to_owned());
        self
    }

    /// No `api` source (a test whose sources are all its own).
    pub fn without_api(mut self) -> Self {
        self.api = None;
        self
    }

    /// One more entry of `sources:`, after `api`.
    pub fn source(mut self, entry: Value) -> Self {
        self.sources.push(entry);
        self
    }

    /// One more entry of `sinks:`.
    pub fn sink(mut self, entry: Value) -> Self {
        self.sinks.push(entry);
        self
    }

    pub fn backoff_max(mut self, max: Duration) -> Self {
        self.backoff.1 = max;
        self
    }

    pub fn max_restarts(mut self, n: u32) -> Self {
        self.max_restarts = Some(n);
        self
    }

    pub fn restart_window(mut self, window: Duration) -> Self {
        self.restart_window = Some(window);
        self
    }

    /// No admin token: every mutating admin call is refused.
    pub fn no_admin_token(mut self) -> Self {
        self.admin_token = None;
        self
    }

    pub fn admin_state_file(mut self, path: &Path) -> Self {
        self.state_file = path.to_owned();
        self
    }

    pub fn admin_listen(mut self, addr: SocketAddr) -> Self {
        self.admin_listen = addr;
        self
    }

    pub fn log(mut self, format: LogFormat, level: &str) -> Self {
        self.log = (format, level.to_owned());
        self
    }

    pub fn otlp_endpoint(mut self, url: &str) -> Self {
        self.otlp_endpoint = Some(url.to_owned());
        self
    }

    pub fn shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = Some(grace);
        self
    }

    fn api_mut(&mut self) -> &mut (SocketAddr, Duration) {
        self.api.as_mut().expect("this config has no `api` source (without_api was called)")
    }

    /// The config text.
    pub fn render(&self) -> String {
        let mut doc = json!({
            "kafka": self.kafka(),
            "topics": {
                "payment": self.topics.payment,
                "receipt": self.topics.receipt,
                "refund": self.topics.refund,
                "fraud_report": self.topics.fraud_report,
                "dead_letter": self.topics.dlq,
            },
            "pix": { "own_ispbs": self.own_ispbs },
            "sources": self.api_entry().into_iter().chain(self.sources.iter().cloned()).collect::<Vec<_>>(),
            "sinks": self.sinks,
            "telemetry": { "log_format": self.log.0, "log_level": self.log.1 },
            "admin": { "listen": self.admin_listen.to_string(), "state_file": self.state_file },
            "supervision": { "backoff_initial": duration(self.backoff.0), "backoff_max": duration(self.backoff.1) },
        });
        if let Some(policy) = self.tax_id_check_digits {
            doc["pix"]["tax_id_check_digits"] = json!(policy);
        }
        if let Some(url) = &self.otlp_endpoint {
            doc["telemetry"]["otlp_endpoint"] = json!(url);
        }
        if let Some(token) = &self.admin_token {
            doc["admin"]["token"] = json!(token);
        }
        if let Some(names) = &self.admin_allowed_env {
            doc["admin"]["allowed_env"] = json!(names);
        }
        if let Some(n) = self.max_restarts {
            doc["supervision"]["max_restarts"] = json!(n);
        }
        if let Some(window) = self.restart_window {
            doc["supervision"]["window"] = duration(window);
        }
        if let Some(window) = self.duplicates_window {
            doc["duplicates"] = json!({ "window": duration(window) });
        }
        if let Some(policy) = &self.unknown_fields {
            doc["formats"] = json!({ "canonical": { "unknown_fields": policy } });
        }
        // No drain delay in tests (a test of the drain sets its own): SIGTERM stops at once.
        doc["shutdown"] = json!({ "drain_delay": "0s" });
        if let Some(grace) = self.shutdown_grace {
            doc["shutdown"]["grace"] = duration(grace);
        }
        serde_json::to_string_pretty(&doc).unwrap()
    }

    fn kafka(&self) -> Value {
        let (enabled, partitions, replication_factor) = self.create_topics;
        let mut kafka = json!({
            "bootstrap_servers": self.bootstrap,
            "delivery_timeout": duration(self.delivery_timeout),
            "create_topics": { "enabled": enabled, "partitions": partitions, "replication_factor": replication_factor },
        });
        if !self.kafka_properties.is_empty() {
            kafka["properties"] = json!(self.kafka_properties);
        }
        kafka
    }

    fn api_entry(&self) -> Option<Value> {
        self.api.map(|(listen, timeout)| {
            let mut api = json!({ "id": "api", "type": "http", "listen": listen.to_string(), "request_timeout": duration(timeout) });
            if let Some(n) = self.api_max_in_flight {
                api["max_in_flight_records"] = json!(n);
            }
            for (field, value) in &self.api_options {
                api[field] = value.clone();
            }
            api
        })
    }

    /// The config, loaded by the app's own loader (panics with its errors).
    pub fn load(&self) -> Config {
        load_config("test-config.yaml", &self.render())
    }

    /// Writes the config to `path` for the real binary, after loading it here first so that a
    /// bad knob fails in the test rather than in the child's log.
    pub fn write(&self, path: &Path) -> PathBuf {
        self.load();
        std::fs::write(path, self.render()).unwrap();
        path.to_owned()
    }
}

fn duration(d: Duration) -> Value {
    json!(humantime::format_duration(d).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every knob, set to a value other than its default, is what the loaded config holds.
    #[test]
    fn every_knob_reaches_the_loaded_config() {
        let config = ConfigBuilder::new("127.0.0.1:9", Topics::new("knobs"))
            .delivery_timeout(Duration::from_secs(2))
            .kafka_property("linger.ms", "7")
            .create_topics(false, 5, 2)
            .own_ispbs(&["12345678", OWN])
            .tax_id_check_digits(CheckDigitPolicy::Warn)
            .api_port(18080)
            .api_request_timeout(Duration::from_secs(4))
            .source(json!({ "id": "synth", "type": "generator", "total": 1 }))
            .sink(json!({ "id": "landing", "type": "file", "dir": "/tmp/landing" }))
            .backoff_max(Duration::from_millis(200))
            .max_restarts(3)
            .restart_window(Duration::from_secs(90))
            .admin_state_file(Path::new("/tmp/knobs-state.json"))
            .admin_listen(SocketAddr::from(([127, 0, 0, 1], 19090)))
            .log(LogFormat::Json, "debug")
            .otlp_endpoint("http://127.0.0.1:4318/v1/traces")
            .shutdown_grace(Duration::from_secs(3))
            .api_max_in_flight_records(7)
            .duplicates_window(Duration::from_secs(60))
            .unknown_fields("reject")
            .api_option("max_items_per_request", json!(9))
            .admin_allowed_env(&["HOME"])
            .load();
        let v = serde_json::to_value(&config).unwrap();
        let at = |path: &str| v.pointer(path).unwrap_or_else(|| panic!("no {path} in {v:#}")).clone();
        assert_eq!(at("/kafka/bootstrap_servers"), "127.0.0.1:9");
        assert_eq!(at("/kafka/delivery_timeout"), "2s");
        assert_eq!(at("/kafka/properties"), json!({ "linger.ms": "7" }));
        assert_eq!(at("/kafka/create_topics"), json!({ "enabled": false, "partitions": 5, "replication_factor": 2 }));
        assert_eq!(at("/topics/dead_letter"), "knobs.dlq");
        assert_eq!(at("/pix/own_ispbs"), json!(["12345678", OWN]));
        assert_eq!(at("/pix/tax_id_check_digits"), "warn");
        assert_eq!((at("/sources/0/id"), at("/sources/0/listen")), (json!("api"), json!("127.0.0.1:18080")));
        assert_eq!(at("/sources/0/request_timeout"), "4s");
        assert_eq!((at("/sources/1/id"), at("/sources/1/total")), (json!("synth"), json!(1)));
        assert_eq!((at("/sinks/0/id"), at("/sinks/0/dir")), (json!("landing"), json!("/tmp/landing")));
        assert_eq!(
            at("/supervision"),
            json!({ "backoff_initial": "50ms", "backoff_max": "200ms",
                                                 "max_restarts": 3, "window": "1m 30s" })
        );
        assert_eq!(at("/admin/state_file"), "/tmp/knobs-state.json");
        assert_eq!(at("/admin/listen"), "127.0.0.1:19090");
        assert_eq!(at("/admin/token"), "**redacted**", "a token is configured");
        assert_eq!(at("/telemetry/log_format"), "json");
        assert_eq!(at("/telemetry/log_level"), "debug");
        assert_eq!(at("/telemetry/otlp_endpoint"), "http://127.0.0.1:4318/v1/traces");
        assert_eq!(at("/shutdown/grace"), "3s");
        assert_eq!(at("/sources/0/max_in_flight_records"), 7);
        assert_eq!(at("/duplicates/window"), "1m");
        assert_eq!(at("/formats/canonical/unknown_fields"), "reject");
        assert_eq!(at("/sources/0/max_items_per_request"), 9);
        assert_eq!(at("/admin/allowed_env"), json!(["HOME"]));

        let bare = ConfigBuilder::new("127.0.0.1:9", Topics::new("bare")).without_api().no_admin_token().load();
        let bare = serde_json::to_value(&bare).unwrap();
        assert_eq!((&bare["sources"], &bare["admin"]["token"]), (&json!([]), &Value::Null));
    }

    #[test]
    #[should_panic(expected = "unknown field")]
    fn a_mistyped_key_in_an_entry_fails_loudly() {
        ConfigBuilder::new("127.0.0.1:9", Topics::new("typo"))
            .sink(json!({ "id": "landing", "type": "file", "dir": "/tmp/x", "batch": { "max_evnts": 5 } }))
            .load();
    }
}
