//! The sliding replay window of RFC 3711 §3.3.2.

use super::error::SrtpError;

/// Number of packet indices behind the highest one that the window remembers.
pub const REPLAY_WINDOW_SIZE: u64 = 128;

/// A replay window over packet indices: the highest index accepted and a bitmap of the
/// [`REPLAY_WINDOW_SIZE`] indices at and below it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReplayWindow {
    /// `None` until the first index is accepted.
    highest: Option<u64>,
    /// Bit `n` set: index `highest - n` was accepted.
    bits: u128,
}

impl ReplayWindow {
    /// The highest index accepted so far.
    pub fn highest(&self) -> Option<u64> {
        self.highest
    }

    /// Checks `index` without recording it (authentication comes between check and accept).
    pub fn check(&self, index: u64) -> Result<(), SrtpError> {
        let Some(highest) = self.highest else {
            return Ok(());
        };
        if index > highest {
            return Ok(());
        }
        let behind = highest - index;
        if behind >= REPLAY_WINDOW_SIZE {
            return Err(SrtpError::TooOld { index });
        }
        if self.bits & (1u128 << behind) != 0 {
            return Err(SrtpError::Replayed { index });
        }
        Ok(())
    }

    /// Records `index` as accepted; call only after [`check`](Self::check) passed and the
    /// packet authenticated.
    pub fn accept(&mut self, index: u64) {
        match self.highest {
            None => {
                self.highest = Some(index);
                self.bits = 1;
            }
            Some(highest) if index > highest => {
                let ahead = index - highest;
                self.bits = if ahead >= REPLAY_WINDOW_SIZE {
                    1
                } else {
                    (self.bits << ahead) | 1
                };
                self.highest = Some(index);
            }
            Some(highest) => {
                let behind = highest - index;
                if behind < REPLAY_WINDOW_SIZE {
                    self.bits |= 1u128 << behind;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn take(w: &mut ReplayWindow, index: u64) -> Result<(), SrtpError> {
        w.check(index)?;
        w.accept(index);
        Ok(())
    }

    #[test]
    fn accepts_each_index_once_within_the_window() {
        let mut w = ReplayWindow::default();
        take(&mut w, 1000).expect("first");
        take(&mut w, 998).expect("reordered");
        assert_eq!(take(&mut w, 998), Err(SrtpError::Replayed { index: 998 }));
        assert_eq!(take(&mut w, 1000), Err(SrtpError::Replayed { index: 1000 }));
        take(&mut w, 1000 - 127).expect("oldest in window");
        assert_eq!(
            take(&mut w, 1000 - 128),
            Err(SrtpError::TooOld { index: 872 })
        );
        take(&mut w, 1200).expect("jump");
        take(&mut w, 1100).expect("inside new window");
        assert_eq!(take(&mut w, 998), Err(SrtpError::TooOld { index: 998 }));
        take(&mut w, 2000).expect("jump past the window");
        assert_eq!(w.highest(), Some(2000));
        assert_eq!(take(&mut w, 2000), Err(SrtpError::Replayed { index: 2000 }));
        take(&mut w, 1999).expect("bitmap cleared after a long jump");
    }
}
