//! Tests against the real public samples in `crates/pix-domain/tests/data/` (provenance in its README).
//!
//! Every identifier the BCB API Pix examples and the SPI catalog/scenario XML carry is extracted and
//! classified, and the expected verdict for each is pinned here with the reason when an official
//! example is invalid. The samples live in the crate (`tests/data/`, copied unchanged from their
//! public origins), so the tests need nothing outside the repository.

use std::collections::BTreeMap;
use std::path::PathBuf;

use regex::Regex;
use serde_json::{Value, json};

use super::tests::{OWN, ctx, run};
use crate::event::{Cnpj, Cpf, EndToEndId, MessageId, PixKey, ReturnId, TxId};

fn root() -> PathBuf {
    PathBuf::from(crate::SAMPLES)
}

fn files(dir: &str, ext: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root().join(dir)];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == ext) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Every string value under one of `keys`, anywhere in the API Pix examples.
fn api_pix_values() -> BTreeMap<String, Vec<String>> {
    fn walk(v: &Value, out: &mut BTreeMap<String, Vec<String>>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    if let Value::String(s) = v {
                        let list = out.entry(k.clone()).or_default();
                        if !list.contains(s) {
                            list.push(s.clone());
                        }
                    }
                    walk(v, out);
                }
            }
            Value::Array(a) => a.iter().for_each(|v| walk(v, out)),
            _ => {}
        }
    }
    let mut out = BTreeMap::new();
    for f in files("bcb-api-pix", "json") {
        let v: Value = serde_json::from_slice(&std::fs::read(&f).unwrap()).unwrap();
        walk(&v, &mut out);
    }
    out.values_mut().for_each(|v| v.sort());
    out
}

/// Every `<tag>value</tag>` text in the SPI XML samples (catalog 5.13.1 and pix-spi-scenarios).
fn xml_values(pattern: &str) -> Vec<String> {
    let re = Regex::new(pattern).unwrap();
    let mut out: Vec<String> = ["bcb-spi-catalog-5.13.1", "pix-spi-scenarios"]
        .iter()
        .flat_map(|d| files(d, "xml"))
        .flat_map(|f| {
            let text = std::fs::read_to_string(&f).unwrap();
            re.captures_iter(&text).map(|c| c[1].to_owned()).collect::<Vec<_>>()
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

fn verdicts<T, E>(values: &[String], parse: impl Fn(&str) -> Result<T, E>) -> Vec<(String, bool)> {
    values.iter().map(|v| (v.clone(), parse(v).is_ok())).collect()
}

fn invalid(values: &[(String, bool)]) -> Vec<&str> {
    values.iter().filter(|(_, ok)| !ok).map(|(v, _)| v.as_str()).collect()
}

fn api(key: &str) -> Vec<String> {
    api_pix_values().remove(key).unwrap_or_else(|| panic!("no {key} in the API Pix examples"))
}

/// Whitespace between tags, spelled in ASCII (the crate's regex has no Unicode `\s`).
const WS: &str = "[ \t\r\n]*";

#[test]
fn api_pix_end_to_end_ids() {
    let got = verdicts(&api("endToEndId"), str::parse::<EndToEndId>);
    assert_eq!(got.len(), 7);
    // 34 characters: the sequence part has 13 chars (pixResponse2/3, cobResponse examples).
    assert_eq!(invalid(&got), vec!["E12345678202009091221ghijk78901234", "E88631478202009091221ghijk78901234"]);
}

#[test]
fn api_pix_other_identifiers() {
    assert!(invalid(&verdicts(&api("rtrId"), str::parse::<ReturnId>)).is_empty());
    assert!(invalid(&verdicts(&api("txid"), str::parse::<TxId>)).is_empty());
    // devolução ids (`id`) share the txid rule.
    assert!(invalid(&verdicts(&api("id"), str::parse::<crate::event::RefundRequestId>)).is_empty());
    // Every key in the examples is a lower-case EVP; two are version-1 UUIDs, which is fine (not "v4").
    for key in api("chave") {
        let k = PixKey::parse(&key).unwrap();
        assert_eq!((k.classify(), k.follows_type_rule()), (crate::event::PixKeyType::Evp, true), "{key}");
    }
}

#[test]
fn api_pix_tax_ids_mostly_fail_check_digits() {
    // All have the right shape; only three CPFs and one CNPJ carry correct check digits
    // (the README warns that official samples use placeholders).
    let cpfs = api("cpf");
    assert!(cpfs.iter().all(|c| Cpf::parse_format(c).is_ok()));
    let ok: Vec<_> = cpfs.iter().filter(|c| c.parse::<Cpf>().is_ok()).map(String::as_str).collect();
    assert_eq!(ok, vec!["08577095428", "12345678909", "15311295449"]);
    assert_eq!(cpfs.len(), 12);
    let cnpjs = api("cnpj");
    assert!(cnpjs.iter().all(|c| Cnpj::parse_format(c).is_ok()));
    let ok: Vec<_> = cnpjs.iter().filter(|c| c.parse::<Cnpj>().is_ok()).map(String::as_str).collect();
    assert_eq!(ok, vec!["12345678000195"]);
    assert_eq!(cnpjs.len(), 13);
}

#[test]
fn spi_xml_identifiers() {
    let e2e = xml_values("<EndToEndId>([^<]*)<");
    // `E00000000000000000000000000` (27 chars, pix-spi-scenarios placeholder) fails the format.
    assert_eq!(invalid(&verdicts(&e2e, str::parse::<EndToEndId>)), vec!["E00000000000000000000000000"]);
    // The catalog's ids encode 1234-12-34 12:34 and the scenarios' all-zero id month 00: valid format, no date.
    for id in e2e.iter().chain(&xml_values("<OrgnlEndToEndId>([^<]*)<")).filter_map(|s| s.parse::<EndToEndId>().ok()) {
        assert_eq!(id.timestamp(), None, "{id}");
    }
    let rtr = xml_values("<RtrId>([^<]*)<");
    assert_eq!(rtr, vec!["D9999901020200120123412345678901"]);
    assert!(rtr[0].parse::<ReturnId>().is_ok());
    let msg_ids = xml_values("<BizMsgIdr>([^<]*)<");
    assert!(!msg_ids.is_empty() && invalid(&verdicts(&msg_ids, str::parse::<MessageId>)).is_empty());
    let ispbs = xml_values("<MmbId>([^<]*)<");
    assert!(ispbs.len() > 10 && invalid(&verdicts(&ispbs, str::parse::<crate::Ispb>)).is_empty());
    let txids = xml_values("<TxId>([^<]*)<");
    assert!(invalid(&verdicts(&txids, str::parse::<TxId>)).is_empty());
}

#[test]
fn spi_xml_tax_ids_and_keys() {
    // Debtor/creditor ids are placeholders (70000000000, 80000000001, 00000000000…): right shape,
    // none passes the CPF check digits (all-zero is also a repeated-digit CPF).
    let ids = xml_values(&format!("<PrvtId>{WS}<Othr>{WS}<Id>([^<]*)<"));
    assert!(ids.len() >= 10, "{ids:?}");
    for id in &ids {
        let parsed = crate::TaxId::parse_format(id).unwrap_or_else(|e| panic!("{id}: {e}"));
        assert!(!parsed.check_digits_ok(), "{id}");
    }
    let keys = xml_values(&format!("<Prxy>{WS}<Id>([^<]*)<"));
    let classified: Vec<_> = keys
        .iter()
        .map(|k| {
            let key = PixKey::parse(k).unwrap();
            (k.as_str(), key.classify().as_str(), key.follows_type_rule())
        })
        .collect();
    for (key, kind, ok) in classified {
        match key {
            "email0@exemplo.com.br" => assert_eq!((kind, ok), ("EMAIL", true)),
            // Upper-case letters break DICT's lower-case e-mail rule.
            k if k.starts_with("idContaTransacional") => assert_eq!((kind, ok), ("EMAIL", false), "{k}"),
            // UUID-like but ends in `x`, not hex: no known type.
            "4004901d-bd85-4769-8e52-cb4c42c506dx" => assert_eq!((kind, ok), ("UNKNOWN", false)),
            other => panic!("unexpected key in samples: {other}"),
        }
    }
}

/// Maps an API Pix `Pix` object onto the canonical shape (a minimal stand-in for the service's
/// adapter: we are the receiving PSP, so payee.ispb is ours).
fn canonical_from_api_pix(pix: &Value) -> Value {
    let mut v = json!({
        "schema_version": "1",
        "event_type": "TRANSFER",
        "status": "SETTLED",
        "end_to_end_id": pix["endToEndId"],
        "amount": pix["valor"],
        "event_time": pix["horario"],
        "settled_at": pix["horario"],
        "payee": {"ispb": OWN},
    });
    for (from, to) in [
        ("txid", "txid"),
        ("chave", "pix_key"),
        ("infoPagador", "remittance_info"),
        ("componentesValor", "amount_breakdown"),
    ] {
        if let Some(x) = pix.get(from) {
            v[to] = x.clone();
        }
    }
    v
}

#[test]
fn api_pix_examples_through_the_validator() {
    let read = |p: &str| -> Value { serde_json::from_slice(&std::fs::read(root().join(p)).unwrap()).unwrap() };
    let own_ctx = ctx();
    let verdict = |pix: &Value| match run(&canonical_from_api_pix(pix)) {
        Ok(events) => Ok(events[0].event.flags.iter().map(|f| f.as_str()).collect::<Vec<_>>()),
        Err(r) => Err(r.reasons.iter().map(|r| r.code.as_str()).collect::<Vec<_>>()),
    };
    assert_eq!(own_ctx.source_kind, "canonical");
    // pixResponse1: valid, but its E2E says 2020-09-09 12:21 UTC while `horario` is the next day
    // 13:03 UTC: more than 12 h apart, so it is published with E2E_TIMESTAMP_SKEW.
    let r1 = read("bcb-api-pix/examples/pixResponse1.json");
    assert_eq!(verdict(&r1), Ok(vec!["E2E_TIMESTAMP_SKEW"]));
    let e = &run(&canonical_from_api_pix(&r1)).unwrap()[0].event;
    assert_eq!((e.category, e.direction), (crate::Category::Receipt, crate::Direction::Inbound));
    // pixResponse2/3: 34-character endToEndId.
    assert_eq!(verdict(&read("bcb-api-pix/examples/pixResponse2.json")), Err(vec!["e2e.format"]));
    let r3 = read("bcb-api-pix/examples/pixResponse3.json");
    let got = verdict(&r3).unwrap_err();
    assert!(got.contains(&"e2e.format"), "{got:?}");
    // Its Saque breakdown uses the legacy `prestadorDeServicoDeSaque`: with a 32-char E2E it passes
    // with that flag (and the same next-day skew as pixResponse1).
    let mut fixed = r3.clone();
    fixed["endToEndId"] = json!("E88631478202009091221ghijk789012");
    assert_eq!(verdict(&fixed), Ok(vec!["E2E_TIMESTAMP_SKEW", "LEGACY_FIELD_NAME"]));
    // The webhook body: both items are valid 32-char ids; 20:15Z is 17:15 in São Paulo (day period).
    let body = std::fs::read(root().join("bcb-api-pix/derived/webhookPixBody.resolved.json")).unwrap();
    let items = crate::decode::split_body(&body, crate::decode::BodyFormat::Json).unwrap();
    assert_eq!(items.len(), 1, "the webhook body is one object {{pix: [...]}}");
    let webhook: Value = serde_json::from_slice(items[0].bytes).unwrap();
    for pix in webhook["pix"].as_array().unwrap() {
        assert_eq!(verdict(pix), Ok(vec![]), "{}", pix["endToEndId"]);
    }
}
