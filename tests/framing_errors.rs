//! Refused handshakes and framing violations over real loopback sockets:
//! RawSocket error replies, HTTP refusals, oversized messages (rejected on
//! the header, before the body is sent), fragmented and byte-by-byte input.
#![allow(clippy::unwrap_used)]

mod framing_support;

use bytes::BytesMut;
use framing_support::{options, payload, start, Outcome, Server, TIMEOUT};
use std::io::{Read, Write};
use std::net::TcpStream;
use switchyard::transport::blocking::Client;
use switchyard::transport::websocket::frame::{self, opcode};
use switchyard::transport::{Inbound, Refusal};
use switchyard::wire::Serializer;

fn raw(server: &Server) -> TcpStream {
    let s = TcpStream::connect(server.addr).unwrap();
    s.set_read_timeout(Some(TIMEOUT)).unwrap();
    s
}

/// Sends a RawSocket hello; returns the 4-byte reply and whether EOF follows.
fn hello(server: &Server, octets: [u8; 4]) -> ([u8; 4], bool) {
    let mut s = raw(server);
    s.write_all(&octets).unwrap();
    let mut reply = [0u8; 4];
    s.read_exact(&mut reply).unwrap();
    let eof = s.read(&mut [0u8; 1]).unwrap() == 0;
    (reply, eof)
}

#[test]
fn rawsocket_handshake_errors_are_answered_with_their_codes() {
    let server = start(options(1 << 20));
    for ser in [0u8, 4, 5, 15] {
        assert_eq!(
            hello(&server, [0x7F, 0xF0 | ser, 0, 0]),
            ([0x7F, 0x10, 0, 0], true)
        );
    }
    assert_eq!(
        hello(&server, [0x7F, 0xF1, 0, 1]),
        ([0x7F, 0x30, 0, 0], true)
    );
    assert_eq!(
        hello(&server, [0x7F, 0xF2, 0x80, 0]),
        ([0x7F, 0x30, 0, 0], true)
    );
    // Success echoes the serializer with our own limit: 1 MiB is L = 11.
    let mut s = raw(&server);
    s.write_all(&[0x7F, 0x03, 0, 0]).unwrap();
    let mut reply = [0u8; 4];
    s.read_exact(&mut reply).unwrap();
    assert_eq!(reply, [0x7F, 0xB3, 0, 0]);
}

#[test]
fn blocking_client_reports_refusals() {
    let server = start(options(1 << 20));
    let refusal = Client::handshake_error(&server.ws("/nope"), Serializer::Json, TIMEOUT);
    assert_eq!(refusal.unwrap(), Refusal::Http(404));
    assert!(Client::handshake_error(&server.rs(), Serializer::Json, TIMEOUT).is_err());
    assert!(matches!(server.outcome(), Outcome::Handshake(_)));
}

/// Sends an HTTP request; returns the whole response (the server closes).
fn http(server: &Server, request: &str) -> String {
    let mut s = raw(server);
    s.write_all(request.as_bytes()).unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    resp
}

fn upgrade(path: &str, protocols: &str) -> String {
    format!(
        "GET {path} HTTP/1.1\r\nHost: t\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
         Sec-WebSocket-Protocol: {protocols}\r\n\r\n"
    )
}

#[test]
fn http_refusals_explain_themselves() {
    let server = start(options(1 << 20));
    let resp = http(&server, &upgrade("/ws", "wamp.2.ubjson, mqtt"));
    assert!(resp.starts_with("HTTP/1.1 400 "), "{resp}");
    assert!(
        resp.contains("wamp.2.json, wamp.2.msgpack, wamp.2.cbor"),
        "{resp}"
    );
    let resp = http(&server, &upgrade("/elsewhere", "wamp.2.json"));
    assert!(resp.starts_with("HTTP/1.1 404 "), "{resp}");
    let resp = http(&server, "GET /ws HTTP/1.1\r\nHost: t\r\n\r\n");
    assert!(resp.starts_with("HTTP/1.1 426 "), "{resp}");
    let resp = http(
        &server,
        &format!("GET /ws HTTP/1.1\r\nX: {}\r\n", "y".repeat(9000)),
    );
    assert!(resp.starts_with("HTTP/1.1 431 "), "{resp}");
}

#[test]
fn oversized_rawsocket_header_is_rejected_before_its_body() {
    let server = start(options(1 << 16));
    let mut c = Client::connect(&server.rs(), Serializer::Json, TIMEOUT).unwrap();
    assert_eq!(c.peer_max_message_size(), 1 << 16);
    c.send(&payload(1 << 16)).unwrap();
    assert_eq!(c.recv().unwrap().len(), 1 << 16);
    // A header announcing 64 KiB + 1, and no body at all.
    c.send_raw(&[0, 0x01, 0x00, 0x01]).unwrap();
    assert_eq!(
        c.recv_frame().unwrap(),
        None,
        "closed without waiting for the body"
    );
    match server.outcome() {
        Outcome::Failed(_, e, _) => assert!(e.contains("65537"), "{e}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn oversized_websocket_message_gets_close_1009() {
    let server = start(options(1000));
    let mut c = Client::connect(&server.ws("/ws"), Serializer::MsgPack, TIMEOUT).unwrap();
    // A header announcing 2^40 bytes, and no body.
    c.send_raw(&[0x82, 0xFF, 0, 0, 1, 0, 0, 0, 0, 0, 1, 2, 3, 4])
        .unwrap();
    assert_eq!(c.recv_frame().unwrap(), Some(Inbound::Close));
    assert!(matches!(
        server.outcome(),
        Outcome::Failed(_, _, Some(1009))
    ));
    // Fragments adding up past the limit fail the same way.
    let mut c = Client::connect(&server.ws("/ws"), Serializer::MsgPack, TIMEOUT).unwrap();
    c.send_raw(&fragment(false, opcode::BINARY, &[1; 600]))
        .unwrap();
    c.send_raw(&fragment(true, opcode::CONTINUATION, &[2; 401]))
        .unwrap();
    assert_eq!(c.recv_frame().unwrap(), Some(Inbound::Close));
    assert!(matches!(
        server.outcome(),
        Outcome::Failed(_, _, Some(1009))
    ));
}

fn fragment(fin: bool, op: u8, payload: &[u8]) -> Vec<u8> {
    let key = [9, 8, 7, 6];
    let mut out = BytesMut::new();
    frame::write_header(
        &mut out,
        if fin { frame::FIN | op } else { op },
        payload.len(),
        Some(key),
    );
    let start = out.len();
    out.extend_from_slice(payload);
    frame::apply_mask(&mut out[start..], key);
    out.to_vec()
}

#[test]
fn fragmented_messages_are_reassembled_around_pings() {
    let server = start(options(1 << 20));
    let mut c = Client::connect(&server.ws("/ws"), Serializer::Json, TIMEOUT).unwrap();
    let mut s = fragment(false, opcode::TEXT, b"[1,\"h");
    s.extend(fragment(true, opcode::PING, b"mid"));
    s.extend(fragment(false, opcode::CONTINUATION, "é".as_bytes()));
    s.extend(fragment(true, opcode::CONTINUATION, b"\"]"));
    c.send_raw(&s).unwrap();
    assert_eq!(c.recv_frame().unwrap(), Some(Inbound::Pong("mid".into())));
    assert_eq!(&c.recv().unwrap()[..], "[1,\"hé\"]".as_bytes());
}

#[test]
fn frames_sent_byte_by_byte_arrive_whole() {
    let server = start(options(1 << 20));
    for url in [server.rs(), server.ws("/ws")] {
        let mut c = Client::connect(&url, Serializer::Cbor, TIMEOUT).unwrap();
        let bytes = if url.starts_with("rs") {
            [&[0, 0, 0, 3][..], b"abc"].concat()
        } else {
            fragment(true, opcode::BINARY, b"abc")
        };
        for b in &bytes {
            c.send_raw(std::slice::from_ref(b)).unwrap();
        }
        assert_eq!(&c.recv().unwrap()[..], b"abc");
    }
}

#[test]
fn websocket_violations_close_with_the_right_code() {
    let server = start(options(1 << 20));
    let cases: [(Vec<u8>, u16); 4] = [
        (vec![0x82, 0x01, 0x00], 1002),                // unmasked client frame
        (fragment(true, opcode::TEXT, &[0xFF]), 1007), // invalid UTF-8
        (fragment(true, 0x3, b"x"), 1002),             // reserved opcode
        (fragment(true, opcode::CONTINUATION, b"x"), 1002),
    ];
    for (bytes, code) in cases {
        let mut c = Client::connect(&server.ws("/ws"), Serializer::Json, TIMEOUT).unwrap();
        c.send_raw(&bytes).unwrap();
        assert_eq!(c.recv_frame().unwrap(), Some(Inbound::Close));
        match server.outcome() {
            Outcome::Failed(_, _, Some(got)) => assert_eq!(got, code, "{bytes:02x?}"),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn rawsocket_violations_close_the_connection() {
    let server = start(options(1 << 20));
    for header in [[0x03u8, 0, 0, 0], [0x10, 0, 0, 1], [0x08, 0, 0, 1]] {
        let mut c = Client::connect(&server.rs(), Serializer::Json, TIMEOUT).unwrap();
        c.send_raw(&header).unwrap();
        assert_eq!(c.recv_frame().unwrap(), None);
        assert!(matches!(server.outcome(), Outcome::Failed(..)));
    }
}
