//! The closed field names reason codes may carry: [`Field`] (`field.missing.<f>`,
//! `field.type.<f>`) and [`EnumField`] (`enum.<f>`), each spelled once as a `&'static str`.
//!
//! They are the leaf names of our own canonical schema plus the few envelope members of the other
//! wire formats (`pix`, `devolucoes`, `xml_element`); a producer's member name never becomes a
//! code (an unknown one goes into [`super::Reason::path`] under `field.unknown`).

use super::Stage;

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
            pub(super) const fn missing_code(self) -> &'static str {
                match self { $($ty::$v => concat!($p1, $name),)* }
            }
            pub(super) const fn type_code(self) -> &'static str {
                match self { $($ty::$v => concat!($p2, $name),)* }
            }
        }
    };
    (@codes $ty:ident { $($v:ident = $name:literal,)* } enum_ => $p1:literal;) => {
        impl $ty {
            pub(super) const fn enum_code(self) -> &'static str {
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
        /// DICT `Status` of a fraud report.
        ReportStatus = "report_status",
        /// DICT `ReportedBy`.
        ReportedBy = "reported_by",
        /// DICT `InfractionType` (shape only: an unknown value is flagged, not refused).
        InfractionType = "infraction_type",
        /// DICT `RefundReason` (shape only).
        RefundReason = "refund_reason",
        /// DICT `AnalysisResult` / `RefundAnalysisResult` (shape only).
        AnalysisResult = "analysis_result",
        /// DICT `TransactionType` (shape only).
        TransactionType = "transaction_type",
        /// DICT `TransactionResult` (shape only).
        TransactionResult = "transaction_result",
    }
    enum_ => "enum.";
}

impl Field {
    /// Stage of `field.missing.<f>` / `field.type.<f>` (see [`super::Stage`]).
    ///
    /// The envelope members of the other wire formats are [`Stage::Decode`]: without an API Pix
    /// `pix` array, a `devolucoes` element that is an object, or a required SPI element, the bytes
    /// are not a message (or an item) of that format at all. Every canonical member is
    /// [`Stage::Validate`]: the item was read, and one of its members breaks a rule.
    pub const fn stage(self) -> Stage {
        match self {
            Field::Pix | Field::Devolucoes | Field::XmlElement => Stage::Decode,
            _ => Stage::Validate,
        }
    }
}
