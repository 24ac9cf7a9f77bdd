//! Tests particular to the msgpack codec: edge encodings (checked against
//! `rmp`), wider and reserved markers, `undefined` handling, hostile
//! lengths. The tests every serializer shares are in `codec::suite`.

use super::{dec, MsgPack};
use crate::wire::codec::suite::Fixture;
use crate::wire::codec::{Format, Kind, Serializer};
use crate::wire::decode;
use crate::wire::error::DecodeError;
use crate::wire::message::Message;
use crate::wire::value::{Dict, Value};
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
    // Wider headers than the encoder writes.
    assert_eq!(MsgPack::kind(&hex("d90161")), Kind::Str);
    assert_eq!(MsgPack::kind(&hex("c6000000016161")), Kind::Bytes);
    assert_eq!(MsgPack::kind(&hex("dc0000")), Kind::List);
    assert_eq!(MsgPack::kind(&hex("df00000000")), Kind::Dict);
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
fn twenty_items_use_array16_and_map16() {
    let list = value(&Value::List((0..20).map(Value::UInt).collect()));
    assert_eq!(list[..3], [0xdc, 0, 20]);
    let dict = value(&Value::Dict(Dict(
        (0..20)
            .map(|i| (i.to_string().into(), Value::UInt(i)))
            .collect(),
    )));
    assert_eq!(dict[..3], [0xde, 0, 20]);
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
}

#[test]
fn split_rejects_bad_utf8_and_the_reserved_marker() {
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

impl Fixture for MsgPack {
    fn publish() -> Vec<u8> {
        hex(PUBLISH_HEX)
    }

    fn samples() -> Vec<Vec<u8>> {
        Vec::new()
    }
}
