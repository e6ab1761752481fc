//! The closed [`ReasonCode`] set (docs/pix-domain.md §8): one stable dotted name and one pipeline [`Stage`]
//! per code, both written on the code's own line, so a new code cannot be added without deciding
//! where it is refused.

use std::fmt;

use super::Stage;
use super::field::{EnumField, Field};

/// Declares the field-independent codes.
macro_rules! simple_codes {
    ($($(#[$doc:meta])* $v:ident = $code:literal @ $stage:ident,)*) => {
        /// A machine-readable rejection reason with a stable dotted name (docs/pix-domain.md §8).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ReasonCode {
            $($(#[$doc])* $v,)*
            /// `field.missing.<field>`: a required member is absent (or `null`).
            FieldMissing(Field),
            /// `field.type.<field>`: a member has the wrong JSON type (`"valor": 110.00`).
            FieldType(Field),
            /// `enum.<field>`: a value outside its closed list.
            Enum(EnumField),
        }

        impl ReasonCode {
            const SIMPLE: &'static [ReasonCode] = &[$(ReasonCode::$v),*];

            /// The stable dotted code, e.g. `e2e.format`, `field.missing.amount`.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(ReasonCode::$v => $code,)*
                    ReasonCode::FieldMissing(f) => f.missing_code(),
                    ReasonCode::FieldType(f) => f.type_code(),
                    ReasonCode::Enum(f) => f.enum_code(),
                }
            }

            /// The pipeline stage that refuses an item with this code (the rule is in [`super::Stage`]).
            pub const fn stage(self) -> Stage {
                match self {
                    $(ReasonCode::$v => Stage::$stage,)*
                    ReasonCode::FieldMissing(f) | ReasonCode::FieldType(f) => f.stage(),
                    ReasonCode::Enum(_) => Stage::Validate,
                }
            }
        }
    };
}

simple_codes! {
    /// The item (or body) is not JSON, not UTF-8, or not an object/array where one is needed.
    PayloadUnparseable = "payload.unparseable" @ Decode,
    /// Nesting deeper than [`crate::decode::MAX_DEPTH`].
    PayloadTooDeep = "payload.too_deep" @ Decode,
    /// Body over the configured limit (produced by the HTTP layer).
    PayloadTooLarge = "payload.too_large" @ Decode,
    /// A JSON member name repeated inside one object.
    PayloadDuplicateKey = "payload.duplicate_key" @ Decode,
    /// A canonical item that is valid JSON but not an object.
    PayloadNotObject = "payload.not_object" @ Decode,
    /// DOCTYPE/entities in XML (SPI adapters).
    PayloadDtdForbidden = "payload.dtd_forbidden" @ Decode,
    /// XML namespace not on the allow-list (SPI adapters).
    XmlNamespaceUnknown = "xml.namespace_unknown" @ Decode,
    /// `MsgDefIdr` disagrees with the namespace (SPI adapters).
    XmlMsgdefMismatch = "xml.msgdef_mismatch" @ Decode,
    /// Element multiplicity differs from the XSD (SPI adapters).
    XmlStructure = "xml.structure" @ Decode,
    /// `NbOfTxs` differs from the number of transactions (SPI adapters).
    BatchCountMismatch = "batch.count_mismatch" @ Decode,
    /// The XML root element is not on the format's allow-list (DICT adapter).
    XmlRootUnknown = "xml.root_unknown" @ Decode,
    /// A member our schema does not define (name in `path`).
    FieldUnknown = "field.unknown" @ Validate,
    /// endToEndId format.
    E2eFormat = "e2e.format" @ Validate,
    /// Return id (rtrId) format.
    RtrIdFormat = "rtr_id.format" @ Validate,
    /// txid format.
    TxidFormat = "txid.format" @ Validate,
    /// Devolução id format.
    RefundRequestIdFormat = "refund_request_id.format" @ Validate,
    /// Message id format.
    MessageIdFormat = "message_id.format" @ Validate,
    /// DICT report id format (a UUID).
    ReportIdFormat = "report_id.format" @ Validate,
    /// DICT `TransactionId` format (an endToEndId for an SPI transaction, else 1 to 35 alphanumerics).
    TransactionIdFormat = "transaction_id.format" @ Validate,
    /// Amount string shape.
    AmountFormat = "amount.format" @ Validate,
    /// Amount zero (a negative amount is `amount.format`: the pattern has no sign).
    AmountNonPositive = "amount.non_positive" @ Validate,
    /// Amount over 10 integer digits.
    AmountOutOfRange = "amount.out_of_range" @ Validate,
    /// `amount_cents` sent by the producer disagrees with `amount`.
    AmountCentsMismatch = "amount.cents_mismatch" @ Validate,
    /// Currency other than BRL.
    CurrencyNotBrl = "currency.not_brl" @ Validate,
    /// Date-time shape (RFC 3339 with zone).
    DatetimeFormat = "datetime.format" @ Validate,
    /// Impossible date-time.
    DatetimeValue = "datetime.value" @ Validate,
    /// ISPB format.
    IspbFormat = "ispb.format" @ Validate,
    /// CPF/CNPJ format.
    TaxIdFormat = "tax_id.format" @ Validate,
    /// CPF/CNPJ check digits (policy `strict`).
    TaxIdCheckDigit = "tax_id.check_digit" @ Validate,
    /// `tax_id_type` disagrees with the tax id's length.
    TaxIdTypeMismatch = "tax_id.type_mismatch" @ Validate,
    /// Pix key empty, over 77 chars, or with control characters.
    PixKeyFormat = "pix_key.format" @ Validate,
    /// Branch or account number format.
    AccountFormat = "account.format" @ Validate,
    /// Free text over 140 characters.
    TextTooLong = "text.too_long" @ Validate,
    /// Key missing for DICT/QRDN/QRES/INIC/APDN/APES.
    RuleProxyRequired = "rule.proxy_required" @ Validate,
    /// HIGH ⇔ PAGPRI, NORM ⇔ PAGAGD/PAGFRD violated.
    RulePriorityServiceLevel = "rule.priority_service_level" @ Validate,
    /// `refund_nature` disagrees with `return_reason_code`.
    RuleRefundNature = "rule.refund_nature" @ Validate,
    /// A TRANSFER carrying a `return_id`.
    RuleReturnIdOnTransfer = "rule.return_id_on_transfer" @ Validate,
    /// Neither side is one of our ISPBs.
    CategoryUndeterminable = "category.undeterminable" @ Validate,
    /// The producer's `category` disagrees with the derived one.
    CategoryConflict = "category.conflict" @ Validate,
    /// The producer's `direction` disagrees with the derived one.
    DirectionConflict = "direction.conflict" @ Validate,
    /// `schema_version` other than `"1"`.
    SchemaVersionUnsupported = "schema_version.unsupported" @ Validate,
    /// The producer's `event_id` disagrees with the derived one.
    EventIdMismatch = "event_id.mismatch" @ Validate,
}

impl ReasonCode {
    /// Every code, for metrics pre-registration (bounded: simple codes + one per known field).
    pub fn all() -> impl Iterator<Item = ReasonCode> {
        ReasonCode::SIMPLE
            .iter()
            .copied()
            .chain(Field::ALL.iter().map(|f| ReasonCode::FieldMissing(*f)))
            .chain(Field::ALL.iter().map(|f| ReasonCode::FieldType(*f)))
            .chain(EnumField::ALL.iter().map(|f| ReasonCode::Enum(*f)))
    }
}

impl fmt::Display for ReasonCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
