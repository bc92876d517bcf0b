//! Shared helpers of MediaCore's benchmarks.
