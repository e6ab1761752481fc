//! Reading members of the parsed item: presence, JSON type, unknown members.
//!
//! [`Checker`] accumulates every hard problem ([`Reason`]) and soft finding ([`Flag`]) instead of
//! stopping at the first, so one DLQ record lists all that is wrong with an item. A `null` member
//! is treated as absent: producers commonly write `null` for "no value", and the output omits it
//! either way.

use serde_json::{Map, Value};

use super::{CheckDigitPolicy, UnknownFields};
use crate::event::{Flag, TaxId, TaxIdError};
use crate::reason::{Field, Reason, ReasonCode};

/// An object member of the item, with its dotted location.
pub(crate) struct Obj<'v> {
    map: &'v Map<String, Value>,
    prefix: String,
}

impl<'v> Obj<'v> {
    /// The item's top-level object.
    pub(crate) fn root(map: &'v Map<String, Value>) -> Obj<'v> {
        Obj { map, prefix: String::new() }
    }

    /// Dotted path of member `name`.
    pub(crate) fn path(&self, name: &str) -> String {
        if self.prefix.is_empty() { name.to_owned() } else { format!("{}.{name}", self.prefix) }
    }

    /// The member's value; `null` counts as absent.
    pub(crate) fn value(&self, name: &str) -> Option<&'v Value> {
        self.map.get(name).filter(|v| !v.is_null())
    }

    /// Whether the member is present (and not `null`).
    pub(crate) fn has(&self, name: &str) -> bool {
        self.value(name).is_some()
    }

    /// Member names not in `allowed`, in the map's order.
    pub(crate) fn unknown_members<'a>(&'a self, allowed: &'a [&str]) -> impl Iterator<Item = String> + 'a {
        self.map.keys().filter(|k| !allowed.contains(&k.as_str())).map(|k| self.path(k))
    }
}

/// Collects reasons and flags while fields are read.
pub(crate) struct Checker {
    pub(crate) reasons: Vec<Reason>,
    pub(crate) flags: Vec<Flag>,
    pub(crate) policy: CheckDigitPolicy,
    /// What a member the schema does not define costs the item.
    pub(crate) unknown_fields: UnknownFields,
}

impl Checker {
    pub(crate) fn new(policy: CheckDigitPolicy, unknown_fields: UnknownFields) -> Checker {
        Checker { reasons: Vec::new(), flags: Vec::new(), policy, unknown_fields }
    }

    /// Records a hard problem.
    pub(crate) fn reject(&mut self, code: ReasonCode, path: impl Into<String>, detail: impl Into<String>) {
        self.reasons.push(Reason::new(code, path, detail));
    }

    /// Records a soft finding once.
    pub(crate) fn flag(&mut self, flag: Flag) {
        if !self.flags.contains(&flag) {
            self.flags.push(flag);
        }
    }

    /// Members of `obj` not in `allowed`: each one `field.unknown` under [`UnknownFields::Reject`];
    /// under [`UnknownFields::Flag`] the item carries `UNKNOWN_FIELD` once (the members are never
    /// read, so they cannot reach the published event).
    pub(crate) fn unknown(&mut self, obj: &Obj<'_>, allowed: &[&str]) {
        match self.unknown_fields {
            UnknownFields::Flag => {
                if obj.unknown_members(allowed).next().is_some() {
                    self.flag(Flag::UnknownField);
                }
            }
            UnknownFields::Reject => {
                let unknown: Vec<String> = obj.unknown_members(allowed).collect();
                for path in unknown {
                    self.reject(ReasonCode::FieldUnknown, path, "member not defined by the canonical schema v1");
                }
            }
        }
    }

    /// A string member, or `None` (recording `field.type.*` when it is not a string).
    pub(crate) fn opt_str<'v>(&mut self, obj: &Obj<'v>, name: &str, field: Field) -> Option<&'v str> {
        match obj.value(name)? {
            Value::String(s) => Some(s),
            _ => {
                self.reasons.push(Reason::wrong_type(field, obj.path(name), "a JSON string"));
                None
            }
        }
    }

    /// A required string member (recording `field.missing.*` when absent).
    pub(crate) fn req_str<'v>(&mut self, obj: &Obj<'v>, name: &str, field: Field) -> Option<&'v str> {
        if !obj.has(name) {
            self.reasons.push(Reason::missing(field, obj.path(name)));
            return None;
        }
        self.opt_str(obj, name, field)
    }

    /// An object member.
    pub(crate) fn opt_obj<'v>(&mut self, obj: &Obj<'v>, name: &str, field: Field) -> Option<Obj<'v>> {
        match obj.value(name)? {
            Value::Object(map) => Some(Obj { map, prefix: obj.path(name) }),
            _ => {
                self.reasons.push(Reason::wrong_type(field, obj.path(name), "a JSON object"));
                None
            }
        }
    }

    /// An integer member.
    pub(crate) fn opt_i64(&mut self, obj: &Obj<'_>, name: &str, field: Field) -> Option<i64> {
        let v = obj.value(name)?;
        let n = v.as_i64();
        if n.is_none() {
            self.reasons.push(Reason::wrong_type(field, obj.path(name), "a JSON integer"));
        }
        n
    }

    /// A string member parsed with `parse`; its error becomes `(code, detail)`.
    pub(crate) fn parsed<T, E>(
        &mut self,
        obj: &Obj<'_>,
        name: &str,
        field: Field,
        required: bool,
        parse: impl FnOnce(&str) -> Result<T, E>,
        on_err: impl FnOnce(E) -> (ReasonCode, String),
    ) -> Option<T> {
        let s = if required { self.req_str(obj, name, field) } else { self.opt_str(obj, name, field) }?;
        match parse(s) {
            Ok(v) => Some(v),
            Err(e) => {
                let (code, detail) = on_err(e);
                self.reject(code, obj.path(name), detail);
                None
            }
        }
    }

    /// A closed-list member (`enum.*` when the value is not on the list).
    pub(crate) fn enumerated<T: Closed>(
        &mut self,
        obj: &Obj<'_>,
        name: &str,
        (field, enum_field): (Field, super::EnumField),
        required: bool,
    ) -> Option<T> {
        let detail = format!("expected one of {}", T::wire_names().join(", "));
        self.parsed(
            obj,
            name,
            field,
            required,
            |s| T::parse_wire(s).ok_or(()),
            |()| (ReasonCode::Enum(enum_field), detail),
        )
    }

    /// Free text of at most `max` characters.
    pub(crate) fn text(&mut self, obj: &Obj<'_>, name: &str, field: Field, max: usize) -> Option<String> {
        let s = self.opt_str(obj, name, field)?;
        let n = s.chars().count();
        if n > max {
            self.reject(ReasonCode::TextTooLong, obj.path(name), format!("{n} characters, at most {max}"));
            return None;
        }
        Some(s.to_owned())
    }

    /// A CPF/CNPJ under the check-digit policy; `Warn` turns a check-digit failure into a flag.
    pub(crate) fn tax_id(&mut self, s: &str, path: String) -> Option<TaxId> {
        match TaxId::parse_format(s) {
            Err(TaxIdError::Format(detail) | TaxIdError::CheckDigit(detail)) => {
                self.reject(ReasonCode::TaxIdFormat, path, detail);
                None
            }
            Ok(id) if id.check_digits_ok() => Some(id),
            Ok(id) => match self.policy {
                CheckDigitPolicy::Warn => {
                    self.flag(Flag::TaxIdCheckDigit);
                    Some(id)
                }
                CheckDigitPolicy::Strict => {
                    let detail = format!("{} characters ({}), check digit mismatch", s.len(), id.kind());
                    self.reject(ReasonCode::TaxIdCheckDigit, path, detail);
                    None
                }
            },
        }
    }
}

/// A closed list of wire values (the enums of [`crate::event`]).
pub(crate) trait Closed: Sized + Copy + 'static {
    /// Parses the exact wire spelling.
    fn parse_wire(s: &str) -> Option<Self>;
    /// Every wire spelling, for the error detail.
    fn wire_names() -> Vec<&'static str>;
}

macro_rules! closed {
    ($($t:ty),*) => {$(
        impl Closed for $t {
            fn parse_wire(s: &str) -> Option<Self> {
                <$t>::parse(s)
            }
            fn wire_names() -> Vec<&'static str> {
                <$t>::ALL.iter().map(|v| v.as_str()).collect()
            }
        }
    )*};
}

closed!(
    crate::event::EventType,
    crate::event::Status,
    crate::event::Category,
    crate::event::Direction,
    crate::event::TaxIdType,
    crate::event::AccountType,
    crate::event::InitiationType,
    crate::event::Purpose,
    crate::event::Priority,
    crate::event::ServiceLevel,
    crate::event::ReturnReasonCode,
    crate::event::RefundNature,
    crate::event::AgentModality
);
