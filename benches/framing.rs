//! Framing benchmarks: decoding masked binary WebSocket frames (what a
//! server receives) of 64 B, 1 KiB and 64 KiB with our decoder and with
//! tungstenite's, plus our RawSocket decoder for reference.
//!
//! Every case decodes a 256 KiB stream of frames that starts in memory, and
//! each includes one copy of the stream into the decoder's buffer (ours:
//! `extend_from_slice`, standing for the socket read; tungstenite: reading
//! from an in-memory `Read`), so both sides pay the same memory traffic.
//!
//! Run: `cargo bench --bench framing`
#![allow(clippy::unwrap_used)]

use bytes::BytesMut;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use std::hint::black_box;
use std::io::{self, Cursor, Read, Write};
use std::time::Duration;
use switchyard::transport::rawsocket::{self, FrameType};
use switchyard::transport::websocket::frame::{self as ws, opcode};
use switchyard::transport::websocket::Role;
use switchyard::transport::Inbound;
use tungstenite::protocol::frame::FrameSocket;

const STREAM_BYTES: usize = 256 * 1024;
const SIZES: [usize; 3] = [64, 1024, 64 * 1024];

/// `STREAM_BYTES / size` masked binary frames of `size` bytes.
fn ws_stream(size: usize) -> (Vec<u8>, usize) {
    let n = STREAM_BYTES / size;
    let mut out = BytesMut::new();
    for i in 0..n {
        let key = (i as u32).wrapping_mul(0x9E37_79B9).to_be_bytes();
        ws::write_frame(&mut out, opcode::BINARY, &vec![i as u8; size], Some(key));
    }
    (out.to_vec(), n)
}

fn raw_stream(size: usize) -> (Vec<u8>, usize) {
    let n = STREAM_BYTES / size;
    let mut out = Vec::new();
    for i in 0..n {
        out.extend_from_slice(&rawsocket::header(FrameType::Message, size).unwrap());
        out.extend(std::iter::repeat_n(i as u8, size));
    }
    (out, n)
}

/// An in-memory stream for tungstenite: reads the frames, swallows writes.
struct Mem(Cursor<Vec<u8>>);

impl Read for Mem {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf)
    }
}

impl Write for Mem {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn websocket_decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("ws_decode_masked_binary");
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(2));
    for size in SIZES {
        let (stream, n) = ws_stream(size);
        g.throughput(Throughput::Bytes((n * size) as u64));
        let mut buf = BytesMut::with_capacity(stream.len());
        g.bench_with_input(BenchmarkId::new("switchyard", size), &stream, |b, s| {
            b.iter(|| {
                let mut d = ws::Decoder::new(Role::Server, 1 << 24);
                buf.extend_from_slice(s);
                let mut count = 0;
                while let Some(Inbound::Message(m)) = d.decode(&mut buf).unwrap() {
                    black_box(&m);
                    count += 1;
                }
                assert_eq!(count, n);
                buf.reserve(s.len()); // reclaims the allocation once the frames are dropped
            })
        });
        g.bench_with_input(
            BenchmarkId::new("tungstenite_message", size),
            &stream,
            |b, s| {
                b.iter_batched(
                    || Mem(Cursor::new(s.clone())),
                    |mem| {
                        let mut sock = tungstenite::WebSocket::from_raw_socket(
                            mem,
                            tungstenite::protocol::Role::Server,
                            None,
                        );
                        for _ in 0..n {
                            black_box(sock.read().unwrap());
                        }
                    },
                    criterion::BatchSize::LargeInput,
                )
            },
        );
        g.bench_with_input(
            BenchmarkId::new("tungstenite_frame_no_unmask", size),
            &stream,
            |b, s| {
                b.iter_batched(
                    || Cursor::new(s.clone()),
                    |cur| {
                        let mut sock = FrameSocket::new(cur);
                        for _ in 0..n {
                            black_box(sock.read(None).unwrap());
                        }
                    },
                    criterion::BatchSize::LargeInput,
                )
            },
        );
    }
    g.finish();
}

fn rawsocket_decode(c: &mut Criterion) {
    let mut g = c.benchmark_group("rawsocket_decode");
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(2));
    for size in SIZES {
        let (stream, n) = raw_stream(size);
        g.throughput(Throughput::Bytes((n * size) as u64));
        let mut buf = BytesMut::with_capacity(stream.len());
        g.bench_with_input(BenchmarkId::new("switchyard", size), &stream, |b, s| {
            b.iter(|| {
                let mut d = rawsocket::Decoder::new(1 << 24);
                buf.extend_from_slice(s);
                while let Some(f) = d.decode(&mut buf).unwrap() {
                    black_box(&f);
                }
                buf.reserve(s.len());
            })
        });
    }
    g.finish();
}

criterion_group!(benches, websocket_decode, rawsocket_decode);
criterion_main!(benches);
