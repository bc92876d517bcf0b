//! Opus (RFC 6716) at 48 kHz, mono or stereo, 10 or 20 ms frames, over libopus.
//!
//! Samples are 16-bit, channels interleaved. One call encodes or decodes one frame into the
//! caller's buffer; nothing is allocated per frame.

use ::opus as lib;

use super::error::CodecError;

/// The only sample rate MediaCore runs Opus at (RTP clock rate of Opus, RFC 7587).
pub const SAMPLE_RATE: u32 = 48_000;
/// Largest Opus packet (RFC 6716 §3.4: 1275 bytes per frame; one frame per packet here).
pub const MAX_PACKET: usize = 1275;

/// The encoder's tuning (libopus `OPUS_APPLICATION_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpusApplication {
    /// Speech: favours intelligibility (SILK and hybrid modes).
    Voip,
    /// Music and mixed content: favours fidelity.
    Audio,
    /// Lowest delay: CELT only, 2.5 ms less lookahead, no SILK (so no in-band FEC).
    RestrictedLowDelay,
}

impl From<OpusApplication> for lib::Application {
    fn from(a: OpusApplication) -> Self {
        match a {
            OpusApplication::Voip => lib::Application::Voip,
            OpusApplication::Audio => lib::Application::Audio,
            OpusApplication::RestrictedLowDelay => lib::Application::LowDelay,
        }
    }
}

/// Frame duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameDuration {
    /// 10 ms: 480 samples per channel.
    Ms10,
    /// 20 ms: 960 samples per channel (the WebRTC default).
    Ms20,
}

impl FrameDuration {
    /// Samples per channel in one frame at 48 kHz.
    pub fn samples_per_channel(self) -> usize {
        match self {
            Self::Ms10 => 480,
            Self::Ms20 => 960,
        }
    }
}

/// The widest audio band the encoder may code (libopus `OPUS_SET_MAX_BANDWIDTH`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpusBandwidth {
    /// 4 kHz audio band (8 kHz sampling).
    Narrowband,
    /// 6 kHz.
    Mediumband,
    /// 8 kHz: wideband speech, coded by SILK alone.
    Wideband,
    /// 12 kHz: SILK plus CELT (hybrid) for speech.
    SuperWideband,
    /// 20 kHz: everything the encoder can do.
    Fullband,
}

impl From<OpusBandwidth> for lib::Bandwidth {
    fn from(b: OpusBandwidth) -> Self {
        match b {
            OpusBandwidth::Narrowband => lib::Bandwidth::Narrowband,
            OpusBandwidth::Mediumband => lib::Bandwidth::Mediumband,
            OpusBandwidth::Wideband => lib::Bandwidth::Wideband,
            OpusBandwidth::SuperWideband => lib::Bandwidth::Superwideband,
            OpusBandwidth::Fullband => lib::Bandwidth::Fullband,
        }
    }
}

/// Everything an encoder is configured with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpusEncoderConfig {
    /// 1 (mono) or 2 (stereo).
    pub channels: u8,
    /// Tuning.
    pub application: OpusApplication,
    /// Frame duration.
    pub frame: FrameDuration,
    /// Target bitrate, 6000..=510000 bit/s.
    pub bitrate_bps: u32,
    /// Encoder complexity, 0..=10 (CPU against quality).
    pub complexity: u8,
    /// In-band forward error correction: each packet carries a low-rate copy of the previous
    /// frame, which the receiver decodes when that frame is lost (SILK and hybrid modes).
    pub fec: bool,
    /// Expected packet loss, 0..=100 %: how much bitrate the encoder gives to FEC.
    pub expected_loss_percent: u8,
    /// Discontinuous transmission: near-empty packets during silence.
    pub dtx: bool,
    /// The widest band coded. Below it the encoder still picks the band for the bitrate.
    pub max_bandwidth: OpusBandwidth,
}

impl Default for OpusEncoderConfig {
    /// Mono speech at 32 kbit/s in 20 ms frames, complexity 10, FEC on for 5 % loss, no DTX,
    /// fullband.
    fn default() -> Self {
        Self {
            channels: 1,
            application: OpusApplication::Voip,
            frame: FrameDuration::Ms20,
            bitrate_bps: 32_000,
            complexity: 10,
            fec: true,
            expected_loss_percent: 5,
            dtx: false,
            max_bandwidth: OpusBandwidth::Fullband,
        }
    }
}

fn channels(n: u8) -> Result<lib::Channels, CodecError> {
    match n {
        1 => Ok(lib::Channels::Mono),
        2 => Ok(lib::Channels::Stereo),
        _ => Err(CodecError::BadSetting {
            name: "channels",
            value: i64::from(n),
            allowed: "1 or 2",
        }),
    }
}

fn check_range(
    name: &'static str,
    value: i64,
    range: std::ops::RangeInclusive<i64>,
    allowed: &'static str,
) -> Result<i32, CodecError> {
    if range.contains(&value) {
        // The ranges checked here all fit in i32.
        Ok(value as i32)
    } else {
        Err(CodecError::BadSetting {
            name,
            value,
            allowed,
        })
    }
}

/// An Opus encoder.
pub struct OpusEncoder {
    inner: lib::Encoder,
    config: OpusEncoderConfig,
}

impl std::fmt::Debug for OpusEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpusEncoder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl OpusEncoder {
    /// An encoder configured with `config`.
    pub fn new(config: OpusEncoderConfig) -> Result<Self, CodecError> {
        let inner = lib::Encoder::new(
            SAMPLE_RATE,
            channels(config.channels)?,
            config.application.into(),
        )?;
        let mut encoder = Self { inner, config };
        encoder.set_bitrate(config.bitrate_bps)?;
        encoder.set_complexity(config.complexity)?;
        encoder.set_fec(config.fec, config.expected_loss_percent)?;
        encoder.inner.set_dtx(config.dtx)?;
        encoder
            .inner
            .set_max_bandwidth(config.max_bandwidth.into())?;
        Ok(encoder)
    }

    /// The current configuration.
    pub fn config(&self) -> &OpusEncoderConfig {
        &self.config
    }

    /// Samples one frame takes, all channels interleaved.
    pub fn frame_len(&self) -> usize {
        self.config.frame.samples_per_channel() * usize::from(self.config.channels)
    }

    /// Samples per channel the encoder looks ahead (its algorithmic delay beyond the frame):
    /// 312 for VOIP/AUDIO, 120 for RESTRICTED_LOWDELAY.
    pub fn lookahead(&mut self) -> Result<usize, CodecError> {
        Ok(usize::try_from(self.inner.get_lookahead()?).unwrap_or(0))
    }

    /// Changes the target bitrate (6000..=510000 bit/s).
    pub fn set_bitrate(&mut self, bps: u32) -> Result<(), CodecError> {
        let bits = check_range(
            "bitrate_bps",
            i64::from(bps),
            6_000..=510_000,
            "6000..=510000",
        )?;
        self.inner.set_bitrate(lib::Bitrate::Bits(bits))?;
        self.config.bitrate_bps = bps;
        Ok(())
    }

    /// Changes the complexity (0..=10).
    pub fn set_complexity(&mut self, complexity: u8) -> Result<(), CodecError> {
        let c = check_range("complexity", i64::from(complexity), 0..=10, "0..=10")?;
        self.inner.set_complexity(c)?;
        self.config.complexity = complexity;
        Ok(())
    }

    /// Turns in-band FEC on or off and sets the expected loss (0..=100 %).
    pub fn set_fec(&mut self, fec: bool, expected_loss_percent: u8) -> Result<(), CodecError> {
        let loss = check_range(
            "expected_loss_percent",
            i64::from(expected_loss_percent),
            0..=100,
            "0..=100",
        )?;
        self.inner.set_inband_fec(fec)?;
        self.inner.set_packet_loss_perc(loss)?;
        self.config.fec = fec;
        self.config.expected_loss_percent = expected_loss_percent;
        Ok(())
    }

    /// Encodes one frame of interleaved PCM into `out`; returns the packet length. With DTX
    /// on, a packet of 2 bytes or less is a silence frame the sender need not transmit.
    pub fn encode(&mut self, pcm: &[i16], out: &mut [u8]) -> Result<usize, CodecError> {
        if pcm.len() != self.frame_len() {
            return Err(CodecError::BadFrameSize {
                expected: self.frame_len(),
                got: pcm.len(),
            });
        }
        Ok(self.inner.encode(pcm, out)?)
    }

    /// Whether the last frame encoded was a DTX (silence) frame.
    pub fn in_dtx(&mut self) -> Result<bool, CodecError> {
        Ok(self.inner.get_in_dtx()?)
    }
}

/// An Opus decoder.
pub struct OpusDecoder {
    inner: lib::Decoder,
    channels: u8,
}

impl std::fmt::Debug for OpusDecoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpusDecoder")
            .field("channels", &self.channels)
            .finish_non_exhaustive()
    }
}

impl OpusDecoder {
    /// A decoder producing `channels` (1 or 2) interleaved channels at 48 kHz.
    pub fn new(channels: u8) -> Result<Self, CodecError> {
        Ok(Self {
            inner: lib::Decoder::new(SAMPLE_RATE, self::channels(channels)?)?,
            channels,
        })
    }

    /// Output channels.
    pub fn channels(&self) -> u8 {
        self.channels
    }

    /// Decodes `packet` into `out` (room for a whole frame, all channels); returns the
    /// samples decoded per channel. A corrupt packet is an error; conceal it instead.
    pub fn decode(&mut self, packet: &[u8], out: &mut [i16]) -> Result<usize, CodecError> {
        if packet.is_empty() {
            return Err(CodecError::Opus {
                function: "opus_decode",
                reason: "empty packet",
            });
        }
        Ok(self.inner.decode(packet, out, false)?)
    }

    /// Recovers a lost frame from the in-band FEC data of `next_packet`, the packet after
    /// the lost one. `out` must be exactly the lost frame's length (all channels). When the
    /// next packet carries no FEC, libopus conceals instead.
    pub fn decode_fec(&mut self, next_packet: &[u8], out: &mut [i16]) -> Result<usize, CodecError> {
        Ok(self.inner.decode(next_packet, out, true)?)
    }

    /// Conceals one lost frame (packet loss concealment) into `out`, whose length (all
    /// channels) sets the duration; returns samples per channel.
    pub fn conceal(&mut self, out: &mut [i16]) -> Result<usize, CodecError> {
        Ok(self.inner.decode(&[], out, false)?)
    }

    /// Duration in samples per channel of `packet`, without decoding it.
    pub fn packet_samples(&self, packet: &[u8]) -> Result<usize, CodecError> {
        Ok(self.inner.get_nb_samples(packet)?)
    }

    /// Forgets the decoded history (a new stream starts: new SSRC or a resync), so the
    /// next frame is not blended with the old stream.
    pub fn reset(&mut self) -> Result<(), CodecError> {
        Ok(self.inner.reset_state()?)
    }
}

/// Whether `packet` carries in-band FEC (SILK LBRR) data for the frame before it, so a
/// lost predecessor can be recovered with [`OpusDecoder::decode_fec`] rather than concealed.
/// A malformed packet has none.
pub fn packet_has_fec(packet: &[u8]) -> bool {
    let Ok(len) = i32::try_from(packet.len()) else {
        return false;
    };
    if len == 0 {
        return false;
    }
    // SAFETY: the pointer and length describe `packet`, which outlives the call; libopus
    // only reads the packet and validates its framing itself (returning < 0 when invalid).
    unsafe { opusic_sys::opus_packet_has_lbrr(packet.as_ptr(), len) == 1 }
}
