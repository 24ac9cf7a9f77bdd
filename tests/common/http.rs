//! A plain HTTP/1.1 client for the operators' listener: write a request,
//! read until the router closes the connection.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Status, headers (lowercased names) and body of one HTTP exchange.
pub struct Reply {
    pub status: u16,
    pub headers: String,
    pub body: String,
}

/// Sends `request` as is and reads the whole reply.
pub fn exchange(addr: SocketAddr, request: &[u8]) -> Reply {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request).unwrap();
    // The request ends here: a head cut short is answered at once.
    s.shutdown(std::net::Shutdown::Write).unwrap();
    let mut raw = String::new();
    s.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").expect("a complete response");
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    Reply {
        status,
        headers: head.to_lowercase(),
        body: body.to_string(),
    }
}

/// `method path` with a `Host` header and nothing else.
pub fn request(addr: SocketAddr, method: &str, path: &str) -> Reply {
    let text = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    exchange(addr, text.as_bytes())
}
