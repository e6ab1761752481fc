//! DICT XML decoder: every infraction report and refund example of the DICT API (BCB
//! pix-dict-api 1.8.0, `tests/data/bcb-dict-api/`), the DICT examples that are not fraud reports
//! (refused by the root allow-list), and hand-made envelope and list cases.
//!
//! What the official examples show and how they are read:
//! - no example is signed (`Signature` is empty): every report is flagged `SIGNATURE_ABSENT`;
//! - requests carry no `Status`: a create request opens the report (`OPEN`), an acknowledge /
//!   close / cancel request is the transition it asks for, and names the report only by its id
//!   (so its key falls back to the report id: it has no endToEndId to key by);
//! - the INTERNAL examples report a PSP-internal transfer (`TransactionId` 12345679XPTO1234, not an
//!   endToEndId): accepted, keyed by that id, no `end_to_end_id`;
//! - `AcknowledgeInfractionReportResponse` says `CLOSED` (as written in the spec): published as such.

use super::*;
use crate::event::{FraudReport, KeyField};

const E2E: &str = "E9999901012341234123412345678900";
const ID: &str = "91d65e98-97c0-4b0f-b577-73625da1f9fc";
const INTERNAL: &str = "12345679XPTO1234";

/// A comparable view of a report item: `Ok((event_id, key, reporter, analysis, amount, flags))`.
type ReportView = Result<(String, String, Option<String>, Option<String>, Option<String>, Vec<String>), Vec<String>>;

fn report_view(item: &DecodedItem) -> ReportView {
    match &item.verdict {
        Ok(records) => {
            assert_eq!(records.len(), 1, "one record per report");
            let r: &FraudReport = records[0].as_fraud_report().expect("a fraud report");
            crate::event::assert_valid_report(r);
            assert_eq!(records[0].category(), crate::Category::FraudReport);
            Ok((
                r.event_id.clone(),
                r.partition_key(KeyField::EndToEndId),
                r.reporter_ispb.as_ref().map(|i| i.as_str().to_owned()),
                r.analysis_result.clone(),
                r.amount.map(|a| a.to_string()),
                r.flags.iter().map(|f| f.as_str().to_owned()).collect(),
            ))
        }
        Err(reasons) => Err(reasons.iter().map(|r| r.code.as_str().to_owned()).collect()),
    }
}

fn dict(rel: &str) -> Vec<ReportView> {
    let got = decode(Format::DictXml, &sample(rel), &ctx()).unwrap_or_else(|r| panic!("{rel}: {r:?}"));
    got.iter().map(report_view).collect()
}

fn rep(
    kind: &str,
    subject: &str,
    status: &str,
    key: &str,
    reporter: Option<&str>,
    analysis: Option<&str>,
    amount: Option<&str>,
) -> ReportView {
    Ok((
        format!("{kind}:{subject}:{status}"),
        key.to_owned(),
        reporter.map(Into::into),
        analysis.map(Into::into),
        amount.map(Into::into),
        vec!["SIGNATURE_ABSENT".to_owned()],
    ))
}

fn infraction(subject: &str, status: &str, key: &str, reporter: Option<&str>, analysis: Option<&str>) -> ReportView {
    rep("INFRACTION_REPORT", subject, status, key, reporter, analysis, None)
}

fn refund(
    subject: &str,
    status: &str,
    key: &str,
    reporter: Option<&str>,
    analysis: Option<&str>,
    amount: Option<&str>,
) -> ReportView {
    rep("REFUND_REQUEST", subject, status, key, reporter, analysis, amount)
}

#[test]
fn every_infraction_example() {
    let d = "99999010";
    let expected: Vec<(&str, ReportView)> = vec![
        ("AcknowledgeInfractionReportRequest", infraction(ID, "ACKNOWLEDGED", ID, Some("12345678"), None)),
        ("AcknowledgeInfractionReportResponse", infraction(ID, "CLOSED", E2E, Some(d), None)),
        ("CancelInfractionReportRequest", infraction(ID, "CANCELLED", ID, Some("12345678"), None)),
        ("CancelInfractionReportResponse", infraction(ID, "CANCELLED", E2E, Some(d), None)),
        ("CloseInfractionReportRequest", infraction(ID, "CLOSED", ID, Some("12345678"), Some("AGREED"))),
        ("CloseInfractionReportResponse", infraction(ID, "CLOSED", E2E, Some(d), Some("AGREED"))),
        ("CreateInfractionReportRequest-INTERNALRejectedPayee", infraction(INTERNAL, "OPEN", INTERNAL, Some(d), None)),
        ("CreateInfractionReportRequest-INTERNALRejectedPayer", infraction(INTERNAL, "OPEN", INTERNAL, Some(d), None)),
        ("CreateInfractionReportRequest-INTERNALSettled", infraction(INTERNAL, "OPEN", INTERNAL, Some(d), None)),
        ("CreateInfractionReportRequest-SPIRejectedPayee", infraction(E2E, "OPEN", E2E, Some(d), None)),
        ("CreateInfractionReportRequest-SPIRejectedPayer", infraction(E2E, "OPEN", E2E, Some(d), None)),
        ("CreateInfractionReportRequest-SPISettled", infraction(E2E, "OPEN", E2E, Some(d), None)),
        ("CreateInfractionReportResponse-INTERNALRejectedPayee", infraction(ID, "OPEN", INTERNAL, Some(d), None)),
        ("CreateInfractionReportResponse-INTERNALRejectedPayer", infraction(ID, "OPEN", INTERNAL, Some(d), None)),
        ("CreateInfractionReportResponse-INTERNALSettled", infraction(ID, "OPEN", INTERNAL, Some(d), None)),
        ("CreateInfractionReportResponse-SPIRejectedPayee", infraction(ID, "OPEN", E2E, Some(d), None)),
        ("CreateInfractionReportResponse-SPIRejectedPayer", infraction(ID, "OPEN", E2E, Some(d), None)),
        ("CreateInfractionReportResponse-SPISettled", infraction(ID, "OPEN", E2E, Some(d), None)),
        ("GetInfractionReportResponse", infraction(ID, "ACKNOWLEDGED", E2E, Some(d), None)),
        ("ListInfractionReportsResponse", infraction(ID, "CLOSED", E2E, Some(d), Some("AGREED"))),
    ];
    let mut files: Vec<String> = std::fs::read_dir(format!("{SAMPLES}bcb-dict-api/infractions"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    assert_eq!(files.len(), expected.len(), "a table row per example");
    for (name, want) in expected {
        assert!(files.contains(&format!("{name}.xml")), "{name}");
        assert_eq!(dict(&format!("bcb-dict-api/infractions/{name}.xml")), [want], "{name}");
    }
}

#[test]
fn every_refund_example() {
    let (req, con) = (Some("99999011"), "99999010");
    let tot = Some("TOTALLY_ACCEPTED");
    let expected: Vec<(&str, ReportView)> = vec![
        ("CancelRefundRequest", refund(ID, "CANCELLED", ID, Some("12345678"), None, None)),
        ("CancelRefundResponse", refund(ID, "CANCELLED", E2E, req, None, Some("200.00"))),
        ("CloseRefundRequest", refund(ID, "CLOSED", ID, Some("12345678"), tot, None)),
        ("CloseRefundResponse", refund(ID, "CLOSED", E2E, req, tot, Some("200.00"))),
        ("CreateRefundRequest", refund(E2E, "OPEN", E2E, Some(con), None, Some("100.00"))),
        ("CreateRefundResponse", refund(ID, "OPEN", E2E, req, None, Some("200.00"))),
        ("GetRefundResponse", refund(ID, "OPEN", E2E, req, None, Some("200.00"))),
        ("ListRefundsResponse", refund(ID, "CLOSED", E2E, req, tot, Some("200.00"))),
    ];
    let files = std::fs::read_dir(format!("{SAMPLES}bcb-dict-api/refunds")).unwrap().count();
    assert_eq!(files, expected.len(), "a table row per example");
    for (name, want) in expected {
        assert_eq!(dict(&format!("bcb-dict-api/refunds/{name}.xml")), [want], "{name}");
    }
    // What a refund carries besides the view.
    let got = decode(Format::DictXml, &sample("bcb-dict-api/refunds/ListRefundsResponse.xml"), &ctx()).unwrap();
    let r = got[0].verdict.as_ref().unwrap()[0].as_fraud_report().unwrap().clone();
    assert_eq!(r.refund_return_id.as_ref().map(|d| d.as_str()), Some("D9999901012341234123412345678900"));
    assert_eq!((r.refund_reason.as_deref(), r.amount_cents), (Some("FRAUD"), Some(20_000)));
    assert_eq!(r.contested_participant.as_ref().map(|i| i.as_str()), Some("99999010"));
    assert_eq!(r.event_time.to_string(), "2020-01-17T10:00:00.000Z");
    assert_eq!((r.source.kind.as_str(), r.source.msg_def.as_deref()), ("dict_xml", Some("ListRefundsResponse")));
    assert_eq!(got[0].end_to_end_id.as_deref(), Some(E2E));
    assert_eq!(got[0].raw, crate::formats::ItemBytes::Whole);
}

#[test]
fn free_text_is_only_hashed() {
    let body = sample("bcb-dict-api/infractions/CloseInfractionReportResponse.xml");
    let got = decode(Format::DictXml, &body, &ctx()).unwrap();
    let json = String::from_utf8(got[0].verdict.as_ref().unwrap()[0].to_json()).unwrap();
    assert!(!json.contains("QR Code") && !json.contains("antifraude"), "{json}");
    assert!(json.contains("\"details_sha256\"") && json.contains("\"analysis_details_sha256\""));
    assert!(!format!("{got:?}").contains("QR Code"), "Debug never shows the text either");
}

#[test]
fn dict_documents_that_are_not_fraud_reports_are_refused_whole() {
    for dir in ["entries", "keys", "statistics"] {
        for entry in std::fs::read_dir(format!("{SAMPLES}bcb-dict-api/{dir}")).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            let got = decode(Format::DictXml, &sample(&format!("bcb-dict-api/{dir}/{name}")), &ctx());
            assert_eq!(codes(&got.unwrap_err()), ["xml.root_unknown"], "{dir}/{name}");
        }
    }
}

const LIST: &str = "<ListInfractionReportsResponse><Signature/><ResponseTime>2020-01-10T10:00:00.000Z</ResponseTime>\
    <HasMoreElements>false</HasMoreElements><InfractionReports>ITEMS</InfractionReports></ListInfractionReportsResponse>";

fn item(e2e: &str, status: &str) -> String {
    format!(
        "<InfractionReport><TransactionId>{e2e}</TransactionId><InfractionType>FRAUD</InfractionType>\
         <ReportedBy>CREDITED_PARTICIPANT</ReportedBy><Id>{ID}</Id><Status>{status}</Status>\
         <DebitedParticipant>99999010</DebitedParticipant><CreditedParticipant>99999011</CreditedParticipant>\
         <LastModified>2020-01-17T10:00:00.000Z</LastModified></InfractionReport>"
    )
}

#[test]
fn a_bad_report_of_a_list_is_refused_alone() {
    let items = [item(E2E, "OPEN"), item("E123", "LOST"), item(E2E, "ACKNOWLEDGED")].concat();
    let body = LIST.replace("ITEMS", &items);
    let got = run(Format::DictXml, body.as_bytes()).unwrap();
    let views: Vec<ReportView> = got.iter().map(report_view).collect();
    let ok = |status: &str| {
        Ok((
            format!("INFRACTION_REPORT:{ID}:{status}"),
            E2E.to_owned(),
            Some("99999011".to_owned()),
            None,
            None,
            vec!["SIGNATURE_ABSENT".to_owned()],
        ))
    };
    assert_eq!(
        views,
        [ok("OPEN"), Err(vec!["transaction_id.format".into(), "enum.report_status".into()]), ok("ACKNOWLEDGED")]
    );
    assert_eq!(got[1].index, 1);
    assert_eq!(got[1].end_to_end_id.as_deref(), Some("E123"), "a readable id, for the report");
    let paths: Vec<String> = got[1].verdict.as_ref().unwrap_err().iter().map(|r| r.path.clone()).collect();
    assert_eq!(paths[0], "ListInfractionReportsResponse/InfractionReports/InfractionReport[1]/TransactionId");
    // An empty list is a valid document with nothing to publish.
    assert!(run(Format::DictXml, LIST.replace("ITEMS", "").as_bytes()).unwrap().is_empty());
    // A repeated single element refuses that report only.
    let twice = item(E2E, "OPEN").replace("<Status>OPEN</Status>", "<Status>OPEN</Status><Status>CLOSED</Status>");
    let got = run(Format::DictXml, LIST.replace("ITEMS", &[twice, item(E2E, "CLOSED")].concat()).as_bytes()).unwrap();
    assert_eq!(got.iter().map(|i| i.verdict.is_ok()).collect::<Vec<_>>(), [false, true]);
    assert_eq!(codes(got[0].verdict.as_ref().unwrap_err()), ["xml.structure"]);
}

#[test]
fn envelope_refusals() {
    let refused = |body: &str| codes(&run(Format::DictXml, body.as_bytes()).unwrap_err());
    let dtd = format!("<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"b\">]>{}", LIST.replace("ITEMS", ""));
    assert_eq!(refused(&dtd), ["payload.dtd_forbidden"]);
    assert_eq!(refused("<Envelope xmlns=\"https://www.bcb.gov.br/pi/pacs.008/1.13\"/>"), ["xml.namespace_unknown"]);
    assert_eq!(refused("<GetRefundResponse xmlns=\"urn:x\"/>"), ["xml.namespace_unknown"]);
    assert_eq!(refused("<SomethingElse/>"), ["xml.root_unknown"]);
    assert_eq!(refused("<GetRefundResponse><Refund>"), ["payload.unparseable"]);
    assert_eq!(refused("<GetRefundResponse/>"), ["field.missing.xml_element"]);
    assert_eq!(refused("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><GetRefundResponse/>"), ["payload.unparseable"]);
    assert_eq!(codes(&run(Format::DictXml, b"\xff<x/>").unwrap_err()), ["payload.unparseable"]);
    // A signed document is not flagged.
    let signed = LIST.replace(
        "<Signature/>",
        "<Signature><ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"/></Signature>",
    );
    let got = run(Format::DictXml, signed.replace("ITEMS", &item(E2E, "OPEN")).as_bytes()).unwrap();
    assert!(got[0].verdict.as_ref().unwrap()[0].as_fraud_report().unwrap().flags.is_empty());
}

#[test]
fn log_lines_carry_dict_documents_too() {
    let xml = String::from_utf8(sample("bcb-dict-api/refunds/GetRefundResponse.xml")).unwrap().replace('\n', " ");
    let line = format!("2026-11-25T14:30:05Z INFO dict-client: {xml}");
    let got = run(Format::LogLine, line.as_bytes()).unwrap();
    assert_eq!(report_view(&got[0]), refund(ID, "OPEN", E2E, Some("99999011"), None, Some("200.00")));
    let bare = "<GetRefundResponse><Refund><TransactionId>E1</TransactionId></Refund></GetRefundResponse>";
    assert!(run(Format::LogLine, bare.as_bytes()).unwrap()[0].verdict.is_err(), "no <?xml needed");
}
