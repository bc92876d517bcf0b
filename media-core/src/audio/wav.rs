//! WAV files (16-bit PCM) for demos, tests and benchmarks.
