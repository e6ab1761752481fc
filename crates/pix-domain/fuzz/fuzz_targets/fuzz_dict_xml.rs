//! Fuzz target: `Format::DictXml.decode(..)` must never panic, under every framing it accepts, and
//! every verdict must keep its contract (see `pix_domain_fuzz::check`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use pix_domain::formats::Format;

fuzz_target!(|data: &[u8]| pix_domain_fuzz::check(Format::DictXml, data));
