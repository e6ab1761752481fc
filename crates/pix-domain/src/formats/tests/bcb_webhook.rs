//! API Pix webhook / GET /pix decoder: every API Pix sample that is a `Pix` or a body of them.

use serde_json::{Value, json};

use super::{View, codes, ctx, err, ok, pix, run, sample, view};
use crate::formats::{Format, ItemBytes};

fn items(body: &[u8]) -> Vec<View> {
    run(Format::BcbWebhook, body).unwrap_or_else(|r| panic!("{r:?}")).iter().map(view).collect()
}

/// Wraps a single `Pix` example into a webhook body.
fn wrapped(rel: &str) -> Vec<u8> {
    let pix: Value = serde_json::from_slice(&sample(rel)).unwrap();
    serde_json::to_vec(&json!({ "pix": [pix] })).unwrap()
}

const E2E_K: &str = "E12345678202009091221kkkkkkkkkkk";
const E2E_D: &str = "E87654321202009091221dfghi123456";
const E2E_A: &str = "E12345678202009091221abcdef12345";

#[test]
fn webhook_body_sample() {
    // BCB's webhook example: devolucoes is an object (accepted, flagged). Item numbering: pix[0]=0,
    // its devolução=1, pix[1]=2. pix[1]'s payer ISPB (87654321) is also one of ours: AppHdr-less
    // API Pix items are receipts by definition, so it is NOT split into payment + receipt.
    let body = sample("bcb-api-pix/derived/webhookPixBody.resolved.json");
    let got = run(Format::BcbWebhook, &body).unwrap();
    assert_eq!(
        got.iter().map(view).collect::<Vec<_>>(),
        vec![
            ok("receipt", "INBOUND", E2E_K, None, &[]),
            ok("refund", "OUTBOUND", E2E_K, Some("D12345678202009091221abcdf098765"), &["DEVOLUCOES_NOT_ARRAY"]),
            ok("receipt", "INBOUND", E2E_D, None, &[]),
        ]
    );
    assert!(got.iter().all(|i| i.raw == ItemBytes::Whole));
    assert_eq!(got.iter().map(|i| i.index).collect::<Vec<_>>(), [0, 1, 2]);
    let receipt = &pix(&got[0], 0);
    assert_eq!(receipt.payee.ispb.as_ref().unwrap().as_str(), "99999010"); // our first own ISPB
    assert_eq!(receipt.payer.as_ref().unwrap().ispb.as_ref().unwrap().as_str(), "12345678");
    assert_eq!((receipt.source.kind.as_str(), receipt.source.item_index), ("bcb_webhook", 0));
    assert_eq!(receipt.status.as_str(), "SETTLED");
    let refund = &pix(&got[1], 0);
    assert_eq!(refund.status.as_str(), "IN_PROCESS");
    assert_eq!(refund.return_reason_code.map(|c| c.as_str()), Some("MD06"));
    assert_eq!(refund.refund_nature.map(|c| c.as_str()), Some("ORIGINAL"));
    assert_eq!(refund.refund_request_id.as_ref().map(|r| r.as_str()), Some("123ABC"));
    assert_eq!(refund.event_id.as_str(), "D12345678202009091221abcdf098765:RETURN:IN_PROCESS");
}

#[test]
fn get_pix_sample() {
    // GET /pix: pixResponse1 (+ its devolução) is valid but its horario is the next day: the E2E
    // minute is > 12 h away (skew flag). pixResponse2/3 carry 34-character endToEndIds (invalid
    // official examples); pixResponse3 also uses the legacy `prestadorDeServicoDeSaque`.
    let body = sample("bcb-api-pix/derived/getPix1.resolved.json");
    let got = run(Format::BcbWebhook, &body).unwrap();
    assert_eq!(pix(&got[0], 0).source.kind, "bcb_get_pix");
    let skew = &["E2E_TIMESTAMP_SKEW"];
    assert_eq!(
        got.iter().map(view).collect::<Vec<_>>(),
        vec![
            ok("receipt", "INBOUND", E2E_A, None, skew),
            ok("refund", "OUTBOUND", E2E_A, Some("D12345678202009091000abcde123456"), skew),
            err(&["e2e.format"]),
            err(&["e2e.format"]),
        ]
    );
    // The id is still reported (it is an id, not PII) so the DLQ report names the item.
    assert_eq!(got[2].end_to_end_id.as_deref(), Some("E12345678202009091221ghijk78901234"));
    // The unresolved spec example holds `allOf/$ref` placeholders instead of Pix objects.
    let raw = run(Format::BcbWebhook, &sample("bcb-api-pix/examples/getPix1.json")).unwrap();
    assert_eq!(raw.len(), 3);
    for item in &raw {
        let reasons = item.verdict.as_ref().unwrap_err();
        assert!(codes(reasons).contains(&"field.missing.end_to_end_id"), "{reasons:?}");
    }
}

#[test]
fn single_pix_examples_wrapped_in_a_webhook_body() {
    let skew = &["E2E_TIMESTAMP_SKEW"][..];
    let table: &[(&str, Vec<View>)] = &[
        (
            "pixWebhook1.json",
            vec![
                ok("receipt", "INBOUND", E2E_K, None, &[]),
                ok("refund", "OUTBOUND", E2E_K, Some("D12345678202009091221abcdf098765"), &["DEVOLUCOES_NOT_ARRAY"]),
            ],
        ),
        ("pixWebhook2.json", vec![ok("receipt", "INBOUND", E2E_D, None, &[])]),
        (
            "pixResponse1.json",
            vec![
                ok("receipt", "INBOUND", E2E_A, None, skew),
                ok("refund", "OUTBOUND", E2E_A, Some("D12345678202009091000abcde123456"), skew),
            ],
        ),
        ("pixResponse2.json", vec![err(&["e2e.format"])]),
        ("pixResponse3.json", vec![err(&["e2e.format"])]),
    ];
    for (file, want) in table {
        assert_eq!(&items(&wrapped(&format!("bcb-api-pix/examples/{file}"))), want, "{file}");
    }
    // pixResponse3 with a 32-char id: the Saque breakdown passes with LEGACY_FIELD_NAME.
    let mut fixed: Value = serde_json::from_slice(&sample("bcb-api-pix/examples/pixResponse3.json")).unwrap();
    fixed["endToEndId"] = json!("E88631478202009091221ghijk789012");
    let got = items(&serde_json::to_vec(&json!({ "pix": [fixed] })).unwrap());
    assert_eq!(
        got,
        vec![ok(
            "receipt",
            "INBOUND",
            "E88631478202009091221ghijk789012",
            None,
            &["E2E_TIMESTAMP_SKEW", "LEGACY_FIELD_NAME"]
        )]
    );
}

#[test]
fn non_webhook_api_pix_samples_are_refused_whole() {
    // Every other API Pix example is not a webhook body (a charge, an error, a devolução alone, a
    // webhook config): no `pix` array, or `pix` is not an array. Whole-message refusal.
    let dir = format!("{}bcb-api-pix/examples", super::SAMPLES);
    let mut refused = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if name == "getPix1.json" {
            continue; // has a `pix` array (of $ref placeholders): per-item verdicts, tested above
        }
        let body = std::fs::read(&path).unwrap();
        match run(Format::BcbWebhook, &body) {
            Err(r) => {
                refused += 1;
                let first = r[0].code.as_str();
                assert!(
                    ["field.missing.pix", "payload.not_object", "field.type.pix"].contains(&first),
                    "{name}: {r:?}"
                );
            }
            // Charges (cob) that were paid carry a `pix` array: their items are real Pix.
            Ok(_) => assert!(name.starts_with("cob") || name.starts_with("get"), "{name}"),
        }
    }
    assert!(refused > 60, "{refused}");
}

#[test]
fn deviations_and_type_errors() {
    let body = json!({"pix": [
        {"endToEndId": E2E_K, "valor": 110.00, "horario": "2020-09-09T20:15:00.358Z"},
        {"endToEndId": E2E_K, "valor": "110.00", "horario": "2020-09-09T20:15:00.358Z", "campoNovo": {"x": 1},
         "componentesValor": {"original": {"valor": "100.00"}, "saque": {"valor": "10.00", "modalidadeAgente": "AGNOVO"}},
         "devolucoes": [
            {"id": "a1", "rtrId": "D12345678202009091221abcdf098765", "valor": "100.00", "status": "ESTORNADO_V2",
             "natureza": "MED_FRAUDE", "horario": {"solicitacao": "2020-09-09T20:15:00.358Z",
             "liquidacao": "2020-09-09T20:16:00Z"}, "motivo": "golpe"},
            {"id": "a2", "rtrId": "D12345678202009091221abcdf098766", "valor": "20.00", "status": "DEVOLVIDO",
             "natureza": "NOVA_NATUREZA", "horario": {"solicitacao": "2020-09-09T20:15:00.358Z"}},
            "not an object"
         ]},
        7
    ]});
    let got = run(Format::BcbWebhook, &serde_json::to_vec(&body).unwrap()).unwrap();
    let v: Vec<View> = got.iter().map(view).collect();
    // `valor` as a JSON number is a type error, not a float conversion.
    assert_eq!(v[0], err(&["field.type.amount"]));
    // Unknown member ignored, unknown modalidadeAgente dropped with a flag.
    assert_eq!(v[1], ok("receipt", "INBOUND", E2E_K, None, &["UNKNOWN_ENUM_VALUE"]));
    // Unknown status → UNKNOWN + flag; devoluções (120.00) exceed the Pix (110.00).
    assert_eq!(
        v[2],
        ok(
            "refund",
            "OUTBOUND",
            E2E_K,
            Some("D12345678202009091221abcdf098765"),
            &["UNKNOWN_ENUM_VALUE", "REFUND_EXCEEDS_ORIGINAL"]
        )
    );
    let med = &pix(&got[2], 0);
    assert_eq!((med.status.as_str(), med.is_med), ("UNKNOWN", true));
    assert_eq!(med.return_reason_code.map(|c| c.as_str()), Some("FR01"));
    assert_eq!(med.settled_at.map(|t| t.to_string()).as_deref(), Some("2020-09-09T20:16:00.000Z"));
    assert_eq!(med.event_time.to_string(), "2020-09-09T20:16:00.000Z");
    assert_eq!(
        v[3],
        ok(
            "refund",
            "OUTBOUND",
            E2E_K,
            Some("D12345678202009091221abcdf098766"),
            &["UNKNOWN_ENUM_VALUE", "REFUND_EXCEEDS_ORIGINAL"]
        )
    );
    assert_eq!(v[4], err(&["field.type.devolucoes"]));
    assert_eq!(v[5], err(&["field.type.pix"]));
    assert_eq!(got.iter().map(|i| i.index).collect::<Vec<_>>(), [0, 1, 2, 3, 4, 5]);
}

#[test]
fn envelope_errors() {
    for (body, code) in [
        (&b"not json"[..], "payload.unparseable"),
        (b"[]", "payload.not_object"),
        (b"{}", "field.missing.pix"),
        (b"{\"pix\": {}}", "field.type.pix"),
        (b"{\"pix\": [], \"pix\": []}", "payload.duplicate_key"),
    ] {
        assert_eq!(codes(&run(Format::BcbWebhook, body).unwrap_err())[0], code, "{body:?}");
    }
    assert!(run(Format::BcbWebhook, b"{\"pix\": []}").unwrap().is_empty());
    // No own ISPB configured: nothing can be a receipt of ours.
    let mut c = ctx();
    c.own_ispbs.clear();
    let got = crate::formats::decode(Format::BcbWebhook, &wrapped("bcb-api-pix/examples/pixWebhook2.json"), &c);
    assert_eq!(view(&got.unwrap()[0]), err(&["category.undeterminable"]));
}

#[test]
fn details_never_quote_pii() {
    let body = json!({"pix": [{"endToEndId": E2E_K, "valor": "1.00", "horario": "2020-09-09T20:15:00Z",
        "chave": "52998224724", "infoPagador": "x".repeat(200), "pagador": {"cpf": "52998224724"}}]});
    let got = run(Format::BcbWebhook, &serde_json::to_vec(&body).unwrap()).unwrap();
    let reasons = got[0].verdict.as_ref().unwrap_err();
    assert_eq!(codes(reasons), ["text.too_long"]);
    for r in reasons {
        assert!(!r.detail.contains("52998224724") && !r.detail.contains("xxxx"), "{r:?}");
    }
}
