#![no_main]
//! Unprotects arbitrary bytes as SRTCP with fixed keys; the first byte picks the profile.

use libfuzzer_sys::fuzz_target;
use mediacore_fuzz::{fuzz_context, split_profile};
use std::hint::black_box;

fuzz_target!(|data: &[u8]| {
    let Some((profile, packet)) = split_profile(data) else {
        return;
    };
    let mut ctx = fuzz_context(profile);
    let mut buf = packet.to_vec();
    if let Ok(n) = black_box(ctx.unprotect_rtcp(&mut buf)) {
        assert!(n + profile.rtcp_overhead() == packet.len());
        let mut again = packet.to_vec();
        assert!(ctx.unprotect_rtcp(&mut again).is_err());
    }
});
