//! What the call examples share once two engines are connected: speech both ways in real time,
//! B's statistics each second, the totals, the received audio as WAV and its PESQ score.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use media_core::audio::wav::{read_wav, write_wav};
use media_core::call::AudioSide;
use media_core::call::session::SessionStats;
use media_core::call::udp::Call;

use crate::pesq_score;

/// Runs `demo` on a two-worker tokio runtime; an error is printed as `name: error` and
/// exits with status 1.
pub fn run(name: &str, demo: impl std::future::Future<Output = Result<(), String>>) {
    let result = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| format!("tokio runtime: {e}"))
        .and_then(|runtime| runtime.block_on(demo));
    if let Err(e) = result {
        eprintln!("{name}: {e}");
        std::process::exit(1);
    }
}

/// The repository's root (speech samples and the PESQ venv live under it).
pub fn repo_root() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    root.canonicalize().unwrap_or(root)
}

/// The speech samples engines A and B send (made by scripts/bootstrap.sh).
pub fn speech_paths(root: &Path) -> [PathBuf; 2] {
    [
        root.join("data/generated/speech-a-48k.wav"),
        root.join("data/generated/speech-b-48k.wav"),
    ]
}

/// Has A and B each send their speech sample
/// (`[(call, its audio side, the sample it sends)]`), printing B's statistics each second; then
/// the totals, the received audio in `out_dir` and the PESQ of what each side heard. Leaves the
/// calls up.
pub async fn converse(
    root: &Path,
    [(a, audio_a, speech_a), (b, audio_b, speech_b)]: [(&Call, AudioSide, &Path); 2],
    out_dir: &Path,
) -> Result<(), String> {
    let load = |p: &Path| read_wav(p).map_err(|e| format!("{e} (run scripts/bootstrap.sh)"));
    let (a_pcm, b_pcm) = (load(speech_a)?, load(speech_b)?);
    println!("Opus 48 kbit/s 20 ms, DTLS-SRTP; B's view of A's stream each second:");
    println!(
        "{:>4}  {:>7}  {:>9}  {:>6}  {:>8}  {:>9}  {:>5}",
        "t s", "RTT ms", "jitter ms", "lost", "conceal%", "buffer ms", "MOS"
    );

    let ticks = a_pcm.samples.len().max(b_pcm.samples.len()) / 480 + 100;
    let talking = tokio::task::spawn_blocking(move || {
        talk([(audio_a, a_pcm.samples), (audio_b, b_pcm.samples)], ticks)
    });
    let mut second = 0;
    while !talking.is_finished() {
        tokio::time::sleep(Duration::from_secs(1)).await;
        second += 1;
        if let Ok(s) = b.stats().await {
            print_second(second, &s);
        }
    }
    let heard = talking.await.map_err(|e| format!("audio thread: {e}"))?;
    let (sa, sb) = (
        a.stats().await.map_err(|e| e.to_string())?,
        b.stats().await.map_err(|e| e.to_string())?,
    );

    println!();
    for (who, s) in [("B (hears A)", &sb), ("A (hears B)", &sa)] {
        let jb = &s.call.jitter_buffer;
        println!(
            "{who}: received {} lost {} concealed {:.2} % mean buffer delay {:.1} ms, RTT {} ms, MOS {:.2}; dropped: {:?}",
            s.call.packets_received,
            s.call.packets_lost,
            100.0 * jb.concealment_ratio(),
            jb.mean_delay_ms(),
            s.call.rtt_ms.map_or("-".to_owned(), |r| format!("{r:.2}")),
            s.call.mos,
            s.transport
        );
    }
    let heard_b = out_dir.join("heard-by-b.wav");
    let heard_a = out_dir.join("heard-by-a.wav");
    write_wav(&heard_a, 48_000, 1, &heard[0]).map_err(|e| e.to_string())?;
    write_wav(&heard_b, 48_000, 1, &heard[1]).map_err(|e| e.to_string())?;
    println!(
        "received audio: {} and {}",
        heard_b.display(),
        heard_a.display()
    );
    for (reference, heard, who) in [(speech_a, &heard_b, "B"), (speech_b, &heard_a, "A")] {
        println!(
            "PESQ (WB, P.862.2) of what {who} heard: {}",
            pesq_score::pesq(root, reference, heard)?
        );
    }
    Ok(())
}

/// Runs both audio sides 10 ms a tick in real time; returns what each heard.
fn talk(mut sides: [(AudioSide, Vec<i16>); 2], ticks: usize) -> [Vec<i16>; 2] {
    let mut heard = [
        Vec::with_capacity(ticks * 480),
        Vec::with_capacity(ticks * 480),
    ];
    let mut out = [0i16; 480];
    let start = Instant::now();
    for tick in 0..ticks {
        let due = start + Duration::from_millis(10 * tick as u64);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let now = Instant::now();
        for ((side, speech), heard) in sides.iter_mut().zip(heard.iter_mut()) {
            let mut frame = [0i16; 480];
            let at = tick * 480;
            if at < speech.len() {
                let n = (speech.len() - at).min(480);
                frame[..n].copy_from_slice(&speech[at..at + n]);
            }
            if side.process(now, &frame, &mut out).is_err() {
                out = [0; 480];
            }
            heard.extend_from_slice(&out);
        }
    }
    heard
}

fn print_second(t: u32, s: &SessionStats) {
    let c = &s.call;
    println!(
        "{:>4}  {:>7}  {:>9.1}  {:>6}  {:>8.2}  {:>9.1}  {:>5.2}",
        t,
        c.rtt_ms.map_or("-".to_owned(), |r| format!("{r:.2}")),
        c.jitter_ms,
        c.packets_lost,
        100.0 * c.jitter_buffer.concealment_ratio(),
        c.jitter_buffer.playout_delay_ms,
        c.mos
    );
}
