//! The published JSON Schema of every record (docs/schema/records.json), generated from the
//! Rust types, and a validator the end-to-end suites run over every record they read.

use serde_json::Value;

/// The schema, as published (pretty JSON, newline-terminated).
pub fn generate() -> String {
    let schema = schemars::schema_for!(oathbulk::record::Record);
    let mut text = serde_json::to_string_pretty(&schema).unwrap();
    text.push('\n');
    text
}

thread_local! {
    static COMPILED: (boon::Schemas, boon::SchemaIndex) = {
        let value: Value = serde_json::from_str(&generate()).unwrap();
        let mut schemas = boon::Schemas::new();
        let mut compiler = boon::Compiler::new();
        compiler.add_resource("urn:oathbulk:records", value).expect("the schema is a resource");
        let index = compiler.compile("urn:oathbulk:records", &mut schemas).expect("the schema compiles");
        (schemas, index)
    };
}

/// Does `record` conform to the published schema?
pub fn check(record: &Value) -> Result<(), String> {
    COMPILED.with(|(schemas, index)| schemas.validate(record, *index).map_err(|e| format!("{e:#}")))
}

/// Panic, naming the record, when it does not conform.
pub fn validate(record: &Value) {
    if let Err(e) = check(record) {
        panic!("record does not match docs/schema/records.json: {e}\nrecord: {record}");
    }
}
