//! The UC lexer, parser and checker on arbitrary text (see
//! `podus_fuzz::uc_source`). Invalid UTF-8 is decoded lossily, as a file
//! read by ush or ucc would be refused before the compiler sees it anyway.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| podus_fuzz::uc_source(&String::from_utf8_lossy(data)));
