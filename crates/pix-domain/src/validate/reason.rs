//! Rejection reasons: the closed [`ReasonCode`] set of PIX.md §7 and [`Reason`] `{code, path, detail}`.
//!
//! Codes become Prometheus label values and the `pix-dlq-reason` header, so the set is closed:
//! field-specific codes exist only for the field names of our own schema ([`Field`], [`EnumField`]),
//! each a `&'static str`; nothing is ever built from payload text. An unknown member name goes into
//! [`Reason::path`] under the single code `field.unknown`. `detail` never quotes a value that could
//! be personal data; it describes it ("11 characters, check digit mismatch").

use std::fmt;

/// Declares a closed field-name enum with its static code strings.
macro_rules! field_enum {
    ($(#[$doc:meta])* $ty:ident { $($(#[$vdoc:meta])* $v:ident = $name:literal,)* } $($method:ident => $prefix:literal;)*) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $ty {
            $($(#[$vdoc])* $v,)*
        }

        impl $ty {
            /// Every variant.
            pub const ALL: &'static [$ty] = &[$($ty::$v),*];

            /// The member name as written in the canonical schema.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $($ty::$v => $name,)*
                }
            }
        }

        field_enum!(@codes $ty { $($v = $name,)* } $($method => $prefix;)*);
    };
    (@codes $ty:ident { $($v:ident = $name:literal,)* } missing => $p1:literal; type_ => $p2:literal;) => {
        impl $ty {
            const fn missing_code(self) -> &'static str {
                match self { $($ty::$v => concat!($p1, $name),)* }
            }
            const fn type_code(self) -> &'static str {
                match self { $($ty::$v => concat!($p2, $name),)* }
            }
        }
    };
    (@codes $ty:ident { $($v:ident = $name:literal,)* } enum_ => $p1:literal;) => {
        impl $ty {
            const fn enum_code(self) -> &'static str {
                match self { $($ty::$v => concat!($p1, $name),)* }
            }
        }
    };
}

field_enum! {
    /// Members of the canonical item, by leaf name (the full location is in [`Reason::path`]).
    Field {
        /// `schema_version`.
        SchemaVersion = "schema_version",
        /// `event_id`.
        EventId = "event_id",
        /// `event_type`.
        EventType = "event_type",
        /// `category`.
        Category = "category",
        /// `direction`.
        Direction = "direction",
        /// `end_to_end_id`.
        EndToEndId = "end_to_end_id",
        /// `return_id`.
        ReturnId = "return_id",
        /// `refund_request_id`.
        RefundRequestId = "refund_request_id",
        /// `txid`.
        Txid = "txid",
        /// `message_id`.
        MessageId = "message_id",
        /// `amount`.
        Amount = "amount",
        /// `amount_cents`.
        AmountCents = "amount_cents",
        /// `currency`.
        Currency = "currency",
        /// `amount_breakdown`.
        AmountBreakdown = "amount_breakdown",
        /// A component object inside `amount_breakdown`.
        Component = "component",
        /// `valor` of a component.
        Valor = "valor",
        /// `modalidadeAgente` of a component.
        ModalidadeAgente = "modalidade_agente",
        /// `prestadorDoServicoDeSaque` of a component.
        PrestadorDoServicoDeSaque = "prestador_do_servico_de_saque",
        /// `event_time`.
        EventTime = "event_time",
        /// `settled_at`.
        SettledAt = "settled_at",
        /// `message_created_at`.
        MessageCreatedAt = "message_created_at",
        /// `ingested_at`.
        IngestedAt = "ingested_at",
        /// `status`.
        Status = "status",
        /// `status_reason_code`.
        StatusReasonCode = "status_reason_code",
        /// `status_reason_text`.
        StatusReasonText = "status_reason_text",
        /// `payer`.
        Payer = "payer",
        /// `payee`.
        Payee = "payee",
        /// `payer.ispb` / `payee.ispb`.
        Ispb = "ispb",
        /// `*.tax_id`.
        TaxId = "tax_id",
        /// `*.tax_id_type`.
        TaxIdType = "tax_id_type",
        /// `*.name`.
        Name = "name",
        /// `*.account`.
        Account = "account",
        /// `*.account.branch`.
        Branch = "branch",
        /// `*.account.number`.
        Number = "number",
        /// `*.account.type`.
        AccountType = "account_type",
        /// `pix_key`.
        PixKey = "pix_key",
        /// `pix_key_type`.
        PixKeyType = "pix_key_type",
        /// `initiation_type`.
        InitiationType = "initiation_type",
        /// `initiator_cnpj`.
        InitiatorCnpj = "initiator_cnpj",
        /// `purpose`.
        Purpose = "purpose",
        /// `priority`.
        Priority = "priority",
        /// `service_level`.
        ServiceLevel = "service_level",
        /// `remittance_info`.
        RemittanceInfo = "remittance_info",
        /// `return_reason_code`.
        ReturnReasonCode = "return_reason_code",
        /// `refund_nature`.
        RefundNature = "refund_nature",
        /// `is_med`.
        IsMed = "is_med",
        /// `intra_psp`.
        IntraPsp = "intra_psp",
        /// `local_hour`.
        LocalHour = "local_hour",
        /// `night_period`.
        NightPeriod = "night_period",
        /// `source`.
        Source = "source",
        /// `flags`.
        Flags = "flags",
        /// API Pix body: the `pix` array (webhook / GET /pix adapters).
        Pix = "pix",
        /// API Pix body: a `devolucoes` element (webhook / GET /pix adapters).
        Devolucoes = "devolucoes",
        /// SPI XML: a required element (name in the path), for the XML adapters.
        XmlElement = "xml_element",
    }
    missing => "field.missing.";
    type_ => "field.type.";
}

field_enum! {
    /// Members whose value must come from a closed list.
    EnumField {
        /// `event_type`.
        EventType = "event_type",
        /// `status`.
        Status = "status",
        /// `category`.
        Category = "category",
        /// `direction`.
        Direction = "direction",
        /// `*.tax_id_type`.
        TaxIdType = "tax_id_type",
        /// `*.account.type`.
        AccountType = "account_type",
        /// `initiation_type`.
        InitiationType = "initiation_type",
        /// `purpose`.
        Purpose = "purpose",
        /// `priority`.
        Priority = "priority",
        /// `service_level`.
        ServiceLevel = "service_level",
        /// `return_reason_code`.
        ReturnReasonCode = "return_reason_code",
        /// `refund_nature`.
        RefundNature = "refund_nature",
        /// `modalidadeAgente`.
        ModalidadeAgente = "modalidade_agente",
        /// `status_reason_code` (4 upper-case alphanumerics).
        StatusReasonCode = "status_reason_code",
    }
    enum_ => "enum.";
}

/// Declares the field-independent codes.
macro_rules! simple_codes {
    ($($(#[$doc:meta])* $v:ident = $code:literal,)*) => {
        /// A machine-readable rejection reason with a stable dotted name (PIX.md §7).
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
        }
    };
}

simple_codes! {
    /// The item (or body) is not JSON, not UTF-8, or not an object/array where one is needed.
    PayloadUnparseable = "payload.unparseable",
    /// Nesting deeper than [`crate::decode::MAX_DEPTH`].
    PayloadTooDeep = "payload.too_deep",
    /// Body over the configured limit (produced by the HTTP layer).
    PayloadTooLarge = "payload.too_large",
    /// A JSON member name repeated inside one object.
    PayloadDuplicateKey = "payload.duplicate_key",
    /// A canonical item that is valid JSON but not an object.
    PayloadNotObject = "payload.not_object",
    /// DOCTYPE/entities in XML (SPI adapters).
    PayloadDtdForbidden = "payload.dtd_forbidden",
    /// XML namespace not on the allow-list (SPI adapters).
    XmlNamespaceUnknown = "xml.namespace_unknown",
    /// `MsgDefIdr` disagrees with the namespace (SPI adapters).
    XmlMsgdefMismatch = "xml.msgdef_mismatch",
    /// Element multiplicity differs from the XSD (SPI adapters).
    XmlStructure = "xml.structure",
    /// `NbOfTxs` differs from the number of transactions (SPI adapters).
    BatchCountMismatch = "batch.count_mismatch",
    /// A member our schema does not define (name in `path`).
    FieldUnknown = "field.unknown",
    /// endToEndId format.
    E2eFormat = "e2e.format",
    /// Return id (rtrId) format.
    RtrIdFormat = "rtr_id.format",
    /// txid format.
    TxidFormat = "txid.format",
    /// Devolução id format.
    RefundRequestIdFormat = "refund_request_id.format",
    /// Message id format.
    MessageIdFormat = "message_id.format",
    /// Amount string shape.
    AmountFormat = "amount.format",
    /// Amount zero or negative.
    AmountNonPositive = "amount.non_positive",
    /// Amount over 10 integer digits.
    AmountOutOfRange = "amount.out_of_range",
    /// `amount_cents` sent by the producer disagrees with `amount`.
    AmountCentsMismatch = "amount.cents_mismatch",
    /// Currency other than BRL.
    CurrencyNotBrl = "currency.not_brl",
    /// Date-time shape (RFC 3339 with zone).
    DatetimeFormat = "datetime.format",
    /// Impossible date-time.
    DatetimeValue = "datetime.value",
    /// ISPB format.
    IspbFormat = "ispb.format",
    /// CPF/CNPJ format.
    TaxIdFormat = "tax_id.format",
    /// CPF/CNPJ check digits (policy `strict`).
    TaxIdCheckDigit = "tax_id.check_digit",
    /// `tax_id_type` disagrees with the tax id's length.
    TaxIdTypeMismatch = "tax_id.type_mismatch",
    /// Pix key empty, over 77 chars, or with control characters.
    PixKeyFormat = "pix_key.format",
    /// Branch or account number format.
    AccountFormat = "account.format",
    /// Free text over 140 characters.
    TextTooLong = "text.too_long",
    /// Key missing for DICT/QRDN/QRES/INIC/APDN/APES.
    RuleProxyRequired = "rule.proxy_required",
    /// HIGH ⇔ PAGPRI, NORM ⇔ PAGAGD/PAGFRD violated.
    RulePriorityServiceLevel = "rule.priority_service_level",
    /// `refund_nature` disagrees with `return_reason_code`.
    RuleRefundNature = "rule.refund_nature",
    /// A TRANSFER carrying a `return_id`.
    RuleReturnIdOnTransfer = "rule.return_id_on_transfer",
    /// Neither side is one of our ISPBs.
    CategoryUndeterminable = "category.undeterminable",
    /// The producer's `category` disagrees with the derived one.
    CategoryConflict = "category.conflict",
    /// The producer's `direction` disagrees with the derived one.
    DirectionConflict = "direction.conflict",
    /// `schema_version` other than `"1"`.
    SchemaVersionUnsupported = "schema_version.unsupported",
    /// The producer's `event_id` disagrees with the derived one.
    EventIdMismatch = "event_id.mismatch",
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

/// One hard problem of an item: what (code), where (path), and a PII-free explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    /// The stable code.
    pub code: ReasonCode,
    /// Dotted location, e.g. `payer.tax_id`, `amount_breakdown.saque.valor`, `[3]`; empty for the whole item.
    pub path: String,
    /// Human explanation; never contains a CPF/CNPJ/key/name/account value.
    pub detail: String,
}

/// Longest path we keep: a path may carry an unknown member name chosen by the producer.
const MAX_PATH_CHARS: usize = 200;

impl Reason {
    /// Builds a reason. The path is truncated to 200 characters and stripped of control characters.
    pub fn new(code: ReasonCode, path: impl Into<String>, detail: impl Into<String>) -> Reason {
        let path: String = path.into().chars().filter(|c| !c.is_control()).take(MAX_PATH_CHARS).collect();
        Reason { code, path, detail: detail.into() }
    }

    /// `field.missing.<field>` at `path`.
    pub fn missing(field: Field, path: impl Into<String>) -> Reason {
        Reason::new(ReasonCode::FieldMissing(field), path, "required member is absent")
    }

    /// `field.type.<field>` at `path`.
    pub fn wrong_type(field: Field, path: impl Into<String>, expected: &str) -> Reason {
        Reason::new(ReasonCode::FieldType(field), path, format!("expected {expected}"))
    }

    /// `payload.unparseable` for the whole item.
    pub fn unparseable(detail: impl Into<String>) -> Reason {
        Reason::new(ReasonCode::PayloadUnparseable, "", detail)
    }

    /// `payload.too_large` (for the HTTP layer): `limit` bytes.
    pub fn too_large(limit: usize) -> Reason {
        Reason::new(ReasonCode::PayloadTooLarge, "", format!("body exceeds {limit} bytes"))
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}: {}", self.code, self.detail)
        } else {
            write!(f, "{} at {}: {}", self.code, self.path, self.detail)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn codes_are_unique_dotted_and_bounded() {
        let all: Vec<_> = ReasonCode::all().collect();
        let names: HashSet<_> = all.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), all.len(), "duplicate code strings");
        assert!(all.len() < 200);
        for n in &names {
            assert!(n.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'_'), "{n}");
        }
        assert_eq!(ReasonCode::FieldMissing(Field::Amount).as_str(), "field.missing.amount");
        assert_eq!(ReasonCode::FieldType(Field::Amount).as_str(), "field.type.amount");
        assert_eq!(ReasonCode::Enum(EnumField::ReturnReasonCode).as_str(), "enum.return_reason_code");
        for code in
            ["payload.unparseable", "payload.too_deep", "payload.too_large", "payload.duplicate_key", "e2e.format"]
        {
            assert!(names.contains(code), "{code}");
        }
    }

    #[test]
    fn path_is_bounded() {
        let r = Reason::new(ReasonCode::FieldUnknown, "x\n".repeat(500), "unknown member");
        assert_eq!(r.path.chars().count(), 200);
        assert!(!r.path.contains('\n'));
    }
}
