//! The network half of a call: encoding, RTP and SRTP out; SRTP, RTP and RTCP in.
//!
//! Sans-IO like the rest of the core: the caller moves datagrams between this and a socket
//! (or the network simulator) and passes the time in.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ringbuf::traits::{Consumer, Observer, Producer};
use ringbuf::{HeapCons, HeapProd};

use super::CallError;
use super::capture_clock::CaptureClock;
use super::config::{AudioCallConfig, SrtpKeys};
use super::packet::ReceivedPacket;
use super::reception::Reception;
use super::stats::{CallStats, mos_estimate};
use crate::codec::OpusEncoder;
use crate::codec::opus::{MAX_PACKET, SAMPLE_RATE};
use crate::jitter::JitterStats;
use crate::rtp::rtcp::{
    self, List, ReceiverReport, ReportBlock, RtcpPacket, SDES_CNAME, Sdes, SdesChunk, SdesChunks,
    SdesItem, SdesItems, SenderReport,
};
use crate::rtp::{RtpHeader, RtpPacket, write_packet};
use crate::srtp::SrtpContext;

/// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
const NTP_UNIX_OFFSET: u64 = 2_208_988_800;

fn srtp_contexts(keys: &SrtpKeys) -> Result<(SrtpContext, SrtpContext), CallError> {
    Ok((
        SrtpContext::new(keys.profile, &keys.send_key, &keys.send_salt)?,
        SrtpContext::new(keys.profile, &keys.receive_key, &keys.receive_salt)?,
    ))
}

/// Length of the capture blocks the audio side pushes.
const CAPTURE_BLOCK: Duration = Duration::from_millis(10);
/// How long after the audio side is expected to have pushed a frame's last block the
/// network side looks: a little later, so one wake-up finds the frame whole.
const CAPTURE_SLACK: Duration = Duration::from_micros(500);
/// How soon to look again when the audio side is late with a block it was pushing.
const CAPTURE_RECHECK: Duration = Duration::from_millis(2);
/// How often a parked network side looks at the ring anyway: a backstop for drivers that
/// cannot be woken by the audio side (the first frame after audio resumes may wait this
/// long there).
const CAPTURE_IDLE: Duration = Duration::from_millis(100);

/// The network side's ends of the rings to and from the audio side.
pub(crate) struct Rings {
    /// Captured PCM in.
    pub capture: HeapCons<i16>,
    /// When the audio side last pushed capture.
    pub capture_clock: Arc<CaptureClock>,
    /// Received packets out.
    pub packets: HeapProd<ReceivedPacket>,
    /// Jitter buffer statistics in.
    pub stats: HeapCons<JitterStats>,
}

/// What [`NetworkSide::receive`] did with a datagram.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// An RTP packet, handed to the audio side.
    Rtp,
    /// An RTCP compound, processed.
    Rtcp,
}

/// The network thread's half of a call.
pub struct NetworkSide {
    config: AudioCallConfig,
    capture: HeapCons<i16>,
    capture_clock: Arc<CaptureClock>,
    /// Samples (all channels) in one capture block.
    capture_block: usize,
    /// The `now` of the last [`poll_transmit`](Self::poll_transmit).
    last_poll: Instant,
    packets: HeapProd<ReceivedPacket>,
    stats_in: HeapCons<JitterStats>,
    encoder: OpusEncoder,
    frame: Vec<i16>,
    encoded: [u8; MAX_PACKET],
    /// None until keys are set: nothing is sent or accepted before.
    srtp_out: Option<SrtpContext>,
    srtp_in: Option<SrtpContext>,
    unkeyed_frames: u64,
    sequence: u16,
    timestamp: u32,
    /// Time of capture of the next frame's first sample, for SR timing.
    packets_sent: u64,
    octets_sent: u64,
    dtx_frames: u64,
    epoch: Instant,
    ntp_epoch: u64,
    next_report: Instant,
    reception: Option<Reception>,
    remote_report: Option<ReportBlock>,
    rtt: Option<Duration>,
    last_jitter: JitterStats,
    malformed: u64,
    unauthenticated: u64,
    ring_overflows: u64,
    rtcp_sent: u64,
    rtcp_received: u64,
}

impl std::fmt::Debug for NetworkSide {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NetworkSide")
            .field("ssrc", &self.config.ssrc)
            .field("packets_sent", &self.packets_sent)
            .finish_non_exhaustive()
    }
}

impl NetworkSide {
    pub(crate) fn new(
        config: AudioCallConfig,
        rings: Rings,
        now: Instant,
        unix_time: Duration,
    ) -> Result<Self, CallError> {
        let (srtp_out, srtp_in) = match &config.srtp {
            Some(keys) => {
                let (out, inbound) = srtp_contexts(keys)?;
                (Some(out), Some(inbound))
            }
            None => (None, None),
        };
        let encoder = OpusEncoder::new(config.encoder)?;
        let frame = vec![0; encoder.frame_len()];
        let secs = unix_time.as_secs() + NTP_UNIX_OFFSET;
        let frac = (u64::from(unix_time.subsec_nanos()) << 32) / 1_000_000_000;
        // A random-looking but deterministic start for sequence number and timestamp
        // (RFC 3550 §5.1 asks for random ones; the SSRC is random already).
        let sequence = (config.ssrc >> 16) as u16 ^ config.ssrc as u16;
        let timestamp = config.ssrc.rotate_left(13);
        Ok(Self {
            next_report: now + config.rtcp_interval / 2,
            capture: rings.capture,
            capture_clock: rings.capture_clock,
            capture_block: 480 * usize::from(config.encoder.channels),
            last_poll: now,
            packets: rings.packets,
            stats_in: rings.stats,
            encoder,
            frame,
            encoded: [0; MAX_PACKET],
            srtp_out,
            srtp_in,
            unkeyed_frames: 0,
            sequence,
            timestamp,
            packets_sent: 0,
            octets_sent: 0,
            dtx_frames: 0,
            epoch: now,
            ntp_epoch: (secs << 32) | frac,
            reception: None,
            remote_report: None,
            rtt: None,
            last_jitter: JitterStats::default(),
            malformed: 0,
            unauthenticated: 0,
            ring_overflows: 0,
            rtcp_sent: 0,
            rtcp_received: 0,
            config,
        })
    }

    fn ntp(&self, now: Instant) -> u64 {
        let d = now.saturating_duration_since(self.epoch);
        let frac = (u64::from(d.subsec_nanos()) << 32) / 1_000_000_000;
        self.ntp_epoch + ((d.as_secs() << 32) | frac)
    }

    /// Keys SRTP (once DTLS has exported them, or again after a re-key): from now on
    /// captured audio is sent and received packets are accepted.
    pub fn set_srtp_keys(&mut self, keys: &SrtpKeys) -> Result<(), CallError> {
        let (out, inbound) = srtp_contexts(keys)?;
        self.srtp_out = Some(out);
        self.srtp_in = Some(inbound);
        Ok(())
    }

    /// Sets the negotiated Opus payload type, sent and expected.
    pub fn set_payload_type(&mut self, payload_type: u8) {
        self.config.payload_type = payload_type;
    }

    /// Captured 10/20 ms frames dropped because SRTP had no keys yet.
    pub fn unkeyed_frames(&self) -> u64 {
        self.unkeyed_frames
    }

    /// When [`poll_transmit`](Self::poll_transmit) next has something to do: the next
    /// RTCP report, or the moment the next whole frame of capture is expected in the ring.
    pub fn next_deadline(&self) -> Instant {
        self.next_report.min(self.capture_due())
    }

    /// When the ring should next hold a whole frame: predicted from the audio side's
    /// last stamp and the blocks still missing (see [`CaptureClock`]). When the audio side
    /// has stopped, the network side parks: the next push wakes a driver that listens
    /// (the UDP call does), and [`CAPTURE_IDLE`] is only a backstop.
    fn capture_due(&self) -> Instant {
        let missing = self.frame.len().saturating_sub(self.capture.occupied_len());
        if missing == 0 {
            return self.last_poll;
        }
        let last_push = self.capture_clock.last_push();
        if let Some(pushed) = last_push {
            let blocks = u32::try_from(missing.div_ceil(self.capture_block)).unwrap_or(u32::MAX);
            let due = pushed + CAPTURE_BLOCK * blocks + CAPTURE_SLACK;
            if due > self.last_poll {
                return due;
            }
            if self.last_poll.saturating_duration_since(pushed) < CAPTURE_BLOCK * 3 {
                // The audio side is late with a block: look again soon.
                return self.last_poll + CAPTURE_RECHECK;
            }
        }
        if self.capture_clock.park(last_push) {
            self.last_poll + CAPTURE_IDLE
        } else {
            // Pushed meanwhile: look now.
            self.last_poll
        }
    }

    /// Writes the next datagram to send into `out` (at least 1500 bytes) and returns its
    /// length: an SRTP packet of captured audio, or an SRTCP report when one is due.
    pub fn poll_transmit(
        &mut self,
        now: Instant,
        out: &mut [u8],
    ) -> Result<Option<usize>, CallError> {
        self.last_poll = now;
        // Keep the statistics ring drained: the audio side skips a snapshot when it is full.
        while let Some(s) = self.stats_in.try_pop() {
            self.last_jitter = s;
        }
        let Some(srtp_out) = self.srtp_out.as_mut() else {
            // No keys yet (DTLS still running): what is captured now is dropped whole.
            while self.capture.occupied_len() >= self.frame.len() {
                self.capture.pop_slice(&mut self.frame);
                self.unkeyed_frames += 1;
            }
            return Ok(None);
        };
        while self.capture.occupied_len() >= self.frame.len() {
            self.capture.pop_slice(&mut self.frame);
            let n = self.encoder.encode(&self.frame, &mut self.encoded)?;
            let timestamp = self.timestamp;
            self.timestamp = self
                .timestamp
                .wrapping_add(self.encoder.config().frame.samples_per_channel() as u32);
            if n <= 2 {
                // A DTX frame (no audio to code): not sent, as WebRTC senders do; the
                // receiver plays comfort noise across the timestamp gap.
                self.dtx_frames += 1;
                continue;
            }
            let header = RtpHeader {
                payload_type: self.config.payload_type,
                sequence_number: self.sequence,
                timestamp,
                ssrc: self.config.ssrc,
                ..RtpHeader::default()
            };
            let len = write_packet(&header, &self.encoded[..n], 0, out)?;
            let len = srtp_out.protect_rtp(out, len)?;
            self.sequence = self.sequence.wrapping_add(1);
            self.packets_sent += 1;
            self.octets_sent += n as u64;
            return Ok(Some(len));
        }
        if now >= self.next_report {
            self.next_report = now + self.config.rtcp_interval;
            let len = self.write_report(now, out)?;
            let Some(srtp_out) = self.srtp_out.as_mut() else {
                return Ok(None);
            };
            let len = srtp_out.protect_rtcp(out, len)?;
            self.rtcp_sent += 1;
            return Ok(Some(len));
        }
        Ok(None)
    }

    /// An SR (or, before anything was sent, an RR) with a block about the received
    /// stream, and an SDES CNAME.
    fn write_report(&mut self, now: Instant, out: &mut [u8]) -> Result<usize, CallError> {
        let block = self.reception.as_mut().map(|r| r.report_block(now));
        let blocks = block.as_slice();
        let cname_text = &self.config.cname.as_bytes()[..self.config.cname.len().min(255)];
        let items = [SdesItem {
            kind: SDES_CNAME,
            text: cname_text,
        }];
        let chunks = [SdesChunk {
            ssrc: self.config.ssrc,
            items: SdesItems::Items(&items),
        }];
        let sdes = RtcpPacket::Sdes(Sdes {
            chunks: SdesChunks::Items(&chunks),
        });
        let report = if self.packets_sent > 0 {
            RtcpPacket::SenderReport(SenderReport {
                ssrc: self.config.ssrc,
                ntp_time: self.ntp(now),
                rtp_time: self.timestamp,
                packet_count: self.packets_sent as u32,
                octet_count: self.octets_sent as u32,
                reports: List::Items(blocks),
                extension: &[],
            })
        } else {
            RtcpPacket::ReceiverReport(ReceiverReport {
                ssrc: self.config.ssrc,
                reports: List::Items(blocks),
                extension: &[],
            })
        };
        Ok(rtcp::write_compound(&[report, sdes], out)?)
    }

    /// Takes one datagram from the network. Anything malformed or unauthenticated is
    /// counted and dropped, with the reason as the error.
    pub fn receive(&mut self, now: Instant, datagram: &mut [u8]) -> Result<Received, CallError> {
        // RFC 5761 demultiplexing: RTCP packet types 192–223 sit where RTP has
        // marker + payload type.
        let is_rtcp = datagram.len() >= 2 && (192..=223).contains(&datagram[1]);
        if is_rtcp {
            return self.receive_rtcp(now, datagram);
        }
        let Some(srtp_in) = self.srtp_in.as_mut() else {
            self.unauthenticated += 1;
            return Err(CallError::NotKeyed);
        };
        let len = match srtp_in.unprotect_rtp(datagram) {
            Ok(len) => len,
            Err(e) => {
                self.unauthenticated += 1;
                return Err(e.into());
            }
        };
        let packet = match RtpPacket::parse(&datagram[..len]) {
            Ok(p) => p,
            Err(e) => {
                self.malformed += 1;
                return Err(e.into());
            }
        };
        if packet.payload_type() != self.config.payload_type {
            self.malformed += 1;
            return Err(CallError::UnexpectedPayloadType(packet.payload_type()));
        }
        let reception = self
            .reception
            .get_or_insert_with(|| Reception::new(packet.ssrc(), SAMPLE_RATE, self.epoch));
        if reception.ssrc() != packet.ssrc() {
            // A new source replaces the old one (the jitter buffer resyncs on it too).
            *reception = Reception::new(packet.ssrc(), SAMPLE_RATE, self.epoch);
        }
        reception.on_packet(now, packet.sequence_number(), packet.timestamp());
        let payload = packet.payload();
        let mut item = ReceivedPacket {
            arrival: now,
            ssrc: packet.ssrc(),
            sequence: packet.sequence_number(),
            timestamp: packet.timestamp(),
            len: payload.len().min(MAX_PACKET) as u16,
            payload: [0; MAX_PACKET],
        };
        item.payload[..usize::from(item.len)].copy_from_slice(&payload[..usize::from(item.len)]);
        if self.packets.try_push(item).is_err() {
            self.ring_overflows += 1;
            return Err(CallError::RingFull);
        }
        Ok(Received::Rtp)
    }

    fn receive_rtcp(&mut self, now: Instant, datagram: &mut [u8]) -> Result<Received, CallError> {
        let Some(srtp_in) = self.srtp_in.as_mut() else {
            self.unauthenticated += 1;
            return Err(CallError::NotKeyed);
        };
        let len = match srtp_in.unprotect_rtcp(datagram) {
            Ok(len) => len,
            Err(e) => {
                self.unauthenticated += 1;
                return Err(e.into());
            }
        };
        if let Err(e) = rtcp::validate_compound(&datagram[..len], rtcp::CompoundMode::ReducedSize) {
            self.malformed += 1;
            return Err(e.into());
        }
        self.rtcp_received += 1;
        let ntp_now = self.ntp(now);
        for packet in rtcp::parse_compound(&datagram[..len]) {
            let Ok(packet) = packet else {
                self.malformed += 1;
                continue;
            };
            let blocks = match packet {
                RtcpPacket::SenderReport(sr) => {
                    if let Some(r) = self.reception.as_mut().filter(|r| r.ssrc() == sr.ssrc) {
                        r.last_sr = Some(((sr.ntp_time >> 16) as u32, now));
                    }
                    sr.reports
                }
                RtcpPacket::ReceiverReport(rr) => rr.reports,
                _ => continue,
            };
            for block in blocks.iter().filter(|b| b.ssrc == self.config.ssrc) {
                self.remote_report = Some(block);
                if block.last_sr != 0 {
                    // RFC 3550 §6.4.1: RTT = A − LSR − DLSR, in 1/65536 s.
                    let a = (ntp_now >> 16) as u32;
                    let rtt = a
                        .wrapping_sub(block.last_sr)
                        .wrapping_sub(block.delay_since_last_sr);
                    if rtt < 65_536 * 60 {
                        self.rtt = Some(Duration::from_secs_f64(f64::from(rtt) / 65_536.0));
                    }
                }
            }
        }
        Ok(Received::Rtcp)
    }

    /// A statistics snapshot: RTCP-derived network figures, the jitter buffer's counters
    /// (as last handed over by the audio side) and the E-model MOS.
    pub fn stats(&mut self) -> CallStats {
        while let Some(s) = self.stats_in.try_pop() {
            self.last_jitter = s;
        }
        let jitter = self.last_jitter;
        let (received, lost, expected, jitter_ms, mean_burst) = match &self.reception {
            Some(r) => (
                r.received(),
                r.lost(),
                r.expected(),
                r.jitter_ms(),
                r.mean_burst(),
            ),
            None => (0, 0, 0, 0.0, 0.0),
        };
        let lookahead_ms = 6.5;
        let frame_ms = self.encoder.config().frame.samples_per_channel() as f64 / 48.0;
        let rtt_ms = self.rtt.map(|d| d.as_secs_f64() * 1000.0);
        let one_way_ms =
            rtt_ms.unwrap_or(0.0) / 2.0 + jitter.mean_delay_ms() + frame_ms + lookahead_ms;
        let lost_total = lost.max(0) as u64 + jitter.packets_discarded;
        let loss_percent = if expected == 0 {
            0.0
        } else {
            100.0 * lost_total as f64 / expected as f64
        };
        let mos = mos_estimate(
            one_way_ms,
            loss_percent,
            mean_burst,
            self.encoder.config().bitrate_bps,
        );
        CallStats {
            packets_sent: self.packets_sent,
            octets_sent: self.octets_sent,
            dtx_frames_not_sent: self.dtx_frames,
            packets_received: received,
            packets_lost: lost,
            jitter_ms,
            rtt_ms,
            remote_fraction_lost: self
                .remote_report
                .map(|b| f64::from(b.fraction_lost) / 256.0),
            remote_jitter_ms: self.remote_report.map(|b| f64::from(b.jitter) / 48.0),
            rtcp_sent: self.rtcp_sent,
            rtcp_received: self.rtcp_received,
            malformed: self.malformed,
            unauthenticated: self.unauthenticated,
            ring_overflows: self.ring_overflows,
            one_way_delay_ms: one_way_ms,
            loss_percent,
            mos,
            jitter_buffer: jitter,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::{CAPTURE_IDLE, CAPTURE_RECHECK, CAPTURE_SLACK};
    use crate::call::{AudioCallConfig, audio_call};

    /// The network side wakes once per 20 ms frame, just after the audio side pushes the
    /// frame's second 10 ms block; it looks again soon when that block is late; when the
    /// audio side has stopped it parks, and the next push asks for a wake-up (once).
    #[test]
    fn capture_deadline_follows_the_audio_side() {
        let t0 = Instant::now();
        let mut config = AudioCallConfig::keyed_later(7, "deadline");
        config.rtcp_interval = Duration::from_secs(60);
        let (mut audio, mut network) =
            audio_call(config, t0, Duration::from_secs(1_800_000_000)).expect("call");
        let mut out = [0u8; 1500];
        let block = [0i16; 480];
        let mut playout = [0i16; 480];
        let ms = Duration::from_millis;

        // Nothing pushed yet: parked, with the backstop.
        network.poll_transmit(t0, &mut out).expect("poll");
        assert_eq!(network.next_deadline(), t0 + CAPTURE_IDLE);

        // One block of a 20 ms frame in (waking the parked side): the frame is whole one
        // block later. A second push asks for no second wake-up.
        assert!(audio.capture_clock.pushed(t0 + ms(1)));
        audio
            .process(t0 + ms(1), &block, &mut playout)
            .expect("tick");
        network.poll_transmit(t0 + ms(2), &mut out).expect("poll");
        assert_eq!(network.next_deadline(), t0 + ms(11) + CAPTURE_SLACK);

        // The second block arrives on time: the frame is taken (dropped unkeyed here) and
        // the next one is due two blocks after it.
        audio
            .process(t0 + ms(11), &block, &mut playout)
            .expect("tick");
        network
            .poll_transmit(t0 + ms(11) + CAPTURE_SLACK, &mut out)
            .expect("poll");
        assert_eq!(network.unkeyed_frames(), 1);
        assert_eq!(network.next_deadline(), t0 + ms(31) + CAPTURE_SLACK);

        // The audio side is late: look again soon.
        audio
            .process(t0 + ms(21), &block, &mut playout)
            .expect("tick");
        let late = t0 + ms(31) + CAPTURE_SLACK;
        network.poll_transmit(late, &mut out).expect("poll");
        assert_eq!(network.next_deadline(), late + CAPTURE_RECHECK);

        // It stopped: parked again; a push now asks for a wake-up, and the side that
        // parked sees it.
        let quiet = t0 + ms(100);
        network.poll_transmit(quiet, &mut out).expect("poll");
        assert_eq!(network.next_deadline(), quiet + CAPTURE_IDLE);
        assert!(audio.capture_clock.pushed(quiet));
        assert!(!audio.capture_clock.pushed(quiet));

        // A push between the network side's look at the clock and its parking: it does
        // not park, and looks at once.
        let clock = &audio.capture_clock;
        let seen = clock.last_push();
        clock.pushed(quiet + ms(1));
        assert!(!clock.park(seen));
        assert!(
            !clock.pushed(quiet + ms(2)),
            "not parked, so no wake-up asked"
        );
    }
}
