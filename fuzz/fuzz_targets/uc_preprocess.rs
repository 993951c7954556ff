//! The preprocessor on a program of several files held in one input (see
//! `podus_fuzz::pp_source`: files after `//--- NAME` lines).
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| podus_fuzz::pp_source(&String::from_utf8_lossy(data)));
