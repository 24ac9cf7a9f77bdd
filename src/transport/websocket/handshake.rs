//! The WebSocket opening handshake (RFC 6455 section 4), sans-IO: the
//! server parses an HTTP/1.1 Upgrade request and answers 101 or a refusal;
//! the client builds the request and checks the 101 response.
//!
//! The WAMP subprotocol (`wamp.2.json`, `wamp.2.msgpack`, `wamp.2.cbor`) is
//! chosen in the client's order of preference; a request offering none of
//! them is refused with HTTP 400 naming the supported ones. When the server
//! allows it, a `permessage-deflate` offer is answered (see `extension`); a
//! `Sec-WebSocket-Extensions` header that does not parse is then an HTTP
//! 400 (with compression off the header is not read).

use super::extension::{self, PerMessageDeflate};
use crate::transport::error::{Refusal, TransportError};
use crate::wire::Serializer;
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use sha1::{Digest, Sha1};

/// The largest request (or response) head we read.
pub const MAX_HEAD: usize = 8 * 1024;
const MAX_HEADERS: usize = 48;
const GUID: &[u8] = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

/// An accepted upgrade request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upgrade {
    /// The negotiated serializer.
    pub serializer: Serializer,
    /// Length of the request head; bytes after it are WebSocket frames.
    pub head_len: usize,
    /// The 101 response to send.
    pub response: Vec<u8>,
    /// permessage-deflate, when agreed.
    pub deflate: Option<PerMessageDeflate>,
}

/// A refused request: the HTTP status and a plain-text explanation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// The HTTP status code.
    pub status: u16,
    /// The response body.
    pub body: String,
}

impl Rejection {
    fn new(status: u16, body: impl Into<String>) -> Self {
        Rejection {
            status,
            body: body.into(),
        }
    }

    /// The complete HTTP response for this refusal.
    pub fn response(&self) -> Vec<u8> {
        let extra = match self.status {
            426 => "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n",
            405 => "Allow: GET\r\n",
            _ => "",
        };
        format!(
            "HTTP/1.1 {} {}\r\nContent-Type: text/plain; charset=utf-8\r\n\
             Content-Length: {}\r\nConnection: close\r\n{}\r\n{}",
            self.status,
            reason_phrase(self.status),
            self.body.len(),
            extra,
            self.body
        )
        .into_bytes()
    }
}

fn reason_phrase(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        426 => "Upgrade Required",
        431 => "Request Header Fields Too Large",
        _ => "Error",
    }
}

/// The `Sec-WebSocket-Accept` value for a `Sec-WebSocket-Key`.
pub fn accept_key(key: &[u8]) -> String {
    let mut sha = Sha1::new();
    sha.update(key);
    sha.update(GUID);
    BASE64.encode(sha.finalize())
}

/// Parses an upgrade request at the front of `buf`, expected on `path`,
/// agreeing to permessage-deflate when `deflate` allows it and the client
/// offers it. `Ok(None)`: the head is incomplete (and still under `MAX_HEAD`).
pub fn parse_request(buf: &[u8], path: &str, deflate: bool) -> Result<Option<Upgrade>, Rejection> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let head_len = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) if n <= MAX_HEAD => n,
        Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => return Ok(None),
        Ok(_) | Err(httparse::Error::TooManyHeaders) => {
            return Err(Rejection::new(431, "request head too large\n"))
        }
        Err(_) => return Err(Rejection::new(400, "malformed HTTP request\n")),
    };
    if req.method != Some("GET") {
        return Err(Rejection::new(405, "WebSocket upgrades use GET\n"));
    }
    let target = req.path.unwrap_or("");
    if target.split('?').next() != Some(path) {
        return Err(Rejection::new(
            404,
            format!("no WebSocket endpoint at {target}\n"),
        ));
    }
    if req.version != Some(1) {
        return Err(Rejection::new(400, "HTTP/1.1 required\n"));
    }
    let (serializer, key) = check_upgrade_headers(req.headers)?;
    let agreed = if deflate {
        let offers =
            extension::parse(values(req.headers, "sec-websocket-extensions")).map_err(|e| {
                Rejection::new(400, format!("malformed Sec-WebSocket-Extensions: {e}\n"))
            })?;
        extension::answer(&offers)
    } else {
        None
    };
    let extensions = agreed.as_ref().map_or(String::new(), |(_, value)| {
        format!("Sec-WebSocket-Extensions: {value}\r\n")
    });
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\nSec-WebSocket-Protocol: {}\r\n{extensions}\r\n",
        accept_key(key),
        serializer.subprotocol()
    );
    Ok(Some(Upgrade {
        serializer,
        head_len,
        response: response.into_bytes(),
        deflate: agreed.map(|(params, _)| params),
    }))
}

/// Checks Upgrade, Connection, version and key; picks the subprotocol.
/// Returns it with the key.
fn check_upgrade_headers<'a>(
    headers: &[httparse::Header<'a>],
) -> Result<(Serializer, &'a [u8]), Rejection> {
    if !has_token(headers, "upgrade", "websocket") {
        return Err(Rejection::new(426, "this endpoint only speaks WebSocket\n"));
    }
    if !has_token(headers, "connection", "upgrade") {
        return Err(Rejection::new(400, "Connection: upgrade required\n"));
    }
    if header(headers, "sec-websocket-version").map(<[u8]>::trim_ascii) != Some(b"13") {
        return Err(Rejection::new(
            426,
            "only WebSocket version 13 is supported\n",
        ));
    }
    let key = header(headers, "sec-websocket-key")
        .unwrap_or(b"")
        .trim_ascii();
    if BASE64.decode(key).map(|k| k.len()) != Ok(16) {
        return Err(Rejection::new(
            400,
            "missing or invalid Sec-WebSocket-Key\n",
        ));
    }
    let serializer = tokens(headers, "sec-websocket-protocol")
        .find_map(|t| {
            std::str::from_utf8(t)
                .ok()
                .and_then(Serializer::from_subprotocol)
        })
        .ok_or_else(|| {
            let names: Vec<&str> = Serializer::ALL.iter().map(|s| s.subprotocol()).collect();
            Rejection::new(
                400,
                format!(
                    "no supported WAMP subprotocol offered; supported: {}\n",
                    names.join(", ")
                ),
            )
        })?;
    Ok((serializer, key))
}

/// The value of the first header named `name` (ASCII case-insensitive).
fn header<'a>(headers: &[httparse::Header<'a>], name: &str) -> Option<&'a [u8]> {
    headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value)
}

/// The value of every header named `name`, in order.
fn values<'h, 'a: 'h>(
    headers: &'h [httparse::Header<'a>],
    name: &'h str,
) -> impl Iterator<Item = &'a [u8]> + 'h {
    headers
        .iter()
        .filter(move |h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value)
}

/// Every comma-separated token of every header named `name`, trimmed.
fn tokens<'h, 'a: 'h>(
    headers: &'h [httparse::Header<'a>],
    name: &'h str,
) -> impl Iterator<Item = &'a [u8]> + 'h {
    headers
        .iter()
        .filter(move |h| h.name.eq_ignore_ascii_case(name))
        .flat_map(|h| h.value.split(|&b| b == b','))
        .map(<[u8]>::trim_ascii)
}

fn has_token(headers: &[httparse::Header<'_>], name: &str, token: &str) -> bool {
    tokens(headers, name).any(|t| t.eq_ignore_ascii_case(token.as_bytes()))
}

/// A client's upgrade request for `path` on `host` (the Host header value),
/// offering `serializer` (and permessage-deflate when `deflate`), and the
/// key the response must acknowledge.
pub fn client_request(
    host: &str,
    path: &str,
    serializer: Serializer,
    deflate: bool,
) -> (Vec<u8>, String) {
    let key = BASE64.encode(rand::random::<[u8; 16]>());
    let extensions = if deflate {
        format!(
            "Sec-WebSocket-Extensions: {}\r\n",
            extension::client_offer()
        )
    } else {
        String::new()
    };
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Protocol: {}\r\n{extensions}\r\n",
        serializer.subprotocol()
    );
    (request.into_bytes(), key)
}

/// An accepted 101 response, as the client sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Accepted {
    /// Length of the response head; bytes after it are WebSocket frames.
    pub head_len: usize,
    /// permessage-deflate, when the server agreed to our offer.
    pub deflate: Option<PerMessageDeflate>,
}

/// Checks the server's response at the front of `buf` to a request made
/// with `key` for `serializer` (offering permessage-deflate when
/// `deflate`). `Ok(None)`: incomplete. A status other than 101 is
/// `Refused(Http(_))`.
pub fn check_response(
    buf: &[u8],
    key: &str,
    serializer: Serializer,
    deflate: bool,
) -> Result<Option<Accepted>, TransportError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut resp = httparse::Response::new(&mut headers);
    let head_len = match resp.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => return Ok(None),
        _ => return Err(TransportError::Handshake("malformed HTTP response")),
    };
    match resp.code {
        Some(101) => {}
        Some(status) => return Err(TransportError::Refused(Refusal::Http(status))),
        None => return Err(TransportError::Handshake("HTTP response without a status")),
    }
    if !has_token(resp.headers, "upgrade", "websocket")
        || !has_token(resp.headers, "connection", "upgrade")
    {
        return Err(TransportError::Handshake(
            "101 response without the upgrade headers",
        ));
    }
    let accept = header(resp.headers, "sec-websocket-accept").map(<[u8]>::trim_ascii);
    if accept != Some(accept_key(key.as_bytes()).as_bytes()) {
        return Err(TransportError::Handshake("wrong Sec-WebSocket-Accept"));
    }
    let proto = header(resp.headers, "sec-websocket-protocol").map(<[u8]>::trim_ascii);
    if proto != Some(serializer.subprotocol().as_bytes()) {
        return Err(TransportError::Handshake(
            "server did not select our subprotocol",
        ));
    }
    let extensions = extension::parse(values(resp.headers, "sec-websocket-extensions"))
        .map_err(|_| TransportError::Handshake("malformed Sec-WebSocket-Extensions"))?;
    let deflate =
        extension::check_answer(&extensions, deflate).map_err(TransportError::Handshake)?;
    Ok(Some(Accepted { head_len, deflate }))
}

#[cfg(test)]
#[path = "handshake_tests.rs"]
mod tests;
