//! What the network side measures about the stream it receives, as RFC 3550 defines it:
//! extended highest sequence number, cumulative and interval loss (§A.3), interarrival
//! jitter (§A.8), and loss bursts for the E-model's burst ratio.

use std::time::Instant;

use crate::rtp::rtcp::ReportBlock;
use crate::rtp::sequence::SequenceUnwrapper;

/// Reception statistics of one remote source.
#[derive(Debug, Clone)]
pub(crate) struct Reception {
    ssrc: u32,
    seq: SequenceUnwrapper,
    base_seq: u64,
    max_seq: u64,
    received: u64,
    expected_prior: u64,
    received_prior: u64,
    /// RFC 3550 §A.8 jitter estimate, in timestamp units (×16 kept implicit via f64).
    jitter: f64,
    last_transit: Option<f64>,
    clock_rate: f64,
    epoch: Instant,
    /// Runs of consecutive missing sequence numbers seen as gaps on arrival.
    loss_bursts: u64,
    /// Packets in those runs.
    burst_lost: u64,
    /// Last SR from this source: middle 32 bits of its NTP time and when it arrived.
    pub(crate) last_sr: Option<(u32, Instant)>,
}

impl Reception {
    pub(crate) fn new(ssrc: u32, clock_rate: u32, epoch: Instant) -> Self {
        Self {
            ssrc,
            seq: SequenceUnwrapper::new(),
            base_seq: 0,
            max_seq: 0,
            received: 0,
            expected_prior: 0,
            received_prior: 0,
            jitter: 0.0,
            last_transit: None,
            clock_rate: f64::from(clock_rate),
            epoch,
            loss_bursts: 0,
            burst_lost: 0,
            last_sr: None,
        }
    }

    pub(crate) fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// Records one RTP packet (already authenticated) arriving at `now`.
    pub(crate) fn on_packet(&mut self, now: Instant, sequence: u16, timestamp: u32) {
        let Some(seq) = self.seq.unwrap(sequence) else {
            return;
        };
        if self.received == 0 {
            self.base_seq = seq;
            self.max_seq = seq;
        } else if seq > self.max_seq {
            let gap = seq - self.max_seq - 1;
            if gap > 0 {
                self.loss_bursts += 1;
                self.burst_lost += gap;
            }
            self.max_seq = seq;
        } else if seq < self.base_seq {
            self.base_seq = seq;
        }
        self.received += 1;
        // Jitter: mean deviation of the difference in transit time (§6.4.1, §A.8).
        let arrival = now.saturating_duration_since(self.epoch).as_secs_f64() * self.clock_rate;
        let transit = arrival - f64::from(timestamp);
        if let Some(last) = self.last_transit {
            let mut d = (transit - last).abs();
            // A timestamp wrap shows up as a jump of 2^32: fold it back.
            if d > f64::from(u32::MAX) / 2.0 {
                d = (d - f64::from(u32::MAX) - 1.0).abs();
            }
            self.jitter += (d - self.jitter) / 16.0;
        }
        self.last_transit = Some(transit);
    }

    /// Packets expected from the sequence numbers seen.
    pub(crate) fn expected(&self) -> u64 {
        if self.received == 0 {
            0
        } else {
            self.max_seq - self.base_seq + 1
        }
    }

    /// Distinct and duplicate packets received.
    pub(crate) fn received(&self) -> u64 {
        self.received
    }

    /// Cumulative packets lost (§A.3; duplicates can make it negative).
    pub(crate) fn lost(&self) -> i64 {
        self.expected() as i64 - self.received as i64
    }

    /// Interarrival jitter, ms.
    pub(crate) fn jitter_ms(&self) -> f64 {
        1000.0 * self.jitter / self.clock_rate
    }

    /// Mean length of the loss runs seen, in packets (0 without loss).
    pub(crate) fn mean_burst(&self) -> f64 {
        if self.loss_bursts == 0 {
            0.0
        } else {
            self.burst_lost as f64 / self.loss_bursts as f64
        }
    }

    /// A report block for the next RTCP report, closing the reporting interval.
    pub(crate) fn report_block(&mut self, now: Instant) -> ReportBlock {
        let expected = self.expected();
        let expected_interval = expected - self.expected_prior;
        let received_interval = self.received - self.received_prior;
        self.expected_prior = expected;
        self.received_prior = self.received;
        let lost_interval = expected_interval as i64 - received_interval as i64;
        let fraction_lost = if expected_interval == 0 || lost_interval <= 0 {
            0
        } else {
            ((lost_interval << 8) / expected_interval as i64).min(255) as u8
        };
        let (last_sr, delay_since_last_sr) = match self.last_sr {
            Some((lsr, at)) => {
                let delay = now.saturating_duration_since(at).as_secs_f64() * 65_536.0;
                (lsr, delay.min(f64::from(u32::MAX)) as u32)
            }
            None => (0, 0),
        };
        ReportBlock {
            ssrc: self.ssrc,
            fraction_lost,
            cumulative_lost: self.lost().clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32,
            extended_highest_seq: self.max_seq as u32,
            jitter: self.jitter as u32,
            last_sr,
            delay_since_last_sr,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn loss_jitter_and_fraction_follow_rfc_3550() {
        let epoch = Instant::now();
        let mut r = Reception::new(7, 48_000, epoch);
        for i in 0u16..100 {
            if i % 10 == 5 {
                continue;
            }
            // 20 ms packets; odd ones 2 ms late: |D| = 2 ms every packet.
            let at = epoch + Duration::from_millis(u64::from(i) * 20 + u64::from(i % 2) * 2);
            r.on_packet(at, 65_500u16.wrapping_add(i), u32::from(i) * 960);
        }
        assert_eq!(r.expected(), 100);
        assert_eq!(r.lost(), 10);
        assert_eq!(r.mean_burst(), 1.0);
        let block = r.report_block(epoch + Duration::from_secs(2));
        assert_eq!(block.cumulative_lost, 10);
        assert_eq!(block.fraction_lost, 25); // 10 % of 256
        assert_eq!(block.extended_highest_seq, 65_536 + 99 - 36);
        // The estimate converges towards the mean |D|, about 2 ms = 96 units.
        assert!((1.5..=2.1).contains(&r.jitter_ms()), "{}", r.jitter_ms());
        // The next interval saw nothing: no loss.
        assert_eq!(r.report_block(epoch).fraction_lost, 0);
    }
}
