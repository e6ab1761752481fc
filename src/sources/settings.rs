//! The `pix:` config section (who we are in Pix, check-digit policy), the `formats:` section
//! (per-format decoding options) and the validator settings every source decodes with.

use pix_domain::Ispb;
use pix_domain::validate::{CheckDigitPolicy, UnknownFields};
use serde::{Deserialize, Serialize};

/// `pix:` section.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PixConfig {
    /// Our ISPB(s), including indirect participants we settle for. A transfer whose payer is one
    /// of these is a payment; whose payee is one of these, a receipt.
    pub own_ispbs: Vec<String>,
    /// `strict` rejects a CPF/CNPJ whose check digits are wrong; `warn` publishes it with the
    /// flag `TAX_ID_CHECK_DIGIT`.
    #[serde(default)]
    pub tax_id_check_digits: CheckDigitPolicy,
}

impl PixConfig {
    /// Field problems, as (field below `pix.`, message).
    pub fn problems(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if self.own_ispbs.is_empty() {
            out.push(("own_ispbs".into(), "expected at least one ISPB (8 of [0-9A-Z])".into()));
        }
        for (i, ispb) in self.own_ispbs.iter().enumerate() {
            if ispb.parse::<Ispb>().is_err() {
                out.push((format!("own_ispbs[{i}]"), format!("`{ispb}` is not an ISPB: expected 8 of [0-9A-Z]")));
            }
        }
        out
    }
}

/// `formats:` section: options of the wire formats.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FormatsConfig {
    /// `formats.canonical`.
    #[serde(default)]
    pub canonical: CanonicalFormatConfig,
}

/// `formats.canonical`: our own JSON events.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CanonicalFormatConfig {
    /// A member the schema does not define: `flag` (left out of the event, flag `UNKNOWN_FIELD`;
    /// the default) or `reject` (`field.unknown`).
    #[serde(default)]
    pub unknown_fields: UnknownFields,
}

/// Validator inputs that come from config.
#[derive(Debug, Clone)]
pub struct ValidationSettings {
    /// `pix.own_ispbs`.
    pub own_ispbs: Vec<Ispb>,
    /// `pix.tax_id_check_digits`.
    pub check_digits: CheckDigitPolicy,
    /// `formats.canonical.unknown_fields`.
    pub unknown_fields: UnknownFields,
}

/// An ISPB in `pix.own_ispbs` that does not parse (the config check refuses it first).
#[derive(Debug, thiserror::Error)]
#[error("`{0}` is not an ISPB")]
pub struct BadIspb(pub String);

impl ValidationSettings {
    /// From the `pix:` and `formats:` sections.
    pub fn from_config(pix: &PixConfig, formats: &FormatsConfig) -> Result<Self, BadIspb> {
        let own_ispbs =
            pix.own_ispbs.iter().map(|s| s.parse().map_err(|_| BadIspb(s.clone()))).collect::<Result<Vec<_>, _>>()?;
        Ok(Self { own_ispbs, check_digits: pix.tax_id_check_digits, unknown_fields: formats.canonical.unknown_fields })
    }
}
