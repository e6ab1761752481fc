//! Closed code lists of the canonical event (docs/pix-domain.md §2, §5), each with its wire spelling.
//!
//! Every enum here serializes to exactly the string returned by `as_str()`, and `parse` accepts
//! only that exact spelling (case-sensitive): the canonical contract is ours, so `"settled"` is an
//! enum error, not a synonym.

use serde::{Deserialize, Serialize};

/// Declares a closed string enum: serde names, `as_str`, `parse` and `ALL`.
macro_rules! str_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $wire:literal,)* }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $wire)] $variant,)*
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The wire spelling.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $wire,)*
                }
            }

            /// Parses the exact wire spelling; `None` for anything else.
            pub fn parse(s: &str) -> Option<Self> {
                match s {
                    $($wire => Some($name::$variant),)*
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use str_enum;

str_enum! {
    /// What the event records.
    EventType {
        /// A payment order (pacs.008, API Pix `pix[]` item).
        Transfer = "TRANSFER",
        /// A devolução (pacs.004, API Pix `devolucoes[]` item).
        Return = "RETURN",
        /// A status report (pacs.002).
        Status = "STATUS",
    }
}

str_enum! {
    /// Processing status of the transaction the event describes.
    Status {
        /// Ordered, not yet accepted.
        Pending = "PENDING",
        /// Accepted, settlement in progress.
        InProcess = "IN_PROCESS",
        /// Settled.
        Settled = "SETTLED",
        /// Rejected.
        Rejected = "REJECTED",
        /// The source used a status we do not know.
        Unknown = "UNKNOWN",
    }
}

str_enum! {
    /// Money direction relative to our own ISPBs.
    Direction {
        /// We send money.
        Outbound = "OUTBOUND",
        /// We receive money.
        Inbound = "INBOUND",
    }
}

str_enum! {
    /// Kind of tax id.
    TaxIdType {
        /// Individual (11 digits).
        Cpf = "CPF",
        /// Company (14 characters, alphanumeric since IN RFB 2229/2024).
        Cnpj = "CNPJ",
    }
}

str_enum! {
    /// Account type (ISO 20022 `CashAccountType` subset used by the SPI).
    AccountType {
        /// Current account.
        Cacc = "CACC",
        /// Savings account.
        Svgs = "SVGS",
        /// Payment (transactional) account.
        Tran = "TRAN",
        /// Salary account.
        Slry = "SLRY",
        /// Other.
        Othr = "OTHR",
    }
}

str_enum! {
    /// How the payer started the Pix (`MndtRltdInf/Tp/LclInstrm/Prtry`).
    InitiationType {
        /// Account data typed by hand.
        Manu = "MANU",
        /// DICT key.
        Dict = "DICT",
        /// Dynamic QR code.
        Qrdn = "QRDN",
        /// Static QR code.
        Qres = "QRES",
        /// Payment initiator.
        Inic = "INIC",
        /// Pix Automático.
        Auto = "AUTO",
        /// Proximity, dynamic QR data.
        Apdn = "APDN",
        /// Proximity, static QR data.
        Apes = "APES",
    }
}

impl InitiationType {
    /// Whether the SPI requires a Pix key (`CdtrAcct/Prxy`) for this initiation form.
    pub const fn requires_key(self) -> bool {
        !matches!(self, InitiationType::Manu | InitiationType::Auto)
    }
}

str_enum! {
    /// Purpose code (`Purp/Cd`).
    Purpose {
        /// Purchase or transfer.
        Ipay = "IPAY",
        /// Pix Troco.
        Gscb = "GSCB",
        /// Pix Saque.
        Othr = "OTHR",
        /// Refund (MED of Pix Automático).
        Refu = "REFU",
        /// Listed in the XSD; meaning unconfirmed.
        Iprt = "IPRT",
    }
}

str_enum! {
    /// Instruction priority.
    Priority {
        /// Priority (PAGPRI).
        High = "HIGH",
        /// Normal (PAGAGD / PAGFRD).
        Norm = "NORM",
    }
}

str_enum! {
    /// SPI service level (`SvcLvl/Prtry`).
    ServiceLevel {
        /// Normal immediate payment.
        Pagpri = "PAGPRI",
        /// Scheduled.
        Pagagd = "PAGAGD",
        /// Held by the payer's PSP for fraud analysis.
        Pagfrd = "PAGFRD",
    }
}

impl ServiceLevel {
    /// The priority this service level requires (HIGH ⇔ PAGPRI; NORM ⇔ PAGAGD/PAGFRD).
    pub const fn priority(self) -> Priority {
        match self {
            ServiceLevel::Pagpri => Priority::High,
            ServiceLevel::Pagagd | ServiceLevel::Pagfrd => Priority::Norm,
        }
    }
}

str_enum! {
    /// Reason of a devolução (pacs.004 `RtrRsnInf/Rsn/Cd`, plus purpose REFU for Pix Automático MED).
    ReturnReasonCode {
        /// Operational failure (MED).
        Be08 = "BE08",
        /// Well-founded fraud suspicion (MED).
        Fr01 = "FR01",
        /// Receiver chose to refund.
        Md06 = "MD06",
        /// Pix Saque/Troco problem.
        Sl02 = "SL02",
        /// MED of Pix Automático (a pacs.008 with purpose REFU).
        Refu = "REFU",
    }
}

impl ReturnReasonCode {
    /// The API Pix `natureza` that corresponds to this code (docs/pix-domain.md §5).
    pub const fn nature(self) -> RefundNature {
        match self {
            ReturnReasonCode::Be08 => RefundNature::MedOperacional,
            ReturnReasonCode::Fr01 => RefundNature::MedFraude,
            ReturnReasonCode::Md06 => RefundNature::Original,
            ReturnReasonCode::Sl02 => RefundNature::Retirada,
            ReturnReasonCode::Refu => RefundNature::MedPixAutomatico,
        }
    }

    /// Whether the refund comes from the MED (Mecanismo Especial de Devolução).
    pub const fn is_med(self) -> bool {
        matches!(self, ReturnReasonCode::Be08 | ReturnReasonCode::Fr01 | ReturnReasonCode::Refu)
    }
}

str_enum! {
    /// API Pix devolução `natureza`.
    RefundNature {
        /// Plain refund of the original amount (MD06).
        Original = "ORIGINAL",
        /// Refund of a Pix Saque/Troco cash part (SL02).
        Retirada = "RETIRADA",
        /// MED, operational failure (BE08).
        MedOperacional = "MED_OPERACIONAL",
        /// MED, fraud (FR01).
        MedFraude = "MED_FRAUDE",
        /// MED of Pix Automático (purpose REFU).
        MedPixAutomatico = "MED_PIX_AUTOMATICO",
    }
}

str_enum! {
    /// Currency; Pix settles in reais only.
    Currency {
        /// Brazilian real.
        Brl = "BRL",
    }
}

str_enum! {
    /// API Pix `componentesValor` agent modality for saque/troco.
    AgentModality {
        /// Commercial establishment.
        Agtec = "AGTEC",
        /// Other legal entity.
        Agtot = "AGTOT",
        /// Withdrawal service provider (written AGFSS in pacs.008).
        Agpss = "AGPSS",
    }
}

str_enum! {
    /// Soft-rule findings: the event is published, and these tell consumers what looked wrong.
    Flag {
        /// The endToEndId's embedded `yyyyMMddHHmm` is not a real UTC date-time.
        E2eTimestampInvalidDate = "E2E_TIMESTAMP_INVALID_DATE",
        /// The endToEndId's embedded time is more than 12 h from `event_time`.
        E2eTimestampSkew = "E2E_TIMESTAMP_SKEW",
        /// The endToEndId's ISPB differs from `payer.ispb` (legitimate for INIC and indirect participants).
        E2eIspbMismatch = "E2E_ISPB_MISMATCH",
        /// The Pix key fails the rule of its classified type (or has no known type).
        PixKeyFormat = "PIX_KEY_FORMAT",
        /// A key was given on a MANU/AUTO initiation.
        ProxyUnexpected = "PROXY_UNEXPECTED",
        /// An unknown enum value was mapped to UNKNOWN (API Pix JSON adapters).
        UnknownEnumValue = "UNKNOWN_ENUM_VALUE",
        /// `devolucoes` was an object, accepted as one element (API Pix adapters).
        DevolucoesNotArray = "DEVOLUCOES_NOT_ARRAY",
        /// `prestadorDeServicoDeSaque` (legacy spelling) was accepted.
        LegacyFieldName = "LEGACY_FIELD_NAME",
        /// `amount_breakdown` does not add up to `amount`, or has both saque and troco.
        ComponentesValorInconsistent = "COMPONENTES_VALOR_INCONSISTENT",
        /// XML signature absent (SPI adapters).
        SignatureAbsent = "SIGNATURE_ABSENT",
        /// AppHdr From/To disagrees with DbtrAgt/CdtrAgt (SPI adapters).
        AgentMismatch = "AGENT_MISMATCH",
        /// A refund exceeds the original in the same payload.
        RefundExceedsOriginal = "REFUND_EXCEEDS_ORIGINAL",
        /// A CPF/CNPJ failed its check digits and the policy is `warn`.
        TaxIdCheckDigit = "TAX_ID_CHECK_DIGIT",
        /// A canonical item had members the schema does not define; they were left out of the
        /// published event (policy `unknown_fields: flag`).
        UnknownField = "UNKNOWN_FIELD",
    }
}
