//! The pupmapper's frame decoder and wire types on arbitrary bytes
//! (see `podus_fuzz::pupmapper_stream`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| podus_fuzz::pupmapper_stream(data));
