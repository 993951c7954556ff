//! Object bytes as a pup receives them in a `Load` request, decoded and
//! then loaded into a fresh VM (see `podus_fuzz::object_load`): a module
//! that decodes but does not make sense must be refused, not crash the pup.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| podus_fuzz::object_load(data));
