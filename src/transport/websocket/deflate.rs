//! permessage-deflate's compression (RFC 7692 7.2): raw DEFLATE on flate2's
//! pure-Rust backend (miniz_oxide), each message ending in a sync flush
//! whose `00 00 ff ff` tail is cut off by the sender and put back by the
//! receiver.
//!
//! Memory: without context takeover (what our server always negotiates) a
//! message is compressed and decompressed on its own, so each thread (one
//! per shard) keeps one compressor (319,326 bytes measured: miniz_oxide's
//! 64 KiB LZ code buffer, 83 KiB output buffer, 32 KiB window and 128 KiB of
//! hash chains) and one decompressor (43,296 bytes: Huffman tables and the
//! 32 KiB window), shared by all its sessions, plus a scratch buffer for
//! compressed output (kept up to 64 KiB). A session holds none of it (its
//! codec grows by a few words): with 100k sessions, per-session state would
//! cost 36 GB. The trade-off: every message starts with an empty window, so
//! small messages compress worse than they would with context takeover, and
//! each compressed message pays for resetting the compressor and zeroing
//! the decompressor's window. Measured (release build, this project's 2-core
//! machine, JSON-like text): compressing 1 KiB takes ~19 µs (5 µs of it the
//! reset) and comes out at 18%, 64 KiB ~84 µs at 12%; decompressing 1 KiB
//! ~6 µs. That is why messages under a threshold are not compressed. Only a
//! decoder whose peer keeps its context (our client, against a server that
//! does) owns a decompressor: 43 KB for that connection.
//!
//! Decompression is bounded: the output never grows past the message size
//! limit (+1 byte, to tell "exactly the limit" from "over it"), however
//! small the input, so a decompression bomb costs at most the limit.

use crate::transport::error::FrameError;
use flate2::{Compress, Decompress, FlushCompress, FlushDecompress, Status};
use std::cell::RefCell;

/// permessage-deflate as configured at one end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compression {
    /// Messages of at least this many bytes are compressed (when that makes
    /// them smaller); shorter ones go as they are.
    pub threshold: usize,
}

/// The empty stored block a sync flush ends with (RFC 7692 7.2.1).
pub const TAIL: [u8; 4] = [0x00, 0x00, 0xff, 0xff];
/// miniz_oxide's fastest level: a router compresses on its hot path.
const LEVEL: u32 = 1;
/// The most scratch capacity a thread keeps between messages.
const SCRATCH_KEEP: usize = 64 * 1024;

/// The thread's compressor and its output buffer.
struct Deflater {
    compress: Compress,
    out: Vec<u8>,
}

thread_local! {
    static DEFLATER: RefCell<Option<Deflater>> = const { RefCell::new(None) };
    static INFLATER: RefCell<Option<Decompress>> = const { RefCell::new(None) };
}

/// Compresses `payload` as one message (no context taken over, the tail cut
/// off) and passes the result to `write`. `None`, without calling `write`,
/// when compression would not make the message smaller.
pub fn compress<R>(payload: &[u8], write: impl FnOnce(&[u8]) -> R) -> Option<R> {
    DEFLATER.with(|cell| {
        let mut guard = cell.borrow_mut();
        let d = guard.get_or_insert_with(|| Deflater {
            compress: Compress::new(flate2::Compression::new(LEVEL), false),
            out: Vec::new(),
        });
        let result = deflate(&mut d.compress, payload, &mut d.out).map(write);
        if d.out.capacity() > SCRATCH_KEEP {
            d.out = Vec::new();
        }
        result
    })
}

/// Compresses `payload` into `out` (cleared first); the compressed bytes
/// without the tail, or `None` when they are not shorter than `payload`.
fn deflate<'o>(c: &mut Compress, payload: &[u8], out: &'o mut Vec<u8>) -> Option<&'o [u8]> {
    c.reset();
    out.clear();
    // Output as long as the payload (plus the tail) is not worth sending.
    let give_up = payload.len() + TAIL.len();
    out.reserve(give_up + 1);
    let mut input = payload;
    loop {
        let (in0, out0) = (c.total_in(), c.total_out());
        c.compress_vec(input, out, FlushCompress::Sync).ok()?;
        let used = (c.total_in() - in0) as usize;
        input = &input[used..];
        if out.len() >= give_up {
            return None;
        }
        if input.is_empty() && out.len() < out.capacity() {
            break; // all consumed and flushed
        }
        if used == 0 && c.total_out() == out0 {
            return None; // no progress: not expected, but never spin
        }
    }
    let body = out.strip_suffix(&TAIL)?;
    (body.len() < payload.len()).then_some(body)
}

/// Decompresses one message's payload (the tail is appended here) into at
/// most `limit` bytes. `own`: the connection's decompressor when its peer
/// takes over context (kept between messages); `None`: the thread's shared
/// one, reset (its window zeroed, so no session sees another's data).
pub fn decompress(
    body: &[u8],
    limit: usize,
    own: Option<&mut Decompress>,
) -> Result<Vec<u8>, FrameError> {
    match own {
        Some(d) => {
            let (out, ended) = inflate(d, body, limit)?;
            if ended {
                // A final block ends the peer's stream: the next message
                // starts a new one.
                d.reset(false);
            }
            Ok(out)
        }
        None => INFLATER.with(|cell| {
            let mut guard = cell.borrow_mut();
            let d = guard.get_or_insert_with(|| Decompress::new(false));
            d.reset(false);
            inflate(d, body, limit).map(|(out, _)| out)
        }),
    }
}

/// Inflates `body` and the tail; returns the output and whether the stream
/// ended (a block with BFINAL set).
fn inflate(d: &mut Decompress, body: &[u8], limit: usize) -> Result<(Vec<u8>, bool), FrameError> {
    let too_large = FrameError::InflatedTooLarge { limit };
    let cap = limit.saturating_add(1);
    let mut out = Vec::with_capacity(body.len().saturating_mul(4).clamp(1024, 1 << 20).min(cap));
    for mut input in [body, &TAIL[..]] {
        loop {
            if out.len() == out.capacity() {
                if out.len() >= cap {
                    return Err(too_large);
                }
                out.reserve_exact(out.capacity().max(1024).min(cap - out.len()));
            }
            let (in0, out0) = (d.total_in(), d.total_out());
            let status = d
                .decompress_vec(input, &mut out, FlushDecompress::Sync)
                .map_err(|_| FrameError::Protocol("invalid compressed data"))?;
            let used = (d.total_in() - in0) as usize;
            input = &input[used..];
            if out.len() > limit {
                return Err(too_large);
            }
            if status == Status::StreamEnd {
                return Ok((out, true));
            }
            if input.is_empty() && out.len() < out.capacity() {
                break; // all consumed, nothing left to flush
            }
            if used == 0 && d.total_out() == out0 && out.len() < out.capacity() {
                return Err(FrameError::Protocol("invalid compressed data"));
            }
        }
    }
    Ok((out, false))
}

#[cfg(test)]
#[path = "deflate_tests.rs"]
pub(crate) mod tests;
