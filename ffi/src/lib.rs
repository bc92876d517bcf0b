//! The C ABI of MediaCore: a thin, mechanical layer over `media_core`.
//!
//! Every function is prefixed `mc_`; the header `include/mediacore.h` is generated from this
//! crate by cbindgen (`ffi/cbindgen.toml`) and committed. The rules every function follows:
//! it returns an `mc_status` (results through out-parameters, last), checks every pointer,
//! handle, enum value and size, catches panics ([`boundary::guard`]), and leaves a message for
//! `mc_last_error_message()` on failure. Handles are registry numbers, not addresses
//! ([`handles`]), so a stale handle is an error, not undefined behaviour.
#![allow(non_camel_case_types)] // C type names: mc_engine, mc_status, ...

pub mod boundary;
pub mod call;
pub mod engine;
pub mod events;
pub mod handles;
pub mod logging;
pub mod rest;
pub mod stats;
pub mod status;

use std::ffi::c_char;

/// The ABI version this header describes; `mc_abi_version()` is the library's. They differ
/// when a program runs against a library built from another header: check at start. (2:
/// `mc_event` grew the chat and signaling fields.)
pub const MC_ABI_VERSION: u32 = 2;

/// The ABI version of the library (compare with `MC_ABI_VERSION`).
#[unsafe(no_mangle)]
pub extern "C" fn mc_abi_version() -> u32 {
    MC_ABI_VERSION
}

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
