//! `--format table`: the same records, as aligned columns for people.

use crate::record::Record;
use comfy_table::{presets::UTF8_BORDERS_ONLY, Table};

fn opt<T: ToString>(v: &Option<T>) -> String {
    v.as_ref().map(ToString::to_string).unwrap_or_default()
}

/// One table per record type, in order of first appearance. The run's closing line
/// ([`crate::human::closing_line`]) follows it where [`crate::output::Output`] puts it.
pub fn render(records: &[Record]) -> String {
    let mut out = String::new();
    let mut kinds: Vec<&'static str> = Vec::new();
    for r in records {
        let k = kind(r);
        if k != "summary" && !kinds.contains(&k) {
            kinds.push(k);
        }
    }
    for k in kinds {
        let mut table = Table::new();
        table.load_preset(UTF8_BORDERS_ONLY);
        let mut header_set = false;
        // Parallel work settles rows out of order; people read them in file order.
        let mut rows: Vec<&Record> = records.iter().filter(|r| kind(r) == k).collect();
        rows.sort_by_key(|r| line_of(r).unwrap_or(0));
        for r in rows {
            let (header, row) = columns(r);
            if !header_set {
                table.set_header(header);
                header_set = true;
            }
            // Cells come from CSV files and servers: no terminal control reaches the screen.
            table.add_row(row.iter().map(|c| crate::text::escape_controls(c).into_owned()).collect::<Vec<_>>());
        }
        out.push_str(&table.to_string());
        out.push('\n');
    }
    out
}

fn line_of(r: &Record) -> Option<u64> {
    match r {
        Record::Token(t) => Some(t.line),
        Record::Otp(o) => Some(o.line),
        Record::RowError(e) => Some(e.line),
        Record::Activation(a) => Some(a.line),
        Record::Import(i) => Some(i.line),
        // `undo` works newest first: keep the order the steps ran in.
        _ => None,
    }
}

fn kind(r: &Record) -> &'static str {
    match r {
        Record::Token(_) => "token",
        Record::Otp(_) => "otp",
        Record::RowError(_) => "row_error",
        Record::Finding(_) => "finding",
        Record::Activation(_) => "activation",
        Record::TenantToken(_) => "tenant_token",
        Record::Warning(_) => "warning",
        Record::Progress(_) => "progress",
        Record::Diagnostic(_) => "diagnostic",
        Record::Simulator(_) => "simulator",
        Record::User(_) => "user",
        Record::Check(_) => "check",
        Record::Import(_) => "import",
        Record::Change(_) => "change",
        Record::Summary(_) => "summary",
        Record::JournalHeader(_) => "journal_header",
        Record::TokenStatus(_) => "token_status",
        Record::RunEvent(_) => "run_event",
    }
}

fn columns(r: &Record) -> (Vec<&'static str>, Vec<String>) {
    match r {
        Record::Token(t) => (
            vec!["line", "upn", "serial", "manufacturer", "model", "interval", "hash"],
            vec![
                t.line.to_string(),
                t.upn.clone(),
                t.serial.clone(),
                t.manufacturer.clone(),
                t.model.clone(),
                t.time_interval.to_string(),
                t.hash.as_str().into(),
            ],
        ),
        Record::Otp(o) => (
            vec!["line", "upn", "serial", "code", "valid for"],
            vec![o.line.to_string(), o.upn.clone(), o.serial.clone(), o.code.clone(), format!("{}s", o.valid_for)],
        ),
        Record::RowError(e) => (
            vec!["line", "code", "field", "message"],
            vec![e.line.to_string(), e.code.clone(), opt(&e.field), e.message.clone()],
        ),
        Record::Finding(f) => (
            vec!["severity", "code", "lines", "message"],
            vec![
                format!("{:?}", f.severity).to_lowercase(),
                f.code.clone(),
                f.lines.iter().map(u64::to_string).collect::<Vec<_>>().join(","),
                f.message.clone(),
            ],
        ),
        Record::Activation(a) => (
            vec!["line", "upn", "serial", "status", "attempts", "detail"],
            vec![
                a.line.to_string(),
                a.upn.clone(),
                a.serial.clone(),
                a.status.as_str().into(),
                a.attempts.to_string(),
                a.error_message
                    .clone()
                    .or_else(|| a.assigned_to.clone().map(|u| format!("held by {u}")))
                    .unwrap_or_default(),
            ],
        ),
        Record::TenantToken(t) => (
            vec!["serial", "status", "assigned to", "manufacturer", "model", "id"],
            vec![
                t.serial.clone(),
                t.status.clone(),
                // The UPN where it is known: a display name may be anyone's.
                opt(&t.assigned_upn.clone().or_else(|| t.assigned_to.clone())),
                opt(&t.manufacturer),
                opt(&t.model),
                t.id.clone(),
            ],
        ),
        Record::Warning(w) => (vec!["warning", "message"], vec![w.code.clone(), w.message.clone()]),
        Record::Diagnostic(d) => (vec!["level", "message"], vec![d.level.clone(), d.message.clone()]),
        Record::Progress(p) => (vec!["phase", "done"], vec![p.phase.clone(), p.done.to_string()]),
        Record::User(u) => (
            vec!["upn", "tokens", "serials", "warning"],
            vec![
                u.upn.clone(),
                u.count.to_string(),
                u.tokens.iter().map(|t| t.serial.as_str()).collect::<Vec<_>>().join(" "),
                u.warning.clone().unwrap_or_default(),
            ],
        ),
        Record::Check(c) => (
            vec!["check", "status", "message", "fix"],
            vec![
                c.check.clone(),
                format!("{:?}", c.status).to_lowercase(),
                c.message.clone(),
                c.fix.clone().unwrap_or_default(),
            ],
        ),
        Record::Import(i) => (
            vec!["line", "upn", "serial", "status", "detail"],
            vec![
                i.line.to_string(),
                i.upn.clone(),
                i.serial.clone(),
                format!("{:?}", i.status).to_lowercase(),
                i.error_message.clone().unwrap_or_default(),
            ],
        ),
        Record::Change(c) => (
            vec!["operation", "serial", "upn", "status", "detail"],
            vec![
                format!("{:?}", c.operation).to_lowercase(),
                c.serial.clone(),
                opt(&c.upn),
                format!("{:?}", c.status).to_lowercase(),
                c.reason.clone().or(c.error_message.clone()).unwrap_or_default(),
            ],
        ),
        Record::Simulator(s) => (vec!["graph url", "portal url"], vec![s.graph_url.clone(), s.portal_url.clone()]),
        Record::Summary(s) => (vec!["command"], vec![s.command.clone()]),
        Record::JournalHeader(h) => {
            (vec!["command", "backend", "run id"], vec![h.command.clone(), h.backend.clone(), h.run_id.clone()])
        }
        Record::TokenStatus(t) => (
            vec!["serial", "upn", "status", "last used", "methods", "next step"],
            vec![
                opt(&t.serial),
                opt(&t.upn),
                t.status.clone(),
                // Graph fills lastUsedDateTime unreliably: absent on a token is "unknown".
                t.last_used.clone().or(t.device_id.as_ref().map(|_| "unknown".into())).unwrap_or_default(),
                t.methods
                    .map(|m| format!("{m}/{}", t.methods_limit.unwrap_or(crate::record::OATH_METHODS_LIMIT)))
                    .unwrap_or_default(),
                t.next_step.clone(),
            ],
        ),
        Record::RunEvent(e) => (vec!["event", "time"], vec![format!("{:?}", e.event).to_lowercase(), e.time.clone()]),
    }
}
