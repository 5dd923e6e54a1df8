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

#[test]
fn the_csv_reader_corpus_replays_clean() {
    replay("csv_reader", oathbulk::inventory::fuzzing::read_csv);
}

#[test]
fn the_secret_decoder_corpus_replays_clean() {
    replay("secret_decoder", oathbulk::inventory::fuzzing::decode_secret);
}

#[test]
fn the_journal_reader_corpus_replays_clean() {
    replay("journal_reader", oathbulk::lifecycle::fuzzing::read_journal);
}

#[test]
fn the_credential_parser_corpus_replays_clean() {
    replay("credential_parser", oathbulk::auth::fuzzing::parse_credential);
}
