#![no_main]
// A token paste, token file or ./AuthKey.txt as the credential parser reads it: no panic, the
// token registered with the redactor before parsing, a refusal that never quotes the paste.
// The same entry point replays `fuzz/corpus/credential_parser` on stable (tests/fuzz_corpus.rs).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| oathbulk::auth::fuzzing::parse_credential(data));
