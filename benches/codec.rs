//! Codec benchmarks.
//!
//! - `codec/<ser>/{publish_to_event,call_to_invocation,yield_to_result}/<size>`:
//!   decode the client message and encode the message the router forwards,
//!   in the same serializer (the payload is copied as raw bytes).
//! - `transcode/{json_to_msgpack,msgpack_to_json}/<size>`: `Payload::transcoded`.
//! - `json_parse/{ours,simd_json,serde_json}/<size>`: the whole PUBLISH frame,
//!   our scanner with a lazy payload against full parses.
//! - `json_value/...` and `json_dict/...`: full decoding into `Value`/`Dict`
//!   (what `read_value` / `read_dict` do), ours against serde_json and
//!   simd-json deserializing straight into `Value` through one serde visitor.
//!
//! Input frames are built by encoding `Message`s, so every serializer is
//! measured once its codec exists; a serializer whose frames do not decode
//! back is skipped with a note. Before measuring, the allocations per
//! operation are printed (a counting allocator over mimalloc, as the router).
#![allow(clippy::unwrap_used)]

use bytes::{Bytes, BytesMut};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use mimalloc::MiMalloc;
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use std::alloc::{GlobalAlloc, Layout};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Duration;
use switchyard::wire::codec::{decode_value, encode_value};
use switchyard::wire::{
    decode, encode, encode_to_bytes, Dict, Elem, Message, Payload, PublicationId, RegistrationId,
    RequestId, Serializer, SubscriptionId, Text, Value,
};

/// Mimalloc with an allocation counter.
struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { MiMalloc.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { MiMalloc.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { MiMalloc.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made by one call of `f` (after a warm-up call).
fn allocs<T>(mut f: impl FnMut() -> T) -> usize {
    drop(f());
    let before = ALLOCS.load(Relaxed);
    drop(black_box(f()));
    ALLOCS.load(Relaxed) - before
}

type Group<'a> = criterion::BenchmarkGroup<'a, criterion::measurement::WallTime>;

const SIZES: [(&str, usize); 3] = [("64B", 64), ("1KiB", 1024), ("64KiB", 64 * 1024)];

/// Application arguments whose JSON encoding is about `target` bytes.
fn args(target: usize) -> Vec<Value> {
    let mut items = Vec::new();
    let mut len = 2;
    let mut i = 0u64;
    while len < target {
        let item = match i % 5 {
            0 => Value::str(format!("Hello, world! #{i}")),
            1 => Value::UInt(i * 7919),
            2 => Value::Float(i as f64 * 0.5 + 0.25),
            3 => Value::Bool(i % 2 == 0),
            _ => Value::Dict(
                Dict::new()
                    .with("id", i)
                    .with("name", Value::str(format!("item-{i}"))),
            ),
        };
        let mut out = BytesMut::new();
        encode_value(Serializer::Json, &item, &mut out);
        len += out.len() + 1;
        items.push(item);
        i += 1;
    }
    items
}

/// The three client messages of the `codec` group, with the payload.
fn client_messages(payload: &Payload) -> [(&'static str, Message); 3] {
    let options = Dict::new();
    [
        (
            "publish_to_event",
            Message::Publish {
                request: RequestId(239714735),
                options: options.clone(),
                topic: Text::from_static("com.myapp.mytopic1"),
                payload: payload.clone(),
            },
        ),
        (
            "call_to_invocation",
            Message::Call {
                request: RequestId(7814135),
                options: options.clone(),
                procedure: Text::from_static("com.myapp.myprocedure1"),
                payload: payload.clone(),
            },
        ),
        (
            "yield_to_result",
            Message::Yield {
                request: RequestId(6131533),
                options,
                payload: payload.clone(),
            },
        ),
    ]
}

/// The message the router sends for a decoded client message.
fn forward(msg: Message) -> Message {
    match msg {
        Message::Publish { payload, .. } => Message::Event {
            subscription: SubscriptionId(5512315355),
            publication: PublicationId(4429313566),
            details: Dict::new(),
            payload,
        },
        Message::Call { payload, .. } => Message::Invocation {
            request: RequestId(6131533),
            registration: RegistrationId(2103333224),
            details: Dict::new(),
            payload,
        },
        Message::Yield { payload, .. } => Message::Result {
            request: RequestId(7814135),
            details: Dict::new(),
            payload,
        },
        other => other,
    }
}

/// Decode, build the forwarded message, encode it into a fresh buffer.
fn route(ser: Serializer, frame: &Bytes) -> Bytes {
    let msg = decode(ser, frame.clone()).unwrap();
    let mut out = BytesMut::with_capacity(frame.len() + 32);
    encode(ser, &forward(msg), &mut out);
    out.freeze()
}

/// The frame of `msg` in `ser`, if it decodes back to a message with the same payload values.
fn frame_for(ser: Serializer, msg: &Message) -> Option<Bytes> {
    let frame = encode_to_bytes(ser, msg);
    let back = decode(ser, frame.clone()).ok()?;
    let same = payload_of(&back)?.to_values().ok()? == payload_of(msg)?.to_values().ok()?;
    same.then_some(frame)
}

fn payload_of(msg: &Message) -> Option<&Payload> {
    match msg {
        Message::Publish { payload, .. }
        | Message::Call { payload, .. }
        | Message::Yield { payload, .. } => Some(payload),
        _ => None,
    }
}

fn configured<'a>(c: &'a mut Criterion, name: &str) -> Group<'a> {
    let mut g = c.benchmark_group(name);
    g.measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_secs(1))
        .sample_size(30);
    g
}

fn codec(c: &mut Criterion) {
    for ser in Serializer::ALL {
        let mut g = configured(c, &format!("codec/{}", ser.name()));
        for (size_name, size) in SIZES {
            let payload = Payload::args(args(size));
            for (name, msg) in client_messages(&payload) {
                let Some(frame) = frame_for(ser, &msg) else {
                    eprintln!(
                        "note: skipping codec/{}/{name}/{size_name}: frames do not decode",
                        ser.name()
                    );
                    continue;
                };
                let n = allocs(|| route(ser, &frame));
                eprintln!(
                    "codec/{}/{name}/{size_name}: {} B frame, {n} allocations",
                    ser.name(),
                    frame.len()
                );
                g.throughput(Throughput::Bytes(frame.len() as u64));
                g.bench_with_input(BenchmarkId::new(name, size_name), &frame, |b, f| {
                    b.iter(|| route(ser, black_box(f)))
                });
            }
        }
        g.finish();
    }
}

fn transcode(c: &mut Criterion) {
    let mut g = configured(c, "transcode");
    for (src, dst) in [
        (Serializer::Json, Serializer::MsgPack),
        (Serializer::MsgPack, Serializer::Json),
    ] {
        let name = format!("{}_to_{}", src.name(), dst.name());
        for (size_name, size) in SIZES {
            let msg = &client_messages(&Payload::args(args(size)))[0].1;
            let Some(payload) = transcodable(src, dst, msg) else {
                eprintln!("note: skipping transcode/{name}/{size_name}: {src:?} -> {dst:?} does not round-trip");
                continue;
            };
            let n = allocs(|| payload.transcoded(dst).unwrap());
            eprintln!("transcode/{name}/{size_name}: {n} allocations");
            g.bench_with_input(BenchmarkId::new(&name, size_name), &payload, |b, p| {
                b.iter(|| black_box(p).transcoded(dst).unwrap())
            });
        }
    }
    g.finish();
}

/// The raw payload of `msg` decoded from `src`, if it transcodes to `dst` faithfully.
fn transcodable(src: Serializer, dst: Serializer, msg: &Message) -> Option<Payload> {
    let frame = frame_for(src, msg)?;
    let payload = payload_of(&decode(src, frame).ok()?)?.clone();
    let out = payload.transcoded(dst).ok()?;
    let args = match &out.args {
        Some(Elem::Raw { ser, bytes }) if *ser == dst => decode_value(dst, bytes).ok()?,
        _ => return None,
    };
    (Some(args) == payload.to_values().ok()?.0).then_some(payload)
}

fn json_parse(c: &mut Criterion) {
    let mut g = configured(c, "json_parse");
    for (size_name, size) in SIZES {
        let msg = &client_messages(&Payload::args(args(size)))[0].1;
        let Some(frame) = frame_for(Serializer::Json, msg) else {
            eprintln!("note: skipping json_parse/{size_name}: json frames do not decode");
            continue;
        };
        let n = allocs(|| decode(Serializer::Json, frame.clone()).unwrap());
        let m = allocs(|| serde_json::from_slice::<serde_json::Value>(&frame).unwrap());
        eprintln!("json_parse/{size_name}: {n} allocations (ours), {m} (serde_json)");
        g.throughput(Throughput::Bytes(frame.len() as u64));
        g.bench_with_input(BenchmarkId::new("ours", size_name), &frame, |b, f| {
            b.iter(|| decode(Serializer::Json, black_box(f).clone()).unwrap())
        });
        let mut buf = Vec::with_capacity(frame.len());
        g.bench_with_input(BenchmarkId::new("simd_json", size_name), &frame, |b, f| {
            b.iter(|| {
                buf.clear();
                buf.extend_from_slice(black_box(f));
                drop(black_box(simd_json::to_borrowed_value(&mut buf).unwrap()));
            })
        });
        g.bench_with_input(BenchmarkId::new("serde_json", size_name), &frame, |b, f| {
            b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(f)).unwrap())
        });
    }
    g.finish();
}

/// Deserializes straight into a switchyard `Value` (how a serde-based codec would).
struct SerdeValue(Value);

impl<'de> Deserialize<'de> for SerdeValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ValueVisitor).map(SerdeValue)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::UInt(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(string_value(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
        while let Some(SerdeValue(v)) = seq.next_element()? {
            items.push(v);
        }
        Ok(Value::List(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some((SerdeKey(k), SerdeValue(v))) = map.next_entry()? {
            entries.push((k, v));
        }
        Ok(Value::Dict(Dict(entries)))
    }
}

/// An object key, copied once into a `Text`.
struct SerdeKey(Text);

impl<'de> Deserialize<'de> for SerdeKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(KeyVisitor).map(SerdeKey)
    }
}

struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = Text;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a string")
    }
    fn visit_str<E>(self, v: &str) -> Result<Text, E> {
        Ok(Text::from(v))
    }
}

/// A string, or bytes under the JSON binary convention.
fn string_value(s: &str) -> Value {
    use base64::Engine as _;
    if let Some(b64) = s.strip_prefix('\0') {
        if let Ok(b) = base64::engine::general_purpose::STANDARD.decode(b64) {
            return Value::Bytes(b.into());
        }
    }
    Value::str(s)
}

/// Ours, serde_json and simd-json (with reused buffers) decoding `input` into a `Value`.
fn value_decoders(g: &mut Group<'_>, id: &str, input: &[u8]) {
    let expected = decode_value(Serializer::Json, input).unwrap();
    assert_eq!(
        serde_json::from_slice::<SerdeValue>(input).unwrap().0,
        expected
    );
    g.throughput(Throughput::Bytes(input.len() as u64));
    g.bench_with_input(BenchmarkId::new("ours", id), input, |b, i| {
        b.iter(|| decode_value(Serializer::Json, black_box(i)).unwrap())
    });
    g.bench_with_input(BenchmarkId::new("serde_json", id), input, |b, i| {
        b.iter(|| {
            serde_json::from_slice::<SerdeValue>(black_box(i))
                .unwrap()
                .0
        })
    });
    let mut buf = Vec::with_capacity(input.len());
    let mut buffers = simd_json::Buffers::new(input.len());
    g.bench_with_input(BenchmarkId::new("simd_json", id), input, |b, i| {
        b.iter(|| {
            buf.clear();
            buf.extend_from_slice(black_box(i));
            simd_json::serde::from_slice_with_buffers::<SerdeValue>(&mut buf, &mut buffers)
                .unwrap()
                .0
        })
    });
}

fn json_value(c: &mut Criterion) {
    let mut g = configured(c, "json_value");
    for (size_name, size) in SIZES {
        let mut input = BytesMut::new();
        encode_value(Serializer::Json, &Value::List(args(size)), &mut input);
        if decode_value(Serializer::Json, &input).is_err() {
            eprintln!("note: skipping json_value/{size_name}: does not decode");
            continue;
        }
        value_decoders(&mut g, size_name, &input);
    }
    g.finish();
    let mut g = configured(c, "json_dict");
    let details = br#"{"roles":{"caller":{"features":{"caller_identification":true,"progressive_call_results":true}},"callee":{"features":{"caller_identification":true,"pattern_based_registration":true,"shared_registration":true,"progressive_call_results":true,"registration_revocation":true}},"publisher":{"features":{"publisher_identification":true,"subscriber_blackwhite_listing":true,"publisher_exclusion":true}},"subscriber":{"features":{"publisher_identification":true,"pattern_based_subscription":true,"subscription_revocation":true}}},"authid":"joe","authmethods":["anonymous","ticket"]}"#;
    if decode_value(Serializer::Json, details).is_ok() {
        value_decoders(&mut g, "hello_details", details);
        value_decoders(
            &mut g,
            "publish_options",
            br#"{"acknowledge":true,"exclude_me":false}"#,
        );
    }
    g.finish();
}

criterion_group!(benches, codec, transcode, json_parse, json_value);
criterion_main!(benches);
