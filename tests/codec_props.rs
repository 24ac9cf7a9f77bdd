#![allow(clippy::unwrap_used)]
//! Property tests of the three codecs, over arbitrary messages of every type:
//!
//! 1. every message round-trips through each serializer (encode, decode,
//!    compare; `Payload` equality compares decoded values);
//! 2. transcoding a payload between any two serializers keeps its values,
//!    binary included;
//! 3. random bytes, random bytes behind a list header, truncated and mutated
//!    encodings never panic a decoder.
//!
//! Plus one plain test: decoding a PUBLISH with empty options allocates
//! nothing in the binary codecs (topic and payload borrow the frame).
//!
//! The properties are split per serializer (and serializer pair), so a
//! failing codec does not hide the others.

use bytes::Bytes;
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use proptest::strategy::Union;
use proptest::test_runner::Config;
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use switchyard::wire::codec::{decode_value, encode_value};
use switchyard::wire::id::MAX_ID;
use switchyard::wire::{
    decode, encode_to_bytes, Dict, Elem, Message, Payload, PublicationId, RegistrationId,
    RequestId, Serializer, SessionId, SubscriptionId, Text, Value,
};

fn config() -> Config {
    Config {
        cases: 256,
        // Keep failures out of the source tree; proptest prints the seed.
        failure_persistence: None,
        ..Config::default()
    }
}

// ---------------------------------------------------------------- strategies

/// Any string that does not start with NUL (JSON reads a leading U+0000 as
/// the binary convention).
fn text() -> impl Strategy<Value = String> {
    vec(any::<char>(), 0..12).prop_map(|cs| {
        let s: String = cs.into_iter().collect();
        s.trim_start_matches('\0').to_string()
    })
}

fn wire_text() -> impl Strategy<Value = Text> {
    text().prop_map(Text::from)
}

fn bytes() -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..24).prop_map(Bytes::from)
}

/// Finite floats (NaN never equals itself).
fn float() -> impl Strategy<Value = f64> {
    any::<f64>().prop_filter("finite", |f| f.is_finite())
}

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<u64>().prop_map(Value::UInt),
        (0..=1u64 << 53).prop_map(Value::UInt),
        (i64::MIN..0).prop_map(Value::Int),
        float().prop_map(Value::Float),
        text().prop_map(|s| Value::str(s.as_str())),
        bytes().prop_map(Value::Bytes),
    ]
}

fn dict_of(v: impl Strategy<Value = Value>) -> impl Strategy<Value = Dict> {
    btree_map(text(), v, 0..5)
        .prop_map(|m| Dict(m.into_iter().map(|(k, v)| (k.into(), v)).collect()))
}

/// Any value, nested a few levels.
fn value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Value::List),
            dict_of(inner).prop_map(Value::Dict),
        ]
    })
}

fn dict() -> impl Strategy<Value = Dict> {
    dict_of(value())
}

fn id() -> impl Strategy<Value = u64> {
    1..=MAX_ID
}

/// Arguments and ArgumentsKw built from values, or a transparent payload
/// (a single binary or string element in place of Arguments).
fn payload() -> impl Strategy<Value = Payload> {
    prop_oneof![
        Just(Payload::empty()),
        vec(value(), 0..5).prop_map(|a| Payload::from_values(Some(a), None)),
        (vec(value(), 0..5), dict()).prop_map(|(a, k)| Payload::from_values(Some(a), Some(k))),
        bytes().prop_map(|b| Payload {
            args: Some(Elem::Value(Value::Bytes(b))),
            kwargs: None,
        }),
        text().prop_map(|s| Payload {
            args: Some(Elem::Value(Value::str(s.as_str()))),
            kwargs: None,
        }),
    ]
}

/// The session messages and ERROR.
fn session_messages() -> Vec<BoxedStrategy<Message>> {
    vec![
        (wire_text(), dict())
            .prop_map(|(realm, details)| Message::Hello { realm, details })
            .boxed(),
        (id(), dict())
            .prop_map(|(s, details)| Message::Welcome {
                session: SessionId(s),
                details,
            })
            .boxed(),
        // ABORT is always encoded with 3 elements, so no payload here.
        (dict(), wire_text())
            .prop_map(|(details, reason)| Message::Abort {
                details,
                reason,
                payload: Payload::empty(),
            })
            .boxed(),
        (wire_text(), dict())
            .prop_map(|(auth_method, extra)| Message::Challenge { auth_method, extra })
            .boxed(),
        (wire_text(), dict())
            .prop_map(|(signature, extra)| Message::Authenticate { signature, extra })
            .boxed(),
        (dict(), wire_text())
            .prop_map(|(details, reason)| Message::Goodbye { details, reason })
            .boxed(),
        (any::<u64>(), id(), dict(), wire_text(), payload())
            .prop_map(
                |(request_type, r, details, error, payload)| Message::Error {
                    request_type,
                    request: RequestId(r),
                    details,
                    error,
                    payload,
                },
            )
            .boxed(),
    ]
}

/// The pub/sub messages.
fn pubsub_messages() -> Vec<BoxedStrategy<Message>> {
    vec![
        (id(), dict(), wire_text(), payload())
            .prop_map(|(r, options, topic, payload)| Message::Publish {
                request: RequestId(r),
                options,
                topic,
                payload,
            })
            .boxed(),
        (id(), id())
            .prop_map(|(r, p)| Message::Published {
                request: RequestId(r),
                publication: PublicationId(p),
            })
            .boxed(),
        (id(), dict(), wire_text())
            .prop_map(|(r, options, topic)| Message::Subscribe {
                request: RequestId(r),
                options,
                topic,
            })
            .boxed(),
        (id(), id())
            .prop_map(|(r, s)| Message::Subscribed {
                request: RequestId(r),
                subscription: SubscriptionId(s),
            })
            .boxed(),
        (id(), id(), dict())
            .prop_map(|(r, s, options)| Message::Unsubscribe {
                request: RequestId(r),
                subscription: SubscriptionId(s),
                options,
            })
            .boxed(),
        (prop_oneof![Just(0), id()], proptest::option::of(dict()))
            .prop_map(|(r, details)| Message::Unsubscribed {
                request: RequestId(r),
                details,
            })
            .boxed(),
        (id(), id(), dict(), payload())
            .prop_map(|(s, p, details, payload)| Message::Event {
                subscription: SubscriptionId(s),
                publication: PublicationId(p),
                details,
                payload,
            })
            .boxed(),
        id().prop_map(|p| Message::EventReceived {
            publication: PublicationId(p),
        })
        .boxed(),
    ]
}

/// The RPC call messages.
fn rpc_messages() -> Vec<BoxedStrategy<Message>> {
    vec![
        (id(), dict(), wire_text(), payload())
            .prop_map(|(r, options, procedure, payload)| Message::Call {
                request: RequestId(r),
                options,
                procedure,
                payload,
            })
            .boxed(),
        (id(), dict())
            .prop_map(|(r, options)| Message::Cancel {
                request: RequestId(r),
                options,
            })
            .boxed(),
        (id(), dict(), payload())
            .prop_map(|(r, details, payload)| Message::Result {
                request: RequestId(r),
                details,
                payload,
            })
            .boxed(),
        (id(), id(), dict(), payload())
            .prop_map(|(r, g, details, payload)| Message::Invocation {
                request: RequestId(r),
                registration: RegistrationId(g),
                details,
                payload,
            })
            .boxed(),
        (id(), dict())
            .prop_map(|(r, options)| Message::Interrupt {
                request: RequestId(r),
                options,
            })
            .boxed(),
        (id(), dict(), payload())
            .prop_map(|(r, options, payload)| Message::Yield {
                request: RequestId(r),
                options,
                payload,
            })
            .boxed(),
    ]
}

/// The RPC registration messages.
fn registration_messages() -> Vec<BoxedStrategy<Message>> {
    vec![
        (id(), dict(), wire_text())
            .prop_map(|(r, options, procedure)| Message::Register {
                request: RequestId(r),
                options,
                procedure,
            })
            .boxed(),
        (id(), id())
            .prop_map(|(r, g)| Message::Registered {
                request: RequestId(r),
                registration: RegistrationId(g),
            })
            .boxed(),
        (id(), id(), dict())
            .prop_map(|(r, g, options)| Message::Unregister {
                request: RequestId(r),
                registration: RegistrationId(g),
                options,
            })
            .boxed(),
        (prop_oneof![Just(0), id()], proptest::option::of(dict()))
            .prop_map(|(r, details)| Message::Unregistered {
                request: RequestId(r),
                details,
            })
            .boxed(),
    ]
}

/// Any message of any of the 25 types.
fn message() -> impl Strategy<Value = Message> {
    let mut arms = session_messages();
    arms.extend(pubsub_messages());
    arms.extend(rpc_messages());
    arms.extend(registration_messages());
    Union::new(arms)
}

// ---------------------------------------------------------------- helpers

fn roundtrip(ser: Serializer, msg: &Message) -> Result<(), TestCaseError> {
    let frame = encode_to_bytes(ser, msg);
    let back = decode(ser, frame.clone())
        .map_err(|e| TestCaseError::fail(format!("{e}; frame {frame:02x?}")))?;
    prop_assert_eq!(&back, msg);
    // Encoding the decoded (raw payload) message gives the same bytes again.
    prop_assert_eq!(encode_to_bytes(ser, &back), frame);
    Ok(())
}

/// Transcodes `from` -> `to` -> `from` and checks the values each time.
fn transcode(p: &Payload, from: Serializer, to: Serializer) -> Result<(), TestCaseError> {
    let want = p.to_values().unwrap();
    let native = p.transcoded(from).unwrap();
    prop_assert!(native.is_native(from));
    let there = native
        .transcoded(to)
        .map_err(|e| TestCaseError::fail(format!("{from:?} -> {to:?}: {e}")))?;
    prop_assert!(there.is_native(to));
    prop_assert_eq!(there.to_values().unwrap(), want.clone());
    let back = there.transcoded(from).unwrap();
    prop_assert_eq!(back.to_values().unwrap(), want);
    Ok(())
}

/// Encodes and decodes one standalone value.
fn value_roundtrip(ser: Serializer, v: Value) -> Result<(), TestCaseError> {
    let mut out = bytes::BytesMut::new();
    encode_value(ser, &v, &mut out);
    prop_assert_eq!(decode_value(ser, &out), Ok(v));
    Ok(())
}

/// Decodes anything without panicking; whatever is accepted re-encodes to a
/// frame that decodes to the same message (ABORT drops its payload by design).
fn decode_any(ser: Serializer, bytes: &[u8]) -> Result<(), TestCaseError> {
    if let Ok(msg) = decode(ser, Bytes::copy_from_slice(bytes)) {
        if !matches!(msg, Message::Abort { .. }) {
            let again = decode(ser, encode_to_bytes(ser, &msg));
            prop_assert_eq!(again.as_ref(), Ok(&msg));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------- properties

proptest! {
    #![proptest_config(config())]

    #[test]
    fn messages_roundtrip_json(msg in message()) {
        roundtrip(Serializer::Json, &msg)?;
    }

    #[test]
    fn messages_roundtrip_msgpack(msg in message()) {
        roundtrip(Serializer::MsgPack, &msg)?;
    }

    #[test]
    fn messages_roundtrip_cbor(msg in message()) {
        roundtrip(Serializer::Cbor, &msg)?;
    }

    #[test]
    fn payloads_transcode_between_msgpack_and_cbor(p in payload()) {
        transcode(&p, Serializer::MsgPack, Serializer::Cbor)?;
        transcode(&p, Serializer::Cbor, Serializer::MsgPack)?;
    }

    #[test]
    fn payloads_transcode_to_and_from_json(p in payload(), other in prop::sample::select(vec![Serializer::MsgPack, Serializer::Cbor])) {
        transcode(&p, Serializer::Json, other)?;
        transcode(&p, other, Serializer::Json)?;
    }

    #[test]
    fn single_values_roundtrip_json(v in value()) {
        value_roundtrip(Serializer::Json, v)?;
    }

    #[test]
    fn single_values_roundtrip_binary(v in value()) {
        value_roundtrip(Serializer::MsgPack, v.clone())?;
        value_roundtrip(Serializer::Cbor, v)?;
    }

    #[test]
    fn random_bytes_never_panic(data in vec(any::<u8>(), 0..64)) {
        for ser in Serializer::ALL {
            decode_any(ser, &data)?;
        }
    }

    #[test]
    fn random_bytes_after_a_list_header_never_panic(
        head in prop::sample::select(vec![0x93u8, 0x95, 0xdc, 0x83, 0x85, 0x9f, b'[']),
        code in prop::sample::select(vec![1u8, 3, 8, 16, 32, 36, 48, 50, 68, 70]),
        data in vec(any::<u8>(), 0..64),
    ) {
        let mut frame = vec![head, code];
        frame.extend_from_slice(&data);
        for ser in Serializer::ALL {
            decode_any(ser, &frame)?;
        }
    }

    #[test]
    fn truncated_encodings_fail_without_panic(msg in message(), cut in any::<prop::sample::Index>()) {
        for ser in Serializer::ALL {
            let frame = encode_to_bytes(ser, &msg);
            if frame.is_empty() {
                continue; // a codec that writes nothing fails the round trips
            }
            let end = cut.index(frame.len());
            prop_assert!(decode(ser, frame.slice(..end)).is_err());
        }
    }

    #[test]
    fn mutated_encodings_never_panic(
        msg in message(),
        edits in vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        for ser in Serializer::ALL {
            let mut frame = encode_to_bytes(ser, &msg).to_vec();
            if frame.is_empty() {
                continue;
            }
            for (at, byte) in &edits {
                let i = at.index(frame.len());
                frame[i] = *byte;
            }
            decode_any(ser, &frame)?;
        }
    }
}

// ---------------------------------------------------------------- allocation

/// Counts allocations per thread (tests run on several threads).
struct CountingAlloc;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
}

// SAFETY: forwards every call to the system allocator unchanged.
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

fn allocations_during<T>(f: impl FnOnce() -> T) -> (usize, T) {
    let before = ALLOCATIONS.with(Cell::get);
    let out = f();
    (ALLOCATIONS.with(Cell::get) - before, out)
}

#[test]
fn decoding_a_publish_with_empty_options_does_not_allocate() {
    let msg = Message::Publish {
        request: RequestId(123),
        options: Dict::new(),
        topic: Text::from("com.example.topic"),
        payload: Payload::from_values(
            Some(vec![Value::UInt(1), Value::str("two")]),
            Some(Dict::new().with("three", 3u64)),
        ),
    };
    for ser in [Serializer::MsgPack, Serializer::Cbor] {
        let frame = encode_to_bytes(ser, &msg);
        // The first clone of a `Bytes` made from a `Vec` promotes it to a
        // shared buffer (one allocation); a transport's frames are shared already.
        let shared = frame.clone();
        let (n, decoded) = allocations_during(|| decode(ser, shared));
        let decoded = decoded.unwrap();
        assert_eq!(n, 0, "{ser:?}: {n} allocations");
        assert_eq!(decoded, msg);
    }
    // The counter does see allocations: non-empty options are decoded.
    let with_options = Message::Publish {
        request: RequestId(1),
        options: Dict::new().with("acknowledge", true),
        topic: Text::from("t"),
        payload: Payload::empty(),
    };
    let frame = encode_to_bytes(Serializer::MsgPack, &with_options);
    let shared = frame.clone();
    let (n, _) = allocations_during(|| decode(Serializer::MsgPack, shared));
    assert!(n > 0);
}
