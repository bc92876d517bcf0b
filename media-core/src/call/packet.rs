//! A received packet on its way from the network side to the audio side.

use std::time::Instant;

use crate::codec::opus::MAX_PACKET;

/// One authenticated RTP packet's fields and payload, stored inline so that the ring
/// between the two sides holds them without any allocation.
#[derive(Clone, Copy)]
pub(crate) struct ReceivedPacket {
    pub(crate) arrival: Instant,
    pub(crate) ssrc: u32,
    pub(crate) sequence: u16,
    pub(crate) timestamp: u32,
    pub(crate) len: u16,
    pub(crate) payload: [u8; MAX_PACKET],
}

impl ReceivedPacket {
    pub(crate) fn payload(&self) -> &[u8] {
        &self.payload[..usize::from(self.len).min(MAX_PACKET)]
    }
}
