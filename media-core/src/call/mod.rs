//! A call: the audio pipeline between two engines, its statistics and quality estimate.

pub mod emodel;
