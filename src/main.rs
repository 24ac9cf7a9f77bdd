//! The `switchyard` router binary: command line, configuration, signals.

use mimalloc::MiMalloc;
use std::io::IsTerminal;
use std::process::ExitCode;
use switchyard::config::cli::{self, Cli};
use switchyard::config::LogFormat;
use switchyard::runtime::{self, RouterOptions};

#[global_allocator]
static GLOBAL: MiMalloc = MiMalloc;

fn main() -> ExitCode {
    let args = Cli::parse_args();
    if args.hash_ticket {
        return match cli::hash_ticket(&mut std::io::stdin().lock()) {
            Ok(hash) => {
                println!("{hash}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        };
    }
    if args.check_config {
        let report = cli::check_config(&args);
        println!("{}", report.text);
        return ExitCode::from(report.exit_code);
    }
    if args.print_config {
        return match cli::print_config(&args) {
            Ok(text) => {
                print!("{text}");
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        };
    }
    let config = match cli::resolve(&args) {
        Ok(c) => c,
        Err(e) => return fail(&e),
    };
    init_logging(&config.log_level, config.log_format);
    match run(RouterOptions::from_config(&config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("switchyard: {e}");
            ExitCode::from(70)
        }
    }
}

fn fail(e: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("switchyard: {e}");
    ExitCode::from(2)
}

/// Logs to stderr: colored text only on a terminal, or JSON lines.
fn init_logging(level: &str, format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_new(level).unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// SIGHUP: the TLS listeners read their certificates and keys again.
fn reload_tls(tls: &runtime::TlsReloader) {
    let failures = tls.reload();
    if failures.is_empty() {
        tracing::info!("TLS certificates reloaded");
    }
    for why in failures {
        tracing::error!(%why, "TLS reload failed; the listener keeps its old certificate");
    }
}

/// Runs the router until SIGINT or SIGTERM (then shuts it down gracefully)
/// or until a shard fails (then the others stop, and this is an error).
fn run(opts: RouterOptions) -> anyhow::Result<()> {
    let shards = opts.shards;
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
    let unix = opts.unix.as_ref().map(|u| u.path.clone());
    let mut signals = signal_hook::iterator::Signals::new([SIGINT, SIGTERM, SIGHUP])?;
    match runtime::raise_nofile_limit() {
        Ok(n) => tracing::info!(
            descriptors = n,
            "open-file limit; each session holds one descriptor"
        ),
        Err(e) => tracing::warn!(error = %e, "cannot read the open-file limit"),
    }
    let running = runtime::start(opts)?;
    let addresses = [
        ("websocket ws://", running.websocket_addr(), "/ws"),
        ("rawsocket rs://", running.rawsocket_addr(), ""),
        ("websocket wss://", running.websocket_tls_addr(), "/ws"),
        ("rawsocket rss://", running.rawsocket_tls_addr(), ""),
    ];
    for (what, addr, _) in addresses {
        if let Some(a) = addr {
            println!("switchyard listening {what}{a}");
        }
    }
    if let Some(a) = running.http_addr() {
        println!("switchyard listening http http://{a}");
    }
    if let Some(path) = unix {
        println!("switchyard listening rawsocket unix://{}", path.display());
    }
    println!("switchyard ready with {shards} shard(s)");
    let stop = running.stopper();
    let tls = running.tls_reloader();
    let handle = signals.handle();
    std::thread::spawn(move || {
        for sig in signals.forever() {
            if sig == SIGHUP {
                reload_tls(&tls);
                continue;
            }
            tracing::info!(signal = sig, "shutting down");
            stop.stop();
            break;
        }
    });
    let ended = running.join();
    handle.close();
    Ok(ended?)
}
