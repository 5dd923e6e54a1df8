//! The fuzz corpus as regression tests on stable: every file under `fuzz/corpus/<target>`
//! goes through the same entry point `cargo fuzz` uses (`inventory::fuzzing`,
//! `lifecycle::fuzzing`, `auth::fuzzing`).

use std::path::Path;

fn replay(target: &str, check: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus").join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let data = std::fs::read(&path).unwrap();
        // A failure names the corpus file that broke the rule.
        let result = std::panic::catch_unwind(|| check(&data));
        assert!(result.is_ok(), "corpus file {} fails", path.display());
        n += 1;
    }
    assert!(n >= 5, "the {target} corpus is there ({n} files)");
}

/// A `#[test]` per fuzz target, replaying its corpus through its entry point.
macro_rules! corpus_tests {
    ($($test:ident: $target:literal => $check:path),+ $(,)?) => {
        $(
            #[test]
            fn $test() {
                replay($target, $check);
            }
        )+
    };
}

corpus_tests! {
    the_csv_reader_corpus_replays_clean: "csv_reader" => oathbulk::inventory::fuzzing::read_csv,
    the_secret_decoder_corpus_replays_clean: "secret_decoder" => oathbulk::inventory::fuzzing::decode_secret,
    the_journal_reader_corpus_replays_clean: "journal_reader" => oathbulk::lifecycle::fuzzing::read_journal,
    the_credential_parser_corpus_replays_clean: "credential_parser" => oathbulk::auth::fuzzing::parse_credential,
}
