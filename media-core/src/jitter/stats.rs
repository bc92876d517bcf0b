//! The jitter buffer's counters, named after W3C `RTCInboundRtpStreamStats`.
//!
//! Samples are counted per channel (a 10 ms stereo pull is 480 samples), as WebRTC does.

/// Counters since the buffer was created. Times are seconds where the W3C field is.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct JitterStats {
    /// `packetsReceived`: distinct packets that arrived (late ones included).
    pub packets_received: u64,
    /// `packetsLost`: packets expected (from sequence numbers) minus packets received.
    pub packets_lost: i64,
    /// `packetsDiscarded`: packets dropped because they arrived too late to be played, or
    /// because the buffer was full.
    pub packets_discarded: u64,
    /// Packets that arrived more than once (each extra copy counts once).
    pub packets_duplicated: u64,
    /// Lost packets rebuilt from the in-band FEC of their successor instead of concealed.
    pub packets_recovered_by_fec: u64,
    /// Packets whose payload the decoder rejected; their time was concealed.
    pub decode_errors: u64,
    /// Times the stream restarted: new SSRC, or a sequence or timestamp jump.
    pub resyncs: u64,
    /// `totalSamplesReceived`: every sample played out since playout started, concealed
    /// ones included; advances by exactly 10 ms per pull.
    pub total_samples_received: u64,
    /// `concealedSamples`: samples synthesised by codec concealment or comfort noise.
    pub concealed_samples: u64,
    /// `silentConcealedSamples`: the concealed samples that were comfort noise in silence.
    pub silent_concealed_samples: u64,
    /// `concealmentEvents`: runs of concealed samples that followed a decoded one.
    pub concealment_events: u64,
    /// `insertedSamplesForDeceleration`: samples added by preemptive expand.
    pub inserted_samples_for_deceleration: u64,
    /// `removedSamplesForAcceleration`: samples removed by accelerate.
    pub removed_samples_for_acceleration: u64,
    /// `jitterBufferDelay` (s): for each decoded sample played, the time from its packet's
    /// arrival to its playout, summed.
    pub jitter_buffer_delay: f64,
    /// `jitterBufferTargetDelay` (s): the target, in the terms of `jitter_buffer_delay`,
    /// summed over the same samples.
    pub jitter_buffer_target_delay: f64,
    /// `jitterBufferEmittedCount`: samples counted in the two sums above.
    pub jitter_buffer_emitted_count: u64,
    /// The current target playout offset behind the fastest arrival path, ms.
    pub target_delay_ms: f64,
    /// The current playout offset behind the fastest arrival path, ms.
    pub playout_delay_ms: f64,
    /// Packets held right now.
    pub buffered_packets: usize,
    /// Decisions taken, one per decoded packet or synthesised block.
    pub operations: OperationCounts,
}

impl JitterStats {
    /// Mean time a decoded sample waited in the buffer, ms (`jitterBufferDelay /
    /// jitterBufferEmittedCount`).
    pub fn mean_delay_ms(&self) -> f64 {
        if self.jitter_buffer_emitted_count == 0 {
            return 0.0;
        }
        1000.0 * self.jitter_buffer_delay / self.jitter_buffer_emitted_count as f64
    }

    /// Share of played samples that were concealed, comfort noise excluded.
    pub fn concealment_ratio(&self) -> f64 {
        if self.total_samples_received == 0 {
            return 0.0;
        }
        (self.concealed_samples - self.silent_concealed_samples) as f64
            / self.total_samples_received as f64
    }
}

/// How often each playout operation ran.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OperationCounts {
    /// A packet decoded as is.
    pub normal: u64,
    /// A packet decoded right after concealment (the codec joins the two).
    pub merge: u64,
    /// Codec concealment while the next packet is missing.
    pub expand: u64,
    /// Comfort noise while the stream is silent (DTX).
    pub comfort_noise: u64,
    /// A lost packet rebuilt from the next one's FEC.
    pub fec: u64,
    /// Decoded audio shortened by one or more pitch periods.
    pub accelerate: u64,
    /// Decoded audio lengthened by one or more pitch periods.
    pub preemptive_expand: u64,
    /// Playout skipped over lost audio already covered by concealment.
    pub skip: u64,
}
