//! Crossing the boundary: panics caught, the thread's last error kept, C strings checked.

use std::cell::RefCell;
use std::ffi::{CStr, CString, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::status::{Error, MC_ERR_INTERNAL, MC_OK, Result, mc_status};

thread_local! {
    /// The last error message of this thread (NUL-terminated), empty after a success.
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn set_last_error(message: &str) {
    // A message with a NUL inside is cut there rather than lost.
    let text = message.split('\0').next().unwrap_or_default();
    let c = CString::new(text).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = c);
}

/// Empties the message without allocating when it is empty already (the audio path calls
/// through here every 10 ms and must not allocate).
fn clear_last_error() {
    LAST_ERROR.with(|e| {
        if !e.borrow().as_bytes().is_empty() {
            *e.borrow_mut() = CString::default();
        }
    });
}

/// Runs `body`, turning its error or a panic into a status and the thread's last error.
/// Every extern function goes through here.
pub fn guard(body: impl FnOnce() -> Result<()>) -> mc_status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => {
            clear_last_error();
            MC_OK
        }
        Ok(Err(e)) => {
            set_last_error(&e.message);
            e.status
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            set_last_error(&format!("internal error (a bug in MediaCore): {what}"));
            MC_ERR_INTERNAL
        }
    }
}

/// The message of this thread's last failed MediaCore call ("" after a success), as a
/// NUL-terminated UTF-8 string. It stays valid until this thread's next MediaCore call; do not
/// free it.
#[unsafe(no_mangle)]
pub extern "C" fn mc_last_error_message() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().as_ptr())
}

/// Frees a string MediaCore returned (an SDP, a candidate, ...). NULL is a no-op.
///
/// # Safety
/// `s` must be NULL or a string MediaCore returned that has not been freed yet.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_string_free(s: *mut c_char) {
    if !s.is_null() {
        // SAFETY: per the contract, `s` came from `CString::into_raw` in `out_string` and is
        // freed once.
        drop(unsafe { CString::from_raw(s) });
    }
}

/// The `&str` behind a C string argument: NULL and non-UTF-8 are errors naming `argument`.
///
/// # Safety
/// `s` must be NULL or point to a NUL-terminated string valid for the call.
pub unsafe fn str_arg<'a>(s: *const c_char, argument: &str) -> Result<&'a str> {
    if s.is_null() {
        return Err(Error::null(argument));
    }
    // SAFETY: non-NULL and NUL-terminated per the contract.
    unsafe { CStr::from_ptr(s) }
        .to_str()
        .map_err(|_| Error::invalid(format!("{argument} is not UTF-8")))
}

/// Like [`str_arg`], but NULL is `None`.
///
/// # Safety
/// As [`str_arg`].
pub unsafe fn opt_str_arg<'a>(s: *const c_char, argument: &str) -> Result<Option<&'a str>> {
    if s.is_null() {
        Ok(None)
    } else {
        // SAFETY: forwarded contract.
        unsafe { str_arg(s, argument) }.map(Some)
    }
}

/// Stores `value` in the out-parameter `out` (checked for NULL first, by the caller's
/// `out_ptr`).
pub fn out_string(out: &mut *mut c_char, value: &str) -> Result<()> {
    let c = CString::new(value)
        .map_err(|_| Error::new(MC_ERR_INTERNAL, "a returned string holds a NUL byte"))?;
    *out = c.into_raw();
    Ok(())
}

/// The out-parameter behind `p`, or `MC_ERR_NULL_POINTER` naming it.
///
/// # Safety
/// `p` must be NULL or valid for writes of a `T` for the call.
pub unsafe fn out_ptr<'a, T>(p: *mut T, argument: &str) -> Result<&'a mut T> {
    // SAFETY: non-NULL checked by as_mut; validity per the contract.
    unsafe { p.as_mut() }.ok_or_else(|| Error::null(argument))
}

/// The struct behind an input pointer, or `MC_ERR_NULL_POINTER` naming it.
///
/// # Safety
/// `p` must be NULL or valid for reads of a `T` for the call.
pub unsafe fn in_ref<'a, T>(p: *const T, argument: &str) -> Result<&'a T> {
    // SAFETY: non-NULL checked by as_ref; validity per the contract.
    unsafe { p.as_ref() }.ok_or_else(|| Error::null(argument))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::status::MC_ERR_INVALID_ARGUMENT;

    fn last() -> String {
        // SAFETY: mc_last_error_message returns this thread's NUL-terminated message.
        unsafe { CStr::from_ptr(mc_last_error_message()) }
            .to_string_lossy()
            .into_owned()
    }

    #[test]
    fn errors_and_panics_become_statuses_and_messages() {
        assert_eq!(guard(|| Ok(())), MC_OK);
        assert_eq!(last(), "");
        assert_eq!(
            guard(|| Err(Error::invalid("frame is 479 samples, not 480"))),
            MC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(last(), "frame is 479 samples, not 480");
        let status = guard(|| panic!("boom"));
        assert_eq!(status, MC_ERR_INTERNAL);
        assert!(last().contains("boom"), "{}", last());
        assert_eq!(
            guard(|| Err(Error::invalid("a\0b"))),
            MC_ERR_INVALID_ARGUMENT
        );
        assert_eq!(last(), "a");
    }

    #[test]
    fn string_arguments_are_checked() {
        // SAFETY: NULL and a static NUL-terminated string.
        unsafe {
            assert_eq!(
                str_arg(std::ptr::null(), "sdp").map_err(|e| e.status),
                Err(crate::status::MC_ERR_NULL_POINTER)
            );
            assert_eq!(str_arg(c"v=0".as_ptr(), "sdp"), Ok("v=0"));
            let bad = [0xffu8, 0];
            assert_eq!(
                str_arg(bad.as_ptr().cast(), "sdp").map_err(|e| e.status),
                Err(MC_ERR_INVALID_ARGUMENT)
            );
        }
    }
}
