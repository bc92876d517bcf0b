//! Regenerates the network traces shipped in `media-core/traces/` from the simulator's
//! presets (fixed seeds, so the files only change when the simulator or a preset does).
//!
//! `cargo run -p mediacore-examples --bin make-traces [OUT_DIR]`

use std::path::PathBuf;

use media_core::net::sim::{make_trace, presets};

fn main() {
    let dir = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../media-core/traces")
        });
    for preset in presets::all() {
        let trace = make_trace(&preset);
        let path = dir.join(format!("{}.trace", preset.name));
        if let Err(e) = std::fs::write(&path, trace.to_text()) {
            eprintln!("make-traces: cannot write {}: {e}", path.display());
            std::process::exit(1);
        }
        let d = trace.delays_ms();
        let pick = |q: f64| {
            d.get(((d.len() as f64 - 1.0) * q) as usize)
                .copied()
                .unwrap_or(0.0)
        };
        println!(
            "{:<10} loss {:>5.2} %  delay mean {:>6.1} ms  p50 {:>6.1}  p95 {:>6.1}  max {:>6.1}  -> {}",
            preset.name,
            100.0 * trace.loss_rate(),
            d.iter().sum::<f64>() / d.len().max(1) as f64,
            pick(0.5),
            pick(0.95),
            pick(1.0),
            path.display()
        );
    }
}
