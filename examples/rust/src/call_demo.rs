//! Two MediaCore engines in a call over the network simulator: speech both ways, live
//! statistics once a second, the received audio as WAV, an HTML call report with delay,
//! loss and jitter-buffer plots, and the PESQ score of what each side heard.
//!
//! `cargo run --release -p mediacore-examples --bin call-demo -- [clean|wifi|cellular|congested] [OUT_DIR]`
//!
//! Needs the speech samples and the PESQ venv that `scripts/bootstrap.sh` makes.

#[path = "pesq_score.rs"]
mod pesq_score;

use std::fmt::Write as _;
use std::path::PathBuf;

use media_core::audio::wav::{read_wav, write_wav};
use media_core::call::simulated::{Outcome, Path as NetPath, Sample, SimulatedCall, run};
use media_core::net::sim::{LinkConfig, Trace};

fn main() {
    if let Err(e) = demo() {
        eprintln!("call-demo: {e}");
        std::process::exit(1);
    }
}

fn demo() -> Result<(), String> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let root = root.canonicalize().unwrap_or(root);
    let mut args = std::env::args().skip(1);
    let condition = args.next().unwrap_or_else(|| "wifi".to_owned());
    let out_dir = args
        .next()
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target/call-demo"));
    std::fs::create_dir_all(&out_dir).map_err(|e| format!("{}: {e}", out_dir.display()))?;

    let path = |seed| -> Result<NetPath, String> {
        if condition == "clean" {
            return Ok(NetPath::Simulated(LinkConfig::default(), seed));
        }
        let file = root.join(format!("media-core/traces/{condition}.trace"));
        let text = std::fs::read_to_string(&file).map_err(|e| {
            format!(
                "{}: {e} (conditions: clean, wifi, cellular, congested)",
                file.display()
            )
        })?;
        Ok(NetPath::Replay(
            Trace::parse(&text).map_err(|e| format!("{}: {e}", file.display()))?,
        ))
    };
    let call = SimulatedCall::new(path(1)?, path(2)?);
    let speech_a = root.join("data/generated/speech-a-48k.wav");
    let speech_b = root.join("data/generated/speech-b-48k.wav");
    let a = read_wav(&speech_a).map_err(|e| format!("{e} (run scripts/bootstrap.sh)"))?;
    let b = read_wav(&speech_b).map_err(|e| format!("{e} (run scripts/bootstrap.sh)"))?;

    println!(
        "MediaCore {} — a call between engines A and B over the simulated \"{condition}\" network",
        media_core::VERSION
    );
    println!(
        "Opus 48 kbit/s 20 ms, SRTP AEAD-AES-128-GCM, RTCP every second; B's view of A's stream:"
    );
    println!(
        "{:>4}  {:>7}  {:>9}  {:>6}  {:>8}  {:>9}  {:>9}  {:>5}",
        "t s", "RTT ms", "jitter ms", "lost", "conceal%", "target ms", "buffer ms", "MOS"
    );
    let outcome = run(&call, &a.samples, &b.samples, print_second).map_err(|e| e.to_string())?;

    let heard_b = out_dir.join("heard-by-b.wav");
    let heard_a = out_dir.join("heard-by-a.wav");
    write_wav(&heard_b, 48_000, 1, &outcome.heard_by_b).map_err(|e| e.to_string())?;
    write_wav(&heard_a, 48_000, 1, &outcome.heard_by_a).map_err(|e| e.to_string())?;
    let report = out_dir.join("report.html");
    std::fs::write(&report, report_html(&condition, &outcome))
        .map_err(|e| format!("{}: {e}", report.display()))?;

    let s = &outcome.final_stats;
    println!();
    for (who, v) in [("B (hears A)", &s.b), ("A (hears B)", &s.a)] {
        let jb = &v.jitter_buffer;
        println!(
            "{who}: received {} lost {} late {} FEC-recovered {} concealed {:.2} % accel -{} / decel +{} samples, mean buffer delay {:.1} ms, MOS {:.2}",
            v.packets_received,
            v.packets_lost,
            jb.packets_discarded,
            jb.packets_recovered_by_fec,
            100.0 * jb.concealment_ratio(),
            jb.removed_samples_for_acceleration,
            jb.inserted_samples_for_deceleration,
            jb.mean_delay_ms(),
            v.mos
        );
    }
    println!(
        "received audio: {} and {}",
        heard_b.display(),
        heard_a.display()
    );
    println!("call report:    {}", report.display());
    for (reference, heard, who) in [(&speech_a, &heard_b, "B"), (&speech_b, &heard_a, "A")] {
        println!(
            "PESQ (WB, P.862.2) of what {who} heard: {}",
            pesq_score::pesq(&root, reference, heard)?
        );
    }
    Ok(())
}

fn print_second(s: &Sample) {
    let b = &s.b;
    println!(
        "{:>4.0}  {:>7}  {:>9.1}  {:>6}  {:>8.2}  {:>9.1}  {:>9.1}  {:>5.2}",
        s.t,
        b.rtt_ms.map_or("-".to_owned(), |r| format!("{r:.1}")),
        b.jitter_ms,
        b.packets_lost,
        100.0 * b.jitter_buffer.concealment_ratio(),
        b.jitter_buffer.target_delay_ms,
        b.jitter_buffer.playout_delay_ms,
        b.mos
    );
}

/// A self-contained HTML page with SVG line plots of the call's statistics.
fn report_html(condition: &str, o: &Outcome) -> String {
    let series = |f: &dyn Fn(&Sample) -> f64| -> Vec<(f64, f64)> {
        o.samples.iter().map(|s| (s.t, f(s))).collect()
    };
    let mut lost_prev = 0i64;
    let loss: Vec<(f64, f64)> = o
        .samples
        .iter()
        .map(|s| {
            let d = s.b.packets_lost - lost_prev;
            lost_prev = s.b.packets_lost;
            (s.t, d as f64)
        })
        .collect();
    let mut html = String::new();
    let _ = write!(
        html,
        "<!doctype html><meta charset=utf-8><title>MediaCore call report: {condition}</title>\
         <style>body{{font:14px sans-serif;margin:2em}}svg{{background:#fafafa;border:1px solid #ddd}}</style>\
         <h1>MediaCore call report — {condition}</h1><p>B's view of the stream from A, sampled every 100 ms.</p>"
    );
    html.push_str(&plot(
        "Jitter buffer: playout delay (blue) and target (orange), ms",
        &[
            (series(&|s| s.b.jitter_buffer.playout_delay_ms), "#1f77b4"),
            (series(&|s| s.b.jitter_buffer.target_delay_ms), "#ff7f0e"),
        ],
    ));
    html.push_str(&plot("Packets lost per 100 ms", &[(loss, "#d62728")]));
    html.push_str(&plot(
        "Interarrival jitter (RFC 3550), ms",
        &[(series(&|s| s.b.jitter_ms), "#2ca02c")],
    ));
    html.push_str(&plot(
        "Concealed samples, % of played (comfort noise excluded)",
        &[(
            series(&|s| 100.0 * s.b.jitter_buffer.concealment_ratio()),
            "#9467bd",
        )],
    ));
    html
}

fn plot(title: &str, lines: &[(Vec<(f64, f64)>, &str)]) -> String {
    let (w, h, pad) = (760.0, 180.0, 40.0);
    let xmax = lines
        .iter()
        .flat_map(|(p, _)| p.iter().map(|q| q.0))
        .fold(1.0, f64::max);
    let ymax = lines
        .iter()
        .flat_map(|(p, _)| p.iter().map(|q| q.1))
        .fold(1.0, f64::max)
        * 1.1;
    let mut svg = format!("<h3>{title}</h3><svg width={w} height={h}>");
    let _ = write!(
        svg,
        "<text x=4 y=14 font-size=11>{ymax:.0}</text><text x=4 y={} font-size=11>0</text>\
         <text x={} y={} font-size=11>{xmax:.0} s</text>",
        h - pad,
        w - 40.0,
        h - 8.0
    );
    for (points, colour) in lines {
        let pts: Vec<String> = points
            .iter()
            .map(|(x, y)| {
                format!(
                    "{:.1},{:.1}",
                    pad + x / xmax * (w - 2.0 * pad),
                    (h - pad) - y.max(0.0) / ymax * (h - 2.0 * pad)
                )
            })
            .collect();
        let _ = write!(
            svg,
            "<polyline fill=none stroke='{colour}' stroke-width=1.5 points='{}'/>",
            pts.join(" ")
        );
    }
    svg.push_str("</svg>");
    svg
}
