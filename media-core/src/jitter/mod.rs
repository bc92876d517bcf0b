//! The adaptive audio jitter buffer.

pub mod stretch;
