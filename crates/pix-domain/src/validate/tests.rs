//! Validator tests: one block per rule, valid and invalid examples from docs/pix-domain.md §2–§5, §8.

use chrono::{TimeZone, Utc};
use serde_json::{Value, json};

use super::*;
use crate::event::{Category, Direction, Flag};

pub(crate) const OWN: &str = "87654321";
pub(crate) const OTHER: &str = "12345678";

/// The context of these tests: the closed-contract policy for unknown members, so every rule's
/// test also shows that no stray member slips through (`unknown_members_are_flagged_by_default`
/// pins the default policy).
pub(crate) fn ctx() -> ValidationContext {
    let mut c = ValidationContext::new(
        vec![OWN.parse().unwrap(), "99999A04".parse().unwrap()],
        "http-canonical",
        Utc.with_ymd_and_hms(2020, 9, 9, 20, 20, 0).unwrap(),
    );
    c.item_index = 3;
    c.unknown_fields = UnknownFields::Reject;
    c
}

/// A valid outbound payment (payer = own ISPB 87654321 from the E2E).
pub(crate) fn base() -> Value {
    json!({
        "schema_version": "1",
        "event_type": "TRANSFER",
        "end_to_end_id": "E87654321202009091221dfghi123456",
        "txid": "971122d8f37211eaadc10242ac120002",
        "amount": "110.00",
        "event_time": "2020-09-09T09:22:00.358-03:00",
        "status": "SETTLED",
        "payer": {"ispb": OWN, "tax_id": "52998224725", "name": "Fulano da Silva",
                  "account": {"branch": "0001", "number": "5009876", "type": "CACC"}},
        "payee": {"ispb": OTHER, "tax_id": "12ABC34501DE35"},
        "pix_key": "email0@exemplo.com.br",
        "initiation_type": "DICT",
        "priority": "HIGH",
        "service_level": "PAGPRI",
        "purpose": "IPAY",
        "remittance_info": "Reforma da casa"
    })
}

/// Validates `v`; every accepted event is also checked against the JSON Schema file.
pub(crate) fn run(v: &Value) -> Result<Vec<Accepted>, Rejection> {
    let out = validate_canonical(&serde_json::to_vec(v).unwrap(), &ctx());
    for accepted in out.iter().flatten() {
        crate::event::assert_valid(&accepted.event);
    }
    out
}

/// A refund with every optional member the validator can fill.
pub(crate) fn maximal_event() -> crate::PixEvent {
    let comp = |v: &str| json!({"valor": v, "modalidadeAgente": "AGTEC", "prestadorDoServicoDeSaque": "12345678"});
    let party = |ispb: &str, tax: &str| {
        json!({"ispb": ispb, "tax_id": tax, "tax_id_type": if tax.len() == 11 { "CPF" } else { "CNPJ" }, "name": "Nome",
               "account": {"branch": "1", "number": "12345", "type": "TRAN"}})
    };
    let v = with(refund_base(), "payer", party(OTHER, "52998224725"));
    let v = with(v, "payee", party(OWN, "12ABC34501DE35"));
    let v = with(
        v,
        "amount_breakdown",
        json!({"original": comp("10.00"), "saque": comp("1.00"), "troco": comp("1.00"),
        "juros": comp("1.00"), "multa": comp("1.00"), "desconto": comp("2.00"), "abatimento": comp("2.00")}),
    );
    let extra = [
        ("refund_request_id", json!("123ABC")),
        ("message_id", json!("M0003816612345678901234567890123")),
        ("settled_at", json!("2020-09-09T12:22:01Z")),
        ("message_created_at", json!("2020-09-09T12:22:00Z")),
        ("status_reason_code", json!("AM04")),
        ("status_reason_text", json!("texto")),
        ("initiator_cnpj", json!("11222333000181")),
        ("refund_nature", json!("MED_FRAUDE")),
        ("amount_cents", json!(1000)),
        ("event_id", json!("D87654321202009091221abcdf098765:RETURN:SETTLED")),
        ("category", json!("refund")),
        ("direction", json!("OUTBOUND")),
        ("currency", json!("BRL")),
    ];
    let v = extra.into_iter().fold(v, |v, (k, x)| with(v, k, x));
    let mut events = run(&v).unwrap_or_else(|r| panic!("{:?}", r.reasons));
    events.remove(0).event
}

fn with(mut v: Value, path: &str, new: Value) -> Value {
    let mut cur = &mut v;
    let parts: Vec<&str> = path.split('.').collect();
    for p in &parts[..parts.len() - 1] {
        cur = cur.get_mut(*p).unwrap();
    }
    let obj = cur.as_object_mut().unwrap();
    if new.is_null() {
        obj.remove(parts[parts.len() - 1]);
    } else {
        obj.insert(parts[parts.len() - 1].to_owned(), new);
    }
    v
}

fn codes(v: &Value) -> Vec<&'static str> {
    match run(v) {
        Ok(_) => vec![],
        Err(r) => r.reasons.iter().map(|r| r.code.as_str()).collect(),
    }
}

fn flags(v: &Value) -> Vec<Flag> {
    let events = run(v).unwrap_or_else(|r| panic!("rejected: {:?}", r.reasons));
    events[0].event.flags.clone()
}

fn rejects(path: &str, value: Value, code: &str) {
    let got = codes(&with(base(), path, value.clone()));
    assert!(got.contains(&code), "{path}={value}: expected {code}, got {got:?}");
}

fn accepts(path: &str, value: Value) {
    let v = with(base(), path, value.clone());
    assert!(run(&v).is_ok(), "{path}={value}: {:?}", codes(&v));
}

#[test]
fn base_is_a_clean_payment() {
    let events = run(&base()).unwrap();
    assert_eq!(events.len(), 1);
    let e = &events[0].event;
    assert_eq!(e.category, Category::Payment);
    assert_eq!(e.direction, Direction::Outbound);
    assert_eq!(e.event_id.as_str(), "E87654321202009091221dfghi123456:TRANSFER:SETTLED");
    assert_eq!(e.amount_cents, Some(11_000));
    assert!(e.flags.is_empty(), "{:?}", e.flags);
    assert_eq!(e.local_hour, 9);
    assert!(!e.night_period);
    assert!(!e.intra_psp);
    let json = serde_json::to_value(e).unwrap();
    assert_eq!(json["event_time"], "2020-09-09T12:22:00.358Z");
    assert_eq!(json["ingested_at"], "2020-09-09T20:20:00.000Z");
    assert_eq!(json["currency"], "BRL");
    assert_eq!(json["pix_key_type"], "EMAIL");
    assert_eq!(json["payer"]["tax_id_type"], "CPF");
    assert_eq!(json["source"]["kind"], "canonical");
    assert_eq!(json["source"]["item_index"], 3);
    assert_eq!(json["source"]["id"], "http-canonical");
    let bytes = serde_json::to_vec(&base()).unwrap();
    assert_eq!(json["source"]["raw_sha256"], hex::encode(Sha256::digest(&bytes)));
    assert!(json.get("return_id").is_none(), "None fields are omitted");
}

#[test]
fn required_fields() {
    for (field, code) in [
        ("schema_version", "field.missing.schema_version"),
        ("event_type", "field.missing.event_type"),
        ("end_to_end_id", "field.missing.end_to_end_id"),
        ("event_time", "field.missing.event_time"),
        ("status", "field.missing.status"),
        ("payee", "field.missing.payee"),
        ("payee.ispb", "field.missing.ispb"),
        ("amount", "field.missing.amount"),
    ] {
        rejects(field, Value::Null, code);
    }
    // STATUS needs no amount; currency defaults to BRL only with an amount.
    let status = with(with(base(), "event_type", json!("STATUS")), "amount", Value::Null);
    let e = &run(&status).unwrap()[0].event;
    assert_eq!((e.amount, e.currency), (None, None));
    // explicit null is absent
    rejects("status", json!(null), "field.missing.status");
}

#[test]
fn collects_all_reasons() {
    let v =
        with(with(with(base(), "amount", json!("1,00")), "txid", json!("a-b")), "payer.tax_id", json!("52998224724"));
    let mut got = codes(&v);
    got.sort();
    assert_eq!(got, vec!["amount.format", "tax_id.check_digit", "txid.format"]);
}

#[test]
fn json_types() {
    rejects("amount", json!(110.00), "field.type.amount");
    rejects("end_to_end_id", json!(12), "field.type.end_to_end_id");
    rejects("payer", json!("x"), "field.type.payer");
    rejects("amount_cents", json!("11000"), "field.type.amount_cents");
    rejects("schema_version", json!(1), "field.type.schema_version");
    rejects("schema_version", json!("2"), "schema_version.unsupported");
    assert_eq!(validate_canonical(b"[1]", &ctx()).unwrap_err().reasons[0].code, ReasonCode::PayloadNotObject);
}

#[test]
fn unknown_members_are_flagged_by_default_and_never_published() {
    let default = ValidationContext { unknown_fields: UnknownFields::default(), ..ctx() };
    let v = with(with(base(), "valorX", json!("1")), "payer.account.digit", json!("7"));
    let events = validate_canonical(v.to_string().as_bytes(), &default).unwrap();
    assert_eq!(events[0].event.flags, vec![Flag::UnknownField]);
    let published = serde_json::to_value(&events[0].event).unwrap();
    assert!(published.get("valorX").is_none(), "{published}");
    assert!(published["payer"]["account"].get("digit").is_none(), "{published}");
    // The same item without the strays is the same event, without the flag.
    let clean = validate_canonical(base().to_string().as_bytes(), &default).unwrap();
    assert_eq!(clean[0].event.event_id, events[0].event.event_id);
    assert!(clean[0].event.flags.is_empty());
    // Another defect still rejects, and the unknown member does not add a reason.
    let bad = with(with(base(), "valorX", json!("1")), "amount", json!("0.00"));
    let r = validate_canonical(bad.to_string().as_bytes(), &default).unwrap_err();
    assert_eq!(r.reasons.iter().map(|r| r.code.as_str()).collect::<Vec<_>>(), ["amount.non_positive"]);
}

#[test]
fn unknown_members() {
    let v = with(base(), "valorX", json!("1"));
    let r = run(&v).unwrap_err();
    assert_eq!((r.reasons[0].code, r.reasons[0].path.as_str()), (ReasonCode::FieldUnknown, "valorX"));
    rejects("payer.account.digit", json!("1"), "field.unknown");
    // Derived/ingest-owned members are accepted and overwritten.
    accepts("flags", json!(["BOGUS"]));
    accepts("source", json!({"kind": "x"}));
    accepts("ingested_at", json!("whatever"));
    accepts("local_hour", json!(99));
}

#[test]
fn end_to_end_id_rule() {
    for bad in [
        "E87654321202009091221dfghi12345",
        "E87654321202009091221dfghi1234567",
        "e87654321202009091221dfghi123456",
        "D87654321202009091221dfghi123456",
        "E8765432120200909122１dfghi12345",
        "E87654321202009091221dfghi123456 ",
    ] {
        rejects("end_to_end_id", json!(bad), "e2e.format");
    }
}

#[test]
fn e2e_flags() {
    // The SPI catalog id encodes 1234-12-34: published with a flag.
    let catalog =
        with(with(base(), "end_to_end_id", json!("E9999901012341234123412345678900")), "payer.ispb", Value::Null);
    let catalog = with(catalog, "payer.ispb", json!("99999010"));
    let own = ValidationContext { own_ispbs: vec!["99999010".parse().unwrap()], ..ctx() };
    let e = validate_canonical(&serde_json::to_vec(&catalog).unwrap(), &own).unwrap();
    assert_eq!(e[0].event.flags, vec![Flag::E2eTimestampInvalidDate]);
    // 13 h away from event_time.
    assert!(flags(&with(base(), "event_time", json!("2020-09-10T01:22:00Z"))).contains(&Flag::E2eTimestampSkew));
    assert!(!flags(&with(base(), "event_time", json!("2020-09-10T00:20:00Z"))).contains(&Flag::E2eTimestampSkew));
    // payer.ispb differs from the E2E's ISPB (still own → payment).
    let v = with(base(), "payer.ispb", json!("99999A04"));
    assert_eq!(flags(&v), vec![Flag::E2eIspbMismatch]);
}

#[test]
fn return_id_txid_message_id() {
    let refund = refund_base();
    assert!(run(&refund).is_ok(), "{:?}", codes(&refund));
    assert!(codes(&with(refund, "return_id", json!("E12345678202009091221abcdf098765"))).contains(&"rtr_id.format"));
    accepts("txid", json!("971122d8f37211eaadc10242ac120002"));
    rejects("txid", json!("a".repeat(36)), "txid.format");
    rejects("txid", json!("7407c9c8-f78b-11ea-adc1-0242ac120002"), "txid.format");
    rejects("txid", json!("cobrançaÚnica"), "txid.format");
    accepts("message_id", json!("M0003816612345678901234567890123"));
    rejects("message_id", json!("M00038166"), "message_id.format");
    accepts("refund_request_id", json!("123ABC"));
    rejects("refund_request_id", json!("12 3"), "refund_request_id.format");
}

#[test]
fn amount_rules() {
    for ok in ["0.01", "9999999999.99", "110.00"] {
        accepts("amount", json!(ok));
    }
    for (bad, code) in [
        ("110.001", "amount.format"),
        ("110,00", "amount.format"),
        ("1.1e2", "amount.format"),
        ("-1.00", "amount.format"),
        ("-110.00", "amount.format"),
        ("0.00", "amount.non_positive"),
        ("12345678901.00", "amount.out_of_range"),
    ] {
        rejects("amount", json!(bad), code);
    }
    accepts("amount_cents", json!(11000));
    rejects("amount_cents", json!(11001), "amount.cents_mismatch");
    accepts("currency", json!("BRL"));
    rejects("currency", json!("USD"), "currency.not_brl");
}

#[test]
fn datetime_rules() {
    accepts("event_time", json!("2020-09-09T17:15:00.358-03:00"));
    accepts("settled_at", json!("2020-09-09T20:15:00Z"));
    rejects("event_time", json!("2020-09-09T17:15:00"), "datetime.format");
    rejects("settled_at", json!("2020-02-30T10:00:00Z"), "datetime.value");
    rejects("message_created_at", json!("09/09/2020"), "datetime.format");
}

#[test]
fn ispb_rules() {
    accepts("payee.ispb", json!("00038166"));
    accepts("payee.ispb", json!("99999A04"));
    rejects("payee.ispb", json!("1000000"), "ispb.format");
    rejects("payee.ispb", json!("9999901a"), "ispb.format");
}

#[test]
fn tax_id_rules() {
    for ok in ["52998224725", "12345678909", "11222333000181", "12345678000195", "12ABC34501DE35"] {
        accepts("payer.tax_id", json!(ok));
    }
    for bad in ["52998224724", "11111111111", "11122233300", "11222333000150"] {
        rejects("payer.tax_id", json!(bad), "tax_id.check_digit");
    }
    for bad in ["12abc34501de35", "12ABC34501DEAB", "529.982.247-25", "123"] {
        rejects("payer.tax_id", json!(bad), "tax_id.format");
    }
    accepts("payer.tax_id_type", json!("CPF"));
    rejects("payer.tax_id_type", json!("CNPJ"), "tax_id.type_mismatch");
    rejects("payer.tax_id_type", json!("RG"), "enum.tax_id_type");
    accepts("initiator_cnpj", json!("12345678000195"));
    rejects("initiator_cnpj", json!("52998224725"), "tax_id.format");
}

#[test]
fn repeated_digit_tax_ids_are_check_digit_failures() {
    // Each passes the mod-11 arithmetic; a repeated base is a placeholder, never a registration.
    for bad in ["00000000000", "11111111111", "00000000000000", "11111111111180", "AAAAAAAAAAAA45"] {
        assert_eq!(codes(&with(base(), "payer.tax_id", json!(bad))), ["tax_id.check_digit"], "payer {bad}");
        assert_eq!(codes(&with(base(), "payee.tax_id", json!(bad))), ["tax_id.check_digit"], "payee {bad}");
    }
    for bad in ["00000000000000", "AAAAAAAAAAAA45"] {
        assert_eq!(codes(&with(base(), "initiator_cnpj", json!(bad))), ["tax_id.check_digit"], "initiator {bad}");
    }
    accepts("payer.tax_id", json!("00000000000191"));
    // Under `warn` they are published with the flag, like any other check-digit failure.
    let warn = ValidationContext { tax_id_check_digits: CheckDigitPolicy::Warn, ..ctx() };
    let v = with(base(), "payer.tax_id", json!("00000000000000"));
    let e = validate_canonical(&serde_json::to_vec(&v).unwrap(), &warn).unwrap();
    assert_eq!(e[0].event.flags, vec![Flag::TaxIdCheckDigit]);
}

#[test]
fn check_digit_policy_warn() {
    let warn = ValidationContext { tax_id_check_digits: CheckDigitPolicy::Warn, ..ctx() };
    let v = with(base(), "payer.tax_id", json!("52998224724"));
    let e = validate_canonical(&serde_json::to_vec(&v).unwrap(), &warn).unwrap();
    assert_eq!(e[0].event.flags, vec![Flag::TaxIdCheckDigit]);
    // Format errors still reject.
    let v = with(base(), "payer.tax_id", json!("12abc34501de35"));
    assert!(validate_canonical(&serde_json::to_vec(&v).unwrap(), &warn).is_err());
    assert_eq!(serde_json::from_str::<CheckDigitPolicy>("\"warn\"").unwrap(), CheckDigitPolicy::Warn);
}

#[test]
fn pix_key_rules() {
    assert!(flags(&with(base(), "pix_key", json!("idContaTransacional0@bc.com.br"))).contains(&Flag::PixKeyFormat));
    assert!(flags(&with(base(), "pix_key", json!("+5561988887777"))).is_empty());
    rejects("pix_key", json!(""), "pix_key.format");
    rejects("pix_key", json!("a".repeat(78)), "pix_key.format");
    rejects("pix_key", json!("a\u{7}b"), "pix_key.format");
    let e = &run(&with(base(), "pix_key", json!("7D9F0335-8DCC-4054-9BF9-0DBD61D36906"))).unwrap()[0].event;
    assert_eq!((e.pix_key_type, e.flags.clone()), (Some(crate::event::PixKeyType::Evp), vec![Flag::PixKeyFormat]));
}

#[test]
fn initiation_rules() {
    for it in ["DICT", "QRDN", "QRES", "INIC", "APDN", "APES"] {
        let v = with(with(base(), "initiation_type", json!(it)), "pix_key", Value::Null);
        assert!(codes(&v).contains(&"rule.proxy_required"), "{it}");
    }
    let manu = with(with(base(), "initiation_type", json!("MANU")), "pix_key", Value::Null);
    assert!(run(&manu).is_ok());
    assert!(flags(&with(base(), "initiation_type", json!("AUTO"))).contains(&Flag::ProxyUnexpected));
    rejects("initiation_type", json!("PIX"), "enum.initiation_type");
    rejects("purpose", json!("GIFT"), "enum.purpose");
}

#[test]
fn priority_service_level() {
    for (p, s) in [("HIGH", "PAGPRI"), ("NORM", "PAGAGD"), ("NORM", "PAGFRD")] {
        assert!(run(&with(with(base(), "priority", json!(p)), "service_level", json!(s))).is_ok());
    }
    for (p, s) in [("HIGH", "PAGAGD"), ("NORM", "PAGPRI"), ("HIGH", "PAGFRD")] {
        let v = with(with(base(), "priority", json!(p)), "service_level", json!(s));
        assert!(codes(&v).contains(&"rule.priority_service_level"), "{p}+{s}");
    }
    rejects("priority", json!("LOW"), "enum.priority");
}

#[test]
fn text_and_account_rules() {
    accepts("remittance_info", json!("x".repeat(140)));
    rejects("remittance_info", json!("x".repeat(141)), "text.too_long");
    rejects("payer.name", json!("x".repeat(141)), "text.too_long");
    rejects("payer.account.branch", json!("00001"), "account.format");
    rejects("payer.account.number", json!("123-4"), "account.format");
    rejects("payer.account.number", Value::Null, "field.missing.number");
    rejects("payer.account.type", json!("CORRENTE"), "enum.account_type");
    rejects("status_reason_code", json!("am04"), "enum.status_reason_code");
    accepts("status_reason_code", json!("AM04"));
}

#[test]
fn amount_breakdown_rules() {
    let ok = json!({"original": {"valor": "100.00"}, "saque": {"valor": "10.00", "modalidadeAgente": "AGPSS", "prestadorDoServicoDeSaque": "12345678"}});
    assert!(flags(&with(base(), "amount_breakdown", ok)).is_empty());
    let off = json!({"original": {"valor": "100.00"}});
    assert_eq!(flags(&with(base(), "amount_breakdown", off)), vec![Flag::ComponentesValorInconsistent]);
    let legacy =
        json!({"original": {"valor": "100.00"}, "saque": {"valor": "10.00", "prestadorDeServicoDeSaque": "12345678"}});
    assert_eq!(flags(&with(base(), "amount_breakdown", legacy)), vec![Flag::LegacyFieldName]);
    rejects("amount_breakdown", json!({"original": {"valor": 100}}), "field.type.valor");
    rejects("amount_breakdown", json!({"bonus": {"valor": "1.00"}}), "field.unknown");
    rejects(
        "amount_breakdown",
        json!({"saque": {"valor": "1.00", "modalidadeAgente": "AGFSS"}}),
        "enum.modalidade_agente",
    );
}

pub(crate) fn refund_base() -> Value {
    // We (87654321) were the receiver of the original Pix and give money back.
    let v = with(base(), "event_type", json!("RETURN"));
    let v = with(v, "end_to_end_id", json!("E12345678202009091221dfghi123456"));
    let v = with(v, "payer", json!({"ispb": OTHER}));
    let v = with(v, "payee", json!({"ispb": OWN}));
    let v = with(v, "return_id", json!("D87654321202009091221abcdf098765"));
    with(with(v, "return_reason_code", json!("FR01")), "amount", json!("10.00"))
}

#[test]
fn refunds() {
    let e = &run(&refund_base()).unwrap()[0].event;
    assert_eq!((e.category, e.direction), (Category::Refund, Direction::Outbound));
    assert_eq!(e.event_id.as_str(), "D87654321202009091221abcdf098765:RETURN:SETTLED");
    assert_eq!(e.refund_nature, Some(crate::event::RefundNature::MedFraude));
    assert!(e.is_med);
    // Required on RETURN.
    assert!(codes(&with(refund_base(), "return_id", Value::Null)).contains(&"field.missing.return_id"));
    assert!(
        codes(&with(refund_base(), "return_reason_code", Value::Null)).contains(&"field.missing.return_reason_code")
    );
    // Nature must agree with the code.
    assert!(run(&with(refund_base(), "refund_nature", json!("MED_FRAUDE"))).is_ok());
    assert!(codes(&with(refund_base(), "refund_nature", json!("ORIGINAL"))).contains(&"rule.refund_nature"));
    let md06 = &run(&with(refund_base(), "return_reason_code", json!("MD06"))).unwrap()[0].event;
    assert!(!md06.is_med);
    assert!(codes(&with(refund_base(), "return_reason_code", json!("FRAD"))).contains(&"enum.return_reason_code"));
    // A STATUS with a return id is a refund status; a TRANSFER with one is refused.
    let st = with(with(refund_base(), "event_type", json!("STATUS")), "status", json!("REJECTED"));
    let e = &run(&st).unwrap()[0].event;
    assert_eq!(e.category, Category::Refund);
    assert!(codes(&with(refund_base(), "event_type", json!("TRANSFER"))).contains(&"rule.return_id_on_transfer"));
    // We get money back: original payer is ours.
    let inbound = with(with(refund_base(), "payer", json!({"ispb": OWN})), "payee", json!({"ispb": OTHER}));
    let inbound = with(inbound, "end_to_end_id", json!("E87654321202009091221dfghi123456"));
    assert_eq!(run(&inbound).unwrap()[0].event.direction, Direction::Inbound);
}

#[test]
fn intra_psp_double_event() {
    let v = with(base(), "payee.ispb", json!("99999A04"));
    let events = run(&v).unwrap();
    assert_eq!(events.len(), 2);
    let (a, b) = (&events[0].event, &events[1].event);
    assert_eq!((a.category, a.direction), (Category::Payment, Direction::Outbound));
    assert_eq!((b.category, b.direction), (Category::Receipt, Direction::Inbound));
    assert_eq!(a.event_id, b.event_id);
    assert!(a.intra_psp && b.intra_psp);
    // A refund between two own ISPBs is one event.
    let r = with(refund_base(), "payer.ispb", json!("99999A04"));
    let events = run(&r).unwrap();
    assert_eq!(events.len(), 1);
    assert!(events[0].event.intra_psp);
    assert_eq!(events[0].event.direction, Direction::Outbound);
}

#[test]
fn receipt_and_undeterminable() {
    let v = with(with(base(), "payer.ispb", json!(OTHER)), "payee.ispb", json!(OWN));
    let v = with(v, "end_to_end_id", json!("E12345678202009091221dfghi123456"));
    let e = &run(&v).unwrap()[0].event;
    assert_eq!((e.category, e.direction), (Category::Receipt, Direction::Inbound));
    // Payer ISPB falls back to the E2E's when payer.ispb is absent.
    let v = with(base(), "payer", Value::Null);
    assert_eq!(run(&v).unwrap()[0].event.category, Category::Payment);
    let neither =
        with(with(base(), "payer.ispb", json!(OTHER)), "end_to_end_id", json!("E12345678202009091221dfghi123456"));
    assert_eq!(codes(&neither), vec!["category.undeterminable"]);
}

/// Neither side ours (payer 12345678, payee 12345678): `category.undeterminable` plus the rest.
fn stranger() -> Value {
    with(with(base(), "payer.ispb", json!(OTHER)), "end_to_end_id", json!("E12345678202009091221dfghi123456"))
}

#[test]
fn undeterminable_items_still_report_every_defect() {
    // The issue's case: a 27-character endToEndId was found only when the direction was decided.
    let short = with(stranger(), "end_to_end_id", json!("E12345678202009091221dfghi"));
    assert_eq!(codes(&short), ["e2e.format", "category.undeterminable"]);
    // Every hard defect, in a stable order: field rules in the validator's fixed reading order
    // (`rules::read`, whatever the order of the members in the item), cross-field rules, then
    // category.undeterminable, then the producer's derived values.
    let many = [
        ("amount", json!("-110.00")),
        ("payer.tax_id", json!("00000000000000")),
        ("txid", json!("a-b")),
        ("status", Value::Null),
        ("priority", json!("NORM")),
        ("event_id", json!("E12345678202009091221dfghi123456:TRANSFER:PENDING")),
    ];
    let v = many.iter().fold(stranger(), |v, (path, value)| with(v, path, value.clone()));
    let want = [
        "field.missing.status",
        "txid.format",
        "amount.format",
        "tax_id.check_digit",
        "rule.priority_service_level",
        "category.undeterminable",
    ];
    assert_eq!(codes(&v), want);
    // The order does not depend on the order of the members in the item.
    let mut reversed = serde_json::Map::new();
    for (k, val) in v.as_object().unwrap().iter().rev() {
        reversed.insert(k.clone(), val.clone());
    }
    let bytes = serde_json::to_vec(&Value::Object(reversed)).unwrap();
    let again: Vec<_> =
        validate_canonical(&bytes, &ctx()).unwrap_err().reasons.iter().map(|r| r.code.as_str()).collect();
    assert_eq!(again, want);
    // With a status the event id can be derived again, and a wrong one is reported after it.
    let v = with(v, "status", json!("SETTLED"));
    assert_eq!(codes(&v).last(), Some(&"event_id.mismatch"));
    assert_eq!(codes(&v).iter().rev().nth(1), Some(&"category.undeterminable"));
    // An item without a type is still undeterminable when both ISPBs say so.
    assert_eq!(
        codes(&with(stranger(), "event_type", Value::Null)),
        ["field.missing.event_type", "category.undeterminable"]
    );
    // ...but not when the payer's ISPB cannot be known (no payer, unreadable endToEndId).
    let unknown_payer = with(with(stranger(), "payer", Value::Null), "end_to_end_id", json!("E1234"));
    assert_eq!(codes(&unknown_payer), ["e2e.format"]);
}

#[test]
fn producer_derived_values_must_agree() {
    accepts("event_id", json!("E87654321202009091221dfghi123456:TRANSFER:SETTLED"));
    rejects("event_id", json!("E87654321202009091221dfghi123456:TRANSFER:PENDING"), "event_id.mismatch");
    accepts("category", json!("payment"));
    rejects("category", json!("receipt"), "category.conflict");
    rejects("category", json!("Payment"), "enum.category");
    accepts("direction", json!("OUTBOUND"));
    rejects("direction", json!("INBOUND"), "direction.conflict");
}

#[test]
fn night_period_in_local_time() {
    let v = with(base(), "event_time", json!("2020-09-09T23:30:00Z")); // 20:30 in São Paulo
    let e = &run(&v).unwrap()[0].event;
    assert_eq!((e.local_hour, e.night_period), (20, true));
}

#[test]
fn debug_and_display_never_show_pii() {
    let v = with(base(), "status_reason_text", json!("Motivo Secreto"));
    for accepted in run(&v).unwrap() {
        let e = &accepted.event;
        let debug = format!("{e:?}");
        let display = format!(
            "{} {} {} {}",
            e.payer.as_ref().unwrap().tax_id.as_ref().unwrap(),
            e.pix_key.as_ref().unwrap(),
            e.payer.as_ref().unwrap().name.as_ref().unwrap(),
            e.payee.tax_id.as_ref().unwrap()
        );
        for secret in [
            "52998224725",
            "529982247",
            "12ABC34501DE35",
            "ABC34501",
            "email0@exemplo",
            "exemplo.com",
            "Fulano",
            "5009876",
            "Reforma",
            "Secreto",
        ] {
            assert!(!debug.contains(secret), "Debug leaks {secret}: {debug}");
            assert!(!display.contains(secret), "Display leaks {secret}");
        }
        // The Kafka value does carry them.
        let wire = String::from_utf8(serde_json::to_vec(e).unwrap()).unwrap();
        assert!(wire.contains("52998224725") && wire.contains("email0@exemplo.com.br"));
    }
}

#[test]
fn reasons_never_quote_pii() {
    let v = with(with(base(), "payer.tax_id", json!("52998224724")), "payee.tax_id", json!("12ABC34501DE3X"));
    let v = with(with(v, "payer.account.number", json!("12345-67")), "pix_key", json!("x".repeat(80)));
    for r in run(&v).unwrap_err().reasons {
        for secret in ["52998224724", "12ABC34501DE3X", "12345-67", "xxxxxxxx"] {
            assert!(!r.detail.contains(secret) && !r.path.contains(secret), "{r}");
        }
    }
}

#[test]
fn partition_keys() {
    use crate::event::KeyField;
    let e = &run(&base()).unwrap()[0].event;
    assert_eq!(e.partition_key(KeyField::EndToEndId), "E87654321202009091221dfghi123456");
    assert_eq!(e.partition_key(KeyField::EventId), "E87654321202009091221dfghi123456:TRANSFER:SETTLED");
    assert_eq!(e.partition_key(KeyField::PayerAccount), "87654321:0001:5009876");
    let no_account = &run(&with(base(), "payer.account", Value::Null)).unwrap()[0].event;
    assert_eq!(no_account.partition_key(KeyField::PayerAccount), "E87654321202009091221dfghi123456");
    assert_eq!(serde_json::from_str::<KeyField>("\"payer_account\"").unwrap(), KeyField::PayerAccount);
}

#[test]
fn event_round_trips_through_serde() {
    for accepted in run(&with(base(), "payee.ispb", json!("99999A04"))).unwrap() {
        let wire = serde_json::to_vec(&accepted.event).unwrap();
        let back: crate::PixEvent = serde_json::from_slice(&wire).unwrap();
        assert_eq!(back, accepted.event);
    }
}

/// Deterministic mutations of a valid item (truncations, byte flips, insertions): never a panic.
#[test]
fn fuzzish_never_panics() {
    let seed =
        serde_json::to_vec(&with(refund_base(), "amount_breakdown", json!({"original": {"valor": "10.00"}}))).unwrap();
    let specials = [b'"', b'{', b'}', b'[', b']', b':', b',', b'\\', 0xff, 0xc3, b'0', b'-', b'.', b'E', b' ', 0];
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut n = 0;
    for cut in (0..seed.len()).step_by(3) {
        let _ = validate_canonical(&seed[..cut], &ctx());
        n += 1;
    }
    for _ in 0..600 {
        let mut m = seed.clone();
        for _ in 0..(next() % 4 + 1) {
            let pos = (next() as usize) % m.len();
            let byte = specials[(next() as usize) % specials.len()];
            match next() % 3 {
                0 => m[pos] = byte,
                1 => m.insert(pos, byte),
                _ => {
                    m.remove(pos);
                }
            }
        }
        let _ = validate_canonical(&m, &ctx());
        let _ = crate::decode::split_body(&m, crate::decode::BodyFormat::Json);
        let _ = crate::decode::split_body(&m, crate::decode::BodyFormat::Ndjson);
        n += 1;
    }
    assert!(n > 700);
}
