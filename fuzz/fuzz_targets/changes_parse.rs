//! The changes-file parser on arbitrary text (see `podus_fuzz::changes_text`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| podus_fuzz::changes_text(&String::from_utf8_lossy(data)));
