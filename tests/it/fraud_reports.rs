//! Fraud reports end to end against the real broker: DICT infraction reports and MED refund
//! requests posted to a `dict_xml` source land on the `fraud_report` topic in the partition of the
//! payment they label (same key, the endToEndId), in their own schema, and a list response with
//! one bad report publishes the others and dead-letters that one.

use std::collections::HashMap;
use std::time::Duration;

use rdkafka::Message;
use serde_json::json;

use crate::config_builder::ConfigBuilder;
use crate::fixtures::{self, OWN};
use crate::harness::TestApp;
use crate::kafka::{headers, key, read_all_async, value_json};

/// The DICT id of the `i`-th report of a test (one report per transaction: the event id is
/// `{kind}:{report id}:{status}`, so two reports sharing an id would be one event).
fn report_id(i: usize) -> String {
    format!("91d65e98-97c0-4b0f-b577-{i:012}")
}

/// A DICT `ListInfractionReportsResponse` with one report per `(endToEndId, status)`.
fn list(reports: &[(&str, &str)]) -> String {
    let items: String = reports
        .iter()
        .enumerate()
        .map(|(i, (e2e, status))| {
            format!(
                "<InfractionReport><TransactionId>{e2e}</TransactionId><InfractionType>FRAUD</InfractionType>\
                 <ReportedBy>DEBITED_PARTICIPANT</ReportedBy><ReportDetails>Golpe do falso boleto</ReportDetails>\
                 <Id>{}</Id><Status>{status}</Status><DebitedParticipant>{OWN}</DebitedParticipant>\
                 <CreditedParticipant>{}</CreditedParticipant><CreationTime>2026-11-25T10:00:00.000Z</CreationTime>\
                 <LastModified>2026-11-25T11:00:00.000Z</LastModified></InfractionReport>",
                report_id(i),
                fixtures::OTHER
            )
        })
        .collect();
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><ListInfractionReportsResponse><Signature></Signature>\
         <ResponseTime>2026-11-25T12:00:00.000Z</ResponseTime><HasMoreElements>false</HasMoreElements>\
         <InfractionReports>{items}</InfractionReports></ListInfractionReportsResponse>"
    )
}

/// POSTs a DICT document to the `dict_xml` source `dict`; its status and JSON answer.
pub(crate) async fn post_xml(t: &TestApp, body: String) -> (u16, serde_json::Value) {
    let addr = t.app.source_addr("dict", Duration::from_secs(10)).await.expect("source `dict` bound");
    let r = reqwest::Client::new()
        .post(format!("http://{addr}/v1/events"))
        .header("content-type", "application/xml")
        .body(body)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or_default())
}

#[actix_rt::test]
async fn an_infraction_report_lands_in_the_partition_of_the_payment_it_labels() {
    let config = ConfigBuilder::for_test("fraud-partition")
        .source(json!({ "id": "dict", "type": "http", "listen": "127.0.0.1:0", "format": "dict_xml" }));
    let t = TestApp::start_with(&config).await;
    // Payments first, each with its own endToEndId (keys spread over the 3 partitions).
    let e2es: Vec<String> = (0..6).map(|_| fixtures::e2e(OWN)).collect();
    let payments: Vec<serde_json::Value> = e2es.iter().map(|e| fixtures::payment(e)).collect();
    assert_eq!(t.post_events(&payments).await.status, 200);
    // Then the DICT reports them, one infraction report each.
    let reports: Vec<(&str, &str)> = e2es.iter().map(|e| (e.as_str(), "OPEN")).collect();
    let (status, answer) = post_xml(&t, list(&reports)).await;
    assert_eq!(status, 200, "{answer}");
    assert!(answer["results"].as_array().unwrap().iter().all(|r| r["category"] == "fraud_report"), "{answer}");

    let paid: HashMap<String, i32> =
        read_all_async(&t.bootstrap, &t.topics.payment).await.iter().map(|m| (key(m), m.partition())).collect();
    let reported = read_all_async(&t.bootstrap, &t.topics.fraud_report).await;
    assert_eq!(reported.len(), e2es.len());
    for m in &reported {
        let v = value_json(m);
        let e2e = v["end_to_end_id"].as_str().unwrap().to_owned();
        assert_eq!(key(m), e2e, "keyed by the transaction's endToEndId");
        assert_eq!(Some(&m.partition()), paid.get(&e2e), "{e2e}: the report sits in its payment's partition");
        assert_eq!((v["schema"].as_str(), v["status"].as_str()), (Some("fraud_report"), Some("OPEN")));
        assert_eq!(v["reporter_ispb"], OWN);
        assert!(v["details_sha256"].is_string() && !m.payload().unwrap().windows(5).any(|w| w == b"Golpe"));
        let h = headers(m);
        assert_eq!((h["pix-schema"].as_str(), h["pix-schema-version"].as_str()), ("fraud_report", "1"));
        assert_eq!(h["pix-event-id"], format!("INFRACTION_REPORT:{}:OPEN", v["report_id"].as_str().unwrap()));
    }
    t.stop().await;
}

#[actix_rt::test]
async fn a_list_with_one_bad_report_publishes_the_others() {
    let config = ConfigBuilder::for_test("fraud-split")
        .source(json!({ "id": "dict", "type": "http", "listen": "127.0.0.1:0", "format": "dict_xml" }));
    let t = TestApp::start_with(&config).await;
    let (a, b) = (fixtures::e2e(OWN), fixtures::e2e(OWN));
    let body = list(&[(&a, "ACKNOWLEDGED"), ("E27-characters-is-too-short", "CLOSED"), (&b, "CLOSED")]);
    let (status, answer) = post_xml(&t, body.clone()).await;
    assert_eq!(status, 207, "{answer}");
    assert_eq!((answer["accepted"].as_u64(), answer["rejected"].as_u64()), (Some(2), Some(1)), "{answer}");
    let mut keys: Vec<String> = read_all_async(&t.bootstrap, &t.topics.fraud_report).await.iter().map(key).collect();
    keys.sort();
    let mut want = vec![a, b];
    want.sort();
    assert_eq!(keys, want);
    let dlq = read_all_async(&t.bootstrap, &t.topics.dlq).await;
    assert_eq!(dlq.len(), 1);
    let h = headers(&dlq[0]);
    assert_eq!((h["pix-dlq-reason"].as_str(), h["pix-item-index"].as_str()), ("transaction_id.format", "1"));
    assert_eq!(dlq[0].payload().unwrap(), body.as_bytes(), "the whole document, as for SPI batches");
    // A document that is not a fraud report is refused whole.
    let (status, answer) = post_xml(&t, "<CreateEntryRequest><Signature/></CreateEntryRequest>".into()).await;
    assert_eq!((status, answer["code"].as_str()), (400, Some("xml.root_unknown")), "{answer}");
    t.stop().await;
}
