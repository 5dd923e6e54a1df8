//! The report page: one HTML file, its style inline, no script and nothing fetched (a
//! `Content-Security-Policy` of `default-src 'none'` says so to the browser). Every text from
//! the journal is escaped here, and the page goes through the redactor last.

use super::{svg, Row, Run, Story};
use std::fmt::Write;

/// `text` safe in HTML text and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#1b1f24;max-width:960px}\
h1{font-size:20px}h2{font-size:16px;margin-top:28px}table{border-collapse:collapse;width:100%}\
th,td{border-bottom:1px solid #d0d7de;padding:4px 6px;text-align:left;vertical-align:top}\
th{background:#f6f8fa}svg{width:100%;height:auto;background:#fff;border:1px solid #d0d7de}\
.axis{stroke:#57606a}.tick,.label{font-size:11px;fill:#57606a}.pace{fill:none;stroke:#0969da;stroke-width:2}\
.throttle{stroke:#cf222e;stroke-width:1.5}.retry-after{fill:#cf222e;fill-opacity:.12}\
.resume{stroke:#8250df;stroke-dasharray:4 3}.bar{fill:#2da44e}.bar-other{fill:#bf8700}.bar-429{fill:#cf222e}\
.bad{color:#cf222e}.note{color:#57606a}";

/// The whole page.
pub fn render(story: &Story) -> String {
    let mut page = String::with_capacity(64 * 1024);
    let title = match &story.header {
        Some(h) => format!("oathbulk {} report — run {}", h.command, h.run_id),
        None => "oathbulk report — an empty journal".into(),
    };
    let _ = write!(
        page,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\
         <meta name=\"viewport\" content=\"width=device-width\"><title>{t}</title><style>{STYLE}</style></head><body><h1>{t}</h1>",
        t = esc(&title)
    );
    context(story, &mut page);
    page.push_str("<h2>Outcomes</h2>");
    page.push_str(&svg::outcomes(story));
    let _ = write!(
        page,
        "<h2>Pace</h2><p class=\"note\">Rows settled over time; each throttled answer (429) is a red line, \
         its Retry-After the shaded span after it ({} throttled answers); a purple dashed line is a resumed run.</p>",
        story.throttles.len()
    );
    page.push_str(&svg::pace(story));
    page.push_str("<h2>Requests per minute</h2>");
    page.push_str(&svg::rate(story));
    runs(&story.runs, &mut page);
    failed(&story.failed(), &mut page);
    page.push_str("</body></html>\n");
    // The journal holds no secret; the one redactor still has the last word on what is written.
    crate::redact::scrub(&page).into_owned()
}

fn context(story: &Story, page: &mut String) {
    let Some(h) = &story.header else { return };
    let _ = write!(
        page,
        "<table id=\"context\"><tr><th>command</th><td>{}</td><th>backend</th><td>{}</td></tr>\
         <tr><th>tenant</th><td>{}</td><th>where</th><td>{}{}</td></tr>\
         <tr><th>started</th><td>{}</td><th>runs</th><td>{}</td></tr></table>",
        esc(&h.command),
        esc(&h.backend),
        esc(h.tenant.as_deref().unwrap_or("unknown")),
        esc(h.origin.as_deref().unwrap_or("unrecorded")),
        if h.simulated == Some(true) { " (a --simulate rehearsal)" } else { "" },
        esc(&h.time),
        story.runs.len()
    );
    if !story.torn.is_empty() {
        let _ = write!(
            page,
            "<p class=\"note\">Journal lines {:?} could not be read (a run still writing, or a torn write) and are left out.</p>",
            story.torn
        );
    }
}

/// Each run's summary: how it ended, requests, throttling, pace, the clock offset.
fn runs(runs: &[Run], page: &mut String) {
    page.push_str(
        "<h2>Runs</h2><table id=\"runs\"><tr><th>run</th><th>started</th><th>rows</th><th>ok</th><th>errors</th>\
         <th>requests</th><th>throttled</th><th>pace (writes/s)</th><th>clock offset</th><th>took</th><th>exit</th></tr>",
    );
    for (i, run) in runs.iter().enumerate() {
        let started = run.started.map(|t| t.to_rfc3339()).unwrap_or_default();
        let _ = write!(page, "<tr><td>{}</td><td>{}</td>", i + 1, esc(&started));
        match &run.summary {
            None => page.push_str(
                "<td colspan=\"9\" class=\"bad\">no summary: the run was stopped before it finished (killed?), or is still going</td>",
            ),
            Some(s) => {
                let opt = |v: Option<u64>| v.map(|n| n.to_string()).unwrap_or_default();
                let fatal = s.fatal.as_ref().map(|f| format!(" ({})", f.code.as_str())).unwrap_or_default();
                let _ = write!(
                    page,
                    "<td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}{}</td>",
                    s.rows,
                    s.ok,
                    s.errors,
                    opt(s.requests),
                    opt(s.throttled),
                    s.pace.map(|p| format!("{p:.2}")).unwrap_or_default(),
                    s.clock_offset_ms.map(|ms| format!("{ms} ms")).unwrap_or_else(|| "unknown".into()),
                    crate::human::elapsed(std::time::Duration::from_millis(s.elapsed_ms)),
                    s.exit_code,
                    esc(&fatal)
                );
            }
        }
        page.push_str("</tr>");
    }
    page.push_str("</table>");
}

/// Every row whose last result is an error, with the tenant's reason.
fn failed(rows: &[&Row], page: &mut String) {
    let _ = write!(page, "<h2>Failed rows ({})</h2>", rows.len());
    if rows.is_empty() {
        page.push_str("<p>None.</p>");
        return;
    }
    page.push_str(
        "<table id=\"failed\"><tr><th>line</th><th>upn</th><th>serial</th><th>status</th><th>http</th><th>code</th><th>reason</th></tr>",
    );
    for r in rows {
        let _ = write!(
            page,
            "<tr class=\"failed-row\"><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            r.line.map(|l| l.to_string()).unwrap_or_default(),
            esc(&r.upn),
            esc(&r.serial),
            esc(&r.status),
            r.http_status.map(|s| s.to_string()).unwrap_or_default(),
            esc(r.error_code.as_deref().unwrap_or("")),
            esc(r.error_message.as_deref().unwrap_or(""))
        );
    }
    page.push_str("</table>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn journal_text_cannot_open_a_tag() {
        assert_eq!(esc("<script>\"x\"&'\u{1b}"), "&lt;script&gt;&quot;x&quot;&amp;&#39;\u{FFFD}");
    }
}
