#![no_main]
// A journal's bytes as `--resume` and `undo` read them: no panic, no quoted line in a refusal,
// every line accounted for, and no undo write for a change line without a device id.
// The same entry point replays `fuzz/corpus/journal_reader` on stable (tests/fuzz_corpus.rs).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| oathbulk::lifecycle::fuzzing::read_journal(data));
