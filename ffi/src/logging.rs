//! Log records of MediaCore (and of the webrtc-rs parts it uses, which log through the same
//! `log` facade) handed to the application's callback.

use std::cell::Cell;
use std::ffi::{CString, c_char, c_void};
use std::sync::RwLock;

use crate::boundary::guard;
use crate::status::{Error, mc_status};

/// Severity of a log record (also the most verbose level passed on).
pub type mc_log_level = u32;
/// Logging off.
pub const MC_LOG_OFF: mc_log_level = 0;
/// Errors.
pub const MC_LOG_ERROR: mc_log_level = 1;
/// Warnings.
pub const MC_LOG_WARN: mc_log_level = 2;
/// Informational.
pub const MC_LOG_INFO: mc_log_level = 3;
/// Debugging.
pub const MC_LOG_DEBUG: mc_log_level = 4;
/// Tracing (very verbose).
pub const MC_LOG_TRACE: mc_log_level = 5;

/// Receives one log record: its level, the module it came from and the message (both
/// NUL-terminated UTF-8, valid for the call). Called on whichever thread logged — network,
/// event or application threads — possibly on several at once.
pub type mc_log_callback = Option<
    unsafe extern "C" fn(
        level: mc_log_level,
        target: *const c_char,
        message: *const c_char,
        user_data: *mut c_void,
    ),
>;

struct Sink {
    callback: unsafe extern "C" fn(mc_log_level, *const c_char, *const c_char, *mut c_void),
    user_data: *mut c_void,
}

// SAFETY: the application promises (in the header) that its callback may be called from any
// thread with its user data; MediaCore never dereferences the pointer.
unsafe impl Send for Sink {}
// SAFETY: as above; the sink is only read.
unsafe impl Sync for Sink {}

static SINK: RwLock<Option<Sink>> = RwLock::new(None);

thread_local! {
    /// Set while this thread is inside the callback, so a MediaCore call made from it that
    /// logs does not recurse into the callback.
    static IN_CALLBACK: Cell<bool> = const { Cell::new(false) };
}

struct Forwarder;

static FORWARDER: Forwarder = Forwarder;

fn c_level(level: log::Level) -> mc_log_level {
    match level {
        log::Level::Error => MC_LOG_ERROR,
        log::Level::Warn => MC_LOG_WARN,
        log::Level::Info => MC_LOG_INFO,
        log::Level::Debug => MC_LOG_DEBUG,
        log::Level::Trace => MC_LOG_TRACE,
    }
}

impl log::Log for Forwarder {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record<'_>) {
        if IN_CALLBACK.with(Cell::get) || !self.enabled(record.metadata()) {
            return;
        }
        let sink = SINK.read().unwrap_or_else(|e| e.into_inner());
        let Some(sink) = sink.as_ref() else { return };
        let text = |s: String| CString::new(s.replace('\0', " ")).unwrap_or_default();
        let target = text(record.target().to_owned());
        let message = text(record.args().to_string());
        IN_CALLBACK.with(|c| c.set(true));
        // SAFETY: the application's callback, called as documented; the strings live for the
        // call.
        unsafe {
            (sink.callback)(
                c_level(record.level()),
                target.as_ptr(),
                message.as_ptr(),
                sink.user_data,
            )
        };
        IN_CALLBACK.with(|c| c.set(false));
    }

    fn flush(&self) {}
}

/// Sends MediaCore's log records up to `max_level` to `callback` (process-wide; replaces an
/// earlier callback). NULL callback or `MC_LOG_OFF` turns logging off. If the program already
/// installed another `log` logger (a Rust program linking MediaCore), this fails with
/// `MC_ERR_INVALID_STATE`.
///
/// # Safety
/// `callback` must be safe to call from any thread with `user_data` until it is replaced.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_set_log_callback(
    callback: mc_log_callback,
    user_data: *mut c_void,
    max_level: mc_log_level,
) -> mc_status {
    guard(|| {
        let filter = match max_level {
            MC_LOG_OFF => log::LevelFilter::Off,
            MC_LOG_ERROR => log::LevelFilter::Error,
            MC_LOG_WARN => log::LevelFilter::Warn,
            MC_LOG_INFO => log::LevelFilter::Info,
            MC_LOG_DEBUG => log::LevelFilter::Debug,
            MC_LOG_TRACE => log::LevelFilter::Trace,
            other => {
                return Err(Error::invalid(format!(
                    "max_level is {other}, not MC_LOG_OFF to MC_LOG_TRACE"
                )));
            }
        };
        // Installing is once per process; a second call only swaps the sink.
        if log::set_logger(&FORWARDER).is_err()
            && !std::ptr::addr_eq(log::logger(), &FORWARDER as &dyn log::Log)
        {
            return Err(Error::new(
                crate::status::MC_ERR_INVALID_STATE,
                "another logger is installed in this process",
            ));
        }
        let mut sink = SINK.write().unwrap_or_else(|e| e.into_inner());
        *sink = callback.map(|callback| Sink {
            callback,
            user_data,
        });
        log::set_max_level(if sink.is_some() {
            filter
        } else {
            log::LevelFilter::Off
        });
        Ok(())
    })
}
