//! The frame codec with permessage-deflate: compressed, uncompressed and
//! fragmented compressed messages, context takeover as negotiated, bombs,
//! RSV1 where it is not allowed, and the encoder's threshold.
#![allow(clippy::unwrap_used)]

use super::super::deflate::tests::{json, with_takeover};
use super::super::deflate::{self, TAIL};
use super::*;
use crate::transport::{FrameEncoder, TransportKind};
use crate::wire::Serializer;

const KEY: [u8; 4] = [0x11, 0x22, 0x33, 0x44];

/// One masked frame with the given first octet.
fn frame(first: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = BytesMut::new();
    write_header(&mut out, first, payload.len(), Some(KEY));
    let start = out.len();
    out.put_slice(payload);
    apply_mask(&mut out[start..], KEY);
    out.to_vec()
}

fn squeeze(payload: &[u8]) -> Vec<u8> {
    deflate::compress(payload, <[u8]>::to_vec).unwrap()
}

fn inflating(max: usize, takeover: bool) -> Decoder {
    Decoder::new(Role::Server, max).with_deflate(takeover)
}

fn decode_all(d: &mut Decoder, bytes: &[u8]) -> Result<Vec<Inbound>, FrameError> {
    let mut buf = BytesMut::from(bytes);
    let mut out = Vec::new();
    while let Some(f) = d.decode(&mut buf)? {
        out.push(f);
    }
    Ok(out)
}

fn message(payload: &[u8]) -> Inbound {
    Inbound::Message(Bytes::copy_from_slice(payload))
}

#[test]
fn compressed_and_plain_messages_decode_side_by_side() {
    let big = json(5000);
    let mut d = inflating(1 << 20, false);
    let wire = frame(FIN | RSV1 | opcode::TEXT, &squeeze(&big));
    assert_eq!(decode_all(&mut d, &wire).unwrap(), vec![message(&big)]);
    assert!(d.last_compressed());
    let plain = frame(FIN | opcode::TEXT, b"[1]");
    assert_eq!(decode_all(&mut d, &plain).unwrap(), vec![message(b"[1]")]);
    assert!(!d.last_compressed());
}

#[test]
fn a_fragmented_compressed_message_is_decompressed_whole() {
    let big = json(20_000);
    let c = squeeze(&big);
    let third = c.len() / 3;
    let mut wire = frame(RSV1 | opcode::BINARY, &c[..third]);
    wire.extend(frame(FIN | opcode::PING, b"p"));
    wire.extend(frame(opcode::CONTINUATION, &c[third..2 * third]));
    wire.extend(frame(FIN | opcode::CONTINUATION, &c[2 * third..]));
    let mut d = inflating(1 << 20, false);
    // Fed a byte at a time, as a slow socket would.
    let mut buf = BytesMut::new();
    let mut got = Vec::new();
    for b in wire {
        buf.put_u8(b);
        while let Some(f) = d.decode(&mut buf).unwrap() {
            got.push(f);
        }
    }
    assert_eq!(
        got,
        vec![Inbound::Ping(Bytes::from_static(b"p")), message(&big)]
    );
}

#[test]
fn context_takeover_is_honoured_only_when_negotiated() {
    let (m1, m2) = (json(4000), json(4000));
    let frames = with_takeover(6, &[&m1, &m2]);
    let wire: Vec<u8> = frames
        .iter()
        .flat_map(|f| frame(FIN | RSV1 | opcode::TEXT, f))
        .collect();
    let mut keeps = inflating(1 << 20, true);
    assert_eq!(
        decode_all(&mut keeps, &wire).unwrap(),
        vec![message(&m1), message(&m2)]
    );
    // Negotiated without takeover, the second message cannot be what was sent.
    let mut fresh = inflating(1 << 20, false);
    match decode_all(&mut fresh, &wire) {
        Ok(got) => assert_ne!(got, vec![message(&m1), message(&m2)]),
        Err(e) => assert!(matches!(
            e,
            FrameError::Protocol(_) | FrameError::InvalidUtf8(_)
        )),
    }
}

#[test]
fn a_decompression_bomb_is_refused_with_1009() {
    let bomb = squeeze(&vec![b' '; 8 << 20]);
    assert!(bomb.len() < 64 * 1024, "{} bytes", bomb.len());
    let mut d = inflating(1 << 20, false);
    let e = decode_all(&mut d, &frame(FIN | RSV1 | opcode::TEXT, &bomb)).unwrap_err();
    assert_eq!(e, FrameError::InflatedTooLarge { limit: 1 << 20 });
    assert_eq!(e.close_code(), 1009);
    // The compressed size is bounded on the header as before.
    let mut small = inflating(1024, false);
    let big = frame(FIN | RSV1 | opcode::TEXT, &[0u8; 2000]);
    assert!(matches!(
        decode_all(&mut small, &big),
        Err(FrameError::TooLarge { .. })
    ));
}

#[test]
fn rsv1_is_refused_where_it_is_not_allowed() {
    let c = squeeze(&json(3000));
    let compressed = frame(FIN | RSV1 | opcode::TEXT, &c);
    // Not negotiated.
    let mut plain = Decoder::new(Role::Server, 1 << 20);
    assert_eq!(
        decode_all(&mut plain, &compressed)
            .unwrap_err()
            .close_code(),
        1002
    );
    // On a continuation frame, or a control frame.
    let mut later = frame(opcode::TEXT, b"[");
    later.extend(frame(FIN | RSV1 | opcode::CONTINUATION, b"]"));
    let control = frame(FIN | RSV1 | opcode::PING, b"");
    // RSV2 and RSV3 stay errors with the extension.
    let rsv2 = frame(FIN | 0x20 | opcode::TEXT, b"[]");
    let rsv3 = frame(FIN | 0x10 | opcode::TEXT, b"[]");
    for bad in [later, control, rsv2, rsv3] {
        let e = decode_all(&mut inflating(1 << 20, false), &bad).unwrap_err();
        assert_eq!(e.close_code(), 1002, "{bad:02x?}");
    }
    // Compressed text that is not UTF-8 once inflated.
    let bad_text = frame(FIN | RSV1 | opcode::TEXT, &squeeze(&[0xC3; 2000]));
    let e = decode_all(&mut inflating(1 << 20, false), &bad_text).unwrap_err();
    assert_eq!(e.close_code(), 1007);
    // Garbage behind RSV1.
    let junk = frame(FIN | RSV1 | opcode::BINARY, &[0xFF, 0xFF, 0xFF]);
    let e = decode_all(&mut inflating(1 << 20, false), &junk).unwrap_err();
    assert_eq!(e.close_code(), 1002);
}

#[test]
fn the_encoder_compresses_from_its_threshold_and_never_control_frames() {
    let server = FrameEncoder::new(TransportKind::WebSocket, Serializer::Json, Role::Server)
        .with_deflate(Some(1024));
    assert!(server.compresses());
    let mut out = BytesMut::new();
    assert!(server.message(&mut out, &json(1023)));
    assert_eq!(out[0], FIN | opcode::TEXT, "under the threshold: as it is");
    out.clear();
    let big = json(4096);
    assert!(server.message(&mut out, &big));
    assert_eq!(out[0], FIN | RSV1 | opcode::TEXT);
    assert!(out.len() < 1024, "{} bytes", out.len());
    let mut client = Decoder::new(Role::Client, 1 << 20).with_deflate(false);
    assert_eq!(decode_all(&mut client, &out).unwrap(), vec![message(&big)]);
    assert!(!out.ends_with(&TAIL));
    // Incompressible: sent as it is.
    out.clear();
    let noise: Vec<u8> = (0..4096).map(|_| rand::random::<u8>()).collect();
    let binary = FrameEncoder::new(TransportKind::WebSocket, Serializer::Cbor, Role::Server)
        .with_deflate(Some(0));
    assert!(binary.message(&mut out, &noise));
    assert_eq!(out[0], FIN | opcode::BINARY);
    // Control frames never, whatever the threshold.
    out.clear();
    assert!(binary.ping(&mut out, &[b'a'; 125]));
    binary.close(&mut out, 1000, &"x".repeat(100));
    let mut d = Decoder::new(Role::Client, 1 << 20);
    assert_eq!(decode_all(&mut d, &out).unwrap().len(), 2);
    // Without the extension nothing is compressed.
    let off = FrameEncoder::new(TransportKind::WebSocket, Serializer::Json, Role::Server);
    assert!(!off.compresses());
    out.clear();
    off.message(&mut out, &big);
    assert_eq!(out[0], FIN | opcode::TEXT);
}

#[test]
fn a_client_encoder_masks_compressed_frames() {
    let enc = FrameEncoder::new(TransportKind::WebSocket, Serializer::MsgPack, Role::Client)
        .with_deflate(Some(100));
    let big = json(3000);
    let mut out = BytesMut::new();
    assert!(enc.message(&mut out, &big));
    assert_eq!(out[0], FIN | RSV1 | opcode::BINARY);
    assert_eq!(out[1] & 0x80, 0x80, "masked");
    let mut d = inflating(1 << 20, false);
    assert_eq!(decode_all(&mut d, &out).unwrap(), vec![message(&big)]);
}
