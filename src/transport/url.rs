//! Client URLs: `ws://host:port/path` for WebSocket, `rs://host:port` or
//! `tcp://host:port` for RawSocket.

use super::error::TransportError;
use super::TransportKind;

/// A parsed client URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Target<'a> {
    pub(crate) kind: TransportKind,
    /// `host:port`, for connecting and for the Host header.
    pub(crate) authority: &'a str,
    /// The HTTP path (WebSocket only), `/` when none is given.
    pub(crate) path: &'a str,
}

pub(crate) fn parse(url: &str) -> Result<Target<'_>, TransportError> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or(TransportError::Url("expected scheme://host:port"))?;
    let kind = match scheme {
        "ws" => TransportKind::WebSocket,
        "rs" | "tcp" => TransportKind::RawSocket,
        _ => return Err(TransportError::Url("supported schemes: ws, rs, tcp")),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, "/"),
    };
    if authority.is_empty() || !authority.contains(':') {
        return Err(TransportError::Url("expected host:port"));
    }
    if kind == TransportKind::RawSocket && path != "/" {
        return Err(TransportError::Url("RawSocket URLs have no path"));
    }
    Ok(Target {
        kind,
        authority,
        path,
    })
}

/// The first socket address `authority` resolves to.
pub(crate) fn resolve(authority: &str) -> Result<std::net::SocketAddr, TransportError> {
    use std::net::ToSocketAddrs;
    authority
        .to_socket_addrs()?
        .next()
        .ok_or(TransportError::Url("host resolves to no address"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse() {
        let t = parse("ws://127.0.0.1:8080/ws?x=1").unwrap();
        assert_eq!(
            (t.kind, t.authority, t.path),
            (TransportKind::WebSocket, "127.0.0.1:8080", "/ws?x=1")
        );
        assert_eq!(parse("ws://h:1").unwrap().path, "/");
        assert_eq!(parse("rs://h:1").unwrap().kind, TransportKind::RawSocket);
        assert_eq!(parse("tcp://[::1]:1/").unwrap().authority, "[::1]:1");
        for bad in ["h:1", "wss://h:1", "ws://", "ws://host/x", "rs://h:1/path"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
