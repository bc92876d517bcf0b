//! Decoded audio waiting to be played, with where each stretch of it came from.

/// Where a run of samples in the sync buffer came from.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Origin {
    /// Decoded from a packet that arrived at this time (ms since the buffer's epoch).
    Packet { arrival_ms: f64 },
    /// Synthesised: codec concealment or comfort noise. `silent` marks comfort noise;
    /// `consumes` marks concealment standing for lost media time (not added delay).
    Concealed { silent: bool, consumes: bool },
}

/// At most this many runs are tracked; more are merged into the last one (only possible
/// with pathological input, and it only blurs the delay statistics).
const MAX_RUNS: usize = 32;

/// Interleaved samples not yet played, in a buffer allocated once.
#[derive(Debug)]
pub(crate) struct SyncBuffer {
    samples: Vec<i16>,
    start: usize,
    end: usize,
    channels: usize,
    /// Runs of (samples per channel, origin), oldest first, covering `start..end`.
    runs: [(usize, Origin); MAX_RUNS],
    run_count: usize,
}

impl SyncBuffer {
    /// Room for `capacity_per_channel` samples per channel.
    pub(crate) fn new(channels: usize, capacity_per_channel: usize) -> Self {
        Self {
            samples: vec![0; capacity_per_channel * channels],
            start: 0,
            end: 0,
            channels,
            runs: [(
                0,
                Origin::Concealed {
                    silent: true,
                    consumes: false,
                },
            ); MAX_RUNS],
            run_count: 0,
        }
    }

    /// Samples per channel waiting.
    pub(crate) fn len(&self) -> usize {
        (self.end - self.start) / self.channels
    }

    /// Room left for appending, in samples per channel.
    pub(crate) fn room(&self) -> usize {
        (self.samples.len() - (self.end - self.start)) / self.channels
    }

    /// A writable tail of `n` samples per channel (compacting first if needed); call
    /// [`Self::commit`] with how many were written.
    pub(crate) fn tail(&mut self, n: usize) -> &mut [i16] {
        let want = n * self.channels;
        if self.end + want > self.samples.len() {
            self.samples.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        let end = (self.end + want).min(self.samples.len());
        &mut self.samples[self.end..end]
    }

    /// Appends `n` samples per channel just written into [`Self::tail`].
    pub(crate) fn commit(&mut self, n: usize, origin: Origin) {
        let n = n.min(self.room());
        if n == 0 {
            return;
        }
        self.end += n * self.channels;
        if self.run_count > 0 && self.runs[self.run_count - 1].1 == origin {
            self.runs[self.run_count - 1].0 += n;
        } else if self.run_count == MAX_RUNS {
            self.runs[MAX_RUNS - 1].0 += n;
        } else {
            self.runs[self.run_count] = (n, origin);
            self.run_count += 1;
        }
    }

    /// Samples per channel waiting that stand for media time: decoded, or concealing lost
    /// media (not concealment added while waiting for a late packet).
    pub(crate) fn media_len(&self) -> usize {
        self.runs[..self.run_count]
            .iter()
            .filter(|(_, o)| {
                !matches!(
                    o,
                    Origin::Concealed {
                        consumes: false,
                        ..
                    }
                )
            })
            .map(|(n, _)| n)
            .sum()
    }

    /// Samples per channel waiting that were synthesised.
    pub(crate) fn concealed_len(&self) -> usize {
        self.runs[..self.run_count]
            .iter()
            .filter(|(_, o)| matches!(o, Origin::Concealed { .. }))
            .map(|(n, _)| n)
            .sum()
    }

    /// The waiting samples, interleaved.
    pub(crate) fn pending(&self) -> &[i16] {
        &self.samples[self.start..self.end]
    }

    /// Replaces the first `old` samples per channel with `new` (a time-stretched version of
    /// them), keeping run boundaries where they fall after the change.
    pub(crate) fn replace_front(&mut self, old: usize, new: &[i16]) {
        let old_len = (old * self.channels).min(self.end - self.start);
        let new_len = new.len();
        if new_len <= old_len {
            let shift = old_len - new_len;
            self.start += shift;
            self.samples[self.start..self.start + new_len].copy_from_slice(new);
            self.shrink_runs((shift) / self.channels);
        } else {
            let grow = new_len - old_len;
            if self.start < grow {
                // Make room in front by moving everything back.
                let total = self.end - self.start;
                if total + grow > self.samples.len() {
                    return;
                }
                self.samples.copy_within(self.start..self.end, grow);
                self.start = grow;
                self.end = grow + total;
            }
            self.start -= grow;
            self.samples[self.start..self.start + new_len].copy_from_slice(new);
            if self.run_count > 0 {
                self.runs[0].0 += grow / self.channels;
            }
        }
    }

    fn shrink_runs(&mut self, mut n: usize) {
        while n > 0 && self.run_count > 0 {
            let take = n.min(self.runs[0].0);
            self.runs[0].0 -= take;
            n -= take;
            if self.runs[0].0 == 0 {
                self.runs.copy_within(1..self.run_count, 0);
                self.run_count -= 1;
            }
        }
    }

    /// Moves `n` samples per channel (all there are, at most) to `out`, calling `each` once
    /// per run of one origin with its sample count.
    pub(crate) fn read(&mut self, out: &mut [i16], mut each: impl FnMut(usize, Origin)) -> usize {
        let n = (out.len() / self.channels).min(self.len());
        let len = n * self.channels;
        out[..len].copy_from_slice(&self.samples[self.start..self.start + len]);
        self.start += len;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
        }
        let mut left = n;
        while left > 0 && self.run_count > 0 {
            let take = left.min(self.runs[0].0);
            each(take, self.runs[0].1);
            left -= take;
            self.runs[0].0 -= take;
            if self.runs[0].0 == 0 {
                self.runs.copy_within(1..self.run_count, 0);
                self.run_count -= 1;
            }
        }
        n
    }

    /// Drops everything.
    pub(crate) fn clear(&mut self) {
        self.start = 0;
        self.end = 0;
        self.run_count = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_follow_reads_and_stretching() {
        let mut b = SyncBuffer::new(1, 100);
        b.tail(10).copy_from_slice(&[1; 10]);
        b.commit(10, Origin::Packet { arrival_ms: 5.0 });
        b.tail(10).copy_from_slice(&[2; 10]);
        b.commit(
            10,
            Origin::Concealed {
                silent: false,
                consumes: false,
            },
        );
        b.replace_front(10, &[1; 6]);
        assert_eq!(b.len(), 16);
        let mut out = [0; 8];
        let mut seen = Vec::new();
        assert_eq!(b.read(&mut out, |n, o| seen.push((n, o))), 8);
        assert_eq!(out, [1, 1, 1, 1, 1, 1, 2, 2]);
        assert_eq!(
            seen,
            vec![
                (6, Origin::Packet { arrival_ms: 5.0 }),
                (
                    2,
                    Origin::Concealed {
                        silent: false,
                        consumes: false
                    }
                )
            ]
        );
        b.replace_front(4, &[3; 7]);
        assert_eq!(b.len(), 11);
        let mut out = [0; 11];
        assert_eq!(b.read(&mut out, |_, _| {}), 11);
        assert_eq!(out[..7], [3; 7]);
    }
}
