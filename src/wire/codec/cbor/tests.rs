//! Tests particular to the cbor codec: edge encodings (checked against
//! `minicbor`), indefinite lengths, tags, half floats, `undefined`, hostile
//! lengths. The tests every serializer shares are in `codec::suite`.

use super::{dec, Cbor};
use crate::wire::codec::suite::Fixture;
use crate::wire::codec::{Format, Kind, Serializer};
use crate::wire::error::DecodeError;
use crate::wire::message::Message;
use crate::wire::value::{Dict, Value, MAX_DEPTH};
use crate::wire::{decode, encode_to_bytes};
use bytes::{Bytes, BytesMut};
use minicbor::Encoder;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
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
    enc(|o| Cbor::write_value(o, v))
}

/// Encodes with minicbor, the reference.
fn reference(f: impl FnOnce(&mut Encoder<Vec<u8>>)) -> Vec<u8> {
    let mut e = Encoder::new(Vec::new());
    f(&mut e);
    e.into_writer()
}

#[test]
fn uints_use_the_smallest_encoding_and_read_back() {
    for v in [
        0,
        23,
        24,
        255,
        256,
        65535,
        65536,
        0xffff_ffff,
        0x1_0000_0000,
        1 << 53,
        u64::MAX,
    ] {
        let r = reference(|e| {
            e.u64(v).unwrap();
        });
        let ours = enc(|o| Cbor::write_uint(o, v));
        assert_eq!(ours, r, "{v}");
        assert_eq!(Cbor::read_uint(&ours), Some(v));
        assert_eq!(Cbor::read_value(&ours), Ok(Value::UInt(v)));
    }
}

#[test]
fn read_uint_accepts_wider_encodings_and_tags() {
    for h in [
        "05",
        "1805",
        "190005",
        "1a00000005",
        "1b0000000000000005",
        "c105",
        "c1c205",
    ] {
        assert_eq!(Cbor::read_uint(&hex(h)), Some(5), "{h}");
    }
    for h in [
        "20",
        "f6",
        "f5",
        "6130",
        "fb3ff0000000000000",
        "18",
        "0505",
        "1f",
    ] {
        assert_eq!(Cbor::read_uint(&hex(h)), None, "{h}");
    }
}

#[test]
fn negative_ints_match_minicbor_and_read_back() {
    for v in [
        -1,
        -24,
        -25,
        -256,
        -257,
        -65537,
        i64::from(i32::MIN),
        i64::MIN,
    ] {
        let r = reference(|e| {
            e.i64(v).unwrap();
        });
        let ours = value(&Value::Int(v));
        assert_eq!(ours, r, "{v}");
        assert_eq!(Cbor::read_value(&ours), Ok(Value::Int(v)));
    }
    // Below i64::MIN: read as a float rather than rejected.
    assert_eq!(
        Cbor::read_value(&hex("3bffffffffffffffff")),
        Ok(Value::Float(-18446744073709551616.0))
    );
}

#[test]
fn strings_and_byte_strings_match_minicbor_and_stay_distinct() {
    for len in [0usize, 1, 23, 24, 255, 256, 65535, 65536] {
        let s = "y".repeat(len);
        let r = reference(|e| {
            e.str(&s).unwrap();
        });
        assert_eq!(enc(|o| Cbor::write_str(o, &s)), r, "str {len}");
        assert_eq!(Cbor::read_value(&r), Ok(Value::str(s.as_str())));

        let b = Bytes::from(vec![9u8; len]);
        let r = reference(|e| {
            e.bytes(&b).unwrap();
        });
        assert_eq!(value(&Value::Bytes(b.clone())), r, "bytes {len}");
        assert_eq!(Cbor::read_value(&r), Ok(Value::Bytes(b)));
    }
    // Indefinite and tagged items.
    assert_eq!(Cbor::kind(&hex("7f6161ff")), Kind::Str);
    assert_eq!(Cbor::kind(&hex("d8184161")), Kind::Bytes);
    assert_eq!(Cbor::kind(&hex("9fff")), Kind::List);
    assert_eq!(Cbor::kind(&hex("bfff")), Kind::Dict);
}

#[test]
fn containers_match_minicbor() {
    let v = Value::List(vec![
        Value::Null,
        Value::Bool(true),
        Value::Float(0.1),
        Value::Dict(Dict::new().with("k", Value::List(vec![]))),
    ]);
    let r = reference(|e| {
        e.array(4)
            .unwrap()
            .null()
            .unwrap()
            .bool(true)
            .unwrap()
            .f64(0.1)
            .unwrap();
        e.map(1).unwrap().str("k").unwrap().array(0).unwrap();
    });
    assert_eq!(value(&v), r);
    assert_eq!(Cbor::read_value(&r), Ok(v));
}

#[test]
fn floats_of_every_width_read_as_f64() {
    let cases: [(&str, f64); 9] = [
        ("f93c00", 1.0),
        ("f9bc00", -1.0),
        ("f97bff", 65504.0),
        ("f90001", 5.960464477539063e-8),
        ("f90400", 6.103515625e-5),
        ("f97c00", f64::INFINITY),
        ("f9fc00", f64::NEG_INFINITY),
        ("fa47c35000", 100000.0),
        ("fb3ff199999999999a", 1.1),
    ];
    for (h, f) in cases {
        assert_eq!(Cbor::read_value(&hex(h)), Ok(Value::Float(f)), "{h}");
    }
    assert!(matches!(Cbor::read_value(&hex("f97e00")), Ok(Value::Float(f)) if f.is_nan()));
    // Every finite half is exact in f64: values increase with the bit pattern
    // and the sign bit only negates.
    let mut last = -1.0;
    for h in 0..0x7c00u16 {
        let v = dec::f16_to_f64(h);
        assert!(v > last, "{h:#x}");
        assert_eq!(dec::f16_to_f64(h | 0x8000), -v);
        last = v;
    }
}

#[test]
fn indefinite_lengths_are_accepted_everywhere() {
    // [_ 16, 1, {_ "a": [_ 1]}, (_ "to", "pic"), [_ (_ h'01', h'0203')]]
    let frame = hex(INDEFINITE_HEX);
    let msg = decode(Serializer::Cbor, Bytes::from(frame)).unwrap();
    let Message::Publish {
        options,
        topic,
        payload,
        ..
    } = &msg
    else {
        panic!("{msg:?}");
    };
    assert_eq!(
        *options,
        Dict::new().with("a", Value::List(vec![Value::UInt(1)]))
    );
    assert_eq!(*topic, "topic");
    assert_eq!(
        payload.to_values().unwrap().0,
        Some(Value::List(vec![Value::Bytes(Bytes::from_static(&[
            1, 2, 3
        ]))]))
    );
    // Re-encoding writes definite lengths only.
    let out = encode_to_bytes(Serializer::Cbor, &msg);
    assert_eq!(out[0], 0x85);
    assert_eq!(decode(Serializer::Cbor, out).unwrap(), msg);
    // Indefinite-length dict keys.
    assert_eq!(
        Cbor::read_dict(&hex("a1 7f 6161 6162 ff 01")),
        Ok(Some(Dict::new().with("ab", 1u64)))
    );
}

#[test]
fn bad_indefinite_items_are_malformed() {
    for h in [
        "7f 4161 ff",  // byte chunk in a text string
        "5f 6161 ff",  // text chunk in a byte string
        "7f 7f ff ff", // nested indefinite chunk
        "7f 61",       // truncated chunk
        "7f 6161",     // no break
        "9f 01",       // no break
        "1f",          // indefinite integer
        "ff",          // break alone
        "82 01 ff",    // break in a definite array
        "bf 61 61 ff", // break where a value belongs
        "7f 61 c3 ff", // chunk that is not UTF-8
        "1c",          // reserved additional info
        "f8 10",       // two-byte simple value below 32
    ] {
        let b = hex(h);
        assert!(Cbor::read_value(&b).is_err(), "{h}");
        let mut frame = vec![0x81];
        frame.extend_from_slice(&b);
        assert!(
            matches!(dec::split(&frame), Err(DecodeError::Malformed(_))),
            "{h}"
        );
    }
}

#[test]
fn tags_are_skipped_and_kept_in_raw_slices() {
    // [16, 1, {}, 32("a.b"), [2(h'01')]] with a tag on the topic and a bignum in args.
    let frame = Bytes::from(hex("85 10 01 a0 d820 63612e62 81 c2 4101"));
    let msg = decode(Serializer::Cbor, frame.clone()).unwrap();
    let Message::Publish { topic, payload, .. } = &msg else {
        panic!("{msg:?}");
    };
    assert_eq!(*topic, "a.b");
    assert_eq!(
        payload.to_values().unwrap().0,
        Some(Value::List(vec![Value::Bytes(Bytes::from_static(&[1]))]))
    );
    // The raw payload keeps its tag when re-encoded in CBOR.
    let out = encode_to_bytes(Serializer::Cbor, &msg);
    assert!(out.ends_with(&hex("81 c2 4101")));
    // A tagged top-level list and a long tag chain.
    assert!(dec::split(&hex("d9d9f7 82 01 02")).is_ok());
    let mut chain = vec![0xc1; 100_000];
    chain.push(0x01);
    assert_eq!(Cbor::read_value(&chain), Ok(Value::UInt(1)));
}

#[test]
fn undefined_is_dropped_from_dicts_and_null_elsewhere() {
    // {"a": undefined, "b": 1}
    assert_eq!(
        Cbor::read_dict(&hex("a2 6161 f7 6162 01")),
        Ok(Some(Dict::new().with("b", 1u64)))
    );
    assert_eq!(Cbor::read_value(&hex("f7")), Ok(Value::Null));
    assert_eq!(
        Cbor::read_value(&hex("82 f7 01")),
        Ok(Value::List(vec![Value::Null, Value::UInt(1)]))
    );
    assert_eq!(
        Cbor::read_value(&hex("a1 6178 a1 6179 f7")),
        Ok(Value::Dict(Dict::new().with("x", Dict::new())))
    );
    // Unassigned simple values read as null.
    assert_eq!(Cbor::read_value(&hex("f0")), Ok(Value::Null));
    assert_eq!(Cbor::read_value(&hex("f8ff")), Ok(Value::Null));
}

#[test]
fn dict_keys_must_be_text() {
    assert!(Cbor::read_dict(&hex("a1 01 02")).is_err());
    assert!(Cbor::read_dict(&hex("a1 4161 02")).is_err());
    assert!(Cbor::read_value(&hex("a1 01 02")).is_err());
    assert!(dec::split(&hex("82 01 a1 01 02")).is_err());
    // A tagged key is a text key.
    assert_eq!(
        Cbor::read_dict(&hex("a1 c1 6161 01")),
        Ok(Some(Dict::new().with("a", 1u64)))
    );
}

#[test]
fn split_rejects_trailing_bytes_after_indefinite_lists_and_bad_utf8() {
    assert!(matches!(
        dec::split(&hex("9f01ff01")),
        Err(DecodeError::Malformed(_))
    ));
    assert!(matches!(
        dec::split(&hex("82 62c328")),
        Err(DecodeError::Malformed(_))
    ));
    let els = dec::split(&hex("83 01 6161 f6")).unwrap();
    assert_eq!(els.len(), 3);
    assert_eq!(
        (els.range(0), els.range(1), els.range(2)),
        (1..2, 2..4, 4..5)
    );
    let els = dec::split(&hex("9f 01 6161 f6 ff")).unwrap();
    assert_eq!((els.len(), els.range(2)), (3, 4..5));
    assert_eq!(Cbor::read_text(&Bytes::from(hex("62c328")), 0..3), None);
}

/// `n` indefinite-length lists nested in each other around a null.
fn nested_lists(n: usize) -> Vec<u8> {
    let mut v = vec![0x9f; n];
    v.push(0xf6);
    v.extend(std::iter::repeat_n(0xff, n));
    v
}

#[test]
fn indefinite_nesting_is_capped_at_max_depth() {
    assert!(dec::split(&nested_lists(MAX_DEPTH)).is_ok());
    assert_eq!(
        dec::split(&nested_lists(MAX_DEPTH + 1)).err(),
        Some(DecodeError::TooDeep(MAX_DEPTH))
    );
    assert!(Cbor::read_value(&nested_lists(MAX_DEPTH)).is_ok());
    assert_eq!(
        Cbor::read_value(&nested_lists(MAX_DEPTH + 1)),
        Err(DecodeError::TooDeep(MAX_DEPTH))
    );
    assert!(dec::split(&nested_lists(1_000_000)).is_err());
    let mut maps = [0xbf, 0x61, 0x61].repeat(MAX_DEPTH + 1);
    maps.push(0xf6);
    maps.extend(std::iter::repeat_n(0xff, MAX_DEPTH + 1));
    assert_eq!(Cbor::read_dict(&maps), Err(DecodeError::TooDeep(MAX_DEPTH)));
}

#[test]
fn huge_declared_lengths_fail_fast() {
    for h in [
        "9bffffffffffffffff",
        "bbffffffffffffffff",
        "9affffffff",
        "81 5bffffffffffffffff",
        "81 7bffffffffffffffff",
        "81 7affffffff",
        "81 bbffffffffffffffff",
        "81 7f 7bffffffffffffffff ff",
        "82 99ffff",
    ] {
        let b = hex(h);
        assert!(dec::split(&b).is_err(), "{h}");
        assert!(Cbor::read_value(&b).is_err(), "{h}");
        assert!(Cbor::read_value(&b[1..]).is_err(), "{h}");
        let _ = Cbor::read_dict(&b[1..]);
    }
}

const PUBLISH_HEX: &str = "86101a1a7f6192a16b61636b6e6f776c65646765f573636f6d2e6d796170702e696d706f7274616e7482186468637269746963616ca2687072696f72697479646869676865636f756e7405";

/// A PUBLISH written with indefinite lengths everywhere.
const INDEFINITE_HEX: &str =
    "9f 10 01 bf 6161 9f 01 ff ff 7f 62746f 63706963 ff 9f 5f 4101 420203 ff ff ff";

impl Fixture for Cbor {
    fn publish() -> Vec<u8> {
        hex(PUBLISH_HEX)
    }

    fn samples() -> Vec<Vec<u8>> {
        vec![hex(INDEFINITE_HEX)]
    }
}

#[test]
fn indefinite_text_is_concatenated_by_read_text() {
    let frame = Bytes::from(hex("7f 62612e 6162 ff"));
    assert_eq!(
        Cbor::read_text(&frame, 0..frame.len()).as_deref(),
        Some("a.b")
    );
    assert_eq!(Cbor::read_text(&frame, 0..frame.len() - 1), None);
}
