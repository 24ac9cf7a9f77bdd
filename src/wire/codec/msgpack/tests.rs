//! Unit tests of the msgpack codec: edge encodings (checked against `rmp`),
//! `undefined` handling, depth limits, hostile lengths, truncation.

use super::{dec, MsgPack};
use crate::wire::codec::{Format, Kind, Serializer};
use crate::wire::error::DecodeError;
use crate::wire::message::Message;
use crate::wire::payload::Elem;
use crate::wire::value::{Dict, Value, MAX_DEPTH};
use crate::wire::{decode, encode_to_bytes};
use bytes::{Bytes, BytesMut};

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn enc(f: impl FnOnce(&mut BytesMut)) -> Vec<u8> {
    let mut out = BytesMut::new();
    f(&mut out);
    out.to_vec()
}

fn value(v: &Value) -> Vec<u8> {
    enc(|o| MsgPack::write_value(o, v))
}

const UINTS: [u64; 14] = [
    0,
    1,
    127,
    128,
    255,
    256,
    65535,
    65536,
    0xffff_ffff,
    0x1_0000_0000,
    1 << 53,
    (1 << 53) + 1,
    i64::MAX as u64,
    u64::MAX,
];

#[test]
fn uints_use_the_smallest_encoding_and_read_back() {
    for v in UINTS {
        let mut reference = Vec::new();
        rmp::encode::write_uint(&mut reference, v).unwrap();
        let ours = enc(|o| MsgPack::write_uint(o, v));
        assert_eq!(ours, reference, "{v}");
        assert_eq!(MsgPack::read_uint(&ours), Some(v));
        assert_eq!(MsgPack::read_value(&ours), Ok(Value::UInt(v)));
    }
}

#[test]
fn read_uint_accepts_wider_and_signed_encodings() {
    for h in [
        "05",
        "cc05",
        "cd0005",
        "ce00000005",
        "cf0000000000000005",
        "d005",
        "d10005",
        "d200000005",
        "d30000000000000005",
    ] {
        assert_eq!(MsgPack::read_uint(&hex(h)), Some(5), "{h}");
    }
    for h in [
        "ff",
        "d0ff",
        "d3ffffffffffffffff",
        "c0",
        "c3",
        "a130",
        "cb3ff0000000000000",
        "cc",
        "0505",
    ] {
        assert_eq!(MsgPack::read_uint(&hex(h)), None, "{h}");
    }
    assert_eq!(MsgPack::read_value(&hex("d005")), Ok(Value::UInt(5)));
}

#[test]
fn negative_ints_match_rmp_and_read_back() {
    for v in [
        -1,
        -32,
        -33,
        -128,
        -129,
        -32768,
        -32769,
        i64::from(i32::MIN),
        i64::from(i32::MIN) - 1,
        i64::MIN,
    ] {
        let mut reference = Vec::new();
        rmp::encode::write_sint(&mut reference, v).unwrap();
        let ours = value(&Value::Int(v));
        assert_eq!(ours, reference, "{v}");
        assert_eq!(MsgPack::read_value(&ours), Ok(Value::Int(v)));
    }
}

#[test]
fn strings_and_binaries_match_rmp_and_stay_distinct() {
    for len in [0usize, 1, 31, 32, 255, 256, 65535, 65536] {
        let s = "x".repeat(len);
        let mut reference = Vec::new();
        rmp::encode::write_str(&mut reference, &s).unwrap();
        assert_eq!(enc(|o| MsgPack::write_str(o, &s)), reference, "str {len}");
        assert_eq!(MsgPack::read_value(&reference), Ok(Value::str(s.as_str())));

        let b = Bytes::from(vec![7u8; len]);
        let mut reference = Vec::new();
        rmp::encode::write_bin(&mut reference, &b).unwrap();
        assert_eq!(value(&Value::Bytes(b.clone())), reference, "bin {len}");
        assert_eq!(MsgPack::read_value(&reference), Ok(Value::Bytes(b)));
    }
    assert_eq!(MsgPack::kind(&hex("a161")), Kind::Str);
    assert_eq!(MsgPack::kind(&hex("c40161")), Kind::Bytes);
    assert_eq!(MsgPack::kind(&hex("dc0000")), Kind::List);
    assert_eq!(MsgPack::kind(&hex("df00000000")), Kind::Dict);
    assert_eq!(MsgPack::kind(&hex("c0")), Kind::Other);
    assert_eq!(MsgPack::kind(&[]), Kind::Other);
}

#[test]
fn floats_read_as_f64_and_write_as_float64() {
    assert_eq!(
        MsgPack::read_value(&hex("ca3fc00000")),
        Ok(Value::Float(1.5))
    );
    assert_eq!(
        MsgPack::read_value(&hex("cb3ff8000000000000")),
        Ok(Value::Float(1.5))
    );
    let mut reference = Vec::new();
    rmp::encode::write_f64(&mut reference, 0.1).unwrap();
    assert_eq!(value(&Value::Float(0.1)), reference);
}

#[test]
fn containers_and_scalars_round_trip() {
    let v = Value::List(vec![
        Value::Null,
        Value::Bool(true),
        Value::Bool(false),
        Value::Dict(Dict::new().with("k", Value::List(vec![]))),
        Value::List((0..20).map(Value::UInt).collect()),
        Value::Dict(Dict(
            (0..20)
                .map(|i| (i.to_string().into(), Value::UInt(i)))
                .collect(),
        )),
    ]);
    let bytes = value(&v);
    assert_eq!(MsgPack::read_value(&bytes), Ok(v));
    // 20 items need array16 / map16.
    assert!(bytes.windows(3).any(|w| w == [0xdc, 0, 20]));
    assert!(bytes.windows(3).any(|w| w == [0xde, 0, 20]));
}

#[test]
fn undefined_is_dropped_from_dicts_and_null_elsewhere() {
    // {"a": undefined (fixext1 type 0), "b": 1, "c": undefined (ext8 type 0)}
    let d = hex("83a161d40000a16201a163c70000");
    assert_eq!(
        MsgPack::read_dict(&d),
        Ok(Some(Dict::new().with("b", 1u64)))
    );
    assert_eq!(MsgPack::read_value(&hex("d40000")), Ok(Value::Null));
    assert_eq!(
        MsgPack::read_value(&hex("92d4000001")),
        Ok(Value::List(vec![Value::Null, Value::UInt(1)]))
    );
    // Nested dicts drop undefined too.
    assert_eq!(
        MsgPack::read_value(&hex("81a17881a179d40000")),
        Ok(Value::Dict(Dict::new().with("x", Dict::new())))
    );
    // Other ext types read as their data.
    assert_eq!(
        MsgPack::read_value(&hex("d5050102")),
        Ok(Value::Bytes(Bytes::from_static(&[1, 2])))
    );
}

#[test]
fn wampy_subscribe_with_undefined_options_decodes() {
    // [32, 1, {"match": undefined, "get_retained": undefined}, "a.b"]
    let frame = hex(
        "942001 82a56d61746368d40000ac6765745f72657461696e6564d40000 a3612e62"
            .replace(' ', "")
            .as_str(),
    );
    let msg = decode(Serializer::MsgPack, Bytes::from(frame)).unwrap();
    match msg {
        Message::Subscribe { options, topic, .. } => {
            assert!(options.is_empty());
            assert_eq!(topic, "a.b");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn dict_keys_must_be_strings() {
    assert!(MsgPack::read_dict(&hex("810102")).is_err());
    assert!(MsgPack::read_dict(&hex("81c4016102")).is_err());
    assert!(MsgPack::read_value(&hex("810102")).is_err());
    assert!(dec::split(&hex("9201810102")).is_err());
    assert_eq!(MsgPack::read_dict(&hex("01")), Ok(None));
    assert_eq!(MsgPack::read_dict(&hex("90")), Ok(None));
}

#[test]
fn split_rejects_non_lists_trailing_bytes_and_bad_utf8() {
    assert_eq!(
        dec::split(&hex("81a16101")).err(),
        Some(DecodeError::NotAList)
    );
    assert_eq!(dec::split(&hex("01")).err(), Some(DecodeError::NotAList));
    assert!(matches!(dec::split(&[]), Err(DecodeError::Malformed(_))));
    assert!(matches!(
        dec::split(&hex("910101")),
        Err(DecodeError::Malformed(_))
    ));
    assert!(matches!(
        dec::split(&hex("9101c0")),
        Err(DecodeError::Malformed(_))
    ));
    assert!(matches!(
        dec::split(&hex("92a2c328")),
        Err(DecodeError::Malformed(_))
    ));
    assert!(matches!(
        dec::split(&hex("91c1")),
        Err(DecodeError::Malformed(_))
    ));
    let els = dec::split(&hex("9301a161c0")).unwrap();
    assert_eq!(els.len(), 3);
    assert_eq!(
        (els.range(0), els.range(1), els.range(2)),
        (1..2, 2..4, 4..5)
    );
    assert_eq!(MsgPack::read_text(&Bytes::from(hex("a2c328")), 0..3), None);
}

#[test]
fn split_counts_more_than_max_elements() {
    let els = dec::split(&hex("9a00010203040506070809")).unwrap();
    assert_eq!(els.len(), 10);
}

fn nested_lists(n: usize) -> Vec<u8> {
    let mut v = vec![0x91; n];
    v.push(0xc0);
    v
}

#[test]
fn nesting_is_capped_at_max_depth() {
    // The top-level list is level 1.
    assert!(dec::split(&nested_lists(MAX_DEPTH)).is_ok());
    assert_eq!(
        dec::split(&nested_lists(MAX_DEPTH + 1)).err(),
        Some(DecodeError::TooDeep(MAX_DEPTH))
    );
    assert!(MsgPack::read_value(&nested_lists(MAX_DEPTH)).is_ok());
    assert_eq!(
        MsgPack::read_value(&nested_lists(MAX_DEPTH + 1)),
        Err(DecodeError::TooDeep(MAX_DEPTH))
    );
    let mut maps = [0x81, 0xa1, 0x61].repeat(MAX_DEPTH + 1);
    maps.push(0xc0);
    assert_eq!(
        MsgPack::read_value(&maps),
        Err(DecodeError::TooDeep(MAX_DEPTH))
    );
    assert_eq!(
        MsgPack::read_dict(&maps),
        Err(DecodeError::TooDeep(MAX_DEPTH))
    );
    // Deep hostile input (far past the limit) fails without exhausting the stack.
    assert!(dec::split(&nested_lists(1_000_000)).is_err());
    assert!(MsgPack::read_value(&nested_lists(1_000_000)).is_err());
}

#[test]
fn huge_declared_lengths_fail_fast() {
    for h in [
        "ddffffffff",
        "dfffffffff",
        "91ddffffffff",
        "91dbffffffff",
        "91c6ffffffff",
        "91c9ffffffff00",
        "92dcffff",
    ] {
        let b = hex(h);
        assert!(dec::split(&b).is_err(), "{h}");
        assert!(MsgPack::read_value(&b).is_err(), "{h}");
        assert!(MsgPack::read_value(&b[1..]).is_err(), "{h}");
        let _ = MsgPack::read_dict(&b[1..]);
    }
}

const PUBLISH_HEX: &str = "9610ce1a7f619281ab61636b6e6f776c65646765c3b3636f6d2e6d796170702e696d706f7274616e749264a8637269746963616c82a87072696f72697479a468696768a5636f756e7405";

#[test]
fn truncation_at_every_offset_fails_without_panic() {
    let frame = hex(PUBLISH_HEX);
    assert!(decode(Serializer::MsgPack, Bytes::from(frame.clone())).is_ok());
    for end in 0..frame.len() {
        let cut = Bytes::copy_from_slice(&frame[..end]);
        assert!(decode(Serializer::MsgPack, cut.clone()).is_err(), "{end}");
        for start in 0..end {
            let _ = MsgPack::read_value(&cut[start..]);
            let _ = MsgPack::read_dict(&cut[start..]);
            let _ = MsgPack::read_uint(&cut[start..]);
            let _ = MsgPack::read_text(&cut, start..end);
        }
    }
}

#[test]
fn corrupted_bytes_never_panic() {
    use rand::{Rng, SeedableRng};
    let frame = hex(PUBLISH_HEX);
    let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
    for _ in 0..5000 {
        let mut f = frame.clone();
        for _ in 0..rng.gen_range(1..4) {
            let i = rng.gen_range(0..f.len());
            f[i] = rng.gen();
        }
        if let Ok(msg) = decode(Serializer::MsgPack, Bytes::from(f)) {
            if matches!(msg, Message::Abort { .. }) {
                continue; // ABORT is always re-encoded without its payload
            }
            // Whatever was accepted re-encodes and decodes again.
            let again = encode_to_bytes(Serializer::MsgPack, &msg);
            assert_eq!(decode(Serializer::MsgPack, again).unwrap(), msg);
        }
    }
}

#[test]
fn publish_borrows_topic_and_payload_from_the_frame() {
    let frame = Bytes::from(hex(PUBLISH_HEX));
    let range = frame.as_ptr() as usize..frame.as_ptr() as usize + frame.len();
    let msg = decode(Serializer::MsgPack, frame.clone()).unwrap();
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
    assert!(range.contains(&(topic.as_ptr() as usize)));
    for e in [&payload.args, &payload.kwargs] {
        match e {
            Some(Elem::Raw { ser, bytes }) => {
                assert_eq!(*ser, Serializer::MsgPack);
                assert!(range.contains(&(bytes.as_ptr() as usize)));
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
    assert_eq!(encode_to_bytes(Serializer::MsgPack, &msg), frame);
}

#[test]
fn empty_dicts_do_not_allocate_entries() {
    let d = MsgPack::read_dict(&hex("80")).unwrap().unwrap();
    assert_eq!(d.0.capacity(), 0);
}
