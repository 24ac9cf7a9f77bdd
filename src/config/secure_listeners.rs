//! The TLS listeners (`[websocket.tls]`, `[rawsocket.tls]`: a port of their
//! own beside the plain one, with certificate chain and key files and
//! optional client certificates) and the RawSocket listener on a Unix
//! domain socket (`[unix]`), with their validation: files readable and
//! forming a usable TLS configuration, ports not clashing, a socket path
//! and an octal file mode.

use super::error::Problem;
use serde::{Deserialize, Serialize};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

/// A TLS listener.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TlsConfig {
    pub enabled: bool,
    /// Address to bind (every shard binds it, SO_REUSEPORT).
    pub address: SocketAddr,
    /// PEM certificate chain, leaf first.
    pub cert_file: String,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1).
    pub key_file: String,
    /// "off", "optional" or "required": asking for client certificates.
    pub client_auth: String,
    /// PEM CA bundle client certificates are verified against.
    pub client_ca_file: String,
}

/// A table that leaves out `address` gets 127.0.0.1:8443 (give each TLS
/// listener its address).
impl Default for TlsConfig {
    fn default() -> Self {
        TlsConfig::disabled(8443)
    }
}

impl TlsConfig {
    pub fn disabled(port: u16) -> TlsConfig {
        TlsConfig {
            enabled: false,
            address: SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port)),
            cert_file: String::new(),
            key_file: String::new(),
            client_auth: "off".into(),
            client_ca_file: String::new(),
        }
    }

    /// The files as the transport takes them (validated: names are known).
    pub fn files(&self) -> crate::transport::tls::TlsFiles {
        use crate::transport::tls::{ClientAuth, TlsFiles};
        TlsFiles {
            cert: self.cert_file.clone().into(),
            key: self.key_file.clone().into(),
            client_ca: (!self.client_ca_file.is_empty())
                .then(|| self.client_ca_file.clone().into()),
            client_auth: match self.client_auth.as_str() {
                "optional" => ClientAuth::Optional,
                "required" => ClientAuth::Required,
                _ => ClientAuth::Off,
            },
        }
    }
}

/// RawSocket over a Unix domain socket (`[unix]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct UnixConfig {
    pub enabled: bool,
    /// The socket's path.
    pub path: String,
    /// The socket file's permissions, octal (e.g. "0660").
    pub mode: String,
}

impl Default for UnixConfig {
    fn default() -> Self {
        UnixConfig {
            enabled: false,
            path: "/tmp/switchyard.sock".into(),
            mode: "0660".into(),
        }
    }
}

impl UnixConfig {
    /// The mode as a number (validated).
    pub fn mode_bits(&self) -> u32 {
        u32::from_str_radix(self.mode.trim_start_matches("0o"), 8).unwrap_or(0o660)
    }
}

/// Checks a TLS listener named `key` (e.g. "websocket.tls").
pub fn check_tls(key: &str, tls: &TlsConfig, out: &mut Vec<Problem>) {
    if !tls.enabled {
        return;
    }
    if !["off", "optional", "required"].contains(&tls.client_auth.as_str()) {
        out.push(Problem::invalid(
            format!("{key}.client_auth"),
            format!(
                "{:?} is not one of off, optional, required",
                tls.client_auth
            ),
        ));
        return;
    }
    if tls.client_auth != "off" && tls.client_ca_file.is_empty() {
        out.push(Problem::invalid(
            format!("{key}.client_ca_file"),
            "client certificates need a CA bundle to verify them against",
        ));
        return;
    }
    for (name, value) in [("cert_file", &tls.cert_file), ("key_file", &tls.key_file)] {
        if value.is_empty() {
            out.push(Problem::invalid(
                format!("{key}.{name}"),
                "required when enabled",
            ));
            return;
        }
    }
    if let Err(why) = crate::transport::tls::server_config(&tls.files(), &[]) {
        out.push(Problem::invalid(key, why));
    }
}

/// Checks the Unix socket listener.
pub fn check_unix(u: &UnixConfig, out: &mut Vec<Problem>) {
    if !u.enabled {
        return;
    }
    if u.path.is_empty() || u.path.len() > 100 {
        out.push(Problem::invalid(
            "unix.path",
            "must be a path of 1..=100 bytes",
        ));
    }
    let digits = u.mode.trim_start_matches("0o");
    if u32::from_str_radix(digits, 8).map_or(true, |m| m > 0o777) {
        out.push(Problem::invalid(
            "unix.mode",
            format!("{:?} is not an octal file mode such as \"0660\"", u.mode),
        ));
    }
}

/// Whether two listening addresses would take the same port (port 0, a
/// free port each time, never clashes).
pub fn clashes(a: SocketAddr, b: SocketAddr) -> bool {
    a.port() != 0
        && a.port() == b.port()
        && (a.ip() == b.ip() || a.ip().is_unspecified() || b.ip().is_unspecified())
}

/// Ports of enabled TCP listeners must differ (port 0 excepted).
pub fn check_ports(listeners: &[(&str, bool, SocketAddr)], out: &mut Vec<Problem>) {
    for (i, (key, on, addr)) in listeners.iter().enumerate() {
        let clash = listeners[..i]
            .iter()
            .find(|(_, other_on, other)| *on && *other_on && clashes(*addr, *other));
        if let Some((other_key, _, other)) = clash {
            out.push(Problem::invalid(
                format!("{key}.address"),
                format!("{addr} clashes with {other_key}.address {other}"),
            ));
        }
    }
}
