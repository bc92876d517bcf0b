//! WB-PESQ (ITU-T P.862.2) of a received WAV against its reference, through the `pesq`
//! package in the venv `scripts/bootstrap.sh` makes.

use std::path::Path;
use std::process::Command;

/// The score as printed by scripts/score_pesq.py.
pub fn pesq(root: &Path, reference: &Path, degraded: &Path) -> Result<String, String> {
    let python = root.join(".venv/bin/python");
    let out = Command::new(&python)
        .arg(root.join("scripts/score_pesq.py"))
        .arg(reference)
        .arg(degraded)
        .output()
        .map_err(|e| format!("{}: {e} (run scripts/bootstrap.sh)", python.display()))?;
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text
        .lines()
        .next()
        .unwrap_or("")
        .trim_start_matches("pesq_wb: ")
        .to_owned())
}
