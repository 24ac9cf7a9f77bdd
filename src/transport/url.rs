//! Client URLs: `ws://host:port/path` for WebSocket, `rs://host:port` or
//! `tcp://host:port` for RawSocket; `wss://` and `rss://` for the same over
//! TLS; `unix:///path` for RawSocket on a Unix domain socket.

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
    /// Over TLS.
    pub(crate) tls: bool,
    /// The socket path of a `unix://` URL.
    pub(crate) unix: Option<&'a str>,
}

impl Target<'_> {
    /// The host name TLS checks the certificate against.
    pub(crate) fn host(&self) -> &str {
        let a = self.authority;
        match a.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or(v6),
            None => a.rsplit_once(':').map_or(a, |(h, _)| h),
        }
    }
}

pub(crate) fn parse(url: &str) -> Result<Target<'_>, TransportError> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or(TransportError::Url("expected scheme://host:port"))?;
    if scheme == "unix" {
        if rest.is_empty() {
            return Err(TransportError::Url("expected unix:///path/to/socket"));
        }
        return Ok(Target {
            kind: TransportKind::RawSocket,
            authority: "localhost",
            path: "/",
            tls: false,
            unix: Some(rest),
        });
    }
    let (kind, tls) = match scheme {
        "ws" => (TransportKind::WebSocket, false),
        "wss" => (TransportKind::WebSocket, true),
        "rs" | "tcp" => (TransportKind::RawSocket, false),
        "rss" => (TransportKind::RawSocket, true),
        _ => {
            return Err(TransportError::Url(
                "supported schemes: ws, wss, rs, rss, tcp, unix",
            ))
        }
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
        tls,
        unix: None,
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
        let t = parse("wss://localhost:8443/ws").unwrap();
        assert!(t.tls && t.kind == TransportKind::WebSocket);
        assert_eq!(t.host(), "localhost");
        assert_eq!(parse("rss://[::1]:8444").unwrap().host(), "::1");
        let u = parse("unix:///tmp/s.sock").unwrap();
        assert_eq!(
            (u.unix, u.kind),
            (Some("/tmp/s.sock"), TransportKind::RawSocket)
        );
        for bad in [
            "h:1",
            "http://h:1",
            "ws://",
            "ws://host/x",
            "rs://h:1/path",
            "unix://",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
