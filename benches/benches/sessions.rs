//! How many full audio sessions one CPU core carries, and the codec-only limit beside it.
//!
//! `cargo bench -p mediacore-benches --bench sessions` (after `scripts/bootstrap.sh`, which
//! makes the speech samples).
//!
//! A session is one call endpoint's work: capture in 10 ms blocks → Opus encode (20 ms,
//! 48 kbit/s, wideband, FEC, complexity 5) → RTP → SRTP → the network simulator → SRTP → RTP →
//! jitter buffer → Opus decode → playout, with RTCP every second. One iteration runs
//! `call::simulated::run`: two engines (two sessions) in a call over a clean 20 ms link for
//! [`SPEECH_S`] seconds of speech each way plus a [`TAIL`], on a virtual clock, on one
//! thread. So `sessions per core = 2 × call seconds / CPU seconds per iteration`. The run also
//! collects what each side heard and statistics every 100 ms (a few allocations per
//! 100 ms), which a production engine would not; that makes the figure slightly
//! conservative.
//!
//! The codec-only limit is the same speech through one `OpusEncoder` and one `OpusDecoder`
//! with the same settings: `call seconds / CPU seconds` of encode + decode. The gap between the
//! two lines is what RTP, SRTP, the jitter buffer, RTCP and the simulator cost.
//!
//! Goal (issue 4): at least 100 sessions per core at complexity 5.

use std::hint::black_box;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use media_core::call::simulated::{self, Path, SimulatedCall};
use media_core::codec::{OpusDecoder, OpusEncoder};
use media_core::net::sim::LinkConfig;
use mediacore_benches::ratio;
use mediacore_benches::speech;

/// Speech each side sends per iteration, seconds.
const SPEECH_S: f64 = 5.0;
/// Audio after the speech, so the last packets play out.
const TAIL: Duration = Duration::from_millis(200);
/// Encoder complexity the goal is stated at.
const COMPLEXITY: u8 = 5;
/// Samples per 20 ms frame.
const FRAME: usize = 960;

type BenchResult<T> = Result<T, Box<dyn std::error::Error>>;

fn call_setup() -> SimulatedCall {
    let mut call = SimulatedCall::new(
        Path::Simulated(LinkConfig::default(), 1),
        Path::Simulated(LinkConfig::default(), 2),
    );
    call.a.encoder.complexity = COMPLEXITY;
    call.b.encoder.complexity = COMPLEXITY;
    call.tail = TAIL;
    call
}

/// The first [`SPEECH_S`] seconds of a speech sample.
fn speech_cut(name: &str) -> BenchResult<Vec<i16>> {
    let mut pcm = speech::sample(name)?;
    let n = (SPEECH_S * 48_000.0) as usize;
    if pcm.len() < n {
        return Err(format!("speech sample {name} is shorter than {SPEECH_S} s").into());
    }
    pcm.truncate(n);
    Ok(pcm)
}

fn run() -> BenchResult<()> {
    let started = SystemTime::now();
    let a = speech_cut("a")?;
    let b = speech_cut("b")?;
    let call = call_setup();
    // Fail here, with the error, rather than inside criterion's closure.
    simulated::run(&call, &a, &b, |_| {})?;

    let mut c = mediacore_benches::criterion_config().configure_from_args();
    let mut g = c.benchmark_group("sessions");
    g.sample_size(10);
    g.bench_function("call", |bench| {
        bench.iter(|| black_box(simulated::run(&call, &a, &b, |_| {}).ok()))
    });
    let mut encoder = OpusEncoder::new(call.a.encoder)?;
    let mut decoder = OpusDecoder::new(1)?;
    let mut packet = [0u8; 1275];
    let mut pcm = vec![0i16; 5_760];
    g.bench_function("codec", |bench| {
        bench.iter(|| {
            for frame in a.chunks_exact(FRAME) {
                if let Ok(n) = encoder.encode(frame, &mut packet) {
                    black_box(decoder.decode(&packet[..n], &mut pcm).ok());
                }
            }
        })
    });
    g.finish();
    c.final_summary();

    let home = ratio::criterion_home();
    let (Ok(call_ns), Ok(codec_ns)) = (
        ratio::median_ns(&home, "sessions/call", started),
        ratio::median_ns(&home, "sessions/codec", started),
    ) else {
        println!("sessions per core: not measured in this run (test or list mode)");
        return Ok(());
    };
    let call_s = SPEECH_S + TAIL.as_secs_f64();
    let sessions = 2.0 * call_s / (call_ns / 1e9);
    let codec_only = SPEECH_S / (codec_ns / 1e9);
    println!(
        "A session: one endpoint's encode (complexity {COMPLEXITY}), RTP, SRTP, network \
         simulator, jitter buffer, decode and RTCP; {call_s:.1} s calls, two endpoints each."
    );
    println!("sessions per core: {sessions:.0}");
    println!("codec-only sessions per core: {codec_only:.0}");
    println!(
        "share of a session's CPU in the codec: {:.0} %",
        100.0 * sessions / codec_only
    );
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("sessions bench: {e}");
            ExitCode::FAILURE
        }
    }
}
