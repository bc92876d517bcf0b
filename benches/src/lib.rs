//! Shared helpers of MediaCore's benchmarks.

pub mod peers;
pub mod ratio;
pub mod replay;
pub mod speech;

use std::time::Duration;

use criterion::Criterion;

/// The configuration every MediaCore bench uses: short runs (30 samples, 1 s warm-up, 3 s of
/// measurement) so `make bench` stays within minutes on two cores, with results written where
/// [`ratio`] reads them.
pub fn criterion_config() -> Criterion {
    Criterion::default()
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .output_directory(&ratio::criterion_home())
}
