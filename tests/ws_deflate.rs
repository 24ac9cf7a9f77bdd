//! WebSocket permessage-deflate (RFC 7692) against the router over real
//! loopback sockets: clients that negotiate it send compressed and plain
//! frames (fragmented too) with every serializer on 1 and 3 shards, get
//! large events and results compressed (RSV1) and small ones plain; a
//! decompression bomb is refused with close code 1009, RSV1 without the
//! extension with 1002; with `compression = false` nothing is negotiated.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{assert_same_payload, Client, Kind, Router, Setup, RECV_TIMEOUT};
use std::io::{Read, Write};
use std::net::TcpStream;
use switchyard::config::Config;
use switchyard::runtime::RouterOptions;
use switchyard::transport::blocking;
use switchyard::transport::websocket::frame::{self, opcode, FIN, RSV1};
use switchyard::transport::websocket::{deflate, handshake};
use switchyard::transport::{ClientOptions, Compression, PerMessageDeflate};
use switchyard::wire::{decode, encode_to_bytes, Dict, Message, Payload, Serializer, Text, Value};

/// What the router agrees to, whatever the offer.
const AGREED: PerMessageDeflate = PerMessageDeflate {
    server_no_context_takeover: true,
    client_no_context_takeover: true,
    server_max_window_bits: 15,
    client_max_window_bits: 15,
};

/// The router's answer, as it appears in the 101 response.
const ANSWER: &str = "Sec-WebSocket-Extensions: permessage-deflate; \
                      server_no_context_takeover; client_no_context_takeover\r\n";

/// A payload of about `n` bytes of repetitive text (compresses well).
fn big(n: usize) -> Payload {
    let mut text = String::new();
    for i in 0.. {
        if text.len() >= n {
            break;
        }
        text.push_str(&format!("item {i}; "));
    }
    Payload::args(vec![Value::str(text), Value::UInt(n as u64)])
}

fn small() -> Payload {
    Payload::args(vec![Value::UInt(7)])
}

/// A joined client that offers compression (messages of 256 bytes or more
/// go compressed).
fn deflating(router: &Router, setup: Setup) -> Client {
    let opts = ClientOptions {
        max_message_size: 16 << 20,
        compression: Some(Compression { threshold: 256 }),
    };
    let conn = blocking::Client::connect_with(
        &router.url(Kind::WebSocket),
        setup.serializer,
        RECV_TIMEOUT,
        opts,
    )
    .unwrap();
    Client::join_over(conn, setup.serializer, &setup.realm())
}

#[test]
fn pubsub_and_rpc_compress_large_messages_on_1_and_3_shards_with_every_serializer() {
    for shards in [1, 3] {
        let router = Router::start(shards);
        for serializer in Serializer::ALL {
            let setup = Setup {
                shards,
                kind: Kind::WebSocket,
                serializer,
            };
            eprintln!("-- {setup:?}");
            let mut sub = deflating(&router, setup);
            let mut publ = deflating(&router, setup);
            assert_eq!(sub.conn.deflate(), Some(AGREED));
            sub.subscribe("com.deflate.topic");

            // Small: plain both ways.
            publ.publish_acked("com.deflate.topic", small());
            assert!(!publ.conn.last_compressed(), "PUBLISHED is small");
            let Message::Event { payload, .. } = sub.recv() else {
                panic!("expected EVENT")
            };
            assert_same_payload(&payload, &small());
            assert!(!sub.conn.last_compressed(), "a small EVENT goes plain");

            // Large: the PUBLISH goes compressed, and so does the EVENT.
            let large = big(20_000);
            publ.publish_acked("com.deflate.topic", large.clone());
            let Message::Event { payload, .. } = sub.recv() else {
                panic!("expected EVENT")
            };
            assert_same_payload(&payload, &large);
            assert!(sub.conn.last_compressed(), "a large EVENT goes compressed");

            // RPC with large arguments and results, across shards when 3.
            sub.register("com.deflate.echo").unwrap();
            let request = publ.call("com.deflate.echo", large.clone());
            let got = sub.serve_one(Clone::clone);
            assert!(
                sub.conn.last_compressed(),
                "a large INVOCATION goes compressed"
            );
            assert_same_payload(&got, &large);
            match publ.recv() {
                Message::Result {
                    request: r,
                    payload,
                    ..
                } if r == request => assert_same_payload(&payload, &large),
                other => panic!("expected RESULT, got {other:?}"),
            }
            assert!(
                publ.conn.last_compressed(),
                "a large RESULT goes compressed"
            );
            sub.goodbye();
            publ.goodbye();
        }
    }
}

/// A hand-driven WebSocket client: it builds every frame itself.
struct Raw {
    stream: TcpStream,
    buf: Vec<u8>,
    serializer: Serializer,
}

impl Raw {
    /// Connects and upgrades (offering permessage-deflate when `offer`);
    /// returns the client and the 101 response head.
    fn connect(router: &Router, serializer: Serializer, offer: bool) -> (Raw, String) {
        let addr = router.running.websocket_addr().unwrap();
        let mut stream = TcpStream::connect(addr).unwrap();
        stream.set_read_timeout(Some(RECV_TIMEOUT)).unwrap();
        let (request, _) = handshake::client_request(&addr.to_string(), "/ws", serializer, offer);
        stream.write_all(&request).unwrap();
        let mut raw = Raw {
            stream,
            buf: Vec::new(),
            serializer,
        };
        let end = loop {
            if let Some(i) = raw.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            raw.read_more();
        };
        let head = String::from_utf8(raw.buf.drain(..end).collect()).unwrap();
        assert!(head.starts_with("HTTP/1.1 101"), "{head}");
        (raw, head)
    }

    fn read_more(&mut self) {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk).unwrap();
        assert!(n > 0, "the router closed the connection");
        self.buf.extend_from_slice(&chunk[..n]);
    }

    /// Sends one masked frame.
    fn frame(&mut self, first: u8, payload: &[u8]) {
        let key = rand::random::<[u8; 4]>();
        let mut out = bytes::BytesMut::new();
        frame::write_header(&mut out, first, payload.len(), Some(key));
        let start = out.len();
        out.extend_from_slice(payload);
        frame::apply_mask(&mut out[start..], key);
        self.stream.write_all(&out).unwrap();
    }

    fn data_opcode(&self) -> u8 {
        if self.serializer.is_text() {
            opcode::TEXT
        } else {
            opcode::BINARY
        }
    }

    /// Sends `msg` plain, or compressed in `parts` fragments (RSV1 on the first).
    fn send(&mut self, msg: &Message, compressed_in: Option<usize>) {
        let bytes = encode_to_bytes(self.serializer, msg);
        let op = self.data_opcode();
        let Some(parts) = compressed_in else {
            return self.frame(FIN | op, &bytes);
        };
        // Compressed even when small: a client may compress anything.
        let c = deflate::compress(&bytes, <[u8]>::to_vec).unwrap_or_else(|| deflate_anyway(&bytes));
        let step = c.len().div_ceil(parts).max(1);
        let chunks: Vec<&[u8]> = c.chunks(step).collect();
        for (i, chunk) in chunks.iter().enumerate() {
            let fin = if i + 1 == chunks.len() { FIN } else { 0 };
            let first = if i == 0 {
                RSV1 | op
            } else {
                opcode::CONTINUATION
            };
            self.frame(fin | first, chunk);
        }
    }

    /// The next frame: its first octet and unmasked payload.
    fn next_frame(&mut self) -> (u8, Vec<u8>) {
        loop {
            if let Some(h) = frame::parse_header(&self.buf).unwrap() {
                let total = h.header_len + h.payload_len as usize;
                if self.buf.len() >= total {
                    let first = self.buf[0];
                    let payload = self.buf[h.header_len..total].to_vec();
                    self.buf.drain(..total);
                    return (first, payload);
                }
            }
            self.read_more();
        }
    }

    /// The next message, and whether it came compressed.
    fn recv(&mut self) -> (Message, bool) {
        let (first, payload) = self.next_frame();
        assert_eq!(first & FIN, FIN, "the router sends whole messages");
        assert_eq!(first & 0x0F, self.data_opcode(), "{first:02x}");
        let compressed = first & RSV1 != 0;
        let bytes = if compressed {
            deflate::decompress(&payload, 16 << 20, None).unwrap()
        } else {
            payload
        };
        let msg = decode(self.serializer, bytes.into()).unwrap();
        (msg, compressed)
    }

    /// Reads until the close frame; returns its code.
    fn close_code(&mut self) -> u16 {
        loop {
            let (first, payload) = self.next_frame();
            if first & 0x0F == opcode::CLOSE {
                return u16::from_be_bytes([payload[0], payload[1]]);
            }
        }
    }
}

/// Compresses even what does not shrink (a stored block), for tiny messages.
fn deflate_anyway(bytes: &[u8]) -> Vec<u8> {
    let mut c = flate2::Compress::new(flate2::Compression::new(1), false);
    let mut out = Vec::with_capacity(bytes.len() + 64);
    c.compress_vec(bytes, &mut out, flate2::FlushCompress::Sync)
        .unwrap();
    out.truncate(out.len() - deflate::TAIL.len());
    out
}

fn hello(realm: &str) -> Message {
    Message::Hello {
        realm: Text::from(realm),
        details: Dict::new().with("roles", common::roles()),
    }
}

#[test]
fn a_raw_client_sends_compressed_fragmented_and_plain_frames() {
    let router = Router::start(2);
    for serializer in Serializer::ALL {
        let (mut raw, head) = Raw::connect(&router, serializer, true);
        assert!(head.contains(ANSWER), "{head}");
        // HELLO compressed in three fragments; WELCOME comes plain (small).
        raw.send(&hello("realm1"), Some(3));
        let (welcome, compressed) = raw.recv();
        assert!(matches!(welcome, Message::Welcome { .. }), "{welcome:?}");
        assert!(!compressed);
        // SUBSCRIBE plain.
        raw.send(
            &Message::Subscribe {
                request: switchyard::wire::RequestId(1),
                options: Dict::new(),
                topic: Text::from("com.deflate.raw"),
            },
            None,
        );
        assert!(matches!(raw.recv().0, Message::Subscribed { .. }));
        // A large PUBLISH compressed in one frame, to itself: the EVENT
        // comes compressed, the PUBLISHED plain.
        let payload = big(50_000);
        let options = Dict::new()
            .with("acknowledge", true)
            .with("exclude_me", false);
        raw.send(
            &Message::Publish {
                request: switchyard::wire::RequestId(2),
                options,
                topic: Text::from("com.deflate.raw"),
                payload: payload.clone(),
            },
            Some(1),
        );
        let mut seen = 0;
        for _ in 0..2 {
            match raw.recv() {
                (Message::Event { payload: p, .. }, compressed) => {
                    assert_same_payload(&p, &payload);
                    assert!(compressed, "a 50 kB EVENT goes compressed");
                    seen += 1;
                }
                (Message::Published { .. }, compressed) => {
                    assert!(!compressed);
                    seen += 10;
                }
                (other, _) => panic!("{other:?}"),
            }
        }
        assert_eq!(seen, 11, "one EVENT and one PUBLISHED");
        raw.frame(FIN | opcode::CLOSE, &1000u16.to_be_bytes());
        assert_eq!(raw.close_code(), 1000);
    }
}

/// Router options with one WebSocket `max_message_size` and compression.
fn options(max: usize, compression: bool) -> RouterOptions {
    let mut opts = RouterOptions::local(1);
    let ws = opts.websocket.as_mut().unwrap();
    ws.accept.max_message_size = max;
    if !compression {
        ws.accept.compression = None;
    }
    opts
}

#[test]
fn a_decompression_bomb_is_refused_with_close_code_1009() {
    let router = Router::start_with(options(1 << 20, true));
    let (mut raw, _) = Raw::connect(&router, Serializer::Json, true);
    raw.send(&hello("realm1"), None);
    assert!(matches!(raw.recv().0, Message::Welcome { .. }));
    // 8 MiB of spaces in a JSON string: some tens of kB compressed, far
    // under the 1 MiB limit on the wire.
    let mut bomb_text = b"[16,1,{},\"t\",[\"".to_vec();
    bomb_text.resize(8 << 20, b' ');
    let bomb = deflate::compress(&bomb_text, <[u8]>::to_vec).unwrap();
    assert!(bomb.len() < 64 * 1024);
    raw.frame(FIN | RSV1 | opcode::TEXT, &bomb);
    assert_eq!(raw.close_code(), 1009);
    // Within the limit, the same connection setup works.
    let (mut ok, _) = Raw::connect(&router, Serializer::Json, true);
    ok.send(&hello("realm1"), Some(1));
    assert!(matches!(ok.recv().0, Message::Welcome { .. }));
}

#[test]
fn rsv1_without_the_extension_is_a_protocol_error() {
    let router = Router::start(1);
    let (mut raw, head) = Raw::connect(&router, Serializer::MsgPack, false);
    assert!(!head.contains("Sec-WebSocket-Extensions"), "{head}");
    raw.send(&hello("realm1"), Some(1));
    assert_eq!(raw.close_code(), 1002);
}

#[test]
fn with_compression_off_the_extension_is_not_negotiated() {
    let router = Router::start_with(options(16 << 20, false));
    let (mut raw, head) = Raw::connect(&router, Serializer::Cbor, true);
    assert!(!head.contains("Sec-WebSocket-Extensions"), "{head}");
    raw.send(&hello("realm1"), Some(1));
    assert_eq!(raw.close_code(), 1002, "RSV1 is refused when not agreed");

    let setup = Setup {
        shards: 1,
        kind: Kind::WebSocket,
        serializer: Serializer::Json,
    };
    let mut sub = deflating(&router, setup);
    let mut publ = deflating(&router, setup);
    assert_eq!(sub.conn.deflate(), None);
    sub.subscribe("com.deflate.off");
    let large = big(20_000);
    publ.publish_acked("com.deflate.off", large.clone());
    let Message::Event { payload, .. } = sub.recv() else {
        panic!("expected EVENT")
    };
    assert_same_payload(&payload, &large);
    assert!(!sub.conn.last_compressed());
}

#[test]
fn the_configuration_turns_compression_on_and_off() {
    let accept = |c: &Config| {
        RouterOptions::from_config(c)
            .websocket
            .unwrap()
            .accept
            .compression
    };
    let mut c = Config::default();
    assert_eq!(accept(&c), Some(Compression { threshold: 1024 }));
    c.websocket.compression_threshold_bytes = 4096;
    assert_eq!(accept(&c), Some(Compression { threshold: 4096 }));
    c.websocket.compression = false;
    assert_eq!(accept(&c), None);
    c.websocket.compression_threshold_bytes = (16 << 20) + 1;
    let problems = c.problems();
    assert!(
        problems.iter().any(|p| p
            .to_string()
            .contains("websocket.compression_threshold_bytes")),
        "{problems:?}"
    );
    // The bench profile runs without compression.
    let bench = Config::load(concat!(env!("CARGO_MANIFEST_DIR"), "/config/bench.toml")).unwrap();
    assert_eq!(accept(&bench), None);
}
