#![no_main]
//! Unprotects arbitrary bytes as SRTP with fixed keys; the first byte picks the profile.
//! Whatever happens must be a typed result, never a panic.

use libfuzzer_sys::fuzz_target;
use mediacore_fuzz::{fuzz_context, split_profile};
use std::hint::black_box;

fuzz_target!(|data: &[u8]| {
    let Some((profile, packet)) = split_profile(data) else {
        return;
    };
    let mut ctx = fuzz_context(profile);
    let mut buf = packet.to_vec();
    if let Ok(n) = black_box(ctx.unprotect_rtp(&mut buf)) {
        assert!(n + profile.rtp_tag_len() == packet.len());
        // The same packet again is a replay.
        let mut again = packet.to_vec();
        assert!(ctx.unprotect_rtp(&mut again).is_err());
    }
});
