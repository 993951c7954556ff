//! The pup's frame decoder, authentication frames and wire types on
//! arbitrary bytes (see `podus_fuzz::pup_stream`).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| podus_fuzz::pup_stream(data));
