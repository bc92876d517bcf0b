//! The C ABI of MediaCore: a thin, mechanical layer over `media_core`.
//!
//! Every function is prefixed `mc_`; the header `include/mediacore.h` is generated from this
//! crate by cbindgen (`ffi/cbindgen.toml`) and committed.

use std::ffi::c_char;

/// The version of the MediaCore library as a NUL-terminated `major.minor.patch` string.
///
/// The string is static: do not free it.
#[unsafe(no_mangle)]
pub extern "C" fn mc_version() -> *const c_char {
    VERSION_CSTR.as_ptr()
}

const VERSION_CSTR: &std::ffi::CStr = match std::ffi::CStr::from_bytes_with_nul(
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes(),
) {
    Ok(s) => s,
    Err(_) => panic!("the package version contains a NUL byte"),
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_matches_the_engine() {
        // SAFETY: mc_version returns a pointer to a static NUL-terminated string.
        let v = unsafe { std::ffi::CStr::from_ptr(mc_version()) };
        assert_eq!(v.to_str().ok(), Some(media_core::VERSION));
    }
}
