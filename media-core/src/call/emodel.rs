//! The ITU-T E-model: a MOS estimate (conversational quality, MOS-CQE) from mouth-to-ear
//! delay, packet loss, loss burstiness and the codec.
//!
//! Two rating scales:
//! - narrowband, ITU-T G.107 (06/2015): `R = Ro − Is − Id − Ie,eff + A`, 93.2 for a
//!   default connection, MOS by G.107 Annex B ([`estimate`]);
//! - wideband, ITU-T G.107.1 (06/2019): `R = 129 − Id,WB − Ie,eff,WB + A`, MOS by G.107.1
//!   Annex A, which maps `R / 1.29` through the Annex B formula ([`estimate_wideband`]).
//!
//! Everything a call cannot measure (loudness ratings, room noise, sidetone, echo loss) is
//! held at the G.107 default values (§7.7, Table 3), and `A = 0`. The echo paths follow
//! the delay: the talker-echo delay `T` is the mouth-to-ear delay `Ta`, the listener-echo
//! round trip `Tr` is `2·Ta`. `Ro`, `Is` and `Id` are computed from those values with the
//! G.107 formulas rather than taken as constants, so the default connection's 93.2 is a
//! check on the formulas, not an input.
//!
//! Sources: the G.107 formulas and default values (§7.2–§7.7, Annex B); the G.107.1
//! wideband terms (`Ro,WB = 129`, `Is,WB = 0`, the wideband talker-echo terms, `Idd`
//! scaled by 1.29, Annex A) were not checked against the ITU text when this was written;
//! they follow the Recommendation as quoted in secondary sources, so check them against
//! G.107.1 before relying on the wideband echo terms. One departure from both: the
//! talker-echo term is floored at 0 (see `talker_echo`). The codec factors are discussed
//! at [`CodecImpairment`].

/// G.107 §7.7 Table 3 default values (dB unless noted).
mod defaults {
    /// Send loudness rating.
    pub const SLR: f64 = 8.0;
    /// Receive loudness rating.
    pub const RLR: f64 = 2.0;
    /// Sidetone masking rating.
    pub const STMR: f64 = 15.0;
    /// Listener sidetone rating.
    pub const LSTR: f64 = 18.0;
    /// D-value of the telephone, send side.
    pub const DS: f64 = 3.0;
    /// Talker echo loudness rating.
    pub const TELR: f64 = 65.0;
    /// Weighted echo path loss.
    pub const WEPL: f64 = 110.0;
    /// Quantizing distortion units.
    pub const QDU: f64 = 1.0;
    /// Circuit noise referred to the 0 dBr point, dBm0p.
    pub const NC: f64 = -70.0;
    /// Noise floor at the receive side, dBmp.
    pub const NFOR: f64 = -64.0;
    /// Room noise at the send side, dB(A).
    pub const PS: f64 = 35.0;
    /// Room noise at the receive side, dB(A).
    pub const PR: f64 = 35.0;
    /// Minimum perceivable absolute delay mT, ms.
    pub const MT: f64 = 100.0;
    /// Delay sensitivity sT.
    pub const ST: f64 = 1.0;
    /// Noise floor at the receive side for the wideband talker-echo term (G.107.1's
    /// default), dBmp.
    pub const NFOR_WB: f64 = -96.0;
}

/// The top of the G.107.1 wideband scale (`Ro,WB`).
const R_MAX_WIDEBAND: f64 = 129.0;

/// Packet-loss constant of the `Ie,eff` formula: the impairment of a connection that loses
/// everything. G.107.1 keeps G.107's 95 on the wideband scale.
const IE_TOTAL_LOSS: f64 = 95.0;

/// Codec impairment factors on one scale: narrowband (G.107) or wideband (G.107.1).
///
/// ITU-T publishes no Ie or Bpl for Opus (G.113's appendices list G.711, G.72x, AMR-WB and
/// others), and no published measurement-based Opus value could be found and checked, so
/// the Opus constructors are MediaCore's estimates, stated as such:
/// - narrowband ([`CodecImpairment::opus`]): Opus at 24 kbit/s and more is transparent on
///   the narrowband scale (Ie = 0, as G.711; it codes the full band the narrowband scale
///   cannot credit), 16–24 kbit/s Ie = 5, lower rates Ie = 11 (G.113 Table I.1's figure
///   for G.729A, a narrowband codec at 8 kbit/s); Bpl = 25.1, G.113 Appendix I's value for
///   G.711 with packet loss concealment, since Opus conceals at least as well.
/// - wideband ([`CodecImpairment::opus_wideband`]): the G.113 Appendix IV values of
///   AMR-WB (G.722.2) at the nearest lower bit rate, as stand-ins: Ie,WB 1 (23.05 kbit/s),
///   7 (15.85), 13 (12.65), 26 (8.85) from Table IV.1 (monotic listening); Bpl,WB 4.6
///   (23.05) and 4.3 (12.65) from Table IV.4, the only published wideband Bpl values
///   (diotic listening, random loss). Figures as quoted in secondary sources.
///
/// Packets rebuilt from FEC are not lost, so FEC shows up as a lower loss rate, not as a
/// higher Bpl.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CodecImpairment {
    /// Equipment impairment factor Ie (0 = transparent on its scale).
    pub ie: f64,
    /// Packet-loss robustness factor Bpl (higher = more robust).
    pub bpl: f64,
}

impl CodecImpairment {
    /// MediaCore's narrowband-scale estimate for Opus at `bitrate_bps` (see the type's
    /// documentation), for [`estimate`].
    pub fn opus(bitrate_bps: u32) -> Self {
        let ie = match bitrate_bps {
            24_000.. => 0.0,
            16_000..=23_999 => 5.0,
            _ => 11.0,
        };
        Self { ie, bpl: 25.1 }
    }

    /// MediaCore's wideband-scale estimate for Opus at `bitrate_bps` (see the type's
    /// documentation), for [`estimate_wideband`].
    pub fn opus_wideband(bitrate_bps: u32) -> Self {
        let (ie, bpl) = match bitrate_bps {
            23_050.. => (1.0, 4.6),
            15_850..=23_049 => (7.0, 4.6),
            12_650..=15_849 => (13.0, 4.3),
            _ => (26.0, 4.3),
        };
        Self { ie, bpl }
    }

    /// G.711 with packet loss concealment, narrowband scale (G.113 Appendix I): Ie = 0,
    /// Bpl = 25.1.
    pub fn g711_plc() -> Self {
        Self { ie: 0.0, bpl: 25.1 }
    }
}

/// What the E-model is given.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EModelInput {
    /// Mouth-to-ear delay Ta, ms (G.107 validates 0–500 ms).
    pub one_way_delay_ms: f64,
    /// Packets lost or discarded as late, percent (0–100; G.107 validates up to 20).
    pub packet_loss_percent: f64,
    /// Burst ratio BurstR: 1 for random loss, larger for bursty loss (see
    /// [`burst_ratio_from_counts`]).
    pub burst_ratio: f64,
    /// The codec, on the scale of the estimate it is given to.
    pub codec: CodecImpairment,
}

/// The E-model's output.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EModelResult {
    /// Transmission rating factor R: 0–100 narrowband, 0–129 wideband.
    pub r: f64,
    /// Mean opinion score, 1–4.5.
    pub mos: f64,
}

/// Runs the narrowband E-model (G.107). `input.codec` holds narrowband factors.
pub fn estimate(input: &EModelInput) -> EModelResult {
    let ta = delay(input.one_way_delay_ms);
    let no = noise_level(defaults::NFOR);
    let ro = basic_snr(no);
    let r = ro
        - simultaneous_impairment(no, ro, ta)
        - delay_impairment(ta)
        - effective_equipment_impairment(input.codec, input.packet_loss_percent, input.burst_ratio);
    let r = r.clamp(0.0, 100.0);
    EModelResult {
        r,
        mos: mos_from_r(r),
    }
}

/// Runs the wideband E-model (G.107.1). `input.codec` holds wideband factors (Ie,WB and
/// Bpl,WB). G.107.1's loss term has no burst ratio; BurstR is applied as in G.107, which
/// is the same formula when BurstR = 1.
pub fn estimate_wideband(input: &EModelInput) -> EModelResult {
    let r = R_MAX_WIDEBAND
        - delay_impairment_wideband(input.one_way_delay_ms)
        - effective_equipment_impairment(input.codec, input.packet_loss_percent, input.burst_ratio);
    let r = r.clamp(0.0, R_MAX_WIDEBAND);
    EModelResult {
        r,
        mos: mos_from_r_wideband(r),
    }
}

/// The narrowband delay impairment `Id = Idte + Idle + Idd` (G.107 §7.4) for a
/// mouth-to-ear delay of `ta` ms, with `T = Ta` and `Tr = 2·Ta`.
pub fn delay_impairment(ta: f64) -> f64 {
    let ta = delay(ta);
    let no = noise_level(defaults::NFOR);
    talker_echo(no, ta, false) + listener_echo(basic_snr(no), 2.0 * ta) + absolute_delay(ta)
}

/// The wideband delay impairment `Id,WB` (G.107.1 §7.4) for a mouth-to-ear delay of `ta`
/// ms, with `T = Ta` and `Tr = 2·Ta`: the wideband talker-echo term, listener echo against
/// `Ro,WB`, and G.107's absolute-delay term scaled by 1.29.
pub fn delay_impairment_wideband(ta: f64) -> f64 {
    let ta = delay(ta);
    talker_echo(noise_level(defaults::NFOR_WB), ta, true)
        + listener_echo(R_MAX_WIDEBAND, 2.0 * ta)
        + 1.29 * absolute_delay(ta)
}

/// The effective equipment impairment under packet loss (G.107 §7.5):
/// `Ie,eff = Ie + (95 − Ie) · Ppl / (Ppl / BurstR + Bpl)`.
pub fn effective_equipment_impairment(
    codec: CodecImpairment,
    loss_percent: f64,
    burst_ratio: f64,
) -> f64 {
    // The comparison is false for NaN too (a 0/0 upstream), which counts as no loss.
    let ppl = if loss_percent > 0.0 {
        loss_percent.min(100.0)
    } else {
        0.0
    };
    let burst = burst_ratio.max(1.0);
    codec.ie + (IE_TOTAL_LOSS - codec.ie) * ppl / (ppl / burst + codec.bpl)
}

/// The burst ratio from a loss rate (`0–1`) and the mean length of loss runs observed:
/// the observed mean divided by the mean a random (Bernoulli) loss would give, `1/(1 − p)`
/// (G.107 §7.5's definition of BurstR). Never below 1.
pub fn burst_ratio(loss_rate: f64, mean_burst: f64) -> f64 {
    if mean_burst.is_nan() || mean_burst <= 0.0 {
        return 1.0;
    }
    let p = if loss_rate > 0.0 {
        loss_rate.min(0.99)
    } else {
        0.0
    };
    (mean_burst * (1.0 - p)).max(1.0)
}

/// The burst ratio from counts: `expected` packets, `lost` of them lost, in `bursts` runs
/// of consecutive losses. 1 when nothing was lost.
pub fn burst_ratio_from_counts(expected: u64, lost: u64, bursts: u64) -> f64 {
    if expected == 0 || lost == 0 || bursts == 0 {
        return 1.0;
    }
    burst_ratio(lost as f64 / expected as f64, lost as f64 / bursts as f64)
}

/// MOS from a narrowband R (G.107 Annex B), clamped to 1–4.5: the polynomial dips just
/// below 1 for R under about 6.5.
pub fn mos_from_r(r: f64) -> f64 {
    if r.is_nan() || r <= 0.0 {
        1.0
    } else if r >= 100.0 {
        4.5
    } else {
        (1.0 + 0.035 * r + r * (r - 60.0) * (100.0 - r) * 7e-6).clamp(1.0, 4.5)
    }
}

/// MOS from a wideband R (G.107.1 Annex A): the Annex B formula applied to `R / 1.29`.
pub fn mos_from_r_wideband(r: f64) -> f64 {
    mos_from_r(r / 1.29)
}

/// A usable delay in ms: negative or NaN counts as 0.
fn delay(ms: f64) -> f64 {
    ms.max(0.0)
}

/// `10·log10(Σ 10^(x/10))`: power sum of levels in dB.
fn power_sum(levels: &[f64]) -> f64 {
    10.0 * levels
        .iter()
        .map(|l| 10f64.powf(l / 10.0))
        .sum::<f64>()
        .log10()
}

/// Total noise No at the 0 dBr point (G.107 §7.2): circuit noise, send-side room noise
/// Nos, receive-side room noise Nor and the receive noise floor Nfo.
fn noise_level(nfor: f64) -> f64 {
    use defaults::*;
    let olr = SLR + RLR;
    let nos = PS - SLR - DS - 100.0 + 0.004 * (PS - olr - DS - 14.0).powi(2);
    let pre = PR + 10.0 * (1.0 + 10f64.powf((10.0 - LSTR) / 10.0)).log10();
    let nor = RLR - 121.0 + pre + 0.008 * (pre - 35.0).powi(2);
    let nfo = nfor + RLR;
    power_sum(&[NC, nos, nor, nfo])
}

/// Basic signal-to-noise ratio `Ro = 15 − 1.5·(SLR + No)` (G.107 §7.2).
fn basic_snr(no: f64) -> f64 {
    15.0 - 1.5 * (defaults::SLR + no)
}

/// Simultaneous impairment `Is = Iolr + Ist + Iq` (G.107 §7.3): too-low loudness,
/// non-optimum sidetone and quantizing distortion. `t` enters through the echo part of
/// the sidetone.
fn simultaneous_impairment(no: f64, ro: f64, t: f64) -> f64 {
    use defaults::*;
    let olr = SLR + RLR;
    let x_olr = olr + 0.2 * (64.0 + no - RLR);
    let i_olr = 20.0 * ((1.0 + (x_olr / 8.0).powi(8)).powf(1.0 / 8.0) - x_olr / 8.0);

    let stmr_o =
        -10.0 * (10f64.powf(-STMR / 10.0) + (-t / 4.0).exp() * 10f64.powf(-TELR / 10.0)).log10();
    let i_st = 12.0 * (1.0 + ((stmr_o - 13.0) / 6.0).powi(8)).powf(1.0 / 8.0)
        - 28.0 * (1.0 + ((stmr_o + 1.0) / 19.4).powi(35)).powf(1.0 / 35.0)
        - 13.0 * (1.0 + ((stmr_o - 3.0) / 33.0).powi(13)).powf(1.0 / 13.0)
        + 29.0;

    let q = 37.0 - 15.0 * QDU.log10();
    let g = 1.07 + 0.258 * q + 0.0602 * q * q;
    let y = (ro - 100.0) / 15.0 + 46.0 / 8.4 - g / 9.0;
    let z = 46.0 / 30.0 - g / 40.0;
    let i_q = 15.0 * (1.0 + 10f64.powf(y) + 10f64.powf(z)).log10();

    i_olr + i_st + i_q
}

/// Talker echo `Idte` (G.107 §7.4) for a one-way echo-path delay `t` ms; with `wideband`,
/// G.107.1's form (a delay-dependent correction K to TERV and a steeper Re).
fn talker_echo(no: f64, t: f64, wideband: bool) -> f64 {
    use defaults::*;
    let roe = -1.5 * (no - RLR);
    let k = match (wideband, t < 100.0) {
        (false, _) => 0.0,
        (true, true) => 0.08 * t + 10.0,
        (true, false) => 18.0,
    };
    let terv = TELR + k - 40.0 * ((1.0 + t / 10.0) / (1.0 + t / 150.0)).log10()
        + 6.0 * (-0.3 * t * t).exp();
    let re = 80.0 + if wideband { 3.0 } else { 2.5 } * (terv - 14.0);
    let d = roe - re;
    // (1 − e^−T): with no delay the echo is sidetone, already counted in Is. The formula
    // dips a little below 0 (at most 1 R) when Re exceeds Roe by more than 100, i.e. for a
    // short, well-attenuated echo; an echo cannot improve a call, so it is floored at 0
    // (a departure from the letter of G.107 that keeps R monotonic in delay).
    ((d / 2.0 + (d * d / 4.0 + 100.0).sqrt() - 1.0) * (1.0 - (-t).exp())).max(0.0)
}

/// Listener echo `Idle` (G.107 §7.4) for a round-trip delay `tr` ms against `ro`.
fn listener_echo(ro: f64, tr: f64) -> f64 {
    let rle = 10.5 * (defaults::WEPL + 7.0) * (tr + 1.0).powf(-0.25);
    let d = ro - rle;
    d / 2.0 + (d * d / 4.0 + 169.0).sqrt()
}

/// Absolute delay `Idd` (G.107 §7.4): none up to mT = 100 ms, then rising steeply.
fn absolute_delay(ta: f64) -> f64 {
    use defaults::{MT, ST};
    if ta <= MT {
        return 0.0;
    }
    let x = (ta / MT).log2();
    let e = 6.0 * ST;
    25.0 * ((1.0 + x.powf(e)).powf(1.0 / e) - 3.0 * (1.0 + (x / 3.0).powf(e)).powf(1.0 / e) + 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(delay: f64, loss: f64, burst: f64, codec: CodecImpairment) -> EModelInput {
        EModelInput {
            one_way_delay_ms: delay,
            packet_loss_percent: loss,
            burst_ratio: burst,
            codec,
        }
    }

    fn mos(delay: f64, loss: f64, burst: f64) -> f64 {
        estimate(&input(delay, loss, burst, CodecImpairment::g711_plc())).mos
    }

    /// Cole and Rosenbluth's linear fit of G.107's Id at default settings ("Voice over IP
    /// performance monitoring", ACM SIGCOMM CCR 31(2), 2001).
    fn cole_rosenbluth(d: f64) -> f64 {
        0.024 * d + if d > 177.3 { 0.11 * (d - 177.3) } else { 0.0 }
    }

    #[test]
    fn default_connection_rates_93_2_and_4_41() {
        // G.107 §7.7: the default values give R = 93.2 (Ro 94.77, Is 1.41, Id 0.15).
        let no = noise_level(defaults::NFOR);
        let ro = basic_snr(no);
        assert!((ro - 94.77).abs() < 0.01, "Ro {ro}");
        let is = simultaneous_impairment(no, ro, 0.0);
        assert!((is - 1.41).abs() < 0.01, "Is {is}");
        assert!((delay_impairment(0.0) - 0.15).abs() < 0.01);
        let r = estimate(&input(0.0, 0.0, 1.0, CodecImpairment::g711_plc()));
        assert!((r.r - 93.2).abs() < 0.05, "R {}", r.r);
        assert!((r.mos - 4.41).abs() < 0.01, "MOS {}", r.mos);
    }

    #[test]
    fn annex_b_mos_points() {
        // The MOS figures usually quoted for the bounds of G.109's quality categories
        // (R 90, 80, 70, 60, 50); the formula gives 4.339, 4.024, 3.597, 3.100, 2.575.
        for (r, want) in [
            (90.0, 4.34),
            (80.0, 4.03),
            (70.0, 3.60),
            (60.0, 3.10),
            (50.0, 2.58),
        ] {
            assert!(
                (mos_from_r(r) - want).abs() < 0.01,
                "R {r}: {}",
                mos_from_r(r)
            );
        }
        assert_eq!(mos_from_r(-5.0), 1.0);
        assert_eq!(mos_from_r(3.0), 1.0, "the polynomial dips below 1 here");
        assert_eq!(mos_from_r(f64::NAN), 1.0);
        assert_eq!(mos_from_r(120.0), 4.5);
        assert_eq!(mos_from_r_wideband(129.0), 4.5);
        assert!((mos_from_r_wideband(90.0 * 1.29) - 4.34).abs() < 0.006);
    }

    #[test]
    fn delay_and_loss_only_lower_the_score() {
        let mut last = f64::MAX;
        for d in (0..=600).step_by(5) {
            let m = mos(f64::from(d), 0.0, 1.0);
            assert!(m <= last, "{d} ms");
            last = m;
        }
        let mut last = f64::MAX;
        for p in 0..=40 {
            let m = mos(50.0, f64::from(p) / 2.0, 1.0);
            assert!(m < last, "{p}/2 %");
            last = m;
        }
        assert!(
            mos(50.0, 5.0, 3.0) < mos(50.0, 5.0, 1.0),
            "bursty loss hurts more"
        );
        let wb = |d: f64, p: f64| {
            estimate_wideband(&input(d, p, 1.0, CodecImpairment::opus_wideband(48_000))).mos
        };
        let mut last = f64::MAX;
        for d in (0..=600).step_by(5) {
            let m = wb(f64::from(d), 1.0);
            assert!(m <= last, "wideband {d} ms");
            last = m;
        }
        assert!(wb(50.0, 2.0) < wb(50.0, 1.0));
        // Extreme inputs stay on the scale.
        let worst = estimate(&input(5000.0, 100.0, 10.0, CodecImpairment::opus(6_000)));
        assert_eq!((worst.r, worst.mos), (0.0, 1.0));
    }

    #[test]
    fn delay_knee_near_177_ms() {
        // No absolute-delay impairment up to mT = 100 ms.
        assert_eq!(absolute_delay(100.0), 0.0);
        assert!(absolute_delay(101.0) > 0.0);
        // Id grows slowly below the knee and about five times faster past it.
        let slope = |a: f64, b: f64| (delay_impairment(b) - delay_impairment(a)) / (b - a);
        let before = slope(150.0, 170.0);
        let after = slope(190.0, 210.0);
        assert!(
            before < 0.06 && after > 0.08 && after > 2.0 * before,
            "{before} {after}"
        );
        // And the full formulas stay within 1.5 R of the published linear fit up to 300 ms.
        for d in (0..=300).step_by(10) {
            let d = f64::from(d);
            let diff = delay_impairment(d) - cole_rosenbluth(d);
            assert!(diff.abs() < 1.5, "{d} ms: {diff}");
        }
    }

    #[test]
    fn packet_loss_term() {
        // G.711 with PLC at 2 % random loss (G.113 Appendix I Bpl = 25.1):
        // Ie,eff = 95·2/(2 + 25.1) = 7.01.
        let ie = effective_equipment_impairment(CodecImpairment::g711_plc(), 2.0, 1.0);
        assert!((ie - 95.0 * 2.0 / 27.1).abs() < 1e-12);
        // Loss that is not a number counts as none; BurstR below 1 as 1.
        let c = CodecImpairment::opus(48_000);
        assert_eq!(effective_equipment_impairment(c, f64::NAN, 1.0), 0.0);
        assert_eq!(
            effective_equipment_impairment(c, 3.0, 0.5),
            effective_equipment_impairment(c, 3.0, 1.0)
        );
    }

    #[test]
    fn burst_ratio_from_loss_patterns() {
        assert_eq!(burst_ratio_from_counts(0, 0, 0), 1.0);
        assert_eq!(burst_ratio_from_counts(1000, 0, 0), 1.0);
        // 10 % loss in runs of 4: 4 · 0.9 = 3.6.
        assert!((burst_ratio_from_counts(1000, 100, 25) - 3.6).abs() < 1e-12);
        // Bernoulli loss measures close to 1.
        let mut x = 0x2545_f491_4f6c_dd1d_u64;
        let (mut lost, mut bursts, mut prev) = (0u64, 0u64, false);
        let n = 200_000;
        for _ in 0..n {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let is_lost = x % 10 == 0;
            lost += u64::from(is_lost);
            bursts += u64::from(is_lost && !prev);
            prev = is_lost;
        }
        let b = burst_ratio_from_counts(n, lost, bursts);
        assert!((b - 1.0).abs() < 0.02, "{b}");
        assert_eq!(burst_ratio(0.1, 0.0), 1.0);
        assert!((burst_ratio(0.1, 3.0) - 2.7).abs() < 1e-9);
    }

    #[test]
    fn wideband_scale() {
        // No impairment but the listener echo of a zero-delay loop: R_WB just under 129.
        let r = estimate_wideband(&input(0.0, 0.0, 1.0, CodecImpairment { ie: 0.0, bpl: 4.3 }));
        assert!((r.r - 128.85).abs() < 0.01, "{}", r.r);
        assert!(r.mos > 4.49, "{}", r.mos);
        // Idd carries the 1.29 factor.
        assert!(delay_impairment_wideband(300.0) > delay_impairment(300.0));
        // AMR-WB at 12.65 kbit/s (Ie,WB 13 in G.113 Table IV.1) on a 0 ms, loss-free path:
        // R_WB ≈ 116, MOS ≈ 4.33.
        let amr_wb = estimate_wideband(&input(
            0.0,
            0.0,
            1.0,
            CodecImpairment::opus_wideband(12_650),
        ));
        assert!((amr_wb.r - 115.85).abs() < 0.01 && (amr_wb.mos - 4.33).abs() < 0.01);
        // Opus bands never get worse with more bits.
        let mut last = f64::MAX;
        for kbps in [6, 8, 10, 12, 14, 16, 20, 24, 32, 48, 64] {
            let ie = CodecImpairment::opus_wideband(kbps * 1000).ie;
            assert!(ie <= last, "{kbps} kbit/s");
            last = ie;
            assert!(CodecImpairment::opus(kbps * 1000).ie <= 11.0);
        }
    }
}
