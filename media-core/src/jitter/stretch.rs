//! Time-stretching of decoded speech (accelerate and preemptive expand).
