//! ISO 20022 SPI XML (docs/pix-domain.md §7.4): pacs.008 (payment order), pacs.004 (devolução) and
//! pacs.002 (status report) in the BCB `Envelope` = `AppHdr` + `Document`.
//!
//! This module owns the envelope: encoding, DTD refusal, namespace allow-list, `MsgDefIdr`,
//! `NbOfTxs`, and the direction from `AppHdr` Fr/To. Any envelope problem refuses the whole
//! message (`Err`). Each transaction is then mapped by [`pacs008`], [`pacs004`] or [`pacs002`] and
//! judged on its own: an invalid transaction of a batch is one rejected item (its index), its
//! valid siblings are published. Every item's dead letter is the whole message plus the index.
//!
//! Parsing uses `roxmltree` with DTDs refused (its default, kept explicitly): no entity
//! expansion can happen, so billion-laughs input is `payload.dtd_forbidden`, not a memory blow-up.

mod pacs002;
mod pacs004;
mod pacs008;
pub(crate) mod xml;

use super::{DecodeContext, DecodedItem, Envelope, Framing, ItemBytes, Mapped, MediaType, WireFormat, readable_id};
use crate::event::{Flag, Ispb};
use crate::reason::{Reason, ReasonCode};
use crate::validate::Authority;
use xml::El;

/// `spi_xml`: one SPI message per body.
pub struct SpiXml;

impl WireFormat for SpiXml {
    fn media_types(&self) -> &'static [MediaType] {
        XML_MEDIA_TYPES
    }

    fn line_oriented(&self) -> bool {
        false
    }

    /// [`decode`]; always one XML document, so `framing` is ignored.
    fn decode(&self, body: &[u8], _framing: Framing, ctx: &DecodeContext) -> Result<Vec<DecodedItem>, Vec<Reason>> {
        decode(body, ctx)
    }
}

/// The media types of an XML document (SPI messages, DICT documents).
pub(crate) const XML_MEDIA_TYPES: &[MediaType] = &[
    MediaType { essence: "application/xml", canonical: "application/xml", framing: Framing::Xml },
    MediaType { essence: "text/xml", canonical: "application/xml", framing: Framing::Xml },
];

/// The SPI's own ISPB: one side of every SPI message.
pub const SPI_ISPB: &str = "00038166";

/// Namespace prefix; the full namespace is `{NS_PREFIX}{msg}/{ver}`.
const NS_PREFIX: &str = "https://www.bcb.gov.br/pi/";

/// Message versions we accept: catalog 5.13.1 and the older ones seen in circulation (docs/pix-domain.md §7.4).
const VERSIONS: &[(&str, &[&str])] = &[
    ("pacs.008", &["1.4", "1.7", "1.13", "1.16"]),
    ("pacs.002", &["1.4", "1.8", "1.14", "1.17"]),
    ("pacs.004", &["1.3", "1.5"]),
];

/// Most nodes a message may have: 10 transactions are ~1,500 nodes; this bounds memory on
/// hostile input while leaving room for large batches (the XSD does not bound `NbOfTxs`).
const NODES_LIMIT: u32 = 200_000;

/// Which side of the message we are (docs/pix-domain.md §7.4: AppHdr decides, not DbtrAgt/CdtrAgt).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Side {
    /// `Fr` is one of ours: we send this message (OUTBOUND for money we move).
    Sender,
    /// `To` is one of ours: we receive it.
    Receiver,
}

/// What every transaction of one message shares.
pub(crate) struct Message<'c> {
    pub env: Envelope<'c>,
    /// Our side, or `None` when neither Fr nor To is ours (`category.undeterminable`).
    pub side: Option<Side>,
    /// The own ISPB named in AppHdr (Fr when we send, To when we receive).
    pub our_ispb: Option<String>,
    /// Message version, e.g. `1.17` (enums are closed per version).
    pub version: String,
    /// `BizMsgIdr`, `CreDt` (copied to every event).
    pub biz_msg_id: String,
    pub created: String,
    /// `GrpHdr/CreDtTm`.
    pub group_created: String,
    /// Flags that hold for every item (`SIGNATURE_ABSENT`).
    pub flags: Vec<Flag>,
}

impl Message<'_> {
    pub(crate) fn is_own(&self, ispb: Option<&str>) -> bool {
        ispb.is_some_and(|i| self.env.ctx.own_ispbs.iter().any(|o| o.as_str() == i))
    }
}

/// A transaction mapped (or refused), with its id for reports.
pub(crate) struct TxOutcome {
    pub mapped: Result<Mapped, Vec<Reason>>,
    pub end_to_end_id: Option<String>,
}

/// Decodes one SPI XML message.
pub fn decode(body: &[u8], ctx: &DecodeContext) -> Result<Vec<DecodedItem>, Vec<Reason>> {
    let text = xml::utf8(body)?;
    let doc = xml::parse(text, NODES_LIMIT)?;
    let root = doc.root_element();
    let (msg, version, ns) = namespace(root)?;
    let env_el = El { node: root, ns, path: "Envelope".into() };
    let (message, doc_el) = envelope(&env_el, msg, version, body, ctx).map_err(|r| vec![r])?;
    let outcomes = match msg {
        "pacs.008" => pacs008::transactions(&message, &doc_el),
        "pacs.004" => pacs004::transactions(&message, &doc_el),
        _ => pacs002::transactions(&message, &doc_el),
    }?;
    Ok(outcomes
        .into_iter()
        .enumerate()
        .map(|(index, tx)| {
            let verdict = match (tx.mapped, message.side) {
                (Err(reasons), _) => Err(reasons),
                // Still judged, so the dead letter lists every defect of the item, not only this one.
                (Ok(mapped), None) => message.env.judge(index, mapped, &undeterminable()),
                (Ok(mut mapped), Some(_)) => {
                    mapped.flags.extend(message.flags.iter().copied());
                    message.env.validate(index, mapped)
                }
            };
            DecodedItem {
                index,
                raw: ItemBytes::Whole,
                verdict,
                end_to_end_id: readable_id(tx.end_to_end_id.as_deref()),
            }
        })
        .collect())
}

fn undeterminable() -> Authority {
    Authority::Undeterminable(Reason::new(
        ReasonCode::CategoryUndeterminable,
        "Envelope/AppHdr",
        "neither AppHdr Fr nor To is one of our ISPBs",
    ))
}

/// `Envelope` in `https://www.bcb.gov.br/pi/{msg}/{ver}` with `{msg}` and `{ver}` allowed.
fn namespace<'a>(root: roxmltree::Node<'a, '_>) -> Result<(&'static str, &'static str, &'a str), Vec<Reason>> {
    let unknown = |detail: &str| vec![Reason::new(ReasonCode::XmlNamespaceUnknown, "Envelope", detail)];
    if root.tag_name().name() != "Envelope" {
        return Err(unknown("root element is not an SPI Envelope"));
    }
    let ns = root.tag_name().namespace().unwrap_or_default();
    let Some((msg, ver)) = ns.strip_prefix(NS_PREFIX).and_then(|r| r.split_once('/')) else {
        return Err(unknown("namespace is not https://www.bcb.gov.br/pi/{msg}/{version}"));
    };
    for (known_msg, versions) in VERSIONS {
        if *known_msg == msg
            && let Some(v) = versions.iter().find(|v| **v == ver)
        {
            return Ok((known_msg, v, ns));
        }
    }
    let allowed: Vec<String> = VERSIONS.iter().map(|(m, vs)| format!("{m} {}", vs.join("/"))).collect();
    Err(unknown(&format!("message or version not on the allow-list ({})", allowed.join(", "))))
}

/// Checks `AppHdr` and returns the message context and the business document element.
fn envelope<'a, 'i, 'c>(
    env: &El<'a, 'i>,
    msg: &str,
    version: &str,
    body: &[u8],
    ctx: &'c DecodeContext,
) -> Result<(Message<'c>, El<'a, 'i>), Reason> {
    let hdr = env.req("AppHdr")?;
    let fr = hdr.req_text(&["Fr", "FIId", "FinInstnId", "Othr", "Id"])?;
    let to = hdr.req_text(&["To", "FIId", "FinInstnId", "Othr", "Id"])?;
    for (who, ispb) in [("Fr", &fr), ("To", &to)] {
        if ispb.parse::<Ispb>().is_err() {
            return Err(Reason::new(
                ReasonCode::IspbFormat,
                format!("Envelope/AppHdr/{who}"),
                "expected ^[0-9A-Z]{8}$",
            ));
        }
    }
    let biz_msg_id = hdr.req_text(&["BizMsgIdr"])?;
    let msg_def = hdr.req_text(&["MsgDefIdr"])?;
    let expected = format!("{msg}.spi.{version}");
    if msg_def != expected {
        return Err(Reason::new(
            ReasonCode::XmlMsgdefMismatch,
            "Envelope/AppHdr/MsgDefIdr",
            format!("namespace says {expected}"),
        ));
    }
    let created = hdr.req_text(&["CreDt"])?;
    xml::check_datetime(&created, "Envelope/AppHdr/CreDt")?;
    let mut flags = Vec::new();
    // The XSD requires an XMLDSig in Sgntr; BCB's own examples leave it empty, the 1.7 scenario
    // samples omit it. Neither stops ingestion (we do not verify signatures here): flag it.
    let signed = hdr.opt("Sgntr")?.is_some_and(|s| s.node.children().any(|c| c.is_element()));
    if !signed {
        flags.push(Flag::SignatureAbsent);
    }
    let own = |i: &str| ctx.own_ispbs.iter().any(|o| o.as_str() == i);
    let (side, our_ispb) = if own(&fr) {
        (Some(Side::Sender), Some(fr.clone()))
    } else if own(&to) {
        (Some(Side::Receiver), Some(to.clone()))
    } else {
        (None, None)
    };
    let document = env.req("Document")?;
    let root_name = match msg {
        "pacs.008" => "FIToFICstmrCdtTrf",
        "pacs.004" => "PmtRtr",
        _ => "FIToFIPmtStsRpt",
    };
    let doc_el = document.req(root_name)?;
    let grp = doc_el.req("GrpHdr")?;
    let group_created = grp.req_text(&["CreDtTm"])?;
    xml::check_datetime(&group_created, &format!("{}/GrpHdr/CreDtTm", doc_el.path))?;
    let mut env_ctx = Envelope::new(ctx, "spi_xml", body);
    env_ctx.msg_def = Some(expected);
    let message = Message {
        env: env_ctx,
        side,
        our_ispb,
        version: version.to_owned(),
        biz_msg_id,
        created,
        group_created,
        flags,
    };
    Ok((message, doc_el))
}

/// `GrpHdr/NbOfTxs` must equal the number of transactions (whole message otherwise).
pub(crate) fn check_count(doc: &El<'_, '_>, required: bool, count: usize) -> Result<(), Vec<Reason>> {
    let grp = doc.req("GrpHdr").map_err(|r| vec![r])?;
    let path = format!("{}/GrpHdr/NbOfTxs", doc.path);
    let Some(n) = grp.opt_text(&["NbOfTxs"]).map_err(|r| vec![r])? else {
        return if required { Err(vec![Reason::missing(crate::reason::Field::XmlElement, path)]) } else { Ok(()) };
    };
    if n.parse::<usize>().ok() == Some(count) && !n.starts_with('+') {
        Ok(())
    } else {
        Err(vec![Reason::new(ReasonCode::BatchCountMismatch, path, format!("message carries {count} transaction(s)"))])
    }
}

/// Common canonical members of every SPI event.
pub(crate) fn base(
    message: &Message<'_>,
    event_type: &str,
    status: &str,
) -> serde_json::Map<String, serde_json::Value> {
    let mut v = serde_json::Map::new();
    v.insert("schema_version".into(), "1".into());
    v.insert("event_type".into(), event_type.into());
    v.insert("status".into(), status.into());
    v.insert("message_id".into(), message.biz_msg_id.clone().into());
    v.insert("message_created_at".into(), message.created.clone().into());
    v
}

/// `{"ispb": …}` party object.
pub(crate) fn party_ispb(ispb: &str) -> serde_json::Value {
    serde_json::json!({ "ispb": ispb })
}
