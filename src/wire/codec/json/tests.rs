//! Tests particular to the JSON codec: the scanner's grammar (whitespace,
//! structure, numbers, escapes, surrogates, UTF-8), the binary convention,
//! compact output and a differential test against serde_json. The tests
//! every serializer shares are in `codec::suite`.

use super::Json;
use crate::wire::codec::suite::{sample_event, sample_publish_kwargs_only, Fixture};
use crate::wire::codec::{decode, encode_to_bytes, Format, Kind, Serializer};
use crate::wire::error::DecodeError;
use crate::wire::text::Text;
use crate::wire::value::{Dict, Value, MAX_DEPTH};
use bytes::{Bytes, BytesMut};

fn elements(frame: &str) -> Result<Vec<&str>, DecodeError> {
    let els = Json::split(frame.as_bytes())?;
    Ok((0..els.len().min(7))
        .map(|i| &frame[els.range(i)])
        .collect())
}

fn value(s: &str) -> Result<Value, DecodeError> {
    Json::read_value(s.as_bytes())
}

fn to_json(v: &Value) -> String {
    let mut out = BytesMut::new();
    Json::write_value(&mut out, v);
    String::from_utf8(out.to_vec()).unwrap()
}

fn text(s: &str) -> Option<Text> {
    let frame = Bytes::copy_from_slice(s.as_bytes());
    Json::read_text(&frame, 0..frame.len())
}

fn is_malformed<T: std::fmt::Debug>(r: Result<T, DecodeError>) -> bool {
    matches!(r, Err(DecodeError::Malformed(_)))
}

#[test]
fn split_finds_element_ranges() {
    let els = elements(r#"[16, 239714735, {}, "com.myapp.topic", ["a", {"b": [1]}]]"#).unwrap();
    assert_eq!(
        els,
        [
            "16",
            "239714735",
            "{}",
            r#""com.myapp.topic""#,
            r#"["a", {"b": [1]}]"#
        ]
    );
    assert_eq!(elements("[]").unwrap(), Vec::<&str>::new());
    assert_eq!(elements("[ ]").unwrap(), Vec::<&str>::new());
}

#[test]
fn whitespace_variants() {
    let want = ["16", "1", "{}", "\"t\""];
    for frame in [
        "[16,1,{},\"t\"]",
        " [16, 1, {}, \"t\"] ",
        "\t\n[\r\n16 ,\t1\n,{ }\r,\"t\"\n]\n",
    ] {
        let els = elements(frame).unwrap();
        assert_eq!(els.len(), 4, "{frame:?}");
        assert_eq!(els[0], want[0]);
        assert_eq!(els[3], want[3]);
    }
    assert_eq!(
        value(" { \"a\" : [ 1 , true , null ] } ").unwrap(),
        Value::Dict(Dict::new().with("a", vec![Value::UInt(1), Value::Bool(true), Value::Null]))
    );
    // Only the four JSON whitespace characters.
    assert!(is_malformed(elements("[1,\u{b}2]")));
    assert!(is_malformed(elements("[1,\u{a0}2]")));
}

#[test]
fn not_a_list_and_trailing_garbage() {
    for frame in [" {\"a\":1}", "x"] {
        assert_eq!(
            Json::split(frame.as_bytes()).err(),
            Some(DecodeError::NotAList),
            "{frame}"
        );
    }
    for frame in ["  ", "[1]x", "[1] [2]", "[1]]", "[1],", "[1]\0"] {
        assert!(is_malformed(Json::split(frame.as_bytes())), "{frame:?}");
    }
    assert!(Json::split(b"[1] \n\t\r").is_ok());
    assert!(is_malformed(value("1 2")));
    assert!(is_malformed(value("{} x")));
    assert!(is_malformed(Json::read_dict(b"{} x")));
}

#[test]
fn structure_errors() {
    for frame in [
        "[1,]",
        "[,1]",
        "[1 2]",
        "[{]",
        "[{\"a\"}]",
        "[{\"a\":}]",
        "[{\"a\" 1}]",
        "[{1:2}]",
        "[{\"a\":1,}]",
        "[{,}]",
        "[[]",
        "[}",
        "[tru]",
        "[nul]",
        "[falsy]",
        "[True]",
        "[NaN]",
        "[undefined]",
        "['a']",
        "[\"a\"\"b\"]",
    ] {
        assert!(is_malformed(Json::split(frame.as_bytes())), "{frame}");
        let inner = &frame[1..frame.len() - 1];
        assert!(value(inner).is_err(), "{inner}");
    }
}

#[test]
fn numbers() {
    assert_eq!(Json::read_uint(b"0"), Some(0));
    assert_eq!(Json::read_uint(b"239714735"), Some(239714735));
    assert_eq!(Json::read_uint(b"18446744073709551615"), Some(u64::MAX));
    for bad in [
        "18446744073709551616",
        "1.0",
        "-1",
        "1e3",
        "01",
        "",
        "\"1\"",
        "-0",
        "1 ",
    ] {
        assert_eq!(Json::read_uint(bad.as_bytes()), None, "{bad}");
    }
    assert_eq!(value("0").unwrap(), Value::UInt(0));
    assert_eq!(value("42").unwrap(), Value::UInt(42));
    assert_eq!(value("-42").unwrap(), Value::Int(-42));
    assert_eq!(value("-9223372036854775808").unwrap(), Value::Int(i64::MIN));
    assert_eq!(
        value("-9223372036854775809").unwrap(),
        Value::Float(-9223372036854775809.0)
    );
    assert_eq!(
        value("18446744073709551616").unwrap(),
        Value::Float(18446744073709551616.0)
    );
    assert_eq!(value("1.5").unwrap(), Value::Float(1.5));
    assert_eq!(value("1.0").unwrap(), Value::Float(1.0));
    assert_eq!(value("-2.5E-3").unwrap(), Value::Float(-0.0025));
    assert_eq!(value("1e3").unwrap(), Value::Float(1000.0));
    assert_eq!(value("0.1").unwrap(), Value::Float(0.1));
    assert!(matches!(value("-0").unwrap(), Value::Float(f) if f == 0.0 && f.is_sign_negative()));
    for bad in [
        "01", "-", "1.", ".5", "1e", "1e+", "+1", "1.e5", "--1", "0x10", "1_000", "-a",
    ] {
        assert!(is_malformed(value(bad)), "{bad}");
        assert!(
            is_malformed(Json::split(format!("[{bad}]").as_bytes())),
            "{bad}"
        );
    }
}

#[test]
fn numbers_beyond_f64_are_refused() {
    assert!(value("1e999").is_err());
    assert!(value("-1e999").is_err());
    assert_eq!(value("1e308"), Ok(Value::Float(1e308)));
}

#[test]
fn string_escapes() {
    assert_eq!(
        text(r#""a\"b\\c\/d\be\ff\ng\rh\ti""#).unwrap(),
        "a\"b\\c/d\u{8}e\u{c}f\ng\rh\ti"
    );
    assert_eq!(text(r#""\u0041\u00e9\u4e2d""#).unwrap(), "Aé中");
    assert_eq!(text(r#""\u00E9""#).unwrap(), "é");
    assert_eq!(text("\"héllo 😀 中\"").unwrap(), "héllo 😀 中");
    for bad in [
        r#""\x""#,
        r#""\u12""#,
        r#""\u12g4""#,
        r#""\""#,
        "\"a\u{1}b\"",
        "\"a\nb\"",
        r#"abc"#,
        r#""abc"#,
        r#""a"b""#,
    ] {
        assert_eq!(text(bad), None, "{bad:?}");
        assert!(
            is_malformed(Json::split(format!("[{bad}]").as_bytes())),
            "{bad:?}"
        );
    }
    assert_eq!(text("1"), None);
    assert_eq!(text("\"\""), Some(Text::from("")));
}

#[test]
fn surrogate_pairs() {
    assert_eq!(text(r#""\ud83d\ude00""#).unwrap(), "😀");
    assert_eq!(text(r#""x\uD834\uDD1Ey""#).unwrap(), "x𝄞y");
    assert_eq!(value(r#""\ud83d\ude00""#).unwrap(), Value::str("😀"));
    for bad in [
        r#""\ud83d""#,
        r#""\ud83dx""#,
        r#""\ud83d\n""#,
        r#""\ud83d\u0041""#,
        r#""\ude00""#,
        r#""\ude00\ud83d""#,
        r#""\ud83d\ud83d""#,
        r#""\ud83d\ude0""#,
    ] {
        assert_eq!(text(bad), None, "{bad}");
        assert!(value(bad).is_err(), "{bad}");
        assert!(Json::split(format!("[{bad}]").as_bytes()).is_err(), "{bad}");
    }
}

#[test]
fn invalid_utf8_is_rejected() {
    let cases: [&[u8]; 9] = [
        b"[\"\xff\"]",
        b"[\"\xc0\x80\"]",           // overlong
        b"[\"\xe0\x80\x80\"]",       // overlong
        b"[\"\xed\xa0\x80\"]",       // encoded surrogate
        b"[\"\xf4\x90\x80\x80\"]",   // above U+10FFFF
        b"[\"\xe4\xb8\"]",           // cut short
        b"[\"\x80\"]",               // lone continuation
        b"[\"abcdefghij\xc3(abc\"]", // bad continuation after a long ASCII run
        b"[1,\xc3\xa9]",             // non-ASCII outside a string
    ];
    for frame in cases {
        assert!(is_malformed(Json::split(frame)), "{frame:?}");
        let inner = &frame[1..frame.len() - 1];
        assert!(Json::read_value(inner).is_err(), "{frame:?}");
        let bytes = Bytes::copy_from_slice(inner);
        assert_eq!(Json::read_text(&bytes, 0..bytes.len()), None, "{frame:?}");
    }
    assert!(Json::split("[\"é中😀\u{7f}\"]".as_bytes()).is_ok());
}

#[test]
fn binary_convention() {
    assert_eq!(
        value(r#""\u0000AQID""#).unwrap(),
        Value::Bytes(Bytes::from_static(&[1, 2, 3]))
    );
    assert_eq!(value(r#""\u0000""#).unwrap(), Value::Bytes(Bytes::new()));
    // Invalid Base64 (bad characters, missing padding) stays a string.
    assert_eq!(value(r#""\u0000!!""#).unwrap(), Value::str("\0!!"));
    assert_eq!(value(r#""\u0000AQI""#).unwrap(), Value::str("\0AQI"));
    // U+0000 elsewhere is an ordinary character.
    assert_eq!(value(r#""a\u0000AQID""#).unwrap(), Value::str("a\0AQID"));
    let data = Bytes::from((0..=255u8).collect::<Vec<_>>());
    let json = to_json(&Value::Bytes(data.clone()));
    assert!(json.starts_with("\"\\u0000AAECAwQF"));
    assert_eq!(value(&json).unwrap(), Value::Bytes(data));
    assert_eq!(
        to_json(&Value::Bytes(Bytes::from_static(&[1, 2, 3]))),
        r#""\u0000AQID""#
    );
    assert_eq!(Json::kind(br#""\u0000AQID""#), Kind::Bytes);
    assert_eq!(Json::kind(br#""AQID""#), Kind::Str);
}

#[test]
fn encodes_compact_and_escaped() {
    let v = Value::List(vec![
        Value::Null,
        Value::Bool(true),
        Value::Bool(false),
        Value::UInt(u64::MAX),
        Value::Int(-7),
        Value::Float(1.5),
        Value::Float(1.0),
        Value::Float(f64::NAN),
        Value::Float(f64::INFINITY),
        Value::str("a\"b\\c\n\u{1}\u{1f}é😀\u{7f}"),
        Value::Dict(
            Dict::new()
                .with("k", Value::List(vec![]))
                .with("e", Dict::new()),
        ),
    ]);
    assert_eq!(
        to_json(&v),
        r#"[null,true,false,18446744073709551615,-7,1.5,1.0,null,null,"a\"b\\c\n\u0001\u001fé😀"#
            .to_owned()
            + "\u{7f}"
            + r#"",{"k":[],"e":{}}]"#
    );
    let mut out = BytesMut::new();
    Json::write_str(&mut out, "\u{8}\u{c}\r\t\u{0}");
    assert_eq!(&out[..], br#""\b\f\r\t\u0000""#);
}

#[test]
fn every_control_character_round_trips() {
    let s: String = (0u8..0x80).map(char::from).collect::<String>() + "long tail of text";
    let mut out = BytesMut::new();
    Json::write_str(&mut out, &s);
    assert!(Json::split(format!("[{}]", std::str::from_utf8(&out).unwrap()).as_bytes()).is_ok());
    let bytes = out.freeze();
    assert_eq!(Json::read_text(&bytes, 0..bytes.len()).unwrap(), s.as_str());
}

#[test]
fn dicts() {
    assert_eq!(Json::read_dict(b"{ }"), Ok(Some(Dict::new())));
    assert!(is_malformed(Json::read_dict(b"{\"a\":}")));
    // Duplicate keys: first position, last value (small and large dicts).
    let d = Json::read_dict(br#"{"a":1,"b":2,"a":3}"#).unwrap().unwrap();
    assert_eq!(d, Dict::new().with("a", 3u64).with("b", 2u64));
    let mut big = (0..40).map(|i| format!("\"k{i}\":{i}")).collect::<Vec<_>>();
    big.push("\"k5\":\"last\"".into());
    let d = Json::read_dict(format!("{{{}}}", big.join(",")).as_bytes())
        .unwrap()
        .unwrap();
    assert_eq!(d.len(), 40);
    assert_eq!(d.0[5], (Text::from("k5"), Value::str("last")));
    // Escaped keys are unescaped.
    let d = Json::read_dict(br#"{"a\u0062":true}"#).unwrap().unwrap();
    assert_eq!(d.get_bool("ab"), Ok(Some(true)));
}

fn nested(open: &str, close: &str, depth: usize) -> String {
    format!("{}1{}", open.repeat(depth), close.repeat(depth))
}

const SAMPLES: &[&str] = &[
    r#"[16, 239714735, {}, "com.myapp.mytopic1", ["Hello, world!"]]"#,
    r#"[1,"com.example.realm",{"roles":{"subscriber":{},"publisher":{"features":{"x":true}}}}]"#,
    r#"[36,5647382910,998877665544,{"enc_algo":"cryptobox"},"\u0000g6Vjb2xvcqRibHVl"]"#,
    r#"[48,7814135,{"timeout":-1.5e3},"com.p",[null,true,false,"\ud83d\ude00\n"],{"k":[{}]}]"#,
];

impl Fixture for Json {
    fn publish() -> Vec<u8> {
        br#"[16,444555666,{"acknowledge":true},"com.myapp.important",[100,"critical"],{"priority":"high","count":5}]"#.to_vec()
    }

    fn samples() -> Vec<Vec<u8>> {
        SAMPLES.iter().map(|s| s.as_bytes().to_vec()).collect()
    }
}

#[test]
fn byte_mutations_never_panic() {
    let replacements = b"\"\\[]{},:0-9.eu tfn\x00\x1f\x7f\x80\xc3\xed\xf4\xff";
    for s in SAMPLES {
        let mut b = s.as_bytes().to_vec();
        for i in 0..b.len() {
            let orig = b[i];
            for &r in replacements {
                b[i] = r;
                let frame = Bytes::copy_from_slice(&b);
                if let Ok(msg) = decode(Serializer::Json, frame.clone()) {
                    // Whatever split accepted re-encodes and decodes again.
                    let again = decode(Serializer::Json, encode_to_bytes(Serializer::Json, &msg));
                    assert_eq!(
                        again.as_ref(),
                        Ok(&msg),
                        "{:?}",
                        String::from_utf8_lossy(&b)
                    );
                }
                let _ = Json::read_value(&b);
            }
            b[i] = orig;
        }
    }
}

#[test]
fn messages_encode_to_compact_bytes() {
    let bytes = encode_to_bytes(Serializer::Json, &sample_event());
    assert_eq!(
        &bytes[..],
        br#"[36,1,2,{"topic":"a.b"},["\u0000eHl6",-3],{"k":1.25}]"#
    );
    let bytes = encode_to_bytes(Serializer::Json, &sample_publish_kwargs_only());
    assert_eq!(&bytes[..], br#"[16,7,{},"t",[],{}]"#);
}

#[test]
fn nested_payload_structure() {
    for ok in [
        r#"[16,1,{},"t",[[],[{}],{"x":{"y":[]}},{ "a" : [ 1 , { } ] }]]"#,
        r#"[16,1,{},"t",[],{"a":{"b":{"c":[null,true,false,-0.5e-3,"\\"]}}}]"#,
    ] {
        assert!(decode(Serializer::Json, ok.into()).is_ok(), "{ok}");
    }
    for bad in [
        r#"[16,1,{},"t",[{"a":[1,2}]]]"#,
        r#"[16,1,{},"t",[{"a":1]}]"#,
        r#"[16,1,{},"t",[1],{"a" 1}]"#,
        r#"[16,1,{},"t",[1],{"a":1,}]"#,
        r#"[16,1,{},"t",[1],{"a":1,"b"}]"#,
        r#"[16,1,{},"t",[1],{"a":1 "b":2}]"#,
        r#"[16,1,{},"t",[[1] [2]]]"#,
        r#"[16,1,{},"t",[[1],]]"#,
        r#"[16,1,{},"t",[{]]"#,
    ] {
        assert!(is_malformed(decode(Serializer::Json, bad.into())), "{bad}");
    }
    let deep = format!("[16,1,{{}},\"t\",{}]", nested("{\"a\":", "}", MAX_DEPTH));
    assert_eq!(
        decode(Serializer::Json, deep.into()).err(),
        Some(DecodeError::TooDeep(MAX_DEPTH))
    );
}

/// Accepts exactly what serde_json accepts (apart from numbers out of the
/// f64 range, which we keep as infinities).
fn agrees_with_serde_json(s: &str) -> Result<(), proptest::test_runner::TestCaseError> {
    let theirs = serde_json::from_str::<serde_json::Value>(s);
    if matches!(&theirs, Err(e) if e.to_string().contains("number out of range")) {
        return Ok(());
    }
    let ours = Json::read_value(s.as_bytes());
    proptest::prop_assert_eq!(ours.is_ok(), theirs.is_ok(), "{:?}: {:?}", s, ours);
    let is_list = matches!(theirs, Ok(serde_json::Value::Array(_)));
    proptest::prop_assert_eq!(Json::split(s.as_bytes()).is_ok(), is_list, "{:?}", s);
    Ok(())
}

proptest::proptest! {
    #[test]
    fn differential_against_serde_json(s in r#"[\[\]{}",:0-9a-fnrtuelsE.+\- \\]{0,24}"#) {
        agrees_with_serde_json(&s)?;
        agrees_with_serde_json(&format!("[{s}]"))?;
        agrees_with_serde_json(&format!("[\"{s}\"]"))?;
        agrees_with_serde_json(&format!("{{\"{s}\":[{s}]}}"))?;
    }
}
