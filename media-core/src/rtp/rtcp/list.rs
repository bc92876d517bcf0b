//! Lists inside RTCP packets: either still on the wire (parsed, decoded lazily, no
//! allocation) or borrowed from the caller (to write). Equality compares the items, so a
//! parsed packet equals the description it was written from.

use std::fmt;

/// A fixed-size item of an RTCP list (report block, NACK pair, FIR entry, SSRC).
pub trait WireItem: Copy {
    /// Encoded size in bytes.
    const SIZE: usize;
    /// Decodes one item from exactly `SIZE` bytes.
    fn read(bytes: &[u8]) -> Self;
    /// Encodes one item into exactly `SIZE` bytes.
    fn write(&self, out: &mut [u8]);
}

impl WireItem for u32 {
    const SIZE: usize = 4;
    fn read(b: &[u8]) -> Self {
        u32::from_be_bytes([b[0], b[1], b[2], b[3]])
    }
    fn write(&self, out: &mut [u8]) {
        out.copy_from_slice(&self.to_be_bytes());
    }
}

/// A list of `T`: wire bytes (a multiple of `T::SIZE`, checked at parse) or a slice.
#[derive(Clone, Copy)]
pub enum List<'a, T> {
    /// Encoded items as parsed.
    Wire(&'a [u8]),
    /// Items to write.
    Items(&'a [T]),
}

impl<'a, T: WireItem> List<'a, T> {
    /// Number of items.
    pub fn len(&self) -> usize {
        match self {
            Self::Wire(b) => b.len() / T::SIZE,
            Self::Items(i) => i.len(),
        }
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The items, decoded on the fly.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = T> + 'a {
        let (wire, items): (&'a [u8], &'a [T]) = match *self {
            Self::Wire(b) => (b, &[]),
            Self::Items(i) => (&[], i),
        };
        let n = self.len();
        (0..n).map(move |k| {
            if items.is_empty() {
                T::read(&wire[k * T::SIZE..(k + 1) * T::SIZE])
            } else {
                items[k]
            }
        })
    }

    /// Encoded size in bytes.
    pub(crate) fn encoded_len(&self) -> usize {
        self.len() * T::SIZE
    }

    /// Writes the items into `out` (exactly `encoded_len` bytes).
    pub(crate) fn write(&self, out: &mut [u8]) {
        for (item, chunk) in self.iter().zip(out.chunks_exact_mut(T::SIZE)) {
            item.write(chunk);
        }
    }
}

impl<'a, T> From<&'a [T]> for List<'a, T> {
    fn from(items: &'a [T]) -> Self {
        Self::Items(items)
    }
}

impl<T: WireItem + PartialEq> PartialEq for List<'_, T> {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

impl<T: WireItem + Eq> Eq for List<'_, T> {}

impl<T: WireItem + fmt::Debug> fmt::Debug for List<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<T> Default for List<'_, T> {
    fn default() -> Self {
        Self::Items(&[])
    }
}
