//! The command line: `Cli` (clap derive) and `resolve`, which loads the file
//! (or the defaults), applies the command-line overrides, then validates.
//! `check_config` and `print_config` give main.rs the text and exit status of
//! `--check-config` and `--print-config`.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;

use clap::Parser;

use super::error::ConfigError;
use super::tree::{Config, Placement, RealmConfig};

/// `switchyard [OPTIONS]`: run the router.
#[derive(Debug, Clone, Default, PartialEq, Eq, Parser)]
#[command(
    name = "switchyard",
    version,
    about = "A thread-per-core WAMP v2 router"
)]
pub struct Cli {
    /// TOML config file; keys it omits take the built-in defaults.
    #[arg(short, long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Number of shards (0 = one per available core).
    #[arg(long, value_name = "N")]
    pub shards: Option<usize>,

    /// WebSocket listen address, or "off" to disable the listener.
    #[arg(long, value_name = "ADDR|off")]
    pub ws: Option<Listen>,

    /// RawSocket listen address, or "off" to disable the listener.
    #[arg(long, value_name = "ADDR|off")]
    pub rs: Option<Listen>,

    /// Metrics/health HTTP listen address, or "off" to disable the listener.
    #[arg(long, value_name = "ADDR|off")]
    pub http: Option<Listen>,

    /// HTTP path of the WebSocket endpoint, e.g. "/ws".
    #[arg(long, value_name = "PATH")]
    pub ws_path: Option<String>,

    /// Log filter, e.g. "info" or "warn,switchyard=debug".
    #[arg(long, value_name = "LEVEL")]
    pub log_level: Option<String>,

    /// Pin each shard to its own core, or let them float.
    #[arg(long, value_enum)]
    pub placement: Option<Placement>,

    /// A realm to serve (anonymous access); repeat for several. Replaces the
    /// realms of the config file.
    #[arg(long = "realm", value_name = "NAME")]
    pub realms: Vec<String>,

    /// Print the effective configuration as TOML and exit.
    #[arg(long, conflicts_with = "check_config")]
    pub print_config: bool,

    /// Check the configuration, print "config OK" or every problem, and exit.
    #[arg(long)]
    pub check_config: bool,

    /// Read a ticket from standard input, print its salted hash (for a
    /// principal's `ticket = { hash = "..." }`) and exit.
    #[arg(long, conflicts_with_all = ["check_config", "print_config"])]
    pub hash_ticket: bool,
}

/// PBKDF2 iterations of the hashes `--hash-ticket` prints.
pub const TICKET_HASH_ITERATIONS: u32 = 100_000;

/// `--hash-ticket`: the hash of the first line of `input` (without its
/// line ending), or why there is none.
pub fn hash_ticket(input: &mut dyn std::io::BufRead) -> Result<String, String> {
    let mut line = String::new();
    input
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the ticket: {e}"))?;
    let ticket = line.trim_end_matches(['\n', '\r']);
    if ticket.is_empty() {
        return Err("no ticket on standard input".into());
    }
    let hash = crate::auth::crypto::ticket::TicketHash::new(ticket, TICKET_HASH_ITERATIONS);
    Ok(hash.to_string())
}

/// A listener setting from the command line: an address, or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listen {
    /// Disable the listener.
    Off,
    /// Enable the listener on this address.
    At(SocketAddr),
}

impl FromStr for Listen {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.eq_ignore_ascii_case("off") {
            return Ok(Self::Off);
        }
        s.parse()
            .map(Self::At)
            .map_err(|_| format!("expected IP:PORT (e.g. 127.0.0.1:8080) or \"off\", got {s:?}"))
    }
}

impl fmt::Display for Listen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Off => f.write_str("off"),
            Self::At(addr) => addr.fmt(f),
        }
    }
}

impl Cli {
    /// Parses the process arguments (exits with usage on error), without
    /// the caller needing `clap::Parser` in scope.
    pub fn parse_args() -> Self {
        <Self as Parser>::parse()
    }

    /// Applies the command-line overrides to `config`.
    pub fn apply_to(&self, config: &mut Config) {
        if let Some(n) = self.shards {
            config.shards = n;
        }
        apply_listen(
            self.ws,
            &mut config.websocket.enabled,
            &mut config.websocket.address,
        );
        apply_listen(
            self.rs,
            &mut config.rawsocket.enabled,
            &mut config.rawsocket.address,
        );
        apply_listen(
            self.http,
            &mut config.http.enabled,
            &mut config.http.address,
        );
        if let Some(path) = &self.ws_path {
            config.websocket.path.clone_from(path);
        }
        if let Some(level) = &self.log_level {
            config.log_level.clone_from(level);
        }
        if let Some(placement) = self.placement {
            config.placement = placement;
        }
        if !self.realms.is_empty() {
            config.realms.realm = self.realms.iter().map(RealmConfig::new).collect();
        }
    }
}

fn apply_listen(listen: Option<Listen>, enabled: &mut bool, address: &mut SocketAddr) {
    match listen {
        None => {}
        Some(Listen::Off) => *enabled = false,
        Some(Listen::At(addr)) => {
            *enabled = true;
            *address = addr;
        }
    }
}

/// The effective configuration: the file (or the defaults), then the
/// command-line overrides, then validation of the result.
pub fn resolve(cli: &Cli) -> Result<Config, ConfigError> {
    let mut config = match &cli.config {
        Some(path) => Config::load_unvalidated(path)?,
        None => Config::default(),
    };
    cli.apply_to(&mut config);
    config.validate().map_err(|e| match &cli.config {
        Some(path) => e.in_file(path),
        None => e,
    })?;
    Ok(config)
}

/// What `--check-config` prints, and the process exit status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckReport {
    /// "config OK", or every problem found.
    pub text: String,
    /// 0 when the configuration is valid, 1 otherwise.
    pub exit_code: u8,
}

impl CheckReport {
    /// Whether the configuration is valid.
    pub fn ok(&self) -> bool {
        self.exit_code == 0
    }
}

/// `--check-config`: resolves the configuration and reports the outcome.
pub fn check_config(cli: &Cli) -> CheckReport {
    match resolve(cli) {
        Ok(_) => CheckReport {
            text: "config OK".to_owned(),
            exit_code: 0,
        },
        Err(e) => CheckReport {
            text: e.to_string(),
            exit_code: 1,
        },
    }
}

/// `--print-config`: the effective configuration as TOML.
pub fn print_config(cli: &Cli) -> Result<String, ConfigError> {
    resolve(cli)?.to_toml_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cli(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("switchyard").chain(args.iter().copied())).unwrap()
    }

    #[test]
    fn no_arguments_resolve_to_the_defaults() {
        assert_eq!(resolve(&cli(&[])).unwrap(), Config::default());
    }

    #[test]
    fn overrides_apply() {
        let c = resolve(&cli(&[
            "--shards",
            "3",
            "--ws",
            "0.0.0.0:9000",
            "--rs",
            "127.0.0.1:9001",
            "--ws-path",
            "/wamp",
            "--log-level",
            "debug",
            "--placement",
            "unpinned",
            "--realm",
            "a.b",
            "--realm",
            "c",
        ]))
        .unwrap();
        assert_eq!(c.shards, 3);
        assert_eq!(c.websocket.address, "0.0.0.0:9000".parse().unwrap());
        assert_eq!(c.rawsocket.address, "127.0.0.1:9001".parse().unwrap());
        assert_eq!(c.websocket.path, "/wamp");
        assert_eq!(c.log_level, "debug");
        assert_eq!(c.placement, Placement::Unpinned);
        let names: Vec<&str> = c.realms.realm.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ["a.b", "c"]);
    }

    #[test]
    fn ws_off_disables_the_websocket_listener() {
        let c = resolve(&cli(&["--ws", "off"])).unwrap();
        assert!(!c.websocket.enabled);
        assert!(c.rawsocket.enabled);
    }

    #[test]
    fn both_listeners_off_is_reported() {
        let report = check_config(&cli(&["--ws", "off", "--rs", "OFF"]));
        assert!(!report.ok());
        assert!(
            report.text.contains("'websocket.enabled'"),
            "{}",
            report.text
        );
    }

    #[test]
    fn ws_address_enables_a_listener_the_file_disabled() {
        let mut c = Config::default();
        c.websocket.enabled = false;
        cli(&["--ws", "127.0.0.1:0"]).apply_to(&mut c);
        assert!(c.websocket.enabled);
    }

    #[test]
    fn override_errors_are_validated_and_named() {
        let report = check_config(&cli(&["--ws-path", "ws", "--realm", "bad realm"]));
        assert_eq!(report.exit_code, 1);
        assert!(report.text.contains("'websocket.path'"), "{}", report.text);
        assert!(
            report.text.contains("'realms.realm[0].name'"),
            "{}",
            report.text
        );
    }

    #[test]
    fn bad_listen_address_is_a_usage_error() {
        let args = ["switchyard", "--ws", "localhost"];
        assert!(Cli::try_parse_from(args).is_err());
    }

    #[test]
    fn check_config_says_ok() {
        let report = check_config(&cli(&["--check-config"]));
        assert_eq!(
            report,
            CheckReport {
                text: "config OK".into(),
                exit_code: 0
            }
        );
    }

    #[test]
    fn print_config_shows_the_overrides() {
        let text = print_config(&cli(&["--shards", "7", "--print-config"])).unwrap();
        assert_eq!(Config::from_toml_str(&text).unwrap().shards, 7);
    }

    #[test]
    fn missing_config_file_is_an_error() {
        let err = resolve(&cli(&["--config", "/nonexistent.toml"])).unwrap_err();
        assert!(matches!(err, ConfigError::Read { .. }));
    }

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
