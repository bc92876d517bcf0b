//! The local ACS-compatible service, started in-process for a test on 127.0.0.1 (a free HTTPS
//! port, its own data folder), and client options that trust its CA.

use std::time::Duration;

use media_core::rest::{ClientOptions, RetryPolicy};
use mediacore_service::{Config, RunningService};

/// Starts the service with the test defaults changed by `adjust`; returns it, the folder its
/// data lives in (removed when dropped) and client options trusting its CA, with quick retries.
pub async fn start(
    adjust: impl FnOnce(&mut Config),
) -> (RunningService, tempfile::TempDir, ClientOptions) {
    let dir = tempfile::tempdir().expect("temporary folder");
    let mut config = Config {
        data_dir: dir.path().to_owned(),
        https_port: 0,
        ..Config::default()
    };
    adjust(&mut config);
    let running = mediacore_service::start(&config)
        .await
        .expect("service starts");
    let ca = std::fs::read(&running.ca_path).expect("service CA");
    let options = ClientOptions {
        extra_ca_pem: vec![ca],
        // Keep the tests quick should anything be retried.
        retry: RetryPolicy {
            max_retries: 2,
            backoff_factor: Duration::from_millis(50),
            ..RetryPolicy::default()
        },
        ..ClientOptions::default()
    };
    (running, dir, options)
}
