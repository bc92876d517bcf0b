//! Speech samples and PESQ scores for tests: the samples come from scripts/make-speech.sh
//! and the scores from scripts/score_pesq.py in the venv scripts/bootstrap.sh creates.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn need(path: PathBuf) -> PathBuf {
    assert!(
        path.exists(),
        "{} is missing: run scripts/bootstrap.sh (installs espeak-ng, sox and the pesq venv, \
         and makes the speech samples)",
        path.display()
    );
    path
}

/// The first speech sample (48 kHz mono).
pub fn speech_a() -> PathBuf {
    need(root().join("data/generated/speech-a-48k.wav"))
}

/// The second speech sample (48 kHz mono), for the other direction of a call.
pub fn speech_b() -> PathBuf {
    need(root().join("data/generated/speech-b-48k.wav"))
}

/// WB-PESQ of `degraded` against `reference` (delay aligned).
pub fn pesq_wb(reference: &Path, degraded: &Path) -> f64 {
    let python = need(root().join(".venv/bin/python"));
    let out = Command::new(python)
        .arg(root().join("scripts/score_pesq.py"))
        .arg(reference)
        .arg(degraded)
        .arg("--json")
        .output()
        .expect("run scripts/score_pesq.py");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "score_pesq.py failed: {}{}",
        text,
        String::from_utf8_lossy(&out.stderr)
    );
    let key = "\"pesq_wb\": ";
    let start = text.find(key).expect("pesq_wb in output") + key.len();
    let rest = &text[start..];
    let end = rest.find([',', '}']).unwrap_or(rest.len());
    rest[..end].trim().parse().expect("a PESQ score")
}
