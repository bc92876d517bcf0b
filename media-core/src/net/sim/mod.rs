//! A deterministic network simulator on a virtual clock.
