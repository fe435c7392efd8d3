#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| clawvault::fuzzing::agent_request(data));
