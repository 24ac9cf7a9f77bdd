//! A plain HTTP/1.1 client over `std::net::TcpStream` for the router's
//! HTTP listener (metrics, health, the bridge): write a request, read until
//! the router closes the connection (it answers one request per connection).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Status, headers (lowercased names) and body of one HTTP exchange.
pub struct Reply {
    pub status: u16,
    pub headers: String,
    pub body: String,
}

impl Reply {
    /// The body as JSON (fails the test if it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.body))
    }
}

/// Sends `request` as is, ends the request side, and reads the whole reply
/// (a head cut short is answered at once).
pub fn exchange(addr: SocketAddr, request: &[u8]) -> Reply {
    send(addr, request, true)
}

/// Sends `request` and reads the whole reply; with `end` false the request
/// side stays open, so a reply shows the router did not wait for more.
pub fn send(addr: SocketAddr, request: &[u8], end: bool) -> Reply {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    s.write_all(request).unwrap();
    if end {
        s.shutdown(std::net::Shutdown::Write).unwrap();
    }
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let raw = String::from_utf8(raw).expect("a UTF-8 response");
    let (head, body) = raw.split_once("\r\n\r\n").expect("a complete response");
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    Reply {
        status,
        headers: head.to_lowercase(),
        body: body.to_string(),
    }
}

/// A request without a body.
pub fn request(addr: SocketAddr, method: &str, path: &str) -> Reply {
    let text = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    exchange(addr, text.as_bytes())
}

/// A POST of `body` (with its Content-Length) and `headers` (`Name: value`).
pub fn post(addr: SocketAddr, target: &str, headers: &[&str], body: &str) -> Reply {
    let mut text = format!(
        "POST {target} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n",
        body.len()
    );
    for h in headers {
        text.push_str(h);
        text.push_str("\r\n");
    }
    text.push_str("\r\n");
    text.push_str(body);
    exchange(addr, text.as_bytes())
}
