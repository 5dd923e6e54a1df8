//! The report's charts as inline SVG, assembled by hand: three charts of lines, bars and
//! marks are shorter written out than any chart crate's setup, and need no font or backend.
//! Every text that reaches the SVG goes through [`super::html::esc`].

use super::html::esc;
use super::{Story, Time};
use std::fmt::Write;

const W: f64 = 900.0;
const H: f64 = 240.0;
/// Left, right, top, bottom margins.
const ML: f64 = 56.0;
const MR: f64 = 16.0;
const MT: f64 = 14.0;
const MB: f64 = 34.0;

/// Maps times and values onto the plot area.
struct Frame {
    t0: Time,
    secs: f64,
    ymax: f64,
}

impl Frame {
    fn new(t0: Time, t1: Time, ymax: f64) -> Self {
        let secs = ((t1 - t0).num_milliseconds() as f64 / 1000.0).max(1.0);
        Self { t0, secs, ymax: ymax.max(1.0) }
    }
    fn x(&self, t: Time) -> f64 {
        ML + (W - ML - MR) * ((t - self.t0).num_milliseconds() as f64 / 1000.0 / self.secs).clamp(0.0, 1.0)
    }
    fn y(&self, v: f64) -> f64 {
        MT + (H - MT - MB) * (1.0 - (v / self.ymax).clamp(0.0, 1.0))
    }
    /// Pixels per second.
    fn px_per_sec(&self) -> f64 {
        (W - ML - MR) / self.secs
    }
    /// Axes, with the elapsed time under the x axis and `ymax` on the y axis.
    fn axes(&self, out: &mut String, y_label: &str) {
        let _ = write!(
            out,
            r##"<line x1="{ML}" y1="{b}" x2="{r}" y2="{b}" class="axis"/><line x1="{ML}" y1="{MT}" x2="{ML}" y2="{b}" class="axis"/>"##,
            b = H - MB,
            r = W - MR
        );
        for i in 0..=4 {
            let f = f64::from(i) / 4.0;
            let x = ML + (W - ML - MR) * f;
            let _ = write!(
                out,
                r#"<text x="{x:.1}" y="{y}" class="tick" text-anchor="middle">{}</text>"#,
                elapsed(self.secs * f),
                y = H - MB + 16.0
            );
        }
        let _ = write!(
            out,
            r#"<text x="{x}" y="{y:.1}" class="tick" text-anchor="end">{max}</text><text x="{x}" y="{b}" class="tick" text-anchor="end">0</text><text x="{ML}" y="{yl}" class="tick">{label}</text>"#,
            x = ML - 6.0,
            y = MT + 10.0,
            max = self.ymax.round(),
            b = H - MB,
            yl = H - 4.0,
            label = esc(y_label)
        );
    }
}

/// `0.5 s`, `45 s`, `3 min 20 s`, `1 h 05 min`.
fn elapsed(secs: f64) -> String {
    if secs < 10.0 {
        return format!("{secs:.1} s");
    }
    let s = secs.round() as u64;
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min {:02} s", s / 60, s % 60),
        _ => format!("{} h {:02} min", s / 3600, (s / 60) % 60),
    }
}

fn open(id: &str, title: &str) -> String {
    format!(r#"<svg id="{id}" viewBox="0 0 {W} {H}" role="img" aria-label="{t}"><title>{t}</title>"#, t = esc(title))
}

/// Each 429 (or throttled 503) as a red mark, its `Retry-After` as a shaded span after it.
fn throttle_marks(story: &Story, f: &Frame, out: &mut String) {
    for t in &story.throttles {
        let x = f.x(t.at);
        let wait = t.retry_after_ms.map(|ms| ms as f64 / 1000.0);
        let title = match wait {
            Some(w) => format!("{} at {}, Retry-After {w:.1} s", t.status, t.at.format("%H:%M:%S%.3f")),
            None => format!("{} at {}, no Retry-After", t.status, t.at.format("%H:%M:%S%.3f")),
        };
        let _ = write!(out, r#"<g class="mark-429"><title>{}</title>"#, esc(&title));
        if let Some(w) = wait {
            let width = (w * f.px_per_sec()).min(W - MR - x).max(1.0);
            let _ = write!(
                out,
                r#"<rect x="{x:.1}" y="{MT}" width="{width:.1}" height="{h}" class="retry-after"/>"#,
                h = H - MT - MB
            );
        }
        let _ = write!(out, r#"<line x1="{x:.1}" y1="{MT}" x2="{x:.1}" y2="{b}" class="throttle"/></g>"#, b = H - MB);
    }
}

/// Each resumed run's start as a dashed mark.
fn resume_marks(story: &Story, f: &Frame, out: &mut String) {
    for (i, run) in story.runs.iter().enumerate().skip(1) {
        let Some(at) = run.started else { continue };
        let x = f.x(at);
        let _ = write!(
            out,
            r#"<g class="mark-resume"><title>run {} resumed at {}</title><line x1="{x:.1}" y1="{MT}" x2="{x:.1}" y2="{b}" class="resume"/><text x="{tx:.1}" y="{ty}" class="tick">resumed</text></g>"#,
            i + 1,
            esc(&at.to_rfc3339()),
            b = H - MB,
            tx = x + 3.0,
            ty = MT + 10.0
        );
    }
}

/// Rows settled over time (the pace), with the throttled answers and resumes marked.
pub fn pace(story: &Story) -> String {
    let Some((t0, t1)) = story.span() else { return String::new() };
    let mut settled = story.settled.clone();
    settled.sort();
    let f = Frame::new(t0, t1, settled.len() as f64);
    let mut out = open("pace-chart", "Rows settled over time, each 429 and its Retry-After marked");
    f.axes(&mut out, "rows settled");
    throttle_marks(story, &f, &mut out);
    resume_marks(story, &f, &mut out);
    let mut points = format!("{:.1},{:.1}", f.x(t0), f.y(0.0));
    for (i, t) in settled.iter().enumerate() {
        let _ = write!(points, " {:.1},{:.1}", f.x(*t), f.y((i + 1) as f64));
    }
    let _ = write!(out, r#"<polyline points="{points}" class="pace"/></svg>"#);
    out
}

/// A bucket width (seconds) that gives a chart about 60 bars: a minute for runs over an
/// hour, down to a second for short ones.
fn bucket_secs(span_secs: f64) -> i64 {
    [1, 2, 5, 10, 15, 30, 60, 120, 300, 600].into_iter().find(|b| span_secs / (*b as f64) <= 60.0).unwrap_or(600)
}

/// Writes sent per minute (each row's first write, from its intent line, and each re-send
/// after a throttled answer), with the throttled answers per minute in red.
pub fn rate(story: &Story) -> String {
    let Some((t0, t1)) = story.span() else { return String::new() };
    let span = ((t1 - t0).num_milliseconds() as f64 / 1000.0).max(1.0);
    let b = bucket_secs(span);
    let n = (span as i64 / b + 1) as usize;
    let bucket = |t: &Time| (((*t - t0).num_milliseconds() / 1000) / b).clamp(0, n as i64 - 1) as usize;
    let (mut sent, mut throttled) = (vec![0u64; n], vec![0u64; n]);
    story.sent.iter().for_each(|t| sent[bucket(t)] += 1);
    for t in &story.throttles {
        throttled[bucket(&t.at)] += 1;
        sent[bucket(&t.at)] += 1;
    }
    let per_min = 60.0 / b as f64;
    let max = sent.iter().copied().max().unwrap_or(0) as f64 * per_min;
    let f = Frame::new(t0, t0 + chrono::Duration::seconds(b * n as i64), max);
    let mut out = open("rate-chart", &format!("Write requests per minute ({b} s buckets), throttled in red"));
    f.axes(&mut out, "writes per minute");
    let width = ((W - ML - MR) / n as f64 - 1.0).max(1.0);
    for (i, (s, t)) in sent.iter().zip(&throttled).enumerate() {
        let x = ML + (W - ML - MR) * i as f64 / n as f64;
        let (ys, yt) = (f.y(*s as f64 * per_min), f.y(*t as f64 * per_min));
        let _ = write!(
            out,
            r#"<rect x="{x:.1}" y="{ys:.1}" width="{width:.1}" height="{:.1}" class="bar"><title>{:.0} writes per minute</title></rect>"#,
            H - MB - ys,
            *s as f64 * per_min
        );
        if *t > 0 {
            let _ = write!(
                out,
                r#"<rect x="{x:.1}" y="{yt:.1}" width="{width:.1}" height="{:.1}" class="bar-429"><title>{:.0} throttled per minute</title></rect>"#,
                H - MB - yt,
                *t as f64 * per_min
            );
        }
    }
    out.push_str("</svg>");
    out
}

/// Rows per final status, as horizontal bars.
pub fn outcomes(story: &Story) -> String {
    let counts = story.outcomes();
    let max = counts.values().copied().max().unwrap_or(1).max(1) as f64;
    let h = 26.0 * counts.len() as f64 + 8.0;
    let mut out = format!(
        r#"<svg id="outcome-chart" viewBox="0 0 {W} {h}" role="img" aria-label="Rows per status"><title>Rows per status</title>"#
    );
    for (i, (status, n)) in counts.iter().enumerate() {
        let y = 4.0 + 26.0 * i as f64;
        let width = ((W - 260.0) * *n as f64 / max).max(1.0);
        let class = if matches!(status.as_str(), "activated" | "already_active" | "created" | "exists" | "done") {
            "bar"
        } else {
            "bar-other"
        };
        let _ = write!(
            out,
            r#"<text x="150" y="{ty:.1}" class="label" text-anchor="end">{s}</text><rect x="160" y="{y:.1}" width="{width:.1}" height="20" class="{class}"/><text x="{tx:.1}" y="{ty:.1}" class="label">{n}</text>"#,
            ty = y + 15.0,
            s = esc(status),
            tx = 166.0 + width
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_give_at_most_sixty_bars() {
        assert_eq!(bucket_secs(30.0), 1);
        assert_eq!(bucket_secs(600.0), 10);
        assert_eq!(bucket_secs(3600.0), 60);
        assert_eq!(elapsed(200.0), "3 min 20 s");
        assert_eq!(elapsed(1.25), "1.2 s");
    }
}
