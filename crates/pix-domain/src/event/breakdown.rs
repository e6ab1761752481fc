//! `amount_breakdown`: the API Pix `componentesValor` object, with decimal-string amounts.
//!
//! Member names keep the API Pix spelling (`modalidadeAgente`, `prestadorDoServicoDeSaque`) so an
//! adapter can copy the object through; the legacy `prestadorDeServicoDeSaque` is accepted on input
//! by the validator (flag `LEGACY_FIELD_NAME`) and always written with the current name.

use serde::{Deserialize, Serialize};

use super::enums::AgentModality;
use super::ids::Ispb;
use super::money::Amount;

/// One component (`{valor}`, plus agent data for saque/troco). `valor` may be zero.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Component {
    /// Value of this component.
    pub valor: Amount,
    /// Agent modality (saque/troco only).
    #[serde(rename = "modalidadeAgente", default, skip_serializing_if = "Option::is_none")]
    pub modalidade_agente: Option<AgentModality>,
    /// ISPB of the withdrawal service provider (saque/troco only).
    #[serde(rename = "prestadorDoServicoDeSaque", default, skip_serializing_if = "Option::is_none")]
    pub prestador_do_servico_de_saque: Option<Ispb>,
}

/// Composition of the amount: `amount = original + saque + troco + multa + juros − abatimento − desconto`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AmountBreakdown {
    /// Purchase / original value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original: Option<Component>,
    /// Pix Saque cash part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saque: Option<Component>,
    /// Pix Troco change part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub troco: Option<Component>,
    /// Interest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub juros: Option<Component>,
    /// Fine.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub multa: Option<Component>,
    /// Discount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desconto: Option<Component>,
    /// Rebate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub abatimento: Option<Component>,
}

impl AmountBreakdown {
    /// Member names, in wire order (used by the validator to refuse unknown members).
    pub const MEMBERS: [&'static str; 7] = ["original", "saque", "troco", "juros", "multa", "desconto", "abatimento"];

    /// Whether the components add up to `amount` and saque and troco are not both present.
    pub fn is_consistent(&self, amount: Amount) -> bool {
        let c = |x: &Option<Component>| x.as_ref().map_or(0i128, |c| i128::from(c.valor.cents()));
        let total = c(&self.original) + c(&self.saque) + c(&self.troco) + c(&self.multa) + c(&self.juros)
            - c(&self.abatimento)
            - c(&self.desconto);
        total == i128::from(amount.cents()) && !(self.saque.is_some() && self.troco.is_some())
    }

    /// Mutable access to a component by member name (validator helper).
    pub(crate) fn slot(&mut self, name: &str) -> Option<&mut Option<Component>> {
        Some(match name {
            "original" => &mut self.original,
            "saque" => &mut self.saque,
            "troco" => &mut self.troco,
            "juros" => &mut self.juros,
            "multa" => &mut self.multa,
            "desconto" => &mut self.desconto,
            "abatimento" => &mut self.abatimento,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn comp(s: &str) -> Option<Component> {
        Some(Component { valor: s.parse().unwrap(), modalidade_agente: None, prestador_do_servico_de_saque: None })
    }

    #[test]
    fn sums() {
        let b = AmountBreakdown { original: comp("180.00"), saque: comp("20.00"), ..Default::default() };
        assert!(b.is_consistent("200.00".parse().unwrap()));
        assert!(!b.is_consistent("210.00".parse().unwrap()));
        let b = AmountBreakdown {
            original: comp("100.00"),
            desconto: comp("10.00"),
            juros: comp("1.00"),
            ..Default::default()
        };
        assert!(b.is_consistent("91.00".parse().unwrap()));
        let both = AmountBreakdown { saque: comp("1.00"), troco: comp("1.00"), ..Default::default() };
        assert!(!both.is_consistent("2.00".parse().unwrap()));
    }
}
