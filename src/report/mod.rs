//! `oathbulk report JOURNAL --html FILE`: a run's story from its journal, as one
//! self-contained HTML page (no script, no network: inline CSS and SVG).
//!
//! - [`Story`] (this file): what the journal says — the runs (the first, and each that
//!   resumed it), every row's last result, the writes sent and the throttled answers in time,
//!   and each run's summary. A journal still being written is read as far as it goes: a torn
//!   last line is skipped by `crate::journal::read`.
//! - `svg`: the charts; `html`: the page. Neither sees anything but the story, and the
//!   journal holds no seed and no credential (`docs/security.md`).

mod html;
mod svg;

pub use html::render;

use crate::record::{Activation, ActivationStatus, Record, RunEventKind, Summary, IN_FLIGHT};
use crate::sink::{wire_name, RowRecord};
use chrono::{DateTime, FixedOffset};
use std::collections::BTreeMap;
use std::path::Path;

/// A moment of the run, parsed from a record's RFC 3339 `time`.
pub type Time = DateTime<FixedOffset>;

/// One row's last result.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub line: Option<u64>,
    pub upn: String,
    pub serial: String,
    pub status: String,
    pub error: bool,
    pub http_status: Option<u16>,
    pub error_code: Option<String>,
    pub error_message: Option<String>,
    pub time: Option<Time>,
}

/// One run: the first, or one that resumed the journal.
#[derive(Debug, Clone, Default)]
pub struct Run {
    pub started: Option<Time>,
    /// Its summary, when it got as far as writing one (a killed run has none).
    pub summary: Option<Summary>,
}

/// A throttled answer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Throttle {
    pub at: Time,
    pub status: u16,
    pub retry_after_ms: Option<u64>,
}

/// Everything the report shows.
#[derive(Debug, Default)]
pub struct Story {
    pub header: Option<crate::record::JournalHeader>,
    pub runs: Vec<Run>,
    /// Rows by (serial, upn), in order of first appearance.
    pub rows: Vec<Row>,
    /// Moments a row's result was settled (the pace).
    pub settled: Vec<Time>,
    /// Moments a write was about to be sent (the journal's intent lines).
    pub sent: Vec<Time>,
    pub throttles: Vec<Throttle>,
    /// Journal lines that did not parse (a torn last line of a run still going).
    pub torn: Vec<u64>,
}

fn time(text: &str) -> Option<Time> {
    DateTime::parse_from_rfc3339(text).ok()
}

/// A row's result from any row record the journal keeps.
fn row_of(record: &Record) -> Option<Row> {
    let wire = serde_json::to_value(record).ok()?;
    let text = |k: &str| wire.get(k).and_then(|v| v.as_str()).map(str::to_string);
    let (status, error) = match record {
        Record::Activation(a) => (a.status.as_str().to_string(), a.is_error()),
        Record::Import(i) => (wire_name(&i.status), i.is_error()),
        Record::Change(c) => (wire_name(&c.status), c.is_error()),
        _ => return None,
    };
    Some(Row {
        line: wire.get("line").and_then(|v| v.as_u64()),
        upn: text("upn").unwrap_or_default(),
        serial: text("serial").unwrap_or_default(),
        status,
        error,
        http_status: wire.get("http_status").and_then(|v| v.as_u64()).map(|s| s as u16),
        error_code: text("error_code"),
        error_message: text("error_message").or_else(|| text("reason")),
        time: text("time").as_deref().and_then(time),
    })
}

/// An intent line (an activation's or a change's): a write about to be sent, not a result.
/// Its time, when it has one.
fn intent_time(record: &Record) -> Option<Option<Time>> {
    use crate::record::{ChangeRecord, ChangeStatus};
    match record {
        Record::Activation(Activation {
            status: ActivationStatus::NotAttempted, error_code: Some(c), time, ..
        }) if c == IN_FLIGHT => Some(self::time(time)),
        Record::Change(ChangeRecord { status: ChangeStatus::NotAttempted, reason: Some(r), time, .. })
            if r == IN_FLIGHT =>
        {
            Some(self::time(time))
        }
        _ => None,
    }
}

impl Story {
    /// Read a journal (see the module documentation).
    pub fn read(path: &Path) -> anyhow::Result<Self> {
        let contents = crate::journal::read(path)?;
        let mut story = Story { torn: contents.torn, ..Default::default() };
        let first = contents.header.as_ref().and_then(|h| time(&h.time));
        story.header = contents.header;
        story.runs.push(Run { started: first, summary: None });
        let mut index: BTreeMap<(String, String), usize> = BTreeMap::new();
        for (_, record) in &contents.records {
            story.add(record, &mut index);
        }
        Ok(story)
    }

    fn add(&mut self, record: &Record, index: &mut BTreeMap<(String, String), usize>) {
        match record {
            Record::RunEvent(e) => match e.event {
                RunEventKind::Resumed => self.runs.push(Run { started: time(&e.time), summary: None }),
                RunEventKind::Throttled => {
                    if let Some(at) = time(&e.time) {
                        let status = e.http_status.unwrap_or(429);
                        self.throttles.push(Throttle { at, status, retry_after_ms: e.retry_after_ms });
                    }
                }
            },
            Record::Summary(s) => {
                let run = self.runs.last_mut().expect("one run at least");
                if run.summary.is_some() {
                    // A second summary without a resume mark (a journal of an older build):
                    // another run.
                    self.runs.push(Run { started: None, summary: Some(s.clone()) });
                } else {
                    run.summary = Some(s.clone());
                }
            }
            r if intent_time(r).is_some() => self.sent.extend(intent_time(r).flatten()),
            r => {
                let Some(row) = row_of(r) else { return };
                self.settled.extend(row.time);
                let key = (crate::inventory::serial_key(&row.serial), row.upn.to_lowercase());
                match index.get(&key) {
                    Some(&i) => self.rows[i] = row,
                    None => {
                        index.insert(key, self.rows.len());
                        self.rows.push(row);
                    }
                }
            }
        }
    }

    /// Rows per final status.
    pub fn outcomes(&self) -> BTreeMap<String, u64> {
        let mut m = BTreeMap::new();
        for r in &self.rows {
            *m.entry(r.status.clone()).or_default() += 1;
        }
        m
    }

    /// The rows whose last result is an error, in line order.
    pub fn failed(&self) -> Vec<&Row> {
        let mut v: Vec<&Row> = self.rows.iter().filter(|r| r.error).collect();
        v.sort_by_key(|r| r.line.unwrap_or(u64::MAX));
        v
    }

    /// The first and last moment the journal knows of.
    pub fn span(&self) -> Option<(Time, Time)> {
        let starts = self.runs.iter().filter_map(|r| r.started);
        let all = starts.chain(self.settled.iter().copied()).chain(self.sent.iter().copied());
        let all: Vec<Time> = all.chain(self.throttles.iter().map(|t| t.at)).collect();
        Some((*all.iter().min()?, *all.iter().max()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{JournalHeader, RunEvent};

    fn activation(serial: &str, status: ActivationStatus, time: &str) -> Record {
        let error_code = (status == ActivationStatus::Failed).then(|| "bad_code".into());
        let (serial, time) = (serial.into(), time.into());
        Record::Activation(Activation { serial, status, error_code, time, ..Activation::test_row() })
    }

    #[test]
    fn a_resumed_run_is_one_story_and_a_torn_tail_is_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("j.jsonl");
        let mut lines = vec![Record::JournalHeader(JournalHeader {
            tool: "oathbulk".into(),
            time: "2026-01-01T09:00:00Z".into(),
            ..Default::default()
        })];
        lines.push(activation("S1", ActivationStatus::Failed, "2026-01-01T09:00:01Z"));
        lines.push(Record::RunEvent(RunEvent {
            event: RunEventKind::Throttled,
            time: "2026-01-01T09:00:02Z".into(),
            http_status: Some(429),
            retry_after_ms: Some(1000),
            command: None,
        }));
        // An intent line of a change is a write sent, not a row's result.
        let mut intent = crate::lifecycle::change::change_record(
            crate::record::ChangeOperation::Deactivate,
            crate::record::ChangeStatus::NotAttempted,
            "S9",
        );
        intent.reason = Some(IN_FLIGHT.into());
        intent.time = "2026-01-01T09:00:03Z".into();
        lines.push(Record::Change(intent));
        lines.push(Record::RunEvent(RunEvent::resumed("activate")));
        lines.push(activation("S1", ActivationStatus::Activated, "2026-01-01T09:10:00Z"));
        lines.push(activation("S2", ActivationStatus::Failed, "2026-01-01T09:10:01Z"));
        lines.push(Record::Summary(Summary {
            command: "activate".into(),
            clock_offset_ms: Some(-40),
            ..Default::default()
        }));
        let mut text: String = lines.iter().map(|r| serde_json::to_string(r).unwrap() + "\n").collect();
        text.push_str("{\"type\":\"activation\",\"line\":4,\"ser");
        std::fs::write(&path, text).unwrap();
        let story = Story::read(&path).unwrap();
        assert_eq!(story.runs.len(), 2);
        assert!(story.runs[0].summary.is_none() && story.runs[1].summary.is_some());
        assert_eq!(story.rows.len(), 2, "S1's later result replaces its first");
        assert_eq!(story.outcomes().get("activated"), Some(&1));
        assert_eq!(story.failed().iter().map(|r| r.serial.as_str()).collect::<Vec<_>>(), ["S2"]);
        assert_eq!(story.throttles.len(), 1);
        assert_eq!(story.sent.len(), 1);
        assert_eq!(story.torn, vec![9]);
    }
}
