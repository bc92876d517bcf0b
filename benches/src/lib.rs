//! Shared helpers of MediaCore's benchmarks.

pub mod ratio;
