//! The `mediacore-service` binary as a child process: started with a config file, reached over
//! its plain-HTTP port, and killed with SIGKILL as a crash would end it.

use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A running `mediacore-service` process; SIGKILLed when dropped.
pub struct ServiceProcess {
    child: Option<std::process::Child>,
    /// The plain-HTTP base URL, `http://127.0.0.1:<port>` (no trailing `/`).
    pub http: String,
    /// Where its stderr (the log) goes.
    pub log: PathBuf,
}

impl ServiceProcess {
    /// Starts the binary with `--config config`, its log in `log`, and waits (up to 30 s) for
    /// its `ready` line. The config must set `http_port`.
    pub async fn spawn(config: &Path, log: &Path) -> Self {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_mediacore-service"))
            .arg("--config")
            .arg(config)
            .stdout(std::process::Stdio::piped())
            .stderr(std::fs::File::create(log).expect("log file"))
            .spawn()
            .expect("spawn mediacore-service");
        let out = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        // Reads to the end, so the service never writes into a closed pipe.
        std::thread::spawn(move || {
            let mut http = None;
            for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("http endpoint: ") {
                    http = Some(url.trim_end_matches('/').to_owned());
                }
                if line == "ready" {
                    let _ = tx.send(http.take());
                }
            }
        });
        let mut process = Self {
            child: Some(child),
            http: String::new(),
            log: log.to_owned(),
        };
        let http = tokio::task::spawn_blocking(move || rx.recv_timeout(Duration::from_secs(30)))
            .await
            .expect("join")
            .ok()
            .flatten();
        match http {
            Some(http) => process.http = http,
            None => panic!(
                "the service did not start (no http endpoint or no ready line): {}",
                std::fs::read_to_string(log).unwrap_or_default()
            ),
        }
        process
    }

    /// SIGKILL (std's `Child::kill` on Unix) and reap; later calls do nothing.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for ServiceProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
