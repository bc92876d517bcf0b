//! Shared pieces of MediaCore's fuzz targets: the fixed keys the SRTP targets use, so that
//! seed packets protected with them get past authentication.

use media_core::srtp::{SrtpContext, SrtpProfile};

/// The fixed master key and salt of `profile` used by the SRTP fuzz targets and seeds.
pub fn fuzz_keys(profile: SrtpProfile) -> (Vec<u8>, Vec<u8>) {
    let key = (0..profile.key_len()).map(|i| i as u8 ^ 0x5A).collect();
    let salt = (0..profile.salt_len()).map(|i| i as u8 ^ 0xC3).collect();
    (key, salt)
}

/// A context for `profile` with the fuzz keys.
pub fn fuzz_context(profile: SrtpProfile) -> SrtpContext {
    let (key, salt) = fuzz_keys(profile);
    match SrtpContext::new(profile, &key, &salt) {
        Ok(ctx) => ctx,
        Err(e) => panic!("fixed fuzz keys are valid: {e}"),
    }
}

/// The profile a fuzz input selects with its first byte, and the rest of the input.
pub fn split_profile(data: &[u8]) -> Option<(SrtpProfile, &[u8])> {
    let (&first, rest) = data.split_first()?;
    let profile = SrtpProfile::ALL[usize::from(first) % SrtpProfile::ALL.len()];
    Some((profile, rest))
}
