//! Realistic synthetic Pix events in the canonical shape, valid and (at a configured share)
//! invalid, for the generator source, `pix-ingest gen` and benchmarks.
//!
//! Valid tax ids are drawn from pools built at start: random bases whose check digits are found by
//! asking the domain validator (so the generator never carries a second copy of the algorithm).

use chrono::{SecondsFormat, Utc};
use pix_domain::{Cnpj, Cpf};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

const POOL: usize = 512;
const FIRST_NAMES: &[&str] =
    &["Maria", "José", "Ana", "João", "Francisca", "Antônio", "Adriana", "Carlos", "Juliana", "Paulo"];
const LAST_NAMES: &[&str] =
    &["Silva", "Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira", "Alves", "Pereira", "Lima", "Gomes"];
const OTHER_ISPBS: &[&str] = &["00000000", "00360305", "60746948", "60701190", "90400888", "18236120", "00416968"];

/// Generates canonical events.
pub struct Synth {
    rng: StdRng,
    own_ispb: String,
    invalid_ratio: f64,
    cpfs: Vec<String>,
    cnpjs: Vec<String>,
    seq: u64,
}

impl Synth {
    /// A generator for PSP `own_ispb`; `invalid_ratio` in [0, 1] of events break a hard rule.
    pub fn new(seed: u64, own_ispb: &str, invalid_ratio: f64) -> Self {
        let mut rng = StdRng::seed_from_u64(seed);
        let cpfs = (0..POOL).map(|_| valid_by_search(&mut rng, 9, |s| s.parse::<Cpf>().is_ok())).collect();
        let cnpjs = (0..POOL).map(|_| valid_by_search(&mut rng, 12, |s| s.parse::<Cnpj>().is_ok())).collect();
        Self { rng, own_ispb: own_ispb.to_owned(), invalid_ratio: invalid_ratio.clamp(0.0, 1.0), cpfs, cnpjs, seq: 0 }
    }

    /// The next event as JSON text, and whether it was made invalid on purpose.
    pub fn next_event(&mut self) -> (Vec<u8>, bool) {
        let mut v = self.valid();
        let invalid = self.rng.random_bool(self.invalid_ratio);
        if invalid {
            self.break_it(&mut v);
        }
        (serde_json::to_vec(&v).unwrap_or_default(), invalid)
    }

    fn e2e(&mut self, ispb: &str) -> String {
        self.seq += 1;
        let tail: String = (0..4).map(|_| char::from(b'a' + self.rng.random_range(0..26u8))).collect();
        format!("E{ispb}{}{tail}{:07}", Utc::now().format("%Y%m%d%H%M"), self.seq % 10_000_000)
    }

    fn party(&mut self, ispb: &str) -> Value {
        let person = self.rng.random_bool(0.8);
        let tax_id = if person {
            self.cpfs[self.rng.random_range(0..POOL)].clone()
        } else {
            self.cnpjs[self.rng.random_range(0..POOL)].clone()
        };
        let name = format!(
            "{} {}",
            FIRST_NAMES[self.rng.random_range(0..FIRST_NAMES.len())],
            LAST_NAMES[self.rng.random_range(0..LAST_NAMES.len())]
        );
        let account_type = ["CACC", "SVGS", "TRAN"][self.rng.random_range(0..3)];
        json!({
            "ispb": ispb,
            "tax_id": tax_id,
            "name": name,
            "account": {
                "branch": format!("{:04}", self.rng.random_range(1..9999)),
                "number": format!("{}", self.rng.random_range(10_000..99_999_999u32)),
                "type": account_type,
            }
        })
    }

    fn amount(&mut self) -> String {
        // Mostly small amounts, a long tail of large ones (log-uniform from R$ 0.01 to R$ 100,000).
        let cents = 10f64.powf(self.rng.random_range(0.0..7.0)).round().max(1.0) as i64;
        format!("{}.{:02}", cents / 100, cents % 100)
    }

    fn key(&mut self, tax_id: &str) -> (String, &'static str) {
        match self.rng.random_range(0..4) {
            0 => (tax_id.to_owned(), "DICT"),
            1 => (format!("+55{}9{:08}", self.rng.random_range(11..99), self.rng.random_range(0..99_999_999)), "DICT"),
            2 => (format!("cliente{}@example.com.br", self.rng.random_range(0..100_000)), "DICT"),
            _ => {
                let b: [u8; 16] = self.rng.random();
                let h = hex::encode(b);
                (format!("{}-{}-4{}-a{}-{}", &h[0..8], &h[8..12], &h[13..16], &h[17..20], &h[20..32]), "QRDN")
            }
        }
    }

    fn valid(&mut self) -> Value {
        let now = Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true);
        let other = OTHER_ISPBS[self.rng.random_range(0..OTHER_ISPBS.len())].to_owned();
        let own = self.own_ispb.clone();
        let roll = self.rng.random_range(0..100);
        let amount = self.amount();
        if roll < 45 {
            let payer = self.party(&own);
            let payee = self.party(&other);
            let tax = payee["tax_id"].as_str().unwrap_or_default().to_owned();
            let (key, initiation) = self.key(&tax);
            json!({"schema_version": "1", "event_type": "TRANSFER", "end_to_end_id": self.e2e(&own),
                   "amount": amount, "event_time": now, "status": "PENDING", "payer": payer, "payee": payee,
                   "pix_key": key, "initiation_type": initiation, "purpose": "IPAY",
                   "priority": "HIGH", "service_level": "PAGPRI"})
        } else if roll < 90 {
            let payer = self.party(&other);
            let payee = self.party(&own);
            json!({"schema_version": "1", "event_type": "TRANSFER", "end_to_end_id": self.e2e(&other),
                   "amount": amount, "event_time": now, "status": "SETTLED", "payer": payer, "payee": payee,
                   "initiation_type": "MANU"})
        } else {
            let e2e = self.e2e(&other);
            let rtr = self.e2e(&own).replacen('E', "D", 1);
            let reason = ["MD06", "BE08", "FR01", "SL02"][self.rng.random_range(0..4)];
            json!({"schema_version": "1", "event_type": "RETURN", "end_to_end_id": e2e, "return_id": rtr,
                   "return_reason_code": reason, "amount": amount, "event_time": now, "status": "IN_PROCESS",
                   "payer": {"ispb": other}, "payee": {"ispb": own}})
        }
    }

    fn break_it(&mut self, v: &mut Value) {
        match self.rng.random_range(0..5) {
            0 => v["end_to_end_id"] = json!(format!("{} ", v["end_to_end_id"].as_str().unwrap_or_default())),
            1 => v["amount"] = json!("0.00"),
            2 => v["event_time"] = json!("2026-02-30T10:00:00"),
            3 => v["payee"]["ispb"] = json!("9999901a"),
            _ => {
                if let Some(o) = v.as_object_mut() {
                    o.remove("status");
                }
            }
        }
    }
}

/// A number of `len` random digits plus the two check digits `ok` accepts.
fn valid_by_search(rng: &mut StdRng, len: usize, ok: impl Fn(&str) -> bool) -> String {
    loop {
        let base: String = (0..len).map(|_| char::from(b'0' + rng.random_range(0..10u8))).collect();
        if base.bytes().all(|b| b == base.as_bytes()[0]) {
            continue;
        }
        for dv in 0..100 {
            let candidate = format!("{base}{dv:02}");
            if ok(&candidate) {
                return candidate;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tax_id_pools_are_valid() {
        let s = Synth::new(7, "99999010", 0.0);
        assert!(s.cpfs.iter().all(|c| c.parse::<Cpf>().is_ok()));
        assert!(s.cnpjs.iter().all(|c| c.parse::<Cnpj>().is_ok()));
    }
}
