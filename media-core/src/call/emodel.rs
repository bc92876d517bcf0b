//! ITU-T G.107 E-model: a MOS estimate from mouth-to-ear delay, packet loss, loss
//! burstiness and the codec.
//!
//! `R = R0 − Is − Id − Ie,eff + A` on the narrowband scale, with the G.107 default values
//! for everything a call cannot measure (room noise, loudness ratings, echo loss), which
//! give `R0 − Is = 93.2`, and `A = 0`:
//! - `Id`, the delay impairment, uses the widely used fit of G.107's `Idd` and `Idte` at
//!   default echo settings: `0.024·d + 0.11·(d − 177.3)` for `d > 177.3 ms` (Cole and
//!   Rosenbluth, "Voice over IP performance monitoring", ACM SIGCOMM CCR 2001).
//! - `Ie,eff = Ie + (95 − Ie) · Ppl / (Ppl / BurstR + Bpl)` (G.107 §7.4, equation 7-29).
//! - MOS from R by G.107 Annex B: `1 + 0.035R + R(R − 60)(100 − R)·7·10⁻⁶`.
//!
//! ITU-T publishes no Ie/Bpl for Opus. MediaCore's values are an estimate stated as such:
//! Opus at 24 kbit/s and more is treated as transparent on the narrowband scale (Ie = 0;
//! it is a wideband codec rated above G.711 in listening tests), 16–24 kbit/s as Ie = 5,
//! lower rates as Ie = 11; Bpl = 25.1, G.113 Appendix I's value for G.711 with packet
//! loss concealment, since Opus's concealment is at least as good. Packets rebuilt from
//! FEC are not counted as lost.

/// Codec impairment factors.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CodecImpairment {
    /// Equipment impairment factor Ie (0 = transparent).
    pub ie: f64,
    /// Packet-loss robustness factor Bpl (higher = more robust).
    pub bpl: f64,
}

impl CodecImpairment {
    /// MediaCore's estimate for Opus at `bitrate_bps` (see the module documentation).
    pub fn opus(bitrate_bps: u32) -> Self {
        let ie = match bitrate_bps {
            24_000.. => 0.0,
            16_000..=23_999 => 5.0,
            _ => 11.0,
        };
        Self { ie, bpl: 25.1 }
    }

    /// G.711 with packet loss concealment (G.113 Appendix I): Ie = 0, Bpl = 25.1.
    pub fn g711_plc() -> Self {
        Self { ie: 0.0, bpl: 25.1 }
    }
}

/// What the E-model is given.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EModelInput {
    /// Mouth-to-ear delay, ms.
    pub one_way_delay_ms: f64,
    /// Packets lost (or discarded as late), percent.
    pub packet_loss_percent: f64,
    /// Burst ratio: 1 for random loss, larger for bursty loss.
    pub burst_ratio: f64,
    /// The codec.
    pub codec: CodecImpairment,
}

/// The E-model's output.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EModelResult {
    /// Transmission rating factor R (0–100 on the narrowband scale).
    pub r: f64,
    /// Mean opinion score, 1–4.5.
    pub mos: f64,
}

/// `R0 − Is` with all G.107 default values.
const R_DEFAULT: f64 = 93.2;

/// The delay impairment Id for a mouth-to-ear delay of `d` ms.
pub fn delay_impairment(d: f64) -> f64 {
    let d = d.max(0.0);
    0.024 * d + if d > 177.3 { 0.11 * (d - 177.3) } else { 0.0 }
}

/// The effective equipment impairment Ie,eff under packet loss.
pub fn effective_equipment_impairment(
    codec: CodecImpairment,
    loss_percent: f64,
    burst_ratio: f64,
) -> f64 {
    let ppl = loss_percent.clamp(0.0, 100.0);
    let burst = burst_ratio.max(1.0);
    codec.ie + (95.0 - codec.ie) * ppl / (ppl / burst + codec.bpl)
}

/// The burst ratio from a loss rate (`0–1`) and the mean length of loss runs observed:
/// the observed mean divided by the mean a random (Bernoulli) loss would give, `1/(1 − p)`.
pub fn burst_ratio(loss_rate: f64, mean_burst: f64) -> f64 {
    if mean_burst <= 0.0 {
        return 1.0;
    }
    (mean_burst * (1.0 - loss_rate.clamp(0.0, 0.99))).max(1.0)
}

/// MOS from R (G.107 Annex B).
pub fn mos_from_r(r: f64) -> f64 {
    if r <= 0.0 {
        1.0
    } else if r >= 100.0 {
        4.5
    } else {
        (1.0 + 0.035 * r + r * (r - 60.0) * (100.0 - r) * 7e-6).clamp(1.0, 4.5)
    }
}

/// Runs the E-model.
pub fn estimate(input: &EModelInput) -> EModelResult {
    let id = delay_impairment(input.one_way_delay_ms);
    let ie_eff =
        effective_equipment_impairment(input.codec, input.packet_loss_percent, input.burst_ratio);
    let r = (R_DEFAULT - id - ie_eff).clamp(0.0, 100.0);
    EModelResult {
        r,
        mos: mos_from_r(r),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mos(delay: f64, loss: f64, burst: f64) -> f64 {
        estimate(&EModelInput {
            one_way_delay_ms: delay,
            packet_loss_percent: loss,
            burst_ratio: burst,
            codec: CodecImpairment::g711_plc(),
        })
        .mos
    }

    #[test]
    fn default_connection_rates_93_2_and_4_41() {
        let r = estimate(&EModelInput {
            one_way_delay_ms: 0.0,
            packet_loss_percent: 0.0,
            burst_ratio: 1.0,
            codec: CodecImpairment::g711_plc(),
        });
        assert!((r.r - 93.2).abs() < 1e-9);
        assert!((r.mos - 4.41).abs() < 0.01, "{}", r.mos);
    }

    #[test]
    fn delay_and_loss_only_lower_the_score() {
        let mut last = f64::MAX;
        for d in (0..600).step_by(10) {
            let m = mos(f64::from(d), 0.0, 1.0);
            assert!(m <= last);
            last = m;
        }
        // The knee: past 177.3 ms each ms costs 0.134 R instead of 0.024.
        let slope_before = delay_impairment(170.0) - delay_impairment(160.0);
        let slope_after = delay_impairment(200.0) - delay_impairment(190.0);
        assert!((slope_before - 0.24).abs() < 1e-9 && (slope_after - 1.34).abs() < 1e-9);
        let mut last = f64::MAX;
        for p in 0..30 {
            let m = mos(50.0, f64::from(p), 1.0);
            assert!(m <= last);
            last = m;
        }
        assert!(
            mos(50.0, 5.0, 3.0) < mos(50.0, 5.0, 1.0),
            "bursty loss hurts more"
        );
    }

    #[test]
    fn g113_g711_plc_example() {
        // G.711 with PLC at 2 % random loss: Ie,eff = 95·2/(2 + 25.1) ≈ 7.0, R ≈ 86.2.
        let r = estimate(&EModelInput {
            one_way_delay_ms: 0.0,
            packet_loss_percent: 2.0,
            burst_ratio: 1.0,
            codec: CodecImpairment::g711_plc(),
        });
        assert!((r.r - (93.2 - 95.0 * 2.0 / 27.1)).abs() < 1e-9);
        assert_eq!(mos_from_r(-5.0), 1.0);
        assert_eq!(mos_from_r(120.0), 4.5);
        assert_eq!(burst_ratio(0.1, 0.0), 1.0);
        assert!((burst_ratio(0.1, 3.0) - 2.7).abs() < 1e-9);
    }
}
