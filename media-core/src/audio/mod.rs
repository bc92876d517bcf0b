//! Audio frames and files: WAV reading and writing for demos, tests and benchmarks.

pub mod wav;
