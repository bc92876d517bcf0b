//! `mediacore-service [--config FILE]`: runs the local ACS-compatible service until Ctrl-C or
//! SIGTERM. `MEDIACORE_SERVICE_CONFIG` names the file when the flag is absent.

use std::path::PathBuf;
use std::process::ExitCode;

use mediacore_service::{Config, config::ENV_PREFIX};

fn usage() -> ExitCode {
    eprintln!("usage: mediacore-service [--config FILE]");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("MEDIACORE_SERVICE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();

    let mut args = std::env::args().skip(1);
    let mut config_path = std::env::var_os(format!("{ENV_PREFIX}CONFIG")).map(PathBuf::from);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--config" | "-c" => match args.next() {
                Some(p) => config_path = Some(PathBuf::from(p)),
                None => return usage(),
            },
            "--help" | "-h" => {
                usage();
                return ExitCode::SUCCESS;
            }
            _ => return usage(),
        }
    }

    let config = match Config::load(config_path.as_deref()) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("mediacore-service: {e}");
            return ExitCode::FAILURE;
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("mediacore-service: starting the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(run(config))
}

async fn run(config: Config) -> ExitCode {
    let service = match mediacore_service::start(&config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("mediacore-service: {e}");
            return ExitCode::FAILURE;
        }
    };
    // Scripts read these lines; keep their prefixes stable.
    println!("endpoint: {}", service.endpoint);
    if let Some(addr) = service.http_addr {
        println!("http endpoint: http://{addr}/");
    }
    println!("CA certificate: {}", service.ca_path.display());
    println!("connection string: {}", service.connection_string);
    println!("ready");

    wait_for_signal().await;
    eprintln!("mediacore-service: stopping");
    service.shutdown().await;
    ExitCode::SUCCESS
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
