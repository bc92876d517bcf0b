//! Networking: the WebRTC transport (ICE, DTLS-SRTP), UDP sockets, and the deterministic
//! network simulator.

pub mod sim;
pub mod transport;
