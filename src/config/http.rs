//! The operators' HTTP listener (`[http]`): Prometheus metrics, health,
//! readiness and the status page, served by shard 0 on an address of its
//! own. On by default, on loopback only; its port must not clash with a WAMP
//! listener's. It also serves the HTTP bridge (`[http.bridge]`, off by
//! default).

use super::bridge::BridgeConfig;
use super::error::Problem;
use super::secure_listeners::clashes;
use serde::{Deserialize, Serialize};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

/// The HTTP listener (`[http]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HttpConfig {
    /// Whether to serve `/metrics`, `/health`, `/ready` and the status page.
    pub enabled: bool,
    /// Address to bind (shard 0 only).
    pub address: SocketAddr,
    /// `POST /publish` and `POST /call` (`[http.bridge]`).
    pub bridge: BridgeConfig,
}

impl Default for HttpConfig {
    fn default() -> Self {
        HttpConfig {
            enabled: true,
            address: SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, 8090)),
            bridge: BridgeConfig::default(),
        }
    }
}

/// Checks that the HTTP listener's port clashes with none of the enabled
/// TCP `listeners` (key, enabled, address).
pub fn check_http(
    http: &HttpConfig,
    listeners: &[(&str, bool, SocketAddr)],
    out: &mut Vec<Problem>,
) {
    if !http.enabled {
        return;
    }
    let clash = listeners
        .iter()
        .find(|(_, on, addr)| *on && clashes(http.address, *addr));
    if let Some((key, _, addr)) = clash {
        out.push(Problem::invalid(
            "http.address",
            format!("{} clashes with {key}.address {addr}", http.address),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    fn keys(c: &Config) -> Vec<String> {
        c.problems().into_iter().map(|p| p.key).collect()
    }

    #[test]
    fn the_http_port_must_not_clash_with_a_wamp_listener() {
        let mut c = Config::default();
        assert!(keys(&c).is_empty());
        c.http.address = "0.0.0.0:8081".parse().unwrap();
        assert_eq!(keys(&c), ["http.address"]);
        let why = c.problems()[0].to_string();
        assert!(why.contains("rawsocket.address"), "{why}");
        c.http.enabled = false;
        assert!(keys(&c).is_empty());
        c.http = HttpConfig::default();
        c.http.address = "127.0.0.1:0".parse().unwrap();
        c.websocket.address = "127.0.0.1:0".parse().unwrap();
        assert!(keys(&c).is_empty(), "port 0 never clashes");
    }
}
