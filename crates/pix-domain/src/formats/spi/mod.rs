//! Not implemented yet: every message is refused whole (next commit).
use super::{DecodeContext, DecodedItem};
use crate::validate::Reason;
/// Refuses every message until the decoder lands.
pub fn decode(_body: &[u8], _ctx: &DecodeContext) -> Result<Vec<DecodedItem>, Vec<Reason>> {
    Err(vec![Reason::unparseable("format not implemented yet")])
}
