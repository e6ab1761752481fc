//! Safe element access over a parsed SPI document: namespace-qualified lookups that enforce the
//! XSD multiplicity we rely on (`xml.structure` for a repeated element, `field.missing.xml_element`
//! for an absent required one), and the SPI's lexical rules for date-times and amounts.
//!
//! Reason paths are element paths (`CdtTrfTxInf[2]/PmtId/EndToEndId`); details never quote text.

use roxmltree::{Document, Node, ParsingOptions};

use crate::reason::{Field, Reason, ReasonCode};

/// An element of the SPI namespace (or of no namespace, `ns` empty: the DICT's documents), with its
/// path for reasons.
#[derive(Clone)]
pub(crate) struct El<'a, 'i> {
    pub node: Node<'a, 'i>,
    pub ns: &'a str,
    pub path: String,
}

impl<'a, 'i> El<'a, 'i> {
    /// Every child element `name` in our namespace.
    pub(crate) fn all(&self, name: &str) -> Vec<El<'a, 'i>> {
        let matching = self.node.children().filter(|c| {
            c.is_element() && c.tag_name().name() == name && c.tag_name().namespace().unwrap_or("") == self.ns
        });
        let nodes: Vec<Node<'a, 'i>> = matching.collect();
        let many = nodes.len() > 1;
        nodes
            .into_iter()
            .enumerate()
            .map(|(i, node)| {
                let path = if many { format!("{}/{name}[{i}]", self.path) } else { format!("{}/{name}", self.path) };
                El { node, ns: self.ns, path }
            })
            .collect()
    }

    /// The child `name` (0..1): more than one is `xml.structure`.
    pub(crate) fn opt(&self, name: &str) -> Result<Option<El<'a, 'i>>, Reason> {
        let mut found = self.all(name);
        if found.len() > 1 {
            let path = format!("{}/{name}", self.path);
            return Err(Reason::new(ReasonCode::XmlStructure, path, format!("{} elements, at most 1", found.len())));
        }
        Ok(found.pop())
    }

    /// The child `name` (exactly 1).
    pub(crate) fn req(&self, name: &str) -> Result<El<'a, 'i>, Reason> {
        self.opt(name)?.ok_or_else(|| Reason::missing(Field::XmlElement, format!("{}/{name}", self.path)))
    }

    /// Walks `names` with 0..1 steps; `None` as soon as one is absent.
    pub(crate) fn opt_path(&self, names: &[&str]) -> Result<Option<El<'a, 'i>>, Reason> {
        let mut cur = self.clone();
        for name in names {
            match cur.opt(name)? {
                Some(next) => cur = next,
                None => return Ok(None),
            }
        }
        Ok(Some(cur))
    }

    /// Walks `names`, each step required.
    pub(crate) fn req_path(&self, names: &[&str]) -> Result<El<'a, 'i>, Reason> {
        let mut cur = self.clone();
        for name in names {
            cur = cur.req(name)?;
        }
        Ok(cur)
    }

    /// The element's text (its text children joined; comments skipped; never trimmed, so a
    /// padded id fails its format like in JSON).
    pub(crate) fn text(&self) -> String {
        self.node.children().filter(|c| c.is_text()).filter_map(|c| c.text()).collect()
    }

    /// Text at an optional path.
    pub(crate) fn opt_text(&self, names: &[&str]) -> Result<Option<String>, Reason> {
        Ok(self.opt_path(names)?.map(|e| e.text()))
    }

    /// Text at a required path.
    pub(crate) fn req_text(&self, names: &[&str]) -> Result<String, Reason> {
        Ok(self.req_path(names)?.text())
    }
}

/// The body as UTF-8 text (`payload.unparseable` with the byte offset otherwise).
pub(crate) fn utf8(body: &[u8]) -> Result<&str, Vec<Reason>> {
    std::str::from_utf8(body)
        .map_err(|e| vec![Reason::unparseable(format!("XML is not UTF-8 (byte {})", e.valid_up_to()))])
}

/// Parses one XML document with DTDs refused and at most `nodes_limit` nodes
/// (`docs/engineering-notes.md §6`): a DOCTYPE or entity declaration is `payload.dtd_forbidden`
/// before the parser sees it, and a declared encoding other than UTF-8 is refused.
pub(crate) fn parse(text: &str, nodes_limit: u32) -> Result<Document<'_>, Vec<Reason>> {
    // Refuse a DTD before parsing, with our own code, whatever the parser would say.
    if text.contains("<!DOCTYPE") || text.contains("<!ENTITY") {
        return Err(vec![dtd()]);
    }
    let options = ParsingOptions { allow_dtd: false, nodes_limit };
    let doc = Document::parse_with_options(text, options).map_err(|e| vec![parse_error(&e)])?;
    declared_encoding_is_utf8(text)?;
    Ok(doc)
}

pub(crate) fn dtd() -> Reason {
    Reason::new(ReasonCode::PayloadDtdForbidden, "", "DOCTYPE and entity declarations are not accepted")
}

/// A parser error by kind and position only (some messages quote names from the input).
fn parse_error(e: &roxmltree::Error) -> Reason {
    match e {
        roxmltree::Error::DtdDetected | roxmltree::Error::EntityReferenceLoop(_) => dtd(),
        _ => {
            let pos = e.pos();
            Reason::unparseable(format!("invalid XML at line {} column {}", pos.row, pos.col))
        }
    }
}

/// An `<?xml … encoding="…"?>` other than UTF-8 is refused: the bytes were read as UTF-8.
fn declared_encoding_is_utf8(text: &str) -> Result<(), Vec<Reason>> {
    let decl = text.trim_start_matches('\u{feff}');
    let Some(rest) = decl.strip_prefix("<?xml") else { return Ok(()) };
    let head = rest.split("?>").next().unwrap_or_default();
    let Some(after) = head.split("encoding").nth(1) else { return Ok(()) };
    let value: String = after
        .trim_start_matches([' ', '=', '"', '\''])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    if value.eq_ignore_ascii_case("utf-8") || value.eq_ignore_ascii_case("utf8") {
        Ok(())
    } else {
        Err(vec![Reason::unparseable("XML declares an encoding other than UTF-8")])
    }
}

/// SPI date-time (`ISONormalisedDateTime`): exactly `YYYY-MM-DDThh:mm:ss.sssZ`. The calendar
/// check (`2020-02-30`) is the validator's (`datetime.value`).
pub(crate) fn check_datetime(s: &str, path: &str) -> Result<(), Reason> {
    let shape = b"dddd-dd-ddTdd:dd:dd.dddZ";
    let ok = s.len() == shape.len()
        && s.bytes().zip(shape.iter()).all(|(b, &p)| if p == b'd' { b.is_ascii_digit() } else { b == p });
    if ok {
        Ok(())
    } else {
        Err(Reason::new(ReasonCode::DatetimeFormat, path, "expected YYYY-MM-DDThh:mm:ss.sssZ (SPI date-time)"))
    }
}

/// SPI amount (`xs:decimal`, ≤ 2 fraction digits, ≤ 18 digits, `Ccy="BRL"`) → canonical `"1000.00"`.
/// Zero, negatives and > 10 integer digits are left to the validator (`amount.*`).
pub(crate) fn amount(el: &El<'_, '_>) -> Result<String, Reason> {
    if el.node.attribute("Ccy") != Some("BRL") {
        return Err(Reason::new(ReasonCode::CurrencyNotBrl, format!("{}/@Ccy", el.path), "only BRL is accepted"));
    }
    let text = el.text();
    let bad =
        || Reason::new(ReasonCode::AmountFormat, el.path.clone(), "expected a decimal with at most 2 fraction digits");
    let (int, frac) = text.split_once('.').unwrap_or((text.as_str(), ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if int.is_empty() || !digits(int) || !digits(frac) || frac.len() > 2 || int.len() + frac.len() > 18 {
        return Err(bad());
    }
    // `1000` and `5.5` are valid xs:decimal; the canonical form always has two decimals.
    Ok(format!("{int}.{frac:0<2}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datetimes() {
        assert!(check_datetime("2020-01-01T08:30:12.000Z", "x").is_ok());
        for bad in ["2020-01-01T08:30:12Z", "2020-01-01T08:30:12.000-03:00", "2020-01-01T08:30:12.0000Z", ""] {
            assert_eq!(check_datetime(bad, "x").unwrap_err().code, ReasonCode::DatetimeFormat, "{bad}");
        }
    }

    #[test]
    fn amounts() {
        let doc =
            |xml: &str| roxmltree::Document::parse(xml).unwrap().root_element().attribute("Ccy").map(str::to_owned);
        assert_eq!(doc("<A Ccy=\"BRL\">1</A>").as_deref(), Some("BRL"));
        let run = |xml: &str| {
            let d = roxmltree::Document::parse(xml).unwrap();
            amount(&El { node: d.root_element(), ns: "", path: "A".into() }).map_err(|r| r.code.as_str())
        };
        assert_eq!(run("<A Ccy=\"BRL\">1000</A>"), Ok("1000.00".into()));
        assert_eq!(run("<A Ccy=\"BRL\">5.5</A>"), Ok("5.50".into()));
        assert_eq!(run("<A Ccy=\"BRL\">0.01</A>"), Ok("0.01".into()));
        assert_eq!(run("<A Ccy=\"USD\">1.00</A>"), Err("currency.not_brl"));
        assert_eq!(run("<A>1.00</A>"), Err("currency.not_brl"));
        for bad in ["1.001", "1,00", "-1.00", "1e2", " 1.00", "", ".5", "1234567890123456789"] {
            assert_eq!(run(&format!("<A Ccy=\"BRL\">{bad}</A>")), Err("amount.format"), "{bad}");
        }
    }
}
