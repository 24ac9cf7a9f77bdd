//! Unit tests of permessage-deflate's compression and bounded decompression.
#![allow(clippy::unwrap_used)]

use super::*;
use flate2::Compression as Level;

/// A JSON-like payload that compresses well.
pub(crate) fn json(n: usize) -> Vec<u8> {
    let mut v = b"[36,1,2,{},[".to_vec();
    let mut i = 0;
    while v.len() < n {
        v.extend_from_slice(format!("{{\"id\":{i},\"name\":\"item\"}},").as_bytes());
        i += 1;
    }
    v.truncate(n);
    v
}

/// Compresses messages in turn as a peer keeping its context would (one
/// compressor for all, sync flush, tail cut).
pub(crate) fn with_takeover(level: u32, messages: &[&[u8]]) -> Vec<Vec<u8>> {
    let mut c = Compress::new(Level::new(level), false);
    messages
        .iter()
        .map(|m| {
            let mut out = Vec::with_capacity(m.len() + 64);
            c.compress_vec(m, &mut out, FlushCompress::Sync).unwrap();
            assert!(out.ends_with(&TAIL));
            out.truncate(out.len() - TAIL.len());
            out
        })
        .collect()
}

fn compressed(payload: &[u8]) -> Option<Vec<u8>> {
    compress(payload, <[u8]>::to_vec)
}

#[test]
fn compressed_messages_lose_the_tail_and_decompress_with_it() {
    let payload = json(10_000);
    let c = compressed(&payload).unwrap();
    assert!(c.len() < payload.len() / 4, "{} bytes", c.len());
    assert!(!c.ends_with(&TAIL));
    // An independent inflater reads it once the tail is back.
    let mut d = Decompress::new(false);
    let mut out = Vec::with_capacity(payload.len() + 1);
    let whole = [&c[..], &TAIL[..]].concat();
    d.decompress_vec(&whole, &mut out, FlushDecompress::Sync)
        .unwrap();
    assert_eq!(out, payload);
    assert_eq!(decompress(&c, 1 << 20, None).unwrap(), payload);
    // The next message starts afresh: the same bytes again.
    assert_eq!(compressed(&payload).unwrap(), c);
}

#[test]
fn incompressible_or_tiny_payloads_are_not_compressed() {
    let noise: Vec<u8> = (0..4096).map(|_| rand::random::<u8>()).collect();
    assert_eq!(compressed(&noise), None);
    assert_eq!(compressed(b"ab"), None);
    assert_eq!(compressed(b""), None);
}

#[test]
fn a_peer_keeping_its_context_needs_a_decompressor_of_its_own() {
    let m1 = json(3000);
    let m2 = json(3000);
    let frames = with_takeover(6, &[&m1, &m2]);
    assert!(
        frames[1].len() < 200,
        "the second refers to the first: {}",
        frames[1].len()
    );
    let mut own = Decompress::new(false);
    assert_eq!(decompress(&frames[0], 1 << 20, Some(&mut own)).unwrap(), m1);
    assert_eq!(decompress(&frames[1], 1 << 20, Some(&mut own)).unwrap(), m2);
    // The shared decompressor starts every message with a zeroed window: the
    // second message cannot be read, and nothing of the first shows through.
    assert_eq!(decompress(&frames[0], 1 << 20, None).unwrap(), m1);
    match decompress(&frames[1], 1 << 20, None) {
        Err(FrameError::Protocol(_)) => {}
        Ok(out) => assert!(!out.windows(20).any(|w| m1.windows(20).any(|x| x == w))),
        Err(e) => panic!("{e}"),
    }
}

#[test]
fn decompression_stops_at_the_limit() {
    let zeros = vec![0u8; 4 << 20];
    let bomb = compressed(&zeros).unwrap();
    assert!(bomb.len() < 32 * 1024, "{} bytes", bomb.len());
    assert_eq!(
        decompress(&bomb, 1 << 20, None),
        Err(FrameError::InflatedTooLarge { limit: 1 << 20 })
    );
    let mut own = Decompress::new(false);
    assert!(decompress(&bomb, 1 << 20, Some(&mut own)).is_err());
    // Exactly the limit is fine; one byte less is not.
    assert_eq!(decompress(&bomb, 4 << 20, None).unwrap().len(), 4 << 20);
    assert!(decompress(&bomb, (4 << 20) - 1, None).is_err());
    assert_eq!(FrameError::InflatedTooLarge { limit: 1 }.close_code(), 1009);
}

#[test]
fn a_final_block_ends_the_stream_and_the_next_message_starts_a_new_one() {
    let payload = json(2000);
    let mut c = Compress::new(Level::new(6), false);
    let mut last = Vec::with_capacity(4096);
    c.compress_vec(&payload, &mut last, FlushCompress::Finish)
        .unwrap();
    let mut own = Decompress::new(false);
    for _ in 0..2 {
        assert_eq!(decompress(&last, 1 << 20, Some(&mut own)).unwrap(), payload);
        assert_eq!(decompress(&last, 1 << 20, None).unwrap(), payload);
    }
}

#[test]
fn empty_and_invalid_compressed_data() {
    // RFC 7692 7.2.3.6: an empty message may be sent as one empty block.
    assert_eq!(decompress(&[0x00], 100, None).unwrap(), b"");
    assert_eq!(
        decompress(&[0xff, 0xff, 0xff, 0xff], 100, None),
        Err(FrameError::Protocol("invalid compressed data"))
    );
}
