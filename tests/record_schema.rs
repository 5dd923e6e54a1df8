//! `docs/schema/records.json` is generated from the Rust record types and kept current: a
//! change to a record that is not reflected in the published schema fails here.
//! `OATHBULK_BLESS=1 cargo test --test record_schema` rewrites it.

mod common;

use std::path::Path;

#[test]
fn the_published_schema_is_generated_from_the_record_types() {
    let generated = common::schema::generate();
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/schema/records.json");
    if std::env::var_os("OATHBULK_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &generated).unwrap();
    }
    let published = std::fs::read_to_string(&path).expect("docs/schema/records.json (OATHBULK_BLESS=1 makes it)");
    assert!(
        published == generated,
        "docs/schema/records.json is stale: run OATHBULK_BLESS=1 cargo test --test record_schema"
    );
}

#[test]
fn the_schema_accepts_real_records_and_refuses_broken_ones() {
    let ok =
        serde_json::json!({"type":"summary","command":"list","rows":1,"ok":1,"errors":0,"elapsed_ms":0,"exit_code":0});
    common::schema::validate(&ok);
    let bad = serde_json::json!({"type":"summary","command":"list","rows":"one","ok":1,"errors":0,"elapsed_ms":0,"exit_code":0});
    assert!(common::schema::check(&bad).is_err(), "a string where a count belongs must fail");
    let bad = serde_json::json!({"type":"summary","command":"list","rows":1,"ok":1,"errors":0,"elapsed_ms":0,"exit_code":0,"fatal":{"code":"forbidden","message":"x"}});
    assert!(common::schema::check(&bad).is_err(), "an undocumented stop reason must fail");
    let unknown = serde_json::json!({"type":"no_such_record"});
    assert!(common::schema::check(&unknown).is_err());
}
