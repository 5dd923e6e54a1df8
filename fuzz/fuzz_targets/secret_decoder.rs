#![no_main]
// The seed decoder on arbitrary text: no panic, round trips, errors never echo the input.
// The same entry point replays `fuzz/corpus/secret_decoder` on stable (tests/fuzz_corpus.rs).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| oathbulk::inventory::fuzzing::decode_secret(data));
