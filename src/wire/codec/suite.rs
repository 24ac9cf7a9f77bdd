//! The codec tests that hold for every serializer, written once as generic
//! functions over `Format` and instantiated for JSON, MessagePack and CBOR.
//!
//! Each format's own `tests.rs` keeps what is particular to it (byte
//! layouts, syntax quirks, comparisons with rmp / minicbor / serde_json) and
//! implements `Fixture`, which hands this suite the frames it needs in that
//! format's bytes.

use super::cbor::Cbor;
use super::json::Json;
use super::msgpack::MsgPack;
use super::{decode, encode_to_bytes, Format, Kind, MAX_ELEMENTS};
use crate::wire::error::DecodeError;
use crate::wire::id::{PublicationId, RequestId, SubscriptionId};
use crate::wire::message::Message;
use crate::wire::payload::{Elem, Payload};
use crate::wire::text::Text;
use crate::wire::value::{Dict, Value, MAX_DEPTH};
use bytes::{Bytes, BytesMut};

/// Frames a format supplies to the generic suite.
pub(super) trait Fixture: Format {
    /// `[16, 444555666, {"acknowledge": true}, "com.myapp.important",
    /// [100, "critical"], {"priority": "high", "count": 5}]` as this format
    /// writes it.
    fn publish() -> Vec<u8>;
    /// Further valid frames exercising the format's own syntax (they must
    /// decode; the truncation test cuts them at every offset).
    fn samples() -> Vec<Vec<u8>>;
}

const TOO_DEEP: DecodeError = DecodeError::TooDeep(MAX_DEPTH);

fn write(f: impl FnOnce(&mut BytesMut)) -> Vec<u8> {
    let mut out = BytesMut::new();
    f(&mut out);
    out.to_vec()
}

fn enc<F: Format>(v: &Value) -> Vec<u8> {
    write(|o| F::write_value(o, v))
}

fn is_malformed<T: std::fmt::Debug>(r: Result<T, DecodeError>) -> bool {
    matches!(r, Err(DecodeError::Malformed(_)))
}

/// A top-level list of the given integers, written element by element.
fn uint_list<F: Format>(items: &[u64]) -> Vec<u8> {
    write(|o| {
        F::list_open(o, items.len());
        for (i, &v) in items.iter().enumerate() {
            if i > 0 {
                F::list_sep(o);
            }
            F::write_uint(o, v);
        }
        F::list_close(o);
    })
}

/// `depth` lists nested in each other around a null, written without
/// recursion; `closed: false` leaves out the closing brackets (JSON's only).
fn nested_lists<F: Format>(depth: usize, closed: bool) -> Vec<u8> {
    write(|o| {
        for _ in 0..depth {
            F::list_open(o, 1);
        }
        F::write_value(o, &Value::Null);
        if closed {
            for _ in 0..depth {
                F::list_close(o);
            }
        }
    })
}

/// `depth` dicts nested in each other under key "a", around a null.
fn nested_dicts(depth: usize) -> Value {
    (0..depth).fold(Value::Null, |inner, _| {
        Value::Dict(Dict::new().with("a", inner))
    })
}

/// `depth` lists nested in each other around the integer 1.
fn nested_values(depth: usize) -> Value {
    (0..depth).fold(Value::UInt(1), |inner, _| Value::List(vec![inner]))
}

fn uints_round_trip<F: Fixture>() {
    for v in [
        0,
        1,
        23,
        24,
        127,
        128,
        255,
        256,
        65535,
        65536,
        0xffff_ffff,
        0x1_0000_0000,
        239714735,
        1 << 53,
        (1 << 53) + 1,
        i64::MAX as u64,
        u64::MAX,
    ] {
        let ours = write(|o| F::write_uint(o, v));
        assert_eq!(F::read_uint(&ours), Some(v), "{v}");
        assert_eq!(F::read_value(&ours), Ok(Value::UInt(v)), "{v}");
        assert_eq!(enc::<F>(&Value::UInt(v)), ours, "{v}");
    }
}

fn negative_ints_round_trip<F: Fixture>() {
    for v in [
        -1,
        -24,
        -25,
        -32,
        -33,
        -42,
        -128,
        -129,
        -256,
        -257,
        -32768,
        -32769,
        -65537,
        i64::from(i32::MIN),
        i64::from(i32::MIN) - 1,
        i64::MIN,
    ] {
        let ours = enc::<F>(&Value::Int(v));
        assert_eq!(F::read_value(&ours), Ok(Value::Int(v)), "{v}");
        assert_eq!(F::read_uint(&ours), None, "{v}");
    }
}

fn strings_and_binaries_round_trip_and_stay_distinct<F: Fixture>() {
    for len in [0usize, 1, 23, 24, 31, 32, 255, 256, 65535, 65536] {
        let s = "x".repeat(len);
        let ours = write(|o| F::write_str(o, &s));
        assert_eq!(enc::<F>(&Value::str(s.as_str())), ours, "str {len}");
        assert_eq!(
            F::read_value(&ours),
            Ok(Value::str(s.as_str())),
            "str {len}"
        );
        let frame = Bytes::from(ours);
        let text = F::read_text(&frame, 0..frame.len());
        assert_eq!(text.as_deref(), Some(s.as_str()), "str {len}");

        let b = Bytes::from((0..len).map(|i| i as u8).collect::<Vec<_>>());
        let ours = enc::<F>(&Value::Bytes(b.clone()));
        assert_eq!(F::read_value(&ours), Ok(Value::Bytes(b)), "bytes {len}");
    }
}

fn kind_tells_payload_shapes_apart<F: Fixture>() {
    let kind = |v: Value| F::kind(&enc::<F>(&v));
    assert_eq!(kind(Value::str("a")), Kind::Str);
    assert_eq!(kind(Value::str("")), Kind::Str);
    assert_eq!(kind(Value::Bytes(Bytes::from_static(b"a"))), Kind::Bytes);
    assert_eq!(kind(Value::List(vec![])), Kind::List);
    assert_eq!(kind(Value::List(vec![Value::UInt(1)])), Kind::List);
    assert_eq!(kind(Value::Dict(Dict::new())), Kind::Dict);
    assert_eq!(kind(Value::Dict(Dict::new().with("a", 1u64))), Kind::Dict);
    assert_eq!(kind(Value::Null), Kind::Other);
    assert_eq!(kind(Value::UInt(1)), Kind::Other);
    assert_eq!(F::kind(&[]), Kind::Other);
}

fn values_round_trip<F: Fixture>() {
    let v = Value::List(vec![
        Value::Null,
        Value::Bool(true),
        Value::Bool(false),
        Value::UInt(u64::MAX),
        Value::Int(-1),
        Value::Float(0.25),
        Value::Float(0.1),
        Value::Float(1.5),
        Value::Float(1.0),
        Value::Float(-0.0025),
        Value::Dict(Dict::new().with("k", Value::List(vec![]))),
        Value::List((0..20).map(Value::UInt).collect()),
        Value::Dict(Dict(
            (0..20)
                .map(|i| (i.to_string().into(), Value::UInt(i)))
                .collect(),
        )),
        Value::Dict(
            Dict::new()
                .with(
                    "list",
                    vec![Value::UInt(1), Value::Int(-1), Value::Float(0.25)],
                )
                .with("s", "x\ty")
                .with(
                    "nested",
                    Dict::new().with("b", Value::Bytes(Bytes::from_static(b"\0\xff"))),
                )
                .with("null", Value::Null),
        ),
        Value::Dict(
            Dict::new()
                .with("b", 1u64)
                .with("a", Dict::new().with("c", Value::List(vec![])))
                .with("x_custom", "y"),
        ),
    ]);
    assert_eq!(F::read_value(&enc::<F>(&v)), Ok(v.clone()));
    let Value::List(items) = v else {
        unreachable!()
    };
    for item in items {
        assert_eq!(F::read_value(&enc::<F>(&item)), Ok(item.clone()));
        if let Value::Dict(d) = &item {
            assert_eq!(F::read_dict(&enc::<F>(&item)), Ok(Some(d.clone())));
        }
    }
}

fn read_dict_reads_only_dicts<F: Fixture>() {
    for v in [
        Value::UInt(1),
        Value::List(vec![]),
        Value::str("{}"),
        Value::Null,
    ] {
        assert_eq!(F::read_dict(&enc::<F>(&v)), Ok(None), "{v:?}");
    }
    let empty = F::read_dict(&enc::<F>(&Value::Dict(Dict::new())));
    assert_eq!(empty, Ok(Some(Dict::new())));
    let Ok(Some(empty)) = empty else {
        unreachable!()
    };
    assert_eq!(empty.0.capacity(), 0, "an empty dict must not allocate");
}

fn split_counts_more_than_max_elements<F: Fixture>() {
    for n in [0, 1, MAX_ELEMENTS, MAX_ELEMENTS + 1, 9, 10] {
        let items: Vec<u64> = (0..n as u64).collect();
        let frame = uint_list::<F>(&items);
        let els = F::split(&frame).unwrap();
        assert_eq!(els.len(), n);
        for i in 0..n.min(MAX_ELEMENTS) {
            assert_eq!(F::read_uint(&frame[els.range(i)]), Some(i as u64));
        }
    }
}

fn split_rejects_non_lists_and_trailing_bytes<F: Fixture>() {
    for v in [
        Value::Dict(Dict::new()),
        Value::Dict(Dict::new().with("a", 1u64)),
        Value::str("x"),
        Value::UInt(1),
        Value::Bool(true),
        Value::Null,
    ] {
        assert_eq!(
            F::split(&enc::<F>(&v)).err(),
            Some(DecodeError::NotAList),
            "{v:?}"
        );
    }
    assert!(is_malformed(F::split(&[])));
    let one = uint_list::<F>(&[1]);
    assert!(F::split(&one).is_ok());
    for trailing in [
        enc::<F>(&Value::UInt(1)),
        enc::<F>(&Value::Null),
        one.clone(),
    ] {
        let frame = [one.as_slice(), &trailing].concat();
        assert!(is_malformed(F::split(&frame)));
    }
    let two_values = [one.as_slice(), &enc::<F>(&Value::UInt(2))].concat();
    assert!(is_malformed(F::read_value(&two_values)));
    let empty = enc::<F>(&Value::Dict(Dict::new()));
    assert!(is_malformed(F::read_dict(
        &[empty.as_slice(), &empty].concat()
    )));
}

fn nesting_is_capped_at_max_depth<F: Fixture>() {
    // The top-level list is level 1.
    assert!(F::split(&nested_lists::<F>(MAX_DEPTH, true)).is_ok());
    assert_eq!(
        F::split(&nested_lists::<F>(MAX_DEPTH + 1, true)).err(),
        Some(TOO_DEEP)
    );
    assert!(F::read_value(&nested_lists::<F>(MAX_DEPTH, true)).is_ok());
    assert_eq!(
        F::read_value(&nested_lists::<F>(MAX_DEPTH + 1, true)),
        Err(TOO_DEEP)
    );
    let maps = |depth| enc::<F>(&nested_dicts(depth));
    assert!(F::read_value(&maps(MAX_DEPTH)).is_ok());
    assert!(matches!(F::read_dict(&maps(MAX_DEPTH)), Ok(Some(_))));
    assert_eq!(F::read_value(&maps(MAX_DEPTH + 1)), Err(TOO_DEEP));
    assert_eq!(F::read_dict(&maps(MAX_DEPTH + 1)), Err(TOO_DEEP));
    // Hostile depth (far past the limit) fails fast, without exhausting the stack.
    for closed in [true, false] {
        let deep = nested_lists::<F>(1_000_000, closed);
        assert_eq!(F::split(&deep).err(), Some(TOO_DEEP));
        assert_eq!(F::read_value(&deep), Err(TOO_DEEP));
    }
}

fn payload_accepted_by_split_always_decodes<F: Fixture>() {
    // Arguments nested down to the deepest level allowed.
    let msg = Message::Publish {
        request: RequestId(1),
        options: Dict::new(),
        topic: Text::from("t"),
        payload: Payload::from_values(Some(vec![nested_values(MAX_DEPTH - 2)]), None),
    };
    let frame = encode_to_bytes(F::SERIALIZER, &msg);
    let Message::Publish { payload, .. } = decode(F::SERIALIZER, frame).unwrap() else {
        panic!("not a PUBLISH")
    };
    assert!(payload.to_values().is_ok());
}

fn truncation_at_every_offset_fails_without_panic<F: Fixture>() {
    for frame in std::iter::once(F::publish()).chain(F::samples()) {
        let whole = Bytes::from(frame.clone());
        assert!(decode(F::SERIALIZER, whole).is_ok(), "{frame:?}");
        for end in 0..frame.len() {
            let cut = Bytes::copy_from_slice(&frame[..end]);
            assert!(decode(F::SERIALIZER, cut.clone()).is_err(), "{end}");
            assert!(F::split(&cut).is_err(), "{end}");
            // Every sub-range through the value decoders too.
            for start in 0..end {
                let _ = F::read_value(&cut[start..]);
                let _ = F::read_dict(&cut[start..]);
                let _ = F::read_uint(&cut[start..]);
                let _ = F::read_text(&cut, start..end);
                let _ = F::kind(&cut[start..]);
            }
        }
    }
}

fn corrupted_bytes_never_panic<F: Fixture>() {
    use rand::{Rng, SeedableRng};
    let frame = F::publish();
    for seed in [7, 11] {
        let mut rng = rand::rngs::SmallRng::seed_from_u64(seed);
        for _ in 0..5000 {
            let mut f = frame.clone();
            for _ in 0..rng.gen_range(1..4) {
                let i = rng.gen_range(0..f.len());
                f[i] = rng.gen();
            }
            if let Ok(msg) = decode(F::SERIALIZER, Bytes::from(f)) {
                if matches!(msg, Message::Abort { .. }) {
                    continue; // ABORT is always re-encoded without its payload
                }
                // Whatever was accepted re-encodes and decodes again.
                let again = encode_to_bytes(F::SERIALIZER, &msg);
                assert_eq!(decode(F::SERIALIZER, again).unwrap(), msg);
            }
        }
    }
}

fn publish_borrows_topic_and_payload_from_the_frame<F: Fixture>() {
    let frame = Bytes::from(F::publish());
    let inside = |p: *const u8| frame.as_ptr_range().contains(&p);
    let msg = decode(F::SERIALIZER, frame.clone()).unwrap();
    let Message::Publish {
        request,
        options,
        topic,
        payload,
    } = &msg
    else {
        panic!("{msg:?}");
    };
    assert_eq!(request.0, 444555666);
    assert_eq!(options.get_bool("acknowledge"), Ok(Some(true)));
    assert_eq!(*topic, "com.myapp.important");
    assert!(inside(topic.as_ptr()));
    let els = F::split(&frame).unwrap();
    let text = F::read_text(&frame, els.range(3)).unwrap();
    assert_eq!(text, "com.myapp.important");
    assert!(inside(text.as_ptr()));
    for e in [&payload.args, &payload.kwargs] {
        match e {
            Some(Elem::Raw { ser, bytes }) => {
                assert_eq!(*ser, F::SERIALIZER);
                assert!(inside(bytes.as_ptr()));
            }
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(
        payload.to_values().unwrap(),
        (
            Some(Value::List(vec![Value::UInt(100), Value::str("critical")])),
            Some(Value::Dict(
                Dict::new().with("priority", "high").with("count", 5u64)
            ))
        )
    );
    // Re-encoding copies the raw payload and reproduces the canonical bytes.
    assert_eq!(encode_to_bytes(F::SERIALIZER, &msg), frame);
}

fn empty_options_do_not_allocate<F: Fixture>() {
    let msg = Message::Publish {
        request: RequestId(239714735),
        options: Dict::new(),
        topic: Text::from("com.myapp.topic"),
        payload: Payload::from_values(
            Some(vec![Value::str("Hello, world!")]),
            Some(Dict::new().with("a", 1u64)),
        ),
    };
    let frame = encode_to_bytes(F::SERIALIZER, &msg);
    let inside = |p: *const u8| frame.as_ptr_range().contains(&p);
    let Message::Publish {
        options,
        topic,
        payload,
        ..
    } = decode(F::SERIALIZER, frame.clone()).unwrap()
    else {
        panic!("not a PUBLISH")
    };
    assert_eq!(options.0.capacity(), 0, "{{}} must not allocate");
    assert!(inside(topic.as_bytes().as_ptr()));
    for elem in [payload.args.unwrap(), payload.kwargs.unwrap()] {
        let Elem::Raw { ser, bytes } = elem else {
            panic!("not raw")
        };
        assert_eq!(ser, F::SERIALIZER);
        assert!(inside(bytes.as_ptr()));
    }
}

/// An EVENT with binary, negative and float payload values (shared with the
/// format files, which check its exact bytes).
pub(super) fn sample_event() -> Message {
    Message::Event {
        subscription: SubscriptionId(1),
        publication: PublicationId(2),
        details: Dict::new().with("topic", "a.b"),
        payload: Payload::from_values(
            Some(vec![
                Value::Bytes(Bytes::from_static(b"xyz")),
                Value::Int(-3),
            ]),
            Some(Dict::new().with("k", Value::Float(1.25))),
        ),
    }
}

/// A PUBLISH with ArgumentsKw and no Arguments.
pub(super) fn sample_publish_kwargs_only() -> Message {
    Message::Publish {
        request: RequestId(7),
        options: Dict::new(),
        topic: Text::from("t"),
        payload: Payload::from_values(None, Some(Dict::new())),
    }
}

fn messages_round_trip<F: Fixture>() {
    let event = sample_event();
    let bytes = encode_to_bytes(F::SERIALIZER, &event);
    assert_eq!(decode(F::SERIALIZER, bytes).unwrap(), event);
    // ArgumentsKw alone: an empty Arguments list is written before it.
    let publish = sample_publish_kwargs_only();
    let bytes = encode_to_bytes(F::SERIALIZER, &publish);
    let Message::Publish { payload, .. } = decode(F::SERIALIZER, bytes).unwrap() else {
        panic!("not a PUBLISH")
    };
    assert_eq!(
        payload.to_values(),
        Ok((Some(Value::List(vec![])), Some(Value::Dict(Dict::new()))))
    );
}

/// One `#[test]` per generic test function, for the format `$format`.
macro_rules! tests_for {
    ($format:ty: $($test:ident),* $(,)?) => {
        $(
            #[test]
            fn $test() {
                super::$test::<$format>();
            }
        )*
    };
}

/// The whole suite for one format.
macro_rules! suite {
    ($module:ident, $format:ty) => {
        mod $module {
            use super::*;
            tests_for!($format:
                uints_round_trip,
                negative_ints_round_trip,
                strings_and_binaries_round_trip_and_stay_distinct,
                kind_tells_payload_shapes_apart,
                values_round_trip,
                read_dict_reads_only_dicts,
                split_counts_more_than_max_elements,
                split_rejects_non_lists_and_trailing_bytes,
                nesting_is_capped_at_max_depth,
                payload_accepted_by_split_always_decodes,
                truncation_at_every_offset_fails_without_panic,
                corrupted_bytes_never_panic,
                publish_borrows_topic_and_payload_from_the_frame,
                empty_options_do_not_allocate,
                messages_round_trip,
            );
        }
    };
}

suite!(json, Json);
suite!(msgpack, MsgPack);
suite!(cbor, Cbor);
