#![no_main]
// The vendor CSV reader on arbitrary bytes: no panic, no seed-shaped text in a row error.
// The same entry point replays `fuzz/corpus/csv_reader` on stable (tests/fuzz_corpus.rs).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| oathbulk::inventory::fuzzing::read_csv(data));
