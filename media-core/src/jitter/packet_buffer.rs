//! The store of received packets waiting to be decoded, in timestamp order, in memory
//! allocated once.

use crate::codec::opus::MAX_PACKET;

/// One stored packet.
#[derive(Debug, Clone)]
pub(crate) struct Slot {
    /// Extended (unwrapped) sequence number.
    pub(crate) seq: u64,
    /// Extended timestamp, 48 kHz.
    pub(crate) ts: u64,
    /// Arrival time, ms since the buffer's epoch.
    pub(crate) arrival_ms: f64,
    /// Duration in samples per channel; 0 when the payload is not a valid Opus packet.
    pub(crate) samples: u32,
    len: usize,
    data: [u8; MAX_PACKET],
}

impl Slot {
    /// The Opus payload.
    pub(crate) fn payload(&self) -> &[u8] {
        &self.data[..self.len]
    }
}

/// What [`PacketBuffer::insert`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stored {
    /// Stored.
    Kept,
    /// A packet with this sequence number is already held.
    Duplicate,
    /// Stored after discarding the oldest packet to make room.
    Overflowed,
    /// Not stored: the buffer is full and this packet is older than all it holds.
    Refused,
}

/// Fixed-capacity packet store; `order` keeps slot indices sorted by timestamp (ties by
/// sequence number) so the next packet to decode is always at the front.
#[derive(Debug)]
pub(crate) struct PacketBuffer {
    slots: Box<[Slot]>,
    order: Vec<u16>,
    free: Vec<u16>,
}

impl PacketBuffer {
    pub(crate) fn new(capacity: usize) -> Self {
        let capacity = capacity.clamp(2, usize::from(u16::MAX));
        let empty = Slot {
            seq: 0,
            ts: 0,
            arrival_ms: 0.0,
            samples: 0,
            len: 0,
            data: [0; MAX_PACKET],
        };
        Self {
            slots: vec![empty; capacity].into_boxed_slice(),
            order: Vec::with_capacity(capacity),
            // Reverse, so slot 0 is handed out first (pop takes from the end).
            free: (0..capacity as u16).rev().collect(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.order.len()
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Stores a packet (`payload.len() <= MAX_PACKET`, checked by the caller). On overflow
    /// the packet with the oldest timestamp is dropped and its sequence number returned.
    pub(crate) fn insert(
        &mut self,
        seq: u64,
        ts: u64,
        arrival_ms: f64,
        samples: u32,
        payload: &[u8],
    ) -> (Stored, Option<u64>) {
        let key = (ts, seq);
        let pos = match self.order.binary_search_by_key(&key, |&i| {
            (
                self.slots[usize::from(i)].ts,
                self.slots[usize::from(i)].seq,
            )
        }) {
            Ok(_) => return (Stored::Duplicate, None),
            Err(pos) => pos,
        };
        // The same sequence number with another timestamp is a duplicate too (a broken or
        // hostile sender); a linear scan is fine: it only runs over the held packets.
        if self
            .order
            .iter()
            .any(|&i| self.slots[usize::from(i)].seq == seq)
        {
            return (Stored::Duplicate, None);
        }
        let mut overflow = None;
        let mut pos = pos;
        if self.free.is_empty() {
            if pos == 0 {
                return (Stored::Refused, Some(seq));
            }
            let oldest = self.order.remove(0);
            overflow = Some(self.slots[usize::from(oldest)].seq);
            self.free.push(oldest);
            pos -= 1;
        }
        let Some(index) = self.free.pop() else {
            return (Stored::Duplicate, overflow);
        };
        let slot = &mut self.slots[usize::from(index)];
        slot.seq = seq;
        slot.ts = ts;
        slot.arrival_ms = arrival_ms;
        slot.samples = samples;
        slot.len = payload.len().min(MAX_PACKET);
        slot.data[..slot.len].copy_from_slice(&payload[..slot.len]);
        self.order.insert(pos, index);
        let stored = if overflow.is_some() {
            Stored::Overflowed
        } else {
            Stored::Kept
        };
        (stored, overflow)
    }

    /// The packet with the lowest timestamp.
    pub(crate) fn front(&self) -> Option<&Slot> {
        self.order.first().map(|&i| &self.slots[usize::from(i)])
    }

    /// Removes the front packet, returning its slot index for [`Self::slot`] until the
    /// next insert (the data stays in place: no copy).
    pub(crate) fn pop_front(&mut self) -> Option<u16> {
        if self.order.is_empty() {
            return None;
        }
        let index = self.order.remove(0);
        self.free.push(index);
        Some(index)
    }

    /// A slot by index, as returned by [`Self::pop_front`].
    pub(crate) fn slot(&self, index: u16) -> &Slot {
        &self.slots[usize::from(index)]
    }

    /// Drops every packet; returns how many were held.
    pub(crate) fn clear(&mut self) -> usize {
        let n = self.order.len();
        for i in self.order.drain(..) {
            self.free.push(i);
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_timestamp_order_and_refuses_duplicates() {
        let mut b = PacketBuffer::new(4);
        assert_eq!(b.insert(2, 1920, 0.0, 960, &[1]).0, Stored::Kept);
        assert_eq!(b.insert(1, 960, 0.0, 960, &[2]).0, Stored::Kept);
        assert_eq!(b.insert(1, 960, 0.0, 960, &[2]).0, Stored::Duplicate);
        assert_eq!(b.insert(1, 5000, 0.0, 960, &[2]).0, Stored::Duplicate);
        assert_eq!(b.front().map(|s| s.seq), Some(1));
        let i = b.pop_front().unwrap_or(u16::MAX);
        assert_eq!(b.slot(i).payload(), &[2]);
        assert_eq!(b.len(), 1);
    }

    #[test]
    fn overflow_drops_the_oldest() {
        let mut b = PacketBuffer::new(2);
        b.insert(5, 5 * 960, 0.0, 960, &[5]);
        b.insert(6, 6 * 960, 0.0, 960, &[6]);
        let (stored, dropped) = b.insert(7, 7 * 960, 0.0, 960, &[7]);
        assert_eq!(stored, Stored::Overflowed);
        assert_eq!(dropped, Some(5));
        assert_eq!(b.front().map(|s| s.seq), Some(6));
        assert_eq!(b.clear(), 2);
        assert!(b.is_empty());
    }
}
