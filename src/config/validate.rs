//! Semantic validation: ranges, addresses, powers of two, realm names and
//! cross-field rules. Every problem is collected, each naming its key, and
//! all are reported together.

use std::fmt::Display;
use std::ops::RangeInclusive;

use super::error::{ConfigError, Problem};
use super::tree::{
    Config, MeshConfig, RawSocketConfig, RealmConfig, RealmsConfig, SessionConfig, WebSocketConfig,
    MAX_MESSAGE_SIZE, MIN_MESSAGE_SIZE,
};

/// Most shards a router may be configured with.
pub const MAX_SHARDS: usize = crate::realm::ids::MAX_SHARDS;

/// The most events one history subscription may keep.
pub const MAX_HISTORY_EVENTS: usize = 1_000_000;

/// The longest call timeout a realm may configure: one day, in milliseconds.
pub const MAX_CALL_TIMEOUT_MS: u64 = 86_400_000;
/// Longest accepted timeout or interval: one hour.
const MAX_MS: u64 = 3_600_000;
/// Bounds of a session's outbound byte budget: 4 KiB ..= 1 GiB.
const BUDGET_RANGE: RangeInclusive<usize> = 4096..=1 << 30;

impl Config {
    /// Checks every semantic rule; all problems are reported at once.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let problems = self.problems();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(ConfigError::invalid(problems))
        }
    }

    /// Every semantic problem of this configuration, in key order.
    pub fn problems(&self) -> Vec<Problem> {
        let mut out = Vec::new();
        check_top(self, &mut out);
        check_websocket(&self.websocket, &mut out);
        check_rawsocket(&self.rawsocket, &mut out);
        check_listeners(self, &mut out);
        check_session(&self.session, &mut out);
        check_mesh(&self.mesh, &mut out);
        check_realms(&self.realms, &mut out);
        super::bridge::check_bridge(&self.http.bridge, self.http.enabled, &self.realms, &mut out);
        out
    }
}

/// Pushes a problem unless `value` lies in `range`.
fn in_range<T: PartialOrd + Display>(
    out: &mut Vec<Problem>,
    key: &str,
    value: T,
    range: RangeInclusive<T>,
) {
    if !range.contains(&value) {
        let (lo, hi) = (range.start(), range.end());
        out.push(Problem::invalid(
            key,
            format!("must be in {lo}..={hi}, got {value}"),
        ));
    }
}

fn check_top(c: &Config, out: &mut Vec<Problem>) {
    in_range(out, "shards", c.shards, 0..=MAX_SHARDS);
    in_range(out, "shutdown_grace_ms", c.shutdown_grace_ms, 0..=MAX_MS);
    in_range(
        out,
        "spin_before_park_us",
        c.spin_before_park_us,
        0..=1_000_000,
    );
    if let Some(why) = log_level_problem(&c.log_level) {
        out.push(Problem::invalid("log_level", why));
    }
}

fn log_level_problem(level: &str) -> Option<String> {
    if level.trim().is_empty() {
        return Some("must not be empty (e.g. \"info\" or \"warn,switchyard=debug\")".into());
    }
    tracing_subscriber::EnvFilter::try_new(level)
        .err()
        .map(|e| format!("not a valid filter: {e}"))
}

fn check_websocket(ws: &WebSocketConfig, out: &mut Vec<Problem>) {
    if !ws.path.starts_with('/') {
        out.push(Problem::invalid("websocket.path", "must start with '/'"));
    } else if ws
        .path
        .chars()
        .any(|c| c.is_whitespace() || c == '?' || c == '#')
    {
        out.push(Problem::invalid(
            "websocket.path",
            "must not contain whitespace, '?' or '#'",
        ));
    }
    in_range(
        out,
        "websocket.max_message_size",
        ws.max_message_size,
        MIN_MESSAGE_SIZE..=MAX_MESSAGE_SIZE,
    );
    in_range(
        out,
        "websocket.compression_threshold_bytes",
        ws.compression_threshold_bytes,
        0..=MAX_MESSAGE_SIZE,
    );
}

fn check_rawsocket(rs: &RawSocketConfig, out: &mut Vec<Problem>) {
    let key = "rawsocket.max_message_size";
    let size = rs.max_message_size;
    if !(MIN_MESSAGE_SIZE..=MAX_MESSAGE_SIZE).contains(&size) || !size.is_power_of_two() {
        out.push(Problem::invalid(
            key,
            format!(
                "must be a power of two in {MIN_MESSAGE_SIZE}..={MAX_MESSAGE_SIZE} \
                 (RawSocket announces 2^(9+L)), got {size}"
            ),
        ));
    }
}

fn check_listeners(c: &Config, out: &mut Vec<Problem>) {
    use super::secure_listeners::{check_ports, check_tls, check_unix};
    let (ws, rs) = (&c.websocket, &c.rawsocket);
    let any = ws.enabled || rs.enabled || ws.tls.enabled || rs.tls.enabled || c.unix.enabled;
    if !any {
        out.push(Problem::invalid(
            "websocket.enabled",
            "no listener enabled: enable websocket, rawsocket, their tls, or unix",
        ));
    }
    check_tls("websocket.tls", &ws.tls, out);
    check_tls("rawsocket.tls", &rs.tls, out);
    check_unix(&c.unix, out);
    super::http::check_http(
        &c.http,
        &[
            ("websocket", ws.enabled, ws.address),
            ("rawsocket", rs.enabled, rs.address),
            ("websocket.tls", ws.tls.enabled, ws.tls.address),
            ("rawsocket.tls", rs.tls.enabled, rs.tls.address),
        ],
        out,
    );
    check_ports(
        &[
            ("websocket", ws.enabled, ws.address),
            ("websocket.tls", ws.tls.enabled, ws.tls.address),
            ("rawsocket.tls", rs.tls.enabled, rs.tls.address),
        ],
        out,
    );
    check_ports(
        &[
            ("rawsocket", rs.enabled, rs.address),
            ("websocket.tls", ws.tls.enabled, ws.tls.address),
            ("rawsocket.tls", rs.tls.enabled, rs.tls.address),
        ],
        out,
    );
    let same_port = ws.address.port() == rs.address.port() && ws.address.port() != 0;
    let overlap = ws.address.ip() == rs.address.ip()
        || ws.address.ip().is_unspecified()
        || rs.address.ip().is_unspecified();
    if ws.enabled && rs.enabled && same_port && overlap {
        out.push(Problem::invalid(
            "rawsocket.address",
            format!(
                "{} clashes with websocket.address {}; to serve both on one port, \
                 set websocket.rawsocket_on_same_port = true and disable [rawsocket]",
                rs.address, ws.address
            ),
        ));
    }
}

fn check_session(s: &SessionConfig, out: &mut Vec<Problem>) {
    in_range(
        out,
        "session.handshake_timeout_ms",
        s.handshake_timeout_ms,
        1..=MAX_MS,
    );
    in_range(out, "session.max_sessions", s.max_sessions, 1..=10_000_000);
    in_range(
        out,
        "session.ping_interval_ms",
        s.ping_interval_ms,
        0..=MAX_MS,
    );
    in_range(
        out,
        "session.ping_timeout_ms",
        s.ping_timeout_ms,
        1..=MAX_MS,
    );
    in_range(
        out,
        "session.outbound_budget_bytes",
        s.outbound_budget_bytes,
        BUDGET_RANGE,
    );
    // Checked against a valid budget only (a bad budget is one problem).
    if BUDGET_RANGE.contains(&s.outbound_budget_bytes) {
        in_range(
            out,
            "session.outbound_watermark_bytes",
            s.outbound_watermark_bytes,
            1024..=s.outbound_budget_bytes,
        );
    }
    in_range(
        out,
        "session.stall_timeout_ms",
        s.stall_timeout_ms,
        1..=MAX_MS,
    );
    in_range(
        out,
        "session.auth_failure_window_ms",
        s.auth_failure_window_ms,
        1..=MAX_MS,
    );
}

fn check_mesh(m: &MeshConfig, out: &mut Vec<Problem>) {
    in_range(out, "mesh.batch_max", m.batch_max, 1..=65_536);
    in_range(
        out,
        "mesh.channel_capacity",
        m.channel_capacity,
        1..=1 << 24,
    );
}

/// The retention bounds and history subscriptions of `realms.realm[i]`.
fn check_pubsub(i: usize, realm: &RealmConfig, out: &mut Vec<Problem>) {
    let key = |k: &str| format!("realms.realm[{i}].{k}");
    if realm.retention && realm.retained_max_topics == 0 {
        out.push(Problem::invalid(
            key("retained_max_topics"),
            "must be at least 1 (set retention = false to keep no retained events)",
        ));
    }
    if realm.retained_ttl_ms > MAX_CALL_TIMEOUT_MS * 365 {
        out.push(Problem::invalid(key("retained_ttl_ms"), "is over one year"));
    }
    for (j, h) in realm.history.iter().enumerate() {
        let hkey = |k: &str| key(&format!("history[{j}].{k}"));
        let Some(policy) = crate::routing::MatchPolicy::from_name(&h.match_policy) else {
            out.push(Problem::invalid(
                hkey("match"),
                format!(
                    "{:?} is not one of \"exact\", \"prefix\", \"wildcard\"",
                    h.match_policy
                ),
            ));
            continue;
        };
        if !crate::routing::is_valid_uri(&h.topic, policy, crate::routing::UriCheck::Loose) {
            out.push(Problem::invalid(
                hkey("topic"),
                format!(
                    "{:?} is not a valid {} topic pattern",
                    h.topic, h.match_policy
                ),
            ));
        }
        if !(1..=MAX_HISTORY_EVENTS).contains(&h.limit) {
            out.push(Problem::invalid(
                hkey("limit"),
                format!("{} is not in 1..={MAX_HISTORY_EVENTS}", h.limit),
            ));
        }
    }
}

fn check_realms(r: &RealmsConfig, out: &mut Vec<Problem>) {
    if r.realm.is_empty() && !r.auto_create {
        out.push(Problem::invalid(
            "realms.realm",
            "no realms: add a [[realms.realm]] entry or set realms.auto_create = true",
        ));
    }
    for (i, realm) in r.realm.iter().enumerate() {
        let key = format!("realms.realm[{i}].name");
        if !is_loose_uri(&realm.name) {
            out.push(Problem::invalid(
                key,
                format!(
                    "{:?} is not a valid realm URI ('.'-separated non-empty \
                     components without whitespace or '#')",
                    realm.name
                ),
            ));
        } else if let Some(first) = r.realm[..i].iter().position(|x| x.name == realm.name) {
            out.push(Problem::invalid(
                key,
                format!("duplicate of realms.realm[{first}].name {:?}", realm.name),
            ));
        }
        let max = realm.call_timeout_max_ms;
        for (name, ms) in [
            ("call_timeout_default_ms", realm.call_timeout_default_ms),
            ("call_timeout_max_ms", max),
        ] {
            if ms > MAX_CALL_TIMEOUT_MS {
                out.push(Problem::invalid(
                    format!("realms.realm[{i}].{name}"),
                    format!("{ms} is over the limit of {MAX_CALL_TIMEOUT_MS} (one day)"),
                ));
            }
        }
        check_pubsub(i, realm, out);
        if let Some(ms) = realm.session.stall_timeout_ms {
            in_range(
                out,
                &format!("realms.realm[{i}].session.stall_timeout_ms"),
                ms,
                1..=MAX_MS,
            );
        }
        super::auth_check::check_auth(i, realm, out);
        if max > 0 && realm.call_timeout_default_ms > max {
            out.push(Problem::invalid(
                format!("realms.realm[{i}].call_timeout_default_ms"),
                format!(
                    "{} is above realms.realm[{i}].call_timeout_max_ms ({max})",
                    realm.call_timeout_default_ms
                ),
            ));
        }
    }
}

/// The loose WAMP URI rule: '.'-separated components, each non-empty and
/// free of whitespace and '#'.
fn is_loose_uri(uri: &str) -> bool {
    uri.split('.')
        .all(|c| !c.is_empty() && !c.chars().any(|ch| ch.is_whitespace() || ch == '#'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::RealmConfig;

    fn keys(c: &Config) -> Vec<String> {
        c.problems().into_iter().map(|p| p.key).collect()
    }

    #[test]
    fn defaults_are_valid() {
        assert_eq!(Config::default().problems(), []);
    }

    #[test]
    fn a_watermark_above_the_budget_names_its_key() {
        let mut c = Config::default();
        c.session.outbound_watermark_bytes = c.session.outbound_budget_bytes + 1;
        let keys: Vec<String> = c.problems().into_iter().map(|p| p.key).collect();
        assert_eq!(keys, ["session.outbound_watermark_bytes"]);
    }

    #[test]
    fn every_range_problem_names_its_key() {
        let mut c = Config {
            shards: MAX_SHARDS + 1,
            shutdown_grace_ms: MAX_MS + 1,
            ..Config::default()
        };
        c.websocket.max_message_size = 100;
        c.session.handshake_timeout_ms = 0;
        c.session.max_sessions = 0;
        c.session.ping_interval_ms = MAX_MS + 1;
        c.session.ping_timeout_ms = 0;
        c.session.outbound_budget_bytes = 10;
        c.mesh.channel_capacity = 0;
        c.mesh.batch_max = 0;
        assert_eq!(
            keys(&c),
            [
                "shards",
                "shutdown_grace_ms",
                "websocket.max_message_size",
                "session.handshake_timeout_ms",
                "session.max_sessions",
                "session.ping_interval_ms",
                "session.ping_timeout_ms",
                "session.outbound_budget_bytes",
                "mesh.batch_max",
                "mesh.channel_capacity",
            ]
        );
    }

    #[test]
    fn all_problems_are_reported_together_in_the_error() {
        let mut c = Config {
            log_level: " ".into(),
            ..Config::default()
        };
        c.websocket.path = "ws".into();
        c.rawsocket.max_message_size = 1000;
        let err = c.validate().unwrap_err();
        assert_eq!(err.problems().len(), 3);
        let text = err.to_string();
        assert_eq!(text.lines().count(), 4, "{text}");
        for key in [
            "'log_level'",
            "'websocket.path'",
            "'rawsocket.max_message_size'",
        ] {
            assert!(text.contains(key), "{key} missing from {text}");
        }
    }

    #[test]
    fn rawsocket_size_must_be_a_power_of_two() {
        let mut c = Config::default();
        c.rawsocket.max_message_size = 3 << 10;
        assert_eq!(keys(&c), ["rawsocket.max_message_size"]);
        c.rawsocket.max_message_size = 1 << 25;
        assert_eq!(keys(&c), ["rawsocket.max_message_size"]);
        c.rawsocket.max_message_size = 512;
        assert_eq!(keys(&c), Vec::<String>::new());
    }

    #[test]
    fn log_level_must_be_a_valid_filter() {
        let mut c = Config {
            log_level: "warn,switchyard=debug".into(),
            ..Config::default()
        };
        assert_eq!(c.problems(), []);
        c.log_level = "switchyard=loud".into();
        assert_eq!(keys(&c), ["log_level"]);
    }

    #[test]
    fn websocket_path_must_be_a_plain_absolute_path() {
        let mut c = Config::default();
        c.websocket.path = "/a b".into();
        assert_eq!(keys(&c), ["websocket.path"]);
    }

    #[test]
    fn at_least_one_listener_must_be_enabled() {
        let mut c = Config::default();
        c.websocket.enabled = false;
        assert_eq!(c.problems(), []);
        c.rawsocket.enabled = false;
        assert_eq!(keys(&c), ["websocket.enabled"]);
    }

    #[test]
    fn listeners_must_not_share_a_port_unless_it_is_zero() {
        let mut c = Config::default();
        c.rawsocket.address = "0.0.0.0:8080".parse().unwrap();
        assert_eq!(keys(&c), ["rawsocket.address"]);
        c.rawsocket.address = "127.0.0.2:8080".parse().unwrap();
        assert_eq!(c.problems(), []);
        c.websocket.address = "127.0.0.1:0".parse().unwrap();
        c.rawsocket.address = "127.0.0.1:0".parse().unwrap();
        assert_eq!(c.problems(), []);
    }

    #[test]
    fn realm_names_must_be_uris_and_unique() {
        let mut c = Config::default();
        c.realms.realm = ["a.b", "a..b", "x y", "a.b", "c#", "realm1", ""]
            .into_iter()
            .map(RealmConfig::new)
            .collect();
        assert_eq!(
            keys(&c),
            [
                "realms.realm[1].name",
                "realms.realm[2].name",
                "realms.realm[3].name",
                "realms.realm[4].name",
                "realms.realm[6].name",
            ]
        );
        assert!(c.problems()[2]
            .to_string()
            .contains("duplicate of realms.realm[0]"));
    }

    #[test]
    fn no_realms_needs_auto_create() {
        let mut c = Config::default();
        c.realms.realm.clear();
        assert_eq!(keys(&c), ["realms.realm"]);
        c.realms.auto_create = true;
        assert_eq!(c.problems(), []);
    }
}
