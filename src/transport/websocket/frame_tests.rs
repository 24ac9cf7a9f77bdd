//! Unit and property tests of the WebSocket frame codec.
#![allow(clippy::unwrap_used)]

use super::*;
use bytes::Bytes;
use proptest::prelude::*;

const KEY: [u8; 4] = [0x37, 0xFA, 0x21, 0x3D];

fn masked(op: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = BytesMut::new();
    write_frame(&mut out, op, payload, Some(KEY));
    out.to_vec()
}

fn fragment(fin: bool, op: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = BytesMut::new();
    write_header(
        &mut out,
        if fin { FIN | op } else { op },
        payload.len(),
        Some(KEY),
    );
    let start = out.len();
    out.put_slice(payload);
    apply_mask(&mut out[start..], KEY);
    out.to_vec()
}

fn server() -> Decoder {
    Decoder::new(Role::Server, 1 << 16)
}

fn decode_all(d: &mut Decoder, bytes: &[u8]) -> Result<Vec<Inbound>, FrameError> {
    let mut buf = BytesMut::from(bytes);
    let mut out = Vec::new();
    while let Some(f) = d.decode(&mut buf)? {
        out.push(f);
    }
    Ok(out)
}

fn error_of(bytes: &[u8]) -> FrameError {
    decode_all(&mut server(), bytes).unwrap_err()
}

#[test]
fn rfc_examples_decode() {
    // RFC 6455 5.7: a masked "Hello" and an unmasked one.
    let masked_hello = [
        0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58,
    ];
    let got = decode_all(&mut server(), &masked_hello).unwrap();
    assert_eq!(got, vec![Inbound::Message(Bytes::from_static(b"Hello"))]);
    let plain = [0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f];
    let mut client = Decoder::new(Role::Client, 100);
    assert_eq!(decode_all(&mut client, &plain).unwrap().len(), 1);
    assert_eq!(masked(opcode::TEXT, b"Hello"), masked_hello);
}

#[test]
fn lengths_use_7_16_and_64_bits() {
    for len in [0usize, 125, 126, 65535, 65536, 70000] {
        let payload = vec![7u8; len];
        let bytes = masked(opcode::BINARY, &payload);
        let header_len = bytes.len() - len;
        assert_eq!(
            header_len,
            6 + if len < 126 {
                0
            } else if len < 65536 {
                2
            } else {
                8
            }
        );
        let mut d = Decoder::new(Role::Server, 1 << 20);
        let got = decode_all(&mut d, &bytes).unwrap();
        assert_eq!(got, vec![Inbound::Message(Bytes::from(payload))]);
    }
}

#[test]
fn fragments_reassemble_around_control_frames() {
    let mut s = fragment(false, opcode::TEXT, b"Hel");
    s.extend(masked(opcode::PING, b"p"));
    s.extend(fragment(false, opcode::CONTINUATION, b"l"));
    s.extend(masked(opcode::PONG, b""));
    s.extend(fragment(true, opcode::CONTINUATION, b"o"));
    let got = decode_all(&mut server(), &s).unwrap();
    assert_eq!(
        got,
        vec![
            Inbound::Ping(Bytes::from_static(b"p")),
            Inbound::Pong(Bytes::new()),
            Inbound::Message(Bytes::from_static(b"Hello")),
        ]
    );
}

#[test]
fn close_frames_are_checked() {
    let mut ok = BytesMut::new();
    write_close(&mut ok, 1000, "bye", Some(KEY));
    assert_eq!(
        decode_all(&mut server(), &ok).unwrap(),
        vec![Inbound::Close]
    );
    assert_eq!(
        decode_all(&mut server(), &masked(opcode::CLOSE, b"")).unwrap(),
        vec![Inbound::Close]
    );
    assert!(matches!(
        error_of(&masked(opcode::CLOSE, b"x")),
        FrameError::Protocol(_)
    ));
    for code in [0u16, 999, 1004, 1005, 1006, 1015, 2000, 5000] {
        let e = error_of(&masked(opcode::CLOSE, &code.to_be_bytes()));
        assert_eq!(e.close_code(), 1002, "code {code}");
    }
    let bad_reason = masked(opcode::CLOSE, &[0x03, 0xE8, 0xFF]);
    assert_eq!(error_of(&bad_reason).close_code(), 1007);
}

#[test]
fn close_reason_is_cut_on_a_char_boundary() {
    let mut out = BytesMut::new();
    write_close(&mut out, 1001, &"é".repeat(100), None);
    assert_eq!(out.len(), 2 + 124, "122 bytes of reason, not 123");
    let mut d = Decoder::new(Role::Client, 10);
    assert_eq!(decode_all(&mut d, &out).unwrap(), vec![Inbound::Close]);
}

#[test]
fn every_rule_violation_is_an_error() {
    let cases: Vec<(Vec<u8>, u16)> = vec![
        (vec![0xC2, 0x80, 0, 0, 0, 0], 1002),                // RSV1
        (vec![0x83, 0x80, 0, 0, 0, 0], 1002),                // opcode 3
        (vec![0x8B, 0x80, 0, 0, 0, 0], 1002),                // opcode 0xB
        (vec![0x09, 0x80, 0, 0, 0, 0], 1002),                // fragmented ping
        (vec![0x89, 0xFE, 0, 126, 0, 0, 0, 0], 1002),        // ping of 126 bytes
        (vec![0x82, 0x00], 1002),                            // unmasked at the server
        (masked(opcode::CONTINUATION, b"x"), 1002),          // continuation first
        (masked(opcode::TEXT, &[0xC3, 0x28]), 1007),         // bad UTF-8
        (vec![0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0], 1002), // 64-bit MSB
    ];
    for (bytes, code) in cases {
        assert_eq!(error_of(&bytes).close_code(), code, "{bytes:02x?}");
    }
    let mut two_starts = fragment(false, opcode::BINARY, b"a");
    two_starts.extend(fragment(true, opcode::BINARY, b"b"));
    assert_eq!(error_of(&two_starts).close_code(), 1002);
    let mut client = Decoder::new(Role::Client, 10);
    assert!(decode_all(&mut client, &masked(opcode::BINARY, b"x")).is_err());
}

#[test]
fn utf8_is_checked_on_the_whole_fragmented_message() {
    // "é" split across two fragments is valid.
    let mut s = fragment(false, opcode::TEXT, &[0xC3]);
    s.extend(fragment(true, opcode::CONTINUATION, &[0xA9]));
    let got = decode_all(&mut server(), &s).unwrap();
    assert_eq!(got, vec![Inbound::Message(Bytes::from("é"))]);
}

#[test]
fn size_limit_is_enforced_on_headers_and_running_totals() {
    let mut d = Decoder::new(Role::Server, 100);
    // A header announcing 2^40 bytes, with no body at all.
    let mut buf = BytesMut::from(&[0x82, 0xFF, 0, 0, 1, 0, 0, 0, 0, 0, 1, 2, 3, 4][..]);
    let err = d.decode(&mut buf).unwrap_err();
    assert_eq!(
        err,
        FrameError::TooLarge {
            size: 1 << 40,
            limit: 100
        }
    );
    let mut s = fragment(false, opcode::BINARY, &[1; 60]);
    s.extend(fragment(true, opcode::CONTINUATION, &[2; 41]));
    let err = decode_all(&mut Decoder::new(Role::Server, 100), &s).unwrap_err();
    assert_eq!(
        err,
        FrameError::TooLarge {
            size: 101,
            limit: 100
        }
    );
    let exact = masked(opcode::BINARY, &[0; 100]);
    assert!(decode_all(&mut Decoder::new(Role::Server, 100), &exact).is_ok());
}

#[test]
fn mask_matches_the_bytewise_definition() {
    let data: Vec<u8> = (0..=255u8).collect();
    for len in 0..40 {
        let mut fast = data[..len].to_vec();
        apply_mask(&mut fast, KEY);
        let slow: Vec<u8> = data[..len]
            .iter()
            .enumerate()
            .map(|(i, b)| b ^ KEY[i % 4])
            .collect();
        assert_eq!(fast, slow);
    }
}

fn arb_frames() -> impl Strategy<Value = Vec<(u8, Vec<u8>)>> {
    let frame = (0u8..4, prop::collection::vec(any::<u8>(), 0..400));
    prop::collection::vec(frame, 0..6)
}

proptest! {
    #[test]
    fn frames_survive_any_split(frames in arb_frames(), cuts in prop::collection::vec(any::<usize>(), 0..12)) {
        let mut stream = Vec::new();
        let mut expected = Vec::new();
        for (kind, payload) in &frames {
            match kind {
                0 => {
                    // Binary, fragmented in two around a ping.
                    let (a, b) = payload.split_at(payload.len() / 2);
                    stream.extend(fragment(false, opcode::BINARY, a));
                    stream.extend(masked(opcode::PING, &payload[..payload.len().min(125)]));
                    stream.extend(fragment(true, opcode::CONTINUATION, b));
                    expected.push(Inbound::Ping(Bytes::copy_from_slice(&payload[..payload.len().min(125)])));
                    expected.push(Inbound::Message(Bytes::copy_from_slice(payload)));
                }
                1 => {
                    let text = String::from_utf8_lossy(payload).into_owned();
                    stream.extend(masked(opcode::TEXT, text.as_bytes()));
                    expected.push(Inbound::Message(Bytes::from(text)));
                }
                2 => {
                    stream.extend(masked(opcode::PONG, &payload[..payload.len().min(125)]));
                    expected.push(Inbound::Pong(Bytes::copy_from_slice(&payload[..payload.len().min(125)])));
                }
                _ => {
                    stream.extend(masked(opcode::BINARY, payload));
                    expected.push(Inbound::Message(Bytes::copy_from_slice(payload)));
                }
            }
        }
        let mut ends: Vec<usize> = cuts.iter().map(|c| c % (stream.len() + 1)).collect();
        ends.push(stream.len());
        ends.sort_unstable();
        let mut d = server();
        let (mut buf, mut got, mut start) = (BytesMut::new(), Vec::new(), 0);
        for end in ends {
            buf.put_slice(&stream[start..end]);
            start = end;
            while let Some(f) = d.decode(&mut buf).unwrap() {
                got.push(f);
            }
        }
        prop_assert!(buf.is_empty());
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        for role in [Role::Server, Role::Client] {
            let mut d = Decoder::new(role, 64);
            let mut buf = BytesMut::from(&bytes[..]);
            while let Ok(Some(_)) = d.decode(&mut buf) {}
        }
    }
}
