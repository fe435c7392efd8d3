#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| clawvault::fuzzing::legacy_auth(data));
