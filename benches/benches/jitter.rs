//! The jitter bench: MediaCore's jitter buffer against the `neteq` crate on the three shipped
//! network traces (speech quality, added delay, concealment), and the CPU a buffer spends per
//! packet against libspeexdsp's jitter buffer.
//!
//! `cargo bench -p mediacore-benches --bench jitter` (after `scripts/bootstrap.sh`, which makes
//! the speech samples and the PESQ venv; `make bench` runs it first).
//!
//! **Quality** (deterministic, computed once per run, not by criterion): the generated speech
//! samples A, B, A, B (54 s) are encoded as a simulated call sends them (Opus 20 ms,
//! 48 kbit/s, wideband, FEC, complexity 10), sent through the first 2 711 packets of each trace in `media-core/traces`,
//! and replayed in virtual time into each buffer (`mediacore_benches::replay`). Both decode
//! with the same libopus build. For each buffer and trace:
//! - WB-PESQ: each of the four pieces of the output scored against its source with
//!   `scripts/score_pesq.py`; the mean is printed;
//! - added delay: measured from the audio the same way for both (1 s windows of output
//!   aligned to the source, less the packets' network delay);
//! - concealment: concealed samples over samples played, from 2 s to the end of the speech,
//!   as each buffer counts them (neteq's expands; MediaCore's `concealedSamples`).
//!
//! Lines `ratio jitter/<trace>/pesq/neteq` are ours/neteq PESQ (**higher is better**), and
//! `ratio jitter/<trace>/delay/neteq` ours/neteq added delay (lower is better). The goal is
//! PESQ at least neteq's + 0.1 at no more than its delay on every trace.
//!
//! **CPU** (criterion, the `wifi` replay): time per packet of each buffer with its decoding,
//! the codec work alone (`opus-decode`: every arriving packet decoded, every lost one rebuilt
//! from FEC or concealed — the floor a concealing buffer pays), and speexdsp's bare
//! `put`/`get`/`tick`, which does not decode. MediaCore's buffer work per packet is its
//! replay less the decode floor; `ratio jitter/cpu/speexdsp` sets that against speexdsp's
//! (lower is better; goal: at most 1 µs per packet), and `ratio jitter/cpu/neteq` compares
//! the two whole replays, decoding included.
//!
//! Under `cargo test --benches` (criterion's test mode) the quality part runs on the first
//! piece of the `wifi` trace only, and the CPU functions once each.

use std::fs;
use std::hint::black_box;
use std::path::Path;
use std::process::ExitCode;
use std::time::SystemTime;

use criterion::Criterion;
use media_core::audio::wav::write_wav;
use media_core::call::simulated::{self, SimulatedCall};
use media_core::codec::OpusDecoder;
use media_core::net::sim::Trace;
use mediacore_benches::peers::PeerJitterBuffer;
use mediacore_benches::peers::mediacore::MediaCorePeer;
use mediacore_benches::peers::neteq::NetEqPeer;
use mediacore_benches::peers::speex_jitter::{MAX_PAYLOAD, SpeexJitterBuffer};
use mediacore_benches::ratio::{self, Comparison};
use mediacore_benches::replay::{self, Arrival, FRAME, Stream};
use mediacore_benches::speech;

/// The traces, by name (files `media-core/traces/<name>.trace`).
const TRACES: [&str; 3] = ["wifi", "cellular", "congested"];
/// Concealment is counted from here on, so start-up (neteq plays nothing for its first
/// 500 ms) does not dominate it.
const COUNT_FROM_MS: f64 = 2_000.0;
/// Audio pulled after the speech ends, so the last packets play out.
const TAIL_MS: f64 = 1_500.0;
/// The degraded piece handed to the scorer runs this long past its source (the scorer
/// aligns lags up to 1 s).
const SCORE_SLACK: usize = 48_000;

type BenchResult<T> = Result<T, Box<dyn std::error::Error>>;

/// The source: speech A, B, A, B and where each piece starts and ends.
struct Source {
    stream: Stream,
    pieces: Vec<std::ops::Range<usize>>,
}

fn source() -> BenchResult<Source> {
    let a = speech::sample("a")?;
    let b = speech::sample("b")?;
    let mut pcm = Vec::new();
    let mut pieces = Vec::new();
    for piece in [&a, &b, &a, &b] {
        pieces.push(pcm.len()..pcm.len() + piece.len());
        pcm.extend_from_slice(piece);
    }
    // What a simulated call sends: a call's encoder settings at 48 kbit/s.
    let mut config = SimulatedCall::new(
        simulated::Path::Replay(Trace::default()),
        simulated::Path::Replay(Trace::default()),
    )
    .a
    .encoder;
    config.channels = 1;
    Ok(Source {
        stream: Stream::encode(pcm, config)?,
        pieces,
    })
}

fn load_trace(name: &str) -> BenchResult<Trace> {
    let path = speech::root().join(format!("media-core/traces/{name}.trace"));
    let text =
        fs::read_to_string(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    Ok(Trace::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?)
}

fn peer(name: &str) -> BenchResult<Box<dyn PeerJitterBuffer>> {
    Ok(match name {
        "mediacore" => Box::new(MediaCorePeer::new()?),
        "neteq" => Box::new(NetEqPeer::new()?),
        other => return Err(format!("no jitter buffer called {other}").into()),
    })
}

/// One buffer's figures on one trace.
#[derive(Debug, Clone, Copy)]
struct Quality {
    pesq: f64,
    added_delay_ms: f64,
    concealment: f64,
    /// The buffer's own mean level, for reference.
    own_level_ms: f64,
}

fn quality(
    name: &str,
    trace: &str,
    src: &Source,
    arrivals: &[Arrival],
    pieces: usize,
    dir: &Path,
) -> BenchResult<Quality> {
    let stream = &src.stream;
    let end_ms = src.pieces[pieces - 1].end as f64 / 48.0;
    let mut p = peer(name)?;
    let run = replay::replay(
        p.as_mut(),
        stream,
        arrivals,
        end_ms + TAIL_MS,
        &[COUNT_FROM_MS, end_ms],
    );
    let [from, to] = [&run.stats_at[0], &run.stats_at[1]];
    let concealed = to.concealed_samples.unwrap_or(0) - from.concealed_samples.unwrap_or(0);
    let played = to.emitted_samples - from.emitted_samples;
    let delay = replay::added_delay(stream, arrivals, &run.out);

    let mut total = 0.0;
    for (k, piece) in src.pieces[..pieces].iter().enumerate() {
        let reference = dir.join(format!("source-{k}.wav"));
        if !reference.exists() {
            write_wav(&reference, 48_000, 1, &stream.pcm[piece.clone()])?;
        }
        let degraded = dir.join(format!("{trace}-{name}-{k}.wav"));
        let cut = piece.start..(piece.end + SCORE_SLACK).min(run.out.len());
        write_wav(&degraded, 48_000, 1, &run.out[cut])?;
        total += speech::pesq_wb(&reference, &degraded)?.mos;
    }
    Ok(Quality {
        pesq: total / pieces as f64,
        added_delay_ms: delay.mean_ms,
        concealment: concealed as f64 / played.max(1) as f64,
        own_level_ms: run.stats.mean_buffer_level_ms.unwrap_or(f64::NAN),
    })
}

fn quality_report(src: &Source, test_mode: bool) -> BenchResult<Vec<String>> {
    let dir = speech::root().join("target/jitter-bench");
    fs::create_dir_all(&dir)?;
    let (traces, pieces) = if test_mode {
        (&TRACES[..1], 1)
    } else {
        (&TRACES[..], src.pieces.len())
    };
    let packets = src.pieces[pieces - 1].end.div_ceil(FRAME);
    println!(
        "Quality: {pieces} speech piece(s), {packets} packets of 20 ms per trace; outputs in {}",
        dir.display()
    );
    println!(
        "{:<10} {:<10} {:>6} {:>12} {:>12} {:>14}",
        "trace", "buffer", "PESQ", "added ms", "concealed", "own level ms"
    );
    let mut lines = Vec::new();
    for &trace in traces {
        let arrivals = replay::arrivals(&load_trace(trace)?, packets)
            .ok_or_else(|| format!("trace {trace} has fewer than {packets} packets"))?;
        let mut results = Vec::new();
        for name in ["mediacore", "neteq"] {
            let q = quality(name, trace, src, &arrivals, pieces, &dir)?;
            println!(
                "{trace:<10} {name:<10} {:>6.2} {:>12.1} {:>11.2}% {:>14.1}",
                q.pesq,
                q.added_delay_ms,
                100.0 * q.concealment,
                q.own_level_ms
            );
            results.push(q);
        }
        let (ours, peer) = (results[0], results[1]);
        lines.push(format!(
            "ratio jitter/{trace}/pesq/neteq: {:.2}",
            ours.pesq / peer.pesq
        ));
        lines.push(format!(
            "ratio jitter/{trace}/delay/neteq: {:.2}",
            ours.added_delay_ms / peer.added_delay_ms
        ));
        let met = ours.pesq >= peer.pesq + 0.1 && ours.added_delay_ms <= peer.added_delay_ms;
        lines.push(format!(
            "goal jitter/{trace}: PESQ {:+.2} vs neteq (goal >= +0.10), added delay {:+.1} ms \
             (goal <= 0): {}",
            ours.pesq - peer.pesq,
            ours.added_delay_ms - peer.added_delay_ms,
            if met { "met" } else { "NOT met" }
        ));
    }
    Ok(lines)
}

/// Speex's bare buffer over the arrivals: every 20 ms, put what arrived, get 20 ms, tick.
fn speex_bare(stream: &Stream, arrivals: &[Arrival], length_ms: f64) -> BenchResult<u64> {
    let mut jb = SpeexJitterBuffer::new(FRAME as u32)?;
    let mut buf = Box::new([0u8; MAX_PAYLOAD]);
    let mut got = 0u64;
    let mut next = 0;
    let mut now = 0.0;
    while now < length_ms {
        while let Some(a) = arrivals.get(next).filter(|a| a.at_ms <= now) {
            let i = a.index;
            jb.put(
                &stream.packets[i],
                (i * FRAME) as u32,
                FRAME as u32,
                i as u16,
                0,
            );
            next += 1;
        }
        black_box(jb.get(FRAME as u32, &mut buf));
        jb.tick();
        got += 1;
        now += 20.0;
    }
    Ok(got)
}

/// The codec work any concealing buffer does on this stream: decode each packet that
/// arrives, rebuild a lost one from its successor's FEC when that arrives, else conceal it.
fn codec_floor(decoder: &mut OpusDecoder, packets: &[Vec<u8>], received: &[bool], pcm: &mut [i16]) {
    for (i, p) in packets.iter().enumerate() {
        let result = if received[i] {
            decoder.decode(p, pcm)
        } else if let Some(next) = packets
            .get(i + 1)
            .filter(|_| received.get(i + 1) == Some(&true))
        {
            decoder.decode_fec(next, &mut pcm[..FRAME])
        } else {
            decoder.conceal(&mut pcm[..FRAME])
        };
        black_box(result.ok());
    }
}

fn cpu_bench(c: &mut Criterion, src: &Source) -> BenchResult<usize> {
    let stream = &src.stream;
    let packets = stream.packets.len();
    let arrivals = replay::arrivals(&load_trace("wifi")?, packets)
        .ok_or("trace wifi is shorter than the speech")?;
    // No tail: past the end of the stream a buffer only conceals, which the floor does not.
    let length_ms = stream.duration_ms();
    let mut g = c.benchmark_group("jitter/cpu");
    g.sample_size(10);
    for name in ["mediacore", "neteq"] {
        peer(name)?; // fail here, not inside criterion's closure
        g.bench_function(name, |b| {
            b.iter(|| {
                let Ok(mut p) = peer(name) else { return };
                black_box(replay::replay(
                    p.as_mut(),
                    stream,
                    &arrivals,
                    length_ms,
                    &[],
                ));
            })
        });
    }
    let mut received = vec![false; packets];
    for a in &arrivals {
        received[a.index] = true;
    }
    let mut decoder = OpusDecoder::new(1)?;
    let mut pcm = vec![0i16; 5_760];
    g.bench_function("opus-decode", |b| {
        b.iter(|| codec_floor(&mut decoder, &stream.packets, &received, &mut pcm))
    });
    speex_bare(stream, &arrivals, length_ms)?;
    g.bench_function("speexdsp", |b| {
        b.iter(|| black_box(speex_bare(stream, &arrivals, length_ms).ok()))
    });
    g.finish();
    Ok(packets)
}

fn cpu_report(packets: usize, started: SystemTime) {
    let home = ratio::criterion_home();
    ratio::print_report(
        &home,
        &[Comparison::new(
            "jitter/cpu/mediacore",
            "jitter/cpu/neteq",
            "jitter/cpu/neteq",
        )],
        started,
    );
    let median = |id: &str| ratio::median_ns(&home, id, started).ok();
    let (Some(ours), Some(decode), Some(speex)) = (
        median("jitter/cpu/mediacore"),
        median("jitter/cpu/opus-decode"),
        median("jitter/cpu/speexdsp"),
    ) else {
        return;
    };
    let n = packets as f64;
    let buffer = (ours - decode) / n;
    println!(
        "jitter cpu per packet: mediacore {:.0} ns with decoding, {:.0} ns codec work alone, \
         {buffer:.0} ns buffer work (goal <= 1000); speexdsp {:.0} ns",
        ours / n,
        decode / n,
        speex / n
    );
    println!("ratio jitter/cpu/speexdsp: {:.2}", buffer / (speex / n));
}

fn run() -> BenchResult<()> {
    let started = SystemTime::now();
    // Criterion runs benchmarks only when cargo passes `--bench`; otherwise it is test mode.
    let test_mode = !std::env::args().any(|a| a == "--bench");
    let src = source()?;
    let lines = quality_report(&src, test_mode)?;

    let mut c = mediacore_benches::criterion_config().configure_from_args();
    let packets = cpu_bench(&mut c, &src)?;
    c.final_summary();
    cpu_report(packets, started);

    println!("Ratios of quality (pesq: ours/neteq, higher is better; delay: lower is better):");
    for line in lines {
        println!("{line}");
    }
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("jitter bench: {e}");
            ExitCode::FAILURE
        }
    }
}
