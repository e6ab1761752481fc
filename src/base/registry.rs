//! `kind_registry!`: the one place a config entry kind is registered.
//!
//! A source or sink kind is a config struct that implements its family's trait (`SourceKind`,
//! `SinkKind`). The macro turns one line per kind — variant, struct and the YAML `type` name,
//! written once — into the family's `type`-tagged enum: its `Serialize` (tag `type`), its
//! position-keeping `Deserialize` (through [`crate::base::visit_tagged`]), `type_name()`,
//! `TYPE_NAMES`, and `kind()`, the single match that hands out the trait object. Adding a kind is
//! its folder plus one line here; nothing else spells its name.

/// Declares a `type`-tagged family of config entries; see the module doc.
macro_rules! kind_registry {
    (
        $(#[doc = $doc:expr])*
        pub enum $name:ident: dyn $kind:path, $what:literal {
            $(
                $(#[doc = $vdoc:expr])*
                $(#[cfg($cfg:meta)])?
                $variant:ident($ty:ty) = $tag:literal,
            )*
        }
    ) => {
        $(#[doc = $doc])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize)]
        #[serde(tag = "type")]
        pub enum $name {
            $(
                $(#[doc = $vdoc])*
                $(#[cfg($cfg)])?
                #[serde(rename = $tag)]
                $variant($ty),
            )*
        }

        impl $name {
            /// Every registered `type` name, in registration order.
            pub const TYPE_NAMES: &'static [&'static str] = &[$($(#[cfg($cfg)])? $tag,)*];

            /// The kind behind this entry: the one match over the variants.
            pub fn kind(&self) -> &dyn $kind {
                match self {
                    $($(#[cfg($cfg)])? Self::$variant(c) => c,)*
                }
            }

            /// The `type` of this entry.
            pub fn type_name(&self) -> &'static str {
                match self {
                    $($(#[cfg($cfg)])? Self::$variant(_) => $tag,)*
                }
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> serde::de::Visitor<'de> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(f, "{}: a map with `type: {}`", $what, $name::TYPE_NAMES.join(" | "))
                    }
                    fn visit_map<M: serde::de::MapAccess<'de>>(self, map: M) -> Result<$name, M::Error> {
                        $crate::base::visit_tagged(map, |tag, rest| match tag {
                            $($(#[cfg($cfg)])? $tag => <$ty as serde::Deserialize>::deserialize(rest).map($name::$variant),)*
                            other => Err(serde::de::Error::unknown_variant(other, $name::TYPE_NAMES)),
                        })
                    }
                }
                d.deserialize_map(V)
            }
        }
    };
}

pub(crate) use kind_registry;
