//! Ratios of benchmark medians, read back from the estimates criterion saved in this run.
//!
//! Every comparative bench ends by printing one line per comparison,
//! `ratio <label>: <ours/peer median time, 2 decimals>` (lower is better). Criterion 0.8
//! saves each benchmark's statistics in
//! `<criterion home>/<group>/<function>/new/estimates.json`, with the median time per
//! iteration in nanoseconds at `median.point_estimate`; this module reads them back.
//!
//! Only estimates written since the bench started count: in test mode
//! (`cargo test --benches`, `cargo bench -- --test`), list mode, or for benchmarks a filter
//! left out, criterion writes nothing, and files from an earlier run must not pass for
//! this run's figures. Such comparisons are reported as missing, never as a panic.
//!
//! Typical use, at the end of a bench's `main`:
//!
//! ```no_run
//! use mediacore_benches::ratio::{self, Comparison};
//! # let started = std::time::SystemTime::now();
//! let comparisons = [Comparison::new("g/ours", "g/peer", "g/peer")];
//! ratio::print_report(&ratio::criterion_home(), &comparisons, started);
//! ```

use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// One comparison: the benchmark `ours` against the benchmark `peer`, printed as
/// `ratio <label>: <median(ours) / median(peer)>`.
///
/// Ids are the full criterion ids `<group>/<function>` as `BenchmarkGroup::bench_function`
/// makes them; the group may itself contain `/` (the function id is the last component).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// Id of MediaCore's benchmark.
    pub ours: String,
    /// Id of the peer's (or floor's) benchmark.
    pub peer: String,
    /// What the `ratio` line is called, usually the peer's id.
    pub label: String,
}

impl Comparison {
    /// A comparison of `ours` against `peer`, printed under `label`.
    pub fn new(ours: impl Into<String>, peer: impl Into<String>, label: impl Into<String>) -> Self {
        Self {
            ours: ours.into(),
            peer: peer.into(),
            label: label.into(),
        }
    }
}

/// Why a benchmark's median could not be read.
#[derive(Debug, Clone, PartialEq)]
pub enum EstimateError {
    /// No estimates file: the benchmark did not run in benchmark mode.
    Missing(PathBuf),
    /// The estimates file is older than this run.
    Stale(PathBuf),
    /// The file could not be read or has no `median.point_estimate`.
    Unreadable(PathBuf, String),
}

impl fmt::Display for EstimateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing(p) => write!(f, "no estimates at {}", p.display()),
            Self::Stale(p) => write!(f, "estimates at {} are from an earlier run", p.display()),
            Self::Unreadable(p, why) => write!(f, "cannot read {}: {why}", p.display()),
        }
    }
}

impl std::error::Error for EstimateError {}

/// Where criterion keeps its results: `$CRITERION_HOME`, else `$CARGO_TARGET_DIR/criterion`,
/// else `<workspace>/target/criterion`.
///
/// This is where criterion itself writes when `cargo bench` runs it (it asks
/// `cargo metadata` for the target directory when neither variable is set, which is
/// `<workspace>/target` unless a cargo config moves it). A bench that wants certainty
/// passes this directory to `Criterion::output_directory`, as the SRTP bench does.
pub fn criterion_home() -> PathBuf {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return PathBuf::from(home);
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(target).join("criterion");
    }
    // This crate lives at <workspace>/benches.
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .parent()
        .unwrap_or(manifest)
        .join("target")
        .join("criterion")
}

/// Longest directory name criterion writes (it truncates longer ids).
const MAX_DIRECTORY_NAME_LEN: usize = 64;

/// A path component as criterion 0.8 makes it (`report::make_filename_safe`): characters
/// that are unsafe in file names become `_`, and the name is cut at 64 bytes.
pub fn filename_safe(component: &str) -> String {
    let mut name: String = component
        .chars()
        .map(|c| match c {
            '?' | '"' | '/' | '\\' | '*' | '<' | '>' | ':' | '|' | '^' => '_',
            c => c,
        })
        .collect();
    if name.len() > MAX_DIRECTORY_NAME_LEN {
        let mut end = MAX_DIRECTORY_NAME_LEN;
        while !name.is_char_boundary(end) {
            end -= 1;
        }
        name.truncate(end);
    }
    if cfg!(windows) {
        name = name.trim_end().to_lowercase();
    }
    name
}

/// The `new/estimates.json` file criterion writes for the benchmark `id`
/// (`<group>/<function>`).
pub fn estimates_path(home: &Path, id: &str) -> PathBuf {
    let dir = match id.rsplit_once('/') {
        Some((group, function)) => home
            .join(filename_safe(group))
            .join(filename_safe(function)),
        None => home.join(filename_safe(id)),
    };
    dir.join("new").join("estimates.json")
}

/// The median time per iteration of benchmark `id`, in nanoseconds, if criterion wrote it
/// at or after `since`.
pub fn median_ns(home: &Path, id: &str, since: SystemTime) -> Result<f64, EstimateError> {
    let path = estimates_path(home, id);
    let meta = match fs::metadata(&path) {
        Ok(meta) => meta,
        Err(_) => return Err(EstimateError::Missing(path)),
    };
    let modified = meta
        .modified()
        .map_err(|e| EstimateError::Unreadable(path.clone(), e.to_string()))?;
    if modified < since {
        return Err(EstimateError::Stale(path));
    }
    let text = fs::read_to_string(&path)
        .map_err(|e| EstimateError::Unreadable(path.clone(), e.to_string()))?;
    let json: serde_json::Value = serde_json::from_str(&text)
        .map_err(|e| EstimateError::Unreadable(path.clone(), e.to_string()))?;
    json.pointer("/median/point_estimate")
        .and_then(serde_json::Value::as_f64)
        .filter(|ns| ns.is_finite() && *ns > 0.0)
        .ok_or_else(|| EstimateError::Unreadable(path, "no positive median.point_estimate".into()))
}

/// The outcome of reading a list of comparisons.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Every benchmark median that was read, `(id, ns)`, in first-use order.
    pub medians: Vec<(String, f64)>,
    /// `(label, ours / peer)` for every comparison whose two medians are from this run.
    pub ratios: Vec<(String, f64)>,
    /// Comparisons that could not be computed, with the reason.
    pub missing: Vec<(String, EstimateError)>,
}

impl Report {
    /// The `ratio <label>: <x.xx>` lines.
    pub fn ratio_lines(&self) -> Vec<String> {
        self.ratios
            .iter()
            .map(|(label, r)| format!("ratio {label}: {r:.2}"))
            .collect()
    }
}

/// Reads the medians of every comparison from `home`, counting only files written at or
/// after `since` (the bench's start).
pub fn read_report(home: &Path, comparisons: &[Comparison], since: SystemTime) -> Report {
    let mut report = Report::default();
    let median = |id: &str, report: &mut Report| -> Result<f64, EstimateError> {
        if let Some((_, ns)) = report.medians.iter().find(|(known, _)| known == id) {
            return Ok(*ns);
        }
        let ns = median_ns(home, id, since)?;
        report.medians.push((id.to_owned(), ns));
        Ok(ns)
    };
    for c in comparisons {
        let pair = median(&c.ours, &mut report)
            .and_then(|ours| median(&c.peer, &mut report).map(|peer| ours / peer));
        match pair {
            Ok(ratio) => report.ratios.push((c.label.clone(), ratio)),
            Err(why) => report.missing.push((c.label.clone(), why)),
        }
    }
    report
}

/// Prints this run's medians (`median <id>: <ns> ns`) and one `ratio <label>: <x.xx>` line
/// per comparison, ours / peer (a time ratio: lower is better).
///
/// When nothing was measured in this run (test or list mode, or everything filtered out)
/// it prints a one-line note instead; comparisons only partly measured are listed on
/// standard error. It never panics.
pub fn print_report(home: &Path, comparisons: &[Comparison], since: SystemTime) {
    let report = read_report(home, comparisons, since);
    if report.ratios.is_empty() {
        println!(
            "ratios: none, no estimates from this run under {} (test or list mode, or filtered out)",
            home.display()
        );
        return;
    }
    println!();
    println!("Medians of this run (ns per iteration):");
    for (id, ns) in &report.medians {
        println!("median {id}: {ns:.1} ns");
    }
    println!("Ratios ours/peer of median times (lower is better):");
    for line in report.ratio_lines() {
        println!("{line}");
    }
    let mut not_run = 0;
    for (label, why) in &report.missing {
        match why {
            EstimateError::Missing(_) | EstimateError::Stale(_) => not_run += 1,
            EstimateError::Unreadable(..) => eprintln!("ratio {label} not computed: {why}"),
        }
    }
    if not_run > 0 {
        eprintln!("{not_run} ratios not computed: benchmarks not run in this run (filtered out?)");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("mc-ratio-{}-{name}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).expect("create scratch dir");
        dir
    }

    fn write_estimate(home: &Path, id: &str, median: f64) {
        let path = estimates_path(home, id);
        fs::create_dir_all(path.parent().expect("parent")).expect("create dirs");
        let json = format!(
            r#"{{"mean":{{"point_estimate":{m}}},"median":{{"confidence_interval":{{}},"point_estimate":{median},"standard_error":1.0}}}}"#,
            m = median * 1.1
        );
        fs::write(path, json).expect("write estimates");
    }

    #[test]
    fn paths_follow_criterion_naming() {
        let home = Path::new("/h");
        assert_eq!(
            estimates_path(home, "srtp/gcm128/protect/1200/mediacore"),
            Path::new("/h/srtp_gcm128_protect_1200/mediacore/new/estimates.json")
        );
        assert_eq!(filename_safe("a:b|c?d"), "a_b_c_d");
        assert_eq!(filename_safe(&"x".repeat(70)).len(), 64);
    }

    #[test]
    fn ratios_of_fresh_medians() {
        let home = scratch("fresh");
        let since = SystemTime::now() - Duration::from_secs(5);
        write_estimate(&home, "g/x/ours", 74.0);
        write_estimate(&home, "g/x/peer", 100.0);
        write_estimate(&home, "g/x/floor", 50.0);
        let report = read_report(
            &home,
            &[
                Comparison::new("g/x/ours", "g/x/peer", "g/x/peer"),
                Comparison::new("g/x/ours", "g/x/floor", "g/x/floor"),
                Comparison::new("g/x/ours", "g/x/absent", "g/x/absent"),
            ],
            since,
        );
        assert_eq!(
            report.ratio_lines(),
            ["ratio g/x/peer: 0.74", "ratio g/x/floor: 1.48"]
        );
        assert_eq!(report.medians.len(), 3);
        assert!(matches!(
            report.missing.as_slice(),
            [(label, EstimateError::Missing(_))] if label == "g/x/absent"
        ));
        let _ = fs::remove_dir_all(home);
    }

    #[test]
    fn files_from_an_earlier_run_do_not_count() {
        let home = scratch("stale");
        write_estimate(&home, "g/ours", 1.0);
        write_estimate(&home, "g/peer", 2.0);
        let since = SystemTime::now() + Duration::from_secs(60);
        let report = read_report(
            &home,
            &[Comparison::new("g/ours", "g/peer", "g/peer")],
            since,
        );
        assert!(report.ratios.is_empty());
        assert!(matches!(report.missing[0].1, EstimateError::Stale(_)));
        // And printing with nothing measured is a note, not a panic.
        print_report(
            &home,
            &[Comparison::new("g/ours", "g/peer", "g/peer")],
            since,
        );
        let _ = fs::remove_dir_all(home);
    }

    #[test]
    fn garbage_is_reported_not_panicked() {
        let home = scratch("garbage");
        let path = estimates_path(&home, "g/ours");
        fs::create_dir_all(path.parent().expect("parent")).expect("create dirs");
        fs::write(&path, "{not json").expect("write");
        let err = median_ns(&home, "g/ours", SystemTime::UNIX_EPOCH).expect_err("garbage");
        assert!(matches!(err, EstimateError::Unreadable(..)), "{err}");
        let _ = fs::remove_dir_all(home);
    }
}
