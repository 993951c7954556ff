//! Programs that use pointers, run (see `podus_fuzz::pointer_run`): a
//! null, freed, wild or out-of-object access must stop the program with a
//! runtime error and never crash the process.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    podus_fuzz::pointer_run(data);
});
