//! Network traces: each sent packet's send time and arrival time(s), as text.
//!
//! The format (`mediacore-trace v1`) is line-based UTF-8:
//!
//! ```text
//! # mediacore-trace v1
//! # name: wifi
//! # any other comment line
//! 0 0.000 31.250
//! 1 20.000 lost
//! 2 40.000 75.125 77.500
//! ```
//!
//! Lines starting with `#` are comments; the first must be the version line, and a
//! `# name:` line names the trace. Every other non-empty line is one sent packet: its
//! index (0, 1, 2, … in order), its send time in ms, then either `lost` or one or more
//! arrival times in ms (more than one: the packet was duplicated). Times have up to three
//! decimals. A replayed link applies each record's delays (arrival − send) to the packets
//! sent on it, so a trace made with 20 ms packets can carry packets sent at any times.

use std::fmt::Write as _;

use thiserror::Error;

/// The first line of every trace.
pub const VERSION_LINE: &str = "# mediacore-trace v1";

/// One sent packet's fate.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Send time, ms.
    pub sent_ms: f64,
    /// Arrival times, ms; empty when lost.
    pub arrivals: Vec<f64>,
}

/// A recorded or hand-written trace.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Trace {
    /// Its name.
    pub name: String,
    /// Free text kept as comment lines (how it was made).
    pub comment: String,
    /// One record per packet sent.
    pub records: Vec<Record>,
}

/// Why a trace could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TraceError {
    /// The first line is not [`VERSION_LINE`].
    #[error("line 1: expected \"{VERSION_LINE}\"")]
    Version,
    /// A record line is malformed.
    #[error("line {line}: {reason}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

impl Trace {
    /// Parses the text format.
    pub fn parse(text: &str) -> Result<Self, TraceError> {
        let mut lines = text.lines().enumerate();
        match lines.next() {
            Some((_, l)) if l.trim_end() == VERSION_LINE => {}
            _ => return Err(TraceError::Version),
        }
        let mut trace = Trace::default();
        let mut comments = Vec::new();
        for (i, line) in lines {
            let n = i + 1;
            let line = line.trim();
            if line.is_empty() {
                continue;
            }
            if let Some(c) = line.strip_prefix('#') {
                let c = c.trim();
                match c.strip_prefix("name:") {
                    Some(name) => trace.name = name.trim().to_owned(),
                    None => comments.push(c.to_owned()),
                }
                continue;
            }
            let bad = |reason: String| TraceError::Line { line: n, reason };
            let mut fields = line.split_whitespace();
            let index: usize = fields
                .next()
                .and_then(|f| f.parse().ok())
                .ok_or_else(|| bad("the index is not a number".into()))?;
            if index != trace.records.len() {
                return Err(bad(format!(
                    "index {index}, expected {}",
                    trace.records.len()
                )));
            }
            let sent_ms = parse_ms(fields.next())
                .ok_or_else(|| bad("the send time is not a time in ms".into()))?;
            let rest: Vec<&str> = fields.collect();
            let arrivals = match rest.as_slice() {
                [] => return Err(bad("missing the arrival time or \"lost\"".into())),
                ["lost"] => Vec::new(),
                times => {
                    let mut out = Vec::with_capacity(times.len());
                    for t in times {
                        let a = parse_ms(Some(t))
                            .ok_or_else(|| bad(format!("\"{t}\" is not a time in ms")))?;
                        if a < sent_ms {
                            return Err(bad(format!("arrival {a} before send {sent_ms}")));
                        }
                        out.push(a);
                    }
                    out
                }
            };
            trace.records.push(Record { sent_ms, arrivals });
        }
        trace.comment = comments.join("\n");
        Ok(trace)
    }

    /// Writes the text format (times rounded to µs).
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        out.push_str(VERSION_LINE);
        out.push('\n');
        let _ = writeln!(out, "# name: {}", self.name);
        for line in self.comment.lines() {
            let _ = writeln!(out, "# {line}");
        }
        for (i, r) in self.records.iter().enumerate() {
            let _ = write!(out, "{i} {:.3}", round3(r.sent_ms));
            if r.arrivals.is_empty() {
                out.push_str(" lost");
            }
            for a in &r.arrivals {
                let _ = write!(out, " {:.3}", round3(*a));
            }
            out.push('\n');
        }
        out
    }

    /// Share of packets lost.
    pub fn loss_rate(&self) -> f64 {
        if self.records.is_empty() {
            return 0.0;
        }
        self.records
            .iter()
            .filter(|r| r.arrivals.is_empty())
            .count() as f64
            / self.records.len() as f64
    }

    /// The one-way delays (first arrival − send) of the packets that arrived, ms, sorted.
    pub fn delays_ms(&self) -> Vec<f64> {
        let mut d: Vec<f64> = self
            .records
            .iter()
            .filter_map(|r| r.arrivals.first().map(|a| a - r.sent_ms))
            .collect();
        d.sort_by(f64::total_cmp);
        d
    }
}

fn parse_ms(field: Option<&str>) -> Option<f64> {
    let v: f64 = field?.parse().ok()?;
    (v.is_finite() && v >= 0.0).then_some(v)
}
