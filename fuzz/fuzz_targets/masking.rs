#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| ticketgate_testkit::fuzz::masking(data));
