//! Speech for the benches: the generated samples, a synthetic voiced signal, and WB-PESQ
//! scores from the project's scorer.
//!
//! The samples come from `scripts/make-speech.sh` and the scorer is `scripts/score_pesq.py`
//! run by the venv `scripts/bootstrap.sh` creates (`make bench` runs the bootstrap first).

use std::fmt;
use std::path::{Path, PathBuf};
use std::process::Command;

use media_core::audio::wav::{WavError, read_wav};

/// Why speech could not be read or scored.
#[derive(Debug)]
pub enum SpeechError {
    /// A file the bench needs is missing: the bootstrap has not run.
    Missing(PathBuf),
    /// A speech sample could not be read, or is not 48 kHz mono.
    Wav(String),
    /// The scorer failed, with its output.
    Scorer(String),
}

impl fmt::Display for SpeechError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing(p) => write!(
                f,
                "{} is missing: run scripts/bootstrap.sh (installs espeak-ng, sox and the \
                 pesq venv, and makes the speech samples)",
                p.display()
            ),
            Self::Wav(e) => write!(f, "speech sample: {e}"),
            Self::Scorer(e) => write!(f, "scripts/score_pesq.py: {e}"),
        }
    }
}

impl std::error::Error for SpeechError {}

impl From<WavError> for SpeechError {
    fn from(e: WavError) -> Self {
        Self::Wav(e.to_string())
    }
}

/// The repository root (this crate lives at `<root>/benches`).
pub fn root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

fn need(path: PathBuf) -> Result<PathBuf, SpeechError> {
    if path.exists() {
        Ok(path)
    } else {
        Err(SpeechError::Missing(path))
    }
}

/// Reads generated speech sample `name` (`"a"` or `"b"`): 48 kHz mono samples.
pub fn sample(name: &str) -> Result<Vec<i16>, SpeechError> {
    let path = need(root().join(format!("data/generated/speech-{name}-48k.wav")))?;
    let wav = read_wav(&path)?;
    if wav.sample_rate != 48_000 || wav.channels != 1 {
        return Err(SpeechError::Wav(format!(
            "{}: {} Hz, {} channels; expected 48000 Hz mono",
            path.display(),
            wav.sample_rate,
            wav.channels
        )));
    }
    Ok(wav.samples)
}

/// A voiced, speech-like signal without pauses: harmonics of a 140 Hz pitch with vibrato
/// and a 4 Hz envelope, from sample `offset` on (48 kHz mono).
pub fn voiced(offset: usize, samples: usize) -> Vec<i16> {
    use std::f64::consts::TAU;
    (offset..offset + samples)
        .map(|n| {
            let t = n as f64 / 48_000.0;
            let f0 = 140.0 + 15.0 * (TAU * 3.0 * t).sin();
            let env = 0.55 + 0.45 * (TAU * 4.0 * t).sin();
            let v: f64 = (1..=8)
                .map(|h| (TAU * f0 * f64::from(h) * t).sin() / f64::from(h))
                .sum();
            (v * env * 6000.0) as i16
        })
        .collect()
}

/// A WB-PESQ score and the lag the scorer aligned by.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PesqScore {
    /// ITU-T P.862.2 MOS-LQO.
    pub mos: f64,
    /// How far the degraded file lagged the reference, ms.
    pub lag_ms: f64,
}

/// WB-PESQ of `degraded` against `reference` (WAV files; the scorer aligns them by up to 1 s).
pub fn pesq_wb(reference: &Path, degraded: &Path) -> Result<PesqScore, SpeechError> {
    let python = need(root().join(".venv/bin/python"))?;
    let out = Command::new(python)
        .arg(root().join("scripts/score_pesq.py"))
        .arg(reference)
        .arg(degraded)
        .arg("--json")
        .output()
        .map_err(|e| SpeechError::Scorer(e.to_string()))?;
    let text = String::from_utf8_lossy(&out.stdout);
    if !out.status.success() {
        return Err(SpeechError::Scorer(format!(
            "{text}{}",
            String::from_utf8_lossy(&out.stderr)
        )));
    }
    let field = |key: &str| -> Result<f64, SpeechError> {
        serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get(key).and_then(serde_json::Value::as_f64))
            .ok_or_else(|| SpeechError::Scorer(format!("no {key} in {text:?}")))
    };
    Ok(PesqScore {
        mos: field("pesq_wb")?,
        lag_ms: field("lag_ms")?,
    })
}
