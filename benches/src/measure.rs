//! Measurement plumbing of the setup and media_path benches: CPU time of this process's
//! threads by thread name (read from Linux's `/proc`), and order statistics of the runs.
//!
//! The setup and media_path benches run each side of a call (MediaCore's, webrtc-rs's) on
//! its own named tokio runtime, so the CPU a side spent is the sum over the threads whose
//! name starts with that side's prefix. `/proc/self/task/<tid>/schedstat` gives a thread's
//! time on a CPU in nanoseconds (user and kernel, so the send and receive system calls and
//! the loopback delivery done in the sender's context count), at a far finer grain than
//! the 10 ms ticks of `/proc/.../stat`.
//!
//! Compiled into the bench targets that use it (`#[path]`), not into the library: it is
//! Linux-only, and the library has no other use for it.

use std::fs;
use std::io;
use std::time::Duration;

/// Nanoseconds on a CPU of every live thread of this process whose name starts with
/// `prefix` (Linux keeps the first 15 bytes of a thread's name).
///
/// A thread that has exited is no longer listed: take both readings while the threads of
/// interest are alive.
pub fn cpu_of_threads(prefix: &str) -> io::Result<Duration> {
    let mut total = 0u64;
    for entry in fs::read_dir("/proc/self/task")? {
        let dir = entry?.path();
        // A thread may exit between the listing and the reads: skip it.
        let Ok(name) = fs::read_to_string(dir.join("comm")) else {
            continue;
        };
        if !name.trim_end().starts_with(prefix) {
            continue;
        }
        let Ok(stat) = fs::read_to_string(dir.join("schedstat")) else {
            continue;
        };
        let ns = stat
            .split_whitespace()
            .next()
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or_else(|| io::Error::other(format!("unreadable schedstat {stat:?}")))?;
        total += ns;
    }
    Ok(Duration::from_nanos(total))
}

/// Nanoseconds on a CPU of the calling thread.
pub fn cpu_of_this_thread() -> io::Result<Duration> {
    let stat = fs::read_to_string("/proc/thread-self/schedstat")?;
    stat.split_whitespace()
        .next()
        .and_then(|v| v.parse::<u64>().ok())
        .map(Duration::from_nanos)
        .ok_or_else(|| io::Error::other(format!("unreadable schedstat {stat:?}")))
}

/// The median of `values` (the mean of the middle two for an even count); `None` when
/// empty.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 0 {
        (v[mid - 1] + v[mid]) / 2.0
    } else {
        v[mid]
    })
}

/// The `q` quantile (0..=1) of `values`, nearest rank; `None` when empty.
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let rank = ((q.clamp(0.0, 1.0) * v.len() as f64).ceil() as usize).clamp(1, v.len());
    Some(v[rank - 1])
}
