//! `mc_engine`: the runtime every call and client of an application runs on (a tokio runtime
//! for network and REST work) and its event queue.

use std::ffi::c_void;
use std::sync::{Arc, Mutex};
use std::thread::{JoinHandle, ThreadId};
use std::time::Duration;

use crate::boundary::{guard, in_ref, out_ptr};
use crate::events::{Event, EventQueue, mc_event, mc_event_callback};
use crate::handles;
use crate::status::{
    Error, MC_ERR_INTERNAL, MC_ERR_INVALID_STATE, MC_ERR_TIMEOUT, Result, mc_status,
};

/// An engine (opaque).
pub struct mc_engine {
    _private: [u8; 0],
}

/// Options of an engine. Fill with `mc_engine_options_default` first, then change fields.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct mc_engine_options {
    /// `sizeof(mc_engine_options)`, set by `mc_engine_options_default`; lets the ABI grow.
    pub struct_size: u32,
    /// Threads of the network runtime (1–64; default 2).
    pub worker_threads: u32,
    /// Events go to this callback (on the engine's event thread) instead of
    /// `mc_engine_poll_event`; NULL (default): poll.
    pub event_callback: mc_event_callback,
    /// Passed to `event_callback`.
    pub user_data: *mut c_void,
}

/// The engine behind a handle.
pub struct Engine {
    runtime: Option<tokio::runtime::Runtime>,
    /// Where calls put their events.
    pub events: Arc<EventQueue>,
    /// The callback's thread, when there is one.
    dispatcher: Option<(JoinHandle<()>, ThreadId)>,
    /// The last polled event (pointers to its strings were handed out).
    last_polled: Mutex<Option<Event>>,
}

impl Engine {
    /// Runs `future` to completion on the engine's runtime, from the caller's thread.
    pub fn block_on<F: std::future::Future>(&self, future: F) -> Result<F::Output> {
        let runtime = self
            .runtime
            .as_ref()
            .ok_or_else(|| Error::new(MC_ERR_INVALID_STATE, "the engine is shutting down"))?;
        if tokio::runtime::Handle::try_current().is_ok() {
            // Only reachable if an application thread is itself inside a tokio runtime.
            return Err(Error::new(
                MC_ERR_INVALID_STATE,
                "MediaCore was called from inside a tokio runtime; call it from a plain thread",
            ));
        }
        Ok(runtime.block_on(future))
    }

    /// The runtime, to spawn background tasks on.
    pub fn runtime(&self) -> Result<&tokio::runtime::Runtime> {
        self.runtime
            .as_ref()
            .ok_or_else(|| Error::new(MC_ERR_INVALID_STATE, "the engine is shutting down"))
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.events.close();
        if let Some((thread, id)) = self.dispatcher.take() {
            // Freed from inside its own callback: that thread ends when the callback returns.
            if std::thread::current().id() != id {
                let _ = thread.join();
            }
        }
        if let Some(runtime) = self.runtime.take() {
            // Tasks (call I/O) are cancelled; nothing here waits on the network.
            runtime.shutdown_background();
        }
    }
}

/// Fills `options` with the defaults (and its `struct_size`).
///
/// # Safety
/// `options` must be NULL or point to writable memory for an `mc_engine_options`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_engine_options_default(options: *mut mc_engine_options) -> mc_status {
    guard(|| {
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(options, "options") }?;
        *out = mc_engine_options {
            struct_size: size_of::<mc_engine_options>() as u32,
            worker_threads: 2,
            event_callback: None,
            user_data: std::ptr::null_mut(),
        };
        Ok(())
    })
}

/// Checks an options struct's `struct_size` against this library's.
pub fn check_size(struct_size: u32, expected: usize, name: &str) -> Result<()> {
    if struct_size as usize == expected {
        Ok(())
    } else {
        Err(Error::invalid(format!(
            "{name}.struct_size is {struct_size}, this library's is {expected}: fill it with \
             {name}_default"
        )))
    }
}

/// Starts an engine. `options` NULL means the defaults.
///
/// # Safety
/// `options` must be NULL or point to an `mc_engine_options`; `engine` to writable memory for
/// a handle.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_engine_new(
    options: *const mc_engine_options,
    engine: *mut *mut mc_engine,
) -> mc_status {
    guard(|| {
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(engine, "engine") }?;
        *out = std::ptr::null_mut();
        let opts = if options.is_null() {
            let mut o = std::mem::MaybeUninit::<mc_engine_options>::uninit();
            // SAFETY: o is writable; the default fills every field.
            unsafe { mc_engine_options_default(o.as_mut_ptr()) };
            // SAFETY: initialised just above.
            unsafe { o.assume_init() }
        } else {
            // SAFETY: forwarded contract.
            *unsafe { in_ref(options, "options") }?
        };
        check_size(
            opts.struct_size,
            size_of::<mc_engine_options>(),
            "mc_engine_options",
        )?;
        if !(1..=64).contains(&opts.worker_threads) {
            return Err(Error::invalid(format!(
                "worker_threads is {}, not 1 to 64",
                opts.worker_threads
            )));
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(opts.worker_threads as usize)
            .thread_name("mediacore-net")
            .enable_all()
            .build()
            .map_err(|e| Error::new(MC_ERR_INTERNAL, format!("starting the runtime: {e}")))?;
        let events = Arc::new(EventQueue::default());
        let dispatcher = match opts.event_callback {
            None => None,
            Some(callback) => {
                let queue = Arc::clone(&events);
                let user_data = UserData(opts.user_data);
                let thread = std::thread::Builder::new()
                    .name("mediacore-events".into())
                    .spawn(move || dispatch(&queue, callback, user_data))
                    .map_err(|e| {
                        Error::new(MC_ERR_INTERNAL, format!("starting the event thread: {e}"))
                    })?;
                let id = thread.thread().id();
                Some((thread, id))
            }
        };
        *out = handles::register(Arc::new(Engine {
            runtime: Some(runtime),
            events,
            dispatcher,
            last_polled: Mutex::new(None),
        }));
        Ok(())
    })
}

/// The application's pointer, handed back to its callback on the event thread.
struct UserData(*mut c_void);
// SAFETY: MediaCore never dereferences it; the application promises (in the header) that its
// callback may be called on the engine's event thread with it.
unsafe impl Send for UserData {}

fn dispatch(
    queue: &EventQueue,
    callback: unsafe extern "C" fn(*const mc_event, *mut c_void),
    user_data: UserData,
) {
    while let Some((event, dropped)) = queue.pop(None) {
        let c = event.as_c(dropped);
        // A panic cannot come back through C; a callback that unwinds aborts the process as
        // C++ exceptions through C frames do.
        // SAFETY: the application's callback, called as the header documents: the event and
        // its text are valid for the call.
        unsafe { callback(&c, user_data.0) };
    }
}

/// Stops the engine once its last call is freed (calls keep it running until then). NULL is
/// a no-op. May be called from the event callback.
///
/// # Safety
/// `engine` must be NULL or a handle from `mc_engine_new`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_engine_free(engine: *mut mc_engine) {
    // Nothing to report from a free; a stale handle only sets the last error.
    let _ = guard(|| {
        handles::take::<Engine, _>(engine, "engine")?;
        Ok(())
    });
}

/// Waits up to `timeout_ms` (negative: for ever; 0: do not wait) for the next event and
/// copies it to `event`. `MC_ERR_TIMEOUT` when none came. Strings in the event stay valid
/// until the next poll on this engine; poll from one thread. With an event callback,
/// events go there and this returns `MC_ERR_INVALID_STATE`.
///
/// # Safety
/// `engine` must be NULL or a handle; `event` NULL or writable memory for an `mc_event`.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn mc_engine_poll_event(
    engine: *mut mc_engine,
    event: *mut mc_event,
    timeout_ms: i32,
) -> mc_status {
    guard(|| {
        let e = handles::get::<Engine, _>(engine, "engine")?;
        // SAFETY: forwarded contract.
        let out = unsafe { out_ptr(event, "event") }?;
        if e.dispatcher.is_some() {
            return Err(Error::new(
                MC_ERR_INVALID_STATE,
                "this engine delivers events to its callback",
            ));
        }
        let timeout = u64::try_from(timeout_ms).ok().map(Duration::from_millis);
        let (next, dropped) = e
            .events
            .pop(timeout)
            .ok_or_else(|| Error::new(MC_ERR_TIMEOUT, "no event"))?;
        let mut last = e.last_polled.lock().unwrap_or_else(|p| p.into_inner());
        *out = next.as_c(dropped);
        // Keep the strings alive (the pointers in `out` point into them) until the next poll.
        *last = Some(next);
        Ok(())
    })
}
