//! Status codes every fallible function returns, and the error they carry across the boundary.

/// What a MediaCore function returns: `MC_OK` (0) or a negative error code; the thread's
/// `mc_last_error_message()` then says what went wrong.
pub type mc_status = i32;

/// Success.
pub const MC_OK: mc_status = 0;
/// A required pointer argument (handle, string, buffer or out-parameter) was NULL.
pub const MC_ERR_NULL_POINTER: mc_status = -1;
/// An argument is out of range: an unknown enum value, a wrong size, a string that is not
/// UTF-8, an options struct of an unknown size.
pub const MC_ERR_INVALID_ARGUMENT: mc_status = -2;
/// The handle is not a live object of the expected type (freed, never made, or another type).
pub const MC_ERR_INVALID_HANDLE: mc_status = -3;
/// The object cannot do this now (e.g. the call has ended, an answer without an offer).
pub const MC_ERR_INVALID_STATE: mc_status = -4;
/// Nothing happened within the time asked for (e.g. no event to poll).
pub const MC_ERR_TIMEOUT: mc_status = -5;
/// Another thread is using the object's audio path at this moment (audio is one thread's).
pub const MC_ERR_BUSY: mc_status = -6;
/// A socket could not be opened or used, or a server could not be reached.
pub const MC_ERR_NETWORK: mc_status = -7;
/// The peer's session description or candidate was refused.
pub const MC_ERR_SESSION: mc_status = -8;
/// The service answered with an error (the message has its status and ACS error code).
pub const MC_ERR_SERVICE: mc_status = -9;
/// A bug in MediaCore: a panic was caught at the boundary. The object may be unusable.
pub const MC_ERR_INTERNAL: mc_status = -100;

/// An error on its way to the caller: the code and the message for `mc_last_error_message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// The status returned.
    pub status: mc_status,
    /// What went wrong, for the thread's last-error message.
    pub message: String,
}

impl Error {
    /// An error with `status` and `message`.
    pub fn new(status: mc_status, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// `MC_ERR_NULL_POINTER` naming the argument.
    pub fn null(argument: &str) -> Self {
        Self::new(MC_ERR_NULL_POINTER, format!("{argument} is NULL"))
    }

    /// `MC_ERR_INVALID_ARGUMENT` with `message`.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(MC_ERR_INVALID_ARGUMENT, message)
    }
}

impl From<media_core::call::udp::UdpCallError> for Error {
    fn from(e: media_core::call::udp::UdpCallError) -> Self {
        use media_core::call::udp::UdpCallError as E;
        let status = match &e {
            E::Session(_) => MC_ERR_SESSION,
            E::Io(_) => MC_ERR_NETWORK,
            // A malformed URL, or a host that does not resolve: the caller's to fix.
            E::Unsupported(_) | E::BadIceServer { .. } => MC_ERR_INVALID_ARGUMENT,
            E::Ended => MC_ERR_INVALID_STATE,
        };
        Self::new(status, e.to_string())
    }
}

impl From<media_core::rest::RestError> for Error {
    fn from(e: media_core::rest::RestError) -> Self {
        use media_core::rest::RestError as E;
        let status = match &e {
            // The service answered: its message names the HTTP status and the ACS error code.
            E::Service { .. } | E::OperationFailed { .. } | E::Protocol { .. } => MC_ERR_SERVICE,
            E::Transport { .. } => MC_ERR_NETWORK,
            // Caught before anything was sent: the caller's connection string, options or token.
            E::ConnectionString(_) | E::Options(_) | E::Credential(_) => MC_ERR_INVALID_ARGUMENT,
        };
        Self::new(status, e.to_string())
    }
}

/// The result of the boundary's inner functions.
pub type Result<T> = std::result::Result<T, Error>;
