//! Tests of the typed options: every option, its default, wrong types,
//! unknown keys kept, and agreement with the option-validation samples of
//! the WAMP test vectors.

use super::*;
use crate::wire::codec::{decode, decode_value};
use crate::wire::message::Message;
use crate::wire::Serializer;
use bytes::Bytes;

/// A dict from JSON text.
fn dict(json: &str) -> Dict {
    match decode_value(Serializer::Json, json.as_bytes()) {
        Ok(Value::Dict(d)) => d,
        other => panic!("{json}: {other:?}"),
    }
}

fn texts(items: &[&str]) -> Option<Vec<Text>> {
    Some(items.iter().map(|s| Text::from(*s)).collect())
}

/// Asserts that `r` failed on `key`, with a message naming it.
fn fails_on<T: std::fmt::Debug>(r: Result<T, OptionError>, key: &str) {
    match r {
        Err(e) => {
            assert_eq!(e.key, key, "{e}");
            assert!(e.to_string().contains(&format!("'{key}'")), "{e}");
        }
        Ok(v) => panic!("expected an error on '{key}', got {v:?}"),
    }
}

fn extra_keys(d: &Dict) -> Vec<&str> {
    d.iter().map(|(k, _)| k).collect()
}

#[test]
fn an_empty_dict_gives_the_defaults_without_allocating() {
    let empty = Dict::new();
    let p = PublishOptions::parse(&empty).unwrap();
    assert_eq!(p, PublishOptions::default());
    assert!(!p.acknowledge && p.exclude_me && !p.disclose_me && !p.retain);
    assert_eq!(p.recipients, None);
    assert_eq!(p.extra.0.capacity(), 0);

    let s = SubscribeOptions::parse(&empty).unwrap();
    assert_eq!(
        (s.match_policy, s.get_retained),
        (MatchPolicy::Exact, false)
    );
    assert_eq!(s.extra.0.capacity(), 0);

    let r = RegisterOptions::parse(&empty).unwrap();
    assert_eq!(r.match_policy, MatchPolicy::Exact);
    assert_eq!((r.invoke, r.disclose_caller), (InvokePolicy::Single, false));
    assert_eq!(r.extra.0.capacity(), 0);

    let c = CallOptions::parse(&empty).unwrap();
    assert_eq!(c.timeout_ms, 0);
    assert!(!c.receive_progress && !c.progress && !c.disclose_me);
    assert_eq!(c.extra.0.capacity(), 0);

    let y = YieldOptions::parse(&empty).unwrap();
    assert!(!y.progress);
    assert_eq!(y.extra.0.capacity(), 0);

    let k = CancelOptions::parse(&empty).unwrap();
    assert_eq!(k.mode, CancelMode::KillNoWait);
    assert_eq!(k.extra.0.capacity(), 0);

    let i = InterruptOptions::parse(&empty).unwrap();
    assert_eq!((i.mode, i.reason), (CancelMode::Kill, None));
    assert_eq!(i.extra.0.capacity(), 0);
}

#[test]
fn publish_options_are_read() {
    let p = PublishOptions::parse(&dict(
        r#"{"acknowledge": true, "exclude_me": false, "exclude": [1, 2],
            "exclude_authid": ["alice"], "exclude_authrole": ["guest", "bot"],
            "eligible": [], "eligible_authid": ["bob"], "eligible_authrole": ["user"],
            "disclose_me": true, "retain": true}"#,
    ))
    .unwrap();
    assert!(p.acknowledge && !p.exclude_me && p.disclose_me && p.retain);
    let r = p.recipients.as_deref().unwrap();
    assert_eq!(r.exclude, Some(vec![1, 2]));
    assert_eq!(r.exclude_authid, texts(&["alice"]));
    assert_eq!(r.exclude_authrole, texts(&["guest", "bot"]));
    assert_eq!(r.eligible, Some(vec![]));
    assert_eq!(r.eligible_authid, texts(&["bob"]));
    assert_eq!(r.eligible_authrole, texts(&["user"]));
    assert!(p.extra.is_empty());
    assert_eq!(p.extra.0.capacity(), 0, "known keys only: nothing kept");
}

#[test]
fn publish_options_of_the_wrong_type_fail() {
    for (json, key) in [
        (r#"{"acknowledge": "yes"}"#, "acknowledge"),
        (r#"{"acknowledge": 1}"#, "acknowledge"),
        (r#"{"acknowledge": null}"#, "acknowledge"),
        (r#"{"exclude_me": "hello"}"#, "exclude_me"),
        (r#"{"exclude": 5}"#, "exclude"),
        (r#"{"exclude": ["a"]}"#, "exclude"),
        (r#"{"exclude": [-1]}"#, "exclude"),
        (r#"{"exclude": [1.5]}"#, "exclude"),
        (r#"{"exclude_authid": "alice"}"#, "exclude_authid"),
        (r#"{"exclude_authid": [123]}"#, "exclude_authid"),
        (r#"{"exclude_authrole": {}}"#, "exclude_authrole"),
        (r#"{"eligible": "hello"}"#, "eligible"),
        (r#"{"eligible": [1, "2"]}"#, "eligible"),
        (r#"{"eligible_authid": 123}"#, "eligible_authid"),
        (r#"{"eligible_authrole": [123]}"#, "eligible_authrole"),
        (r#"{"disclose_me": 0}"#, "disclose_me"),
        (r#"{"retain": "hello"}"#, "retain"),
    ] {
        fails_on(PublishOptions::parse(&dict(json)), key);
    }
}

#[test]
fn unknown_keys_are_kept_in_order_with_their_values() {
    let d = dict(
        r#"{"x_custom": 1, "acknowledge": true, "_impl_key": "v", "rkey": "r",
            "forward_for": [{"session": 1, "authid": "a", "authrole": "r"}],
            "ppt_scheme": "mqtt", "enc_algo": "cryptobox", "future_option": [null]}"#,
    );
    let p = PublishOptions::parse(&d).unwrap();
    assert!(p.acknowledge);
    assert_eq!(
        extra_keys(&p.extra),
        [
            "x_custom",
            "_impl_key",
            "rkey",
            "forward_for",
            "ppt_scheme",
            "enc_algo",
            "future_option"
        ]
    );
    for (k, v) in p.extra.iter() {
        assert_eq!(d.get(k), Some(v), "{k}");
    }
    // Every struct keeps what it does not read.
    let d = dict(r#"{"x_a": true, "acknowledge": "not read here"}"#);
    let kept = [
        SubscribeOptions::parse(&d).unwrap().extra,
        RegisterOptions::parse(&d).unwrap().extra,
        CallOptions::parse(&d).unwrap().extra,
        YieldOptions::parse(&d).unwrap().extra,
        CancelOptions::parse(&d).unwrap().extra,
        InterruptOptions::parse(&d).unwrap().extra,
    ];
    for extra in kept {
        assert_eq!(extra, d);
    }
}

#[test]
fn forwarded_keys_with_a_defined_type_are_checked() {
    for json in [
        r#"{"forward_for": []}"#,
        r#"{"forward_for": [{"session": 1, "authid": "a", "authrole": "r"}]}"#,
        r#"{"transaction_hash": "abc123"}"#,
        r#"{"enc_algo": "cryptobox", "enc_serializer": "cbor", "enc_key": "k"}"#,
        r#"{"enc_algo": "mqtt", "enc_serializer": "opaque"}"#,
        r#"{"enc_algo": "x_mine", "enc_serializer": "x_"}"#,
        r#"{"ppt_scheme": "wamp", "ppt_serializer": "native", "ppt_cipher": "aes256gcm", "ppt_keyid": "k"}"#,
    ] {
        assert!(PublishOptions::parse(&dict(json)).is_ok(), "{json}");
    }
    for (json, key) in [
        (r#"{"forward_for": "hello"}"#, "forward_for"),
        (r#"{"forward_for": [1]}"#, "forward_for"),
        (r#"{"transaction_hash": 123}"#, "transaction_hash"),
        (r#"{"enc_algo": "invalid"}"#, "enc_algo"),
        (r#"{"enc_algo": "x_1"}"#, "enc_algo"),
        (r#"{"enc_algo": 1}"#, "enc_algo"),
        (r#"{"enc_serializer": "yaml"}"#, "enc_serializer"),
        (r#"{"enc_key": []}"#, "enc_key"),
        (r#"{"ppt_scheme": true}"#, "ppt_scheme"),
        (r#"{"ppt_serializer": 1}"#, "ppt_serializer"),
        (r#"{"ppt_cipher": 1}"#, "ppt_cipher"),
        (r#"{"ppt_keyid": 1}"#, "ppt_keyid"),
    ] {
        fails_on(PublishOptions::parse(&dict(json)), key);
        fails_on(CallOptions::parse(&dict(json)), key);
        fails_on(SubscribeOptions::parse(&dict(json)), key);
    }
}

#[test]
fn subscribe_options_are_read_and_checked() {
    for (name, policy) in [
        ("exact", MatchPolicy::Exact),
        ("prefix", MatchPolicy::Prefix),
        ("wildcard", MatchPolicy::Wildcard),
    ] {
        let d = Dict::new().with("match", name).with("get_retained", true);
        let s = SubscribeOptions::parse(&d).unwrap();
        assert_eq!((s.match_policy, s.get_retained), (policy, true));
    }
    fails_on(
        SubscribeOptions::parse(&dict(r#"{"match": "invalid"}"#)),
        "match",
    );
    fails_on(
        SubscribeOptions::parse(&dict(r#"{"match": "Exact"}"#)),
        "match",
    );
    fails_on(SubscribeOptions::parse(&dict(r#"{"match": 123}"#)), "match");
    fails_on(
        SubscribeOptions::parse(&dict(r#"{"get_retained": "hello"}"#)),
        "get_retained",
    );
    let s = SubscribeOptions::parse(&dict(r#"{"nkey": "n", "match": "prefix"}"#)).unwrap();
    assert_eq!(extra_keys(&s.extra), ["nkey"]);
}

#[test]
fn register_options_are_read_and_checked() {
    for policy in InvokePolicy::ALL {
        let d = Dict::new()
            .with("invoke", policy.name())
            .with("match", "wildcard")
            .with("disclose_caller", true);
        let r = RegisterOptions::parse(&d).unwrap();
        assert_eq!(r.invoke, policy);
        assert_eq!(r.match_policy, MatchPolicy::Wildcard);
        assert!(r.disclose_caller);
    }
    for (json, key) in [
        (r#"{"invoke": "fastest"}"#, "invoke"),
        (r#"{"invoke": 1}"#, "invoke"),
        (r#"{"match": "regex"}"#, "match"),
        (r#"{"disclose_caller": "yes"}"#, "disclose_caller"),
    ] {
        fails_on(RegisterOptions::parse(&dict(json)), key);
    }
    let r = RegisterOptions::parse(&dict(r#"{"concurrency": 2, "force_reregister": true}"#));
    assert_eq!(
        extra_keys(&r.unwrap().extra),
        ["concurrency", "force_reregister"]
    );
}

#[test]
fn call_options_are_read_and_checked() {
    let c = CallOptions::parse(&dict(
        r#"{"timeout": 1500, "receive_progress": true, "progress": true, "disclose_me": true}"#,
    ))
    .unwrap();
    assert_eq!(c.timeout_ms, 1500);
    assert!(c.receive_progress && c.progress && c.disclose_me);
    assert_eq!(
        CallOptions::parse(&dict(r#"{"timeout": 0}"#))
            .unwrap()
            .timeout_ms,
        0
    );
    for (json, key) in [
        (r#"{"timeout": -1}"#, "timeout"),
        (r#"{"timeout": "x"}"#, "timeout"),
        (r#"{"timeout": 1.5}"#, "timeout"),
        (r#"{"timeout": true}"#, "timeout"),
        (r#"{"receive_progress": 1}"#, "receive_progress"),
        (r#"{"progress": "true"}"#, "progress"),
        (r#"{"disclose_me": []}"#, "disclose_me"),
    ] {
        fails_on(CallOptions::parse(&dict(json)), key);
    }
}

#[test]
fn yield_options_are_read_and_checked() {
    assert!(
        YieldOptions::parse(&dict(r#"{"progress": true}"#))
            .unwrap()
            .progress
    );
    fails_on(YieldOptions::parse(&dict(r#"{"progress": 1}"#)), "progress");
    let y = YieldOptions::parse(&dict(r#"{"callee": 5, "progress": false}"#)).unwrap();
    assert_eq!(extra_keys(&y.extra), ["callee"]);
}

#[test]
fn cancel_and_interrupt_modes_are_read_and_checked() {
    for mode in CancelMode::ALL {
        let d = Dict::new().with("mode", mode.name());
        assert_eq!(CancelOptions::parse(&d).unwrap().mode, mode);
        let interrupt = InterruptOptions::parse(&d);
        if mode == CancelMode::Skip {
            fails_on(interrupt, "mode");
        } else {
            assert_eq!(interrupt.unwrap().mode, mode);
        }
    }
    for json in [
        r#"{"mode": "abort"}"#,
        r#"{"mode": 1}"#,
        r#"{"mode": "KILL"}"#,
    ] {
        fails_on(CancelOptions::parse(&dict(json)), "mode");
        fails_on(InterruptOptions::parse(&dict(json)), "mode");
    }
    let i = InterruptOptions::parse(&dict(
        r#"{"mode": "killnowait", "reason": "wamp.error.canceled"}"#,
    ))
    .unwrap();
    assert_eq!(i.mode, CancelMode::KillNoWait);
    assert_eq!(i.reason.as_deref(), Some("wamp.error.canceled"));
    fails_on(InterruptOptions::parse(&dict(r#"{"reason": 5}"#)), "reason");
}

#[test]
fn enumerations_read_back_their_names() {
    for p in InvokePolicy::ALL {
        assert_eq!(InvokePolicy::from_name(p.name()), Some(p));
    }
    for m in CancelMode::ALL {
        assert_eq!(CancelMode::from_name(m.name()), Some(m));
    }
    assert_eq!(InvokePolicy::from_name("round_robin"), None);
    assert_eq!(CancelMode::from_name("kill_no_wait"), None);
    assert_eq!(InvokePolicy::default(), InvokePolicy::Single);
    assert_eq!(CancelMode::default(), CancelMode::Kill);
}

#[test]
fn errors_name_the_key_and_the_expected_type() {
    let e = PublishOptions::parse(&dict(r#"{"acknowledge": "yes"}"#)).unwrap_err();
    assert_eq!(e.to_string(), "option 'acknowledge' must be a bool");
    let e = CallOptions::parse(&dict(r#"{"timeout": -1}"#)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "option 'timeout' must be a non-negative integer"
    );
    let e = SubscribeOptions::parse(&dict(r#"{"match": "x"}"#)).unwrap_err();
    assert!(e.to_string().contains("\"exact\""), "{e}");
}

#[test]
fn undefined_options_from_the_wire_count_as_absent() {
    // msgpack [32, 1, {"match": undefined, "get_retained": undefined}, "a.b"]
    let frame: Vec<u8> = [
        &[0x94, 0x20, 0x01, 0x82, 0xa5][..],
        b"match",
        &[0xd4, 0x00, 0x00, 0xac],
        b"get_retained",
        &[0xd4, 0x00, 0x00, 0xa3],
        b"a.b",
    ]
    .concat();
    let Ok(Message::Subscribe { options, .. }) = decode(Serializer::MsgPack, Bytes::from(frame))
    else {
        panic!("not a SUBSCRIBE")
    };
    assert_eq!(
        SubscribeOptions::parse(&options).unwrap(),
        SubscribeOptions::default()
    );
}

/// The option-validation samples (`wmsg` / `expected_error`) of
/// `singlemessage/basic/publish.json` and `subscribe.json` in the WAMP
/// testsuite (commit d8389b83): the message, and the key an error must name.
const VECTOR_SAMPLES: &[(&str, Option<&str>)] = &[
    (r#"[16,123,{"acknowledge":true},"com.example.topic"]"#, None),
    (
        r#"[16,123,{"acknowledge":false},"com.example.topic"]"#,
        None,
    ),
    (
        r#"[16,123,{"acknowledge":"hello"},"com.example.topic"]"#,
        Some("acknowledge"),
    ),
    (
        r#"[16,123,{"acknowledge":1},"com.example.topic"]"#,
        Some("acknowledge"),
    ),
    (r#"[16,123,{"exclude_me":true},"com.example.topic"]"#, None),
    (r#"[16,123,{"exclude_me":false},"com.example.topic"]"#, None),
    (
        r#"[16,123,{"exclude_me":"hello"},"com.example.topic"]"#,
        Some("exclude_me"),
    ),
    (r#"[16,123,{"exclude":[]},"com.example.topic"]"#, None),
    (
        r#"[16,123,{"exclude":[123,456,789]},"com.example.topic"]"#,
        None,
    ),
    (
        r#"[16,123,{"exclude":"hello"},"com.example.topic"]"#,
        Some("exclude"),
    ),
    (
        r#"[16,123,{"exclude":["hello"]},"com.example.topic"]"#,
        Some("exclude"),
    ),
    (
        r#"[16,123,{"exclude_authid":[]},"com.example.topic"]"#,
        None,
    ),
    (
        r#"[16,123,{"exclude_authid":["alice","bob"]},"com.example.topic"]"#,
        None,
    ),
    (
        r#"[16,123,{"exclude_authid":"hello"},"com.example.topic"]"#,
        Some("exclude_authid"),
    ),
    (
        r#"[16,123,{"exclude_authid":[123]},"com.example.topic"]"#,
        Some("exclude_authid"),
    ),
    (
        r#"[16,123,{"exclude_authrole":["manager","staff"]},"com.example.topic"]"#,
        None,
    ),
    (
        r#"[16,123,{"exclude_authrole":"manager"},"com.example.topic"]"#,
        Some("exclude_authrole"),
    ),
    (r#"[16,123,{"eligible":[]},"com.example.topic"]"#, None),
    (
        r#"[16,123,{"eligible":[123,456]},"com.example.topic"]"#,
        None,
    ),
    (
        r#"[16,123,{"eligible":"hello"},"com.example.topic"]"#,
        Some("eligible"),
    ),
    (
        r#"[16,123,{"eligible_authid":["alice"]},"com.example.topic"]"#,
        None,
    ),
    (
        r#"[16,123,{"eligible_authid":123},"com.example.topic"]"#,
        Some("eligible_authid"),
    ),
    (
        r#"[16,123,{"eligible_authrole":["manager"]},"com.example.topic"]"#,
        None,
    ),
    (
        r#"[16,123,{"eligible_authrole":[123]},"com.example.topic"]"#,
        Some("eligible_authrole"),
    ),
    (r#"[16,123,{"retain":true},"com.example.topic"]"#, None),
    (r#"[16,123,{"retain":false},"com.example.topic"]"#, None),
    (
        r#"[16,123,{"retain":"hello"},"com.example.topic"]"#,
        Some("retain"),
    ),
    (
        r#"[16,123,{"transaction_hash":"abc123"},"com.example.topic"]"#,
        None,
    ),
    (
        r#"[16,123,{"transaction_hash":123},"com.example.topic"]"#,
        Some("transaction_hash"),
    ),
    (r#"[16,123,{"forward_for":[]},"com.example.topic"]"#, None),
    (
        r#"[16,123,{"forward_for":[{"session":123,"authid":"router1","authrole":"router"}]},"com.example.topic"]"#,
        None,
    ),
    (
        r#"[16,123,{"forward_for":"hello"},"com.example.topic"]"#,
        Some("forward_for"),
    ),
    (
        r#"[16,123,{"enc_algo":"cryptobox"},"com.example.topic","a1666e6f74696365"]"#,
        None,
    ),
    (
        r#"[16,123,{"enc_algo":"invalid"},"com.example.topic","a1666e6f74696365"]"#,
        Some("enc_algo"),
    ),
    (
        r#"[16,123,{"enc_algo":"cryptobox","enc_serializer":"cbor"},"com.example.topic","a1666e6f74696365"]"#,
        None,
    ),
    (r#"[32,123,{"match":"exact"},"com.example.topic"]"#, None),
    (r#"[32,123,{"match":"prefix"},"com.example.topic"]"#, None),
    (r#"[32,123,{"match":"wildcard"},"com.example.topic"]"#, None),
    (
        r#"[32,123,{"match":"invalid"},"com.example.topic"]"#,
        Some("match"),
    ),
    (
        r#"[32,123,{"match":123},"com.example.topic"]"#,
        Some("match"),
    ),
    (
        r#"[32,123,{"get_retained":true},"com.example.topic"]"#,
        None,
    ),
    (
        r#"[32,123,{"get_retained":false},"com.example.topic"]"#,
        None,
    ),
    (
        r#"[32,123,{"get_retained":"hello"},"com.example.topic"]"#,
        Some("get_retained"),
    ),
    (r#"[32,123,{"forward_for":[]},"com.example.topic"]"#, None),
    (
        r#"[32,123,{"forward_for":[{"session":123,"authid":"router1","authrole":"router"}]},"com.example.topic"]"#,
        None,
    ),
    (
        r#"[32,123,{"forward_for":"hello"},"com.example.topic"]"#,
        Some("forward_for"),
    ),
];

/// Parses the Options of a PUBLISH or SUBSCRIBE frame; `Ok(())` or the error.
fn check_frame(frame: &str) -> Result<(), OptionError> {
    match decode(Serializer::Json, Bytes::copy_from_slice(frame.as_bytes())) {
        Ok(Message::Publish { options, .. }) => PublishOptions::parse(&options).map(drop),
        Ok(Message::Subscribe { options, .. }) => SubscribeOptions::parse(&options).map(drop),
        other => panic!("{frame}: {other:?}"),
    }
}

#[test]
fn the_vector_validation_samples_are_honoured() {
    assert_eq!(VECTOR_SAMPLES.len(), 35 + 11);
    for &(frame, error_key) in VECTOR_SAMPLES {
        match error_key {
            None => assert_eq!(check_frame(frame), Ok(()), "{frame}"),
            Some(key) => fails_on(check_frame(frame), key),
        }
    }
}

/// The same samples read from the shared vectors, when they are next to the
/// repository (`../shared`, or `SWITCHYARD_VECTORS`), so the table above
/// cannot drift from them.
#[test]
fn the_shared_vector_files_agree() {
    let dir = std::env::var("SWITCHYARD_VECTORS").unwrap_or_else(|_| {
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../shared/wamp/vectors/singlemessage"
        )
        .into()
    });
    let mut seen = 0;
    for name in ["publish.json", "subscribe.json"] {
        let path = std::path::Path::new(&dir).join("basic").join(name);
        let Ok(text) = std::fs::read(&path) else {
            eprintln!("note: {} not found; skipping", path.display());
            return;
        };
        let doc: serde_json::Value = serde_json::from_slice(&text).unwrap();
        for sample in doc["samples"].as_array().unwrap() {
            let Some(wmsg) = sample.get("wmsg") else {
                continue;
            };
            let frame = wmsg.to_string();
            match sample["expected_error"]["contains"].as_str() {
                None => assert_eq!(check_frame(&frame), Ok(()), "{frame}"),
                Some(key) => fails_on(check_frame(&frame), key),
            }
            seen += 1;
        }
    }
    assert_eq!(seen, VECTOR_SAMPLES.len());
}
