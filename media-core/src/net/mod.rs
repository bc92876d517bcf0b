//! Networking: the deterministic network simulator (and, later, sockets and ICE).

pub mod sim;
