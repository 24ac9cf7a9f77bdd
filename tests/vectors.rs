#![allow(clippy::unwrap_used)]
//! Conformance against the WAMP spec's single-message test vectors
//! (`tests/data/vectors/`, derived from wamp-proto/wamp-proto's testsuite at
//! commit d8389b83, CC-BY-SA 3.0; see the README there).
//!
//! For every json, msgpack and cbor byte variant of every sample: decode it,
//! compare the message with `expected_attributes`, encode it back with the
//! same serializer, decode again and compare again. Binary encodings must
//! also reproduce one of the sample's byte variants exactly ("at least one"
//! semantics of the testsuite), and payloads must survive transcoding to the
//! other serializers. One test per serializer, so a failing codec does not
//! hide the others; each reports every failing sample at once.

use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use switchyard::wire::{
    decode, encode_to_bytes, Dict, Elem, Message, Payload, Serializer, Text, Value,
};

/// Samples (or one serializer's variants of them) that cannot be honoured:
/// (file under `singlemessage/`, sample description, serializer or `None`
/// for all, reason). Listed so that they stay visible.
const SKIPPED: &[(&str, &str, Option<Serializer>, &str)] = &[];

/// One byte variant of one sample.
struct Case {
    file: String,
    description: String,
    ser: Serializer,
    bytes: Vec<u8>,
    /// Every variant of this sample in `ser` (for the byte-exact check).
    variants: Vec<Vec<u8>>,
    expected: serde_json::Map<String, Json>,
}

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/vectors/singlemessage")
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            json_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

fn unhex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd hex length");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// Every byte variant in `ser` of every sample.
fn cases(ser: Serializer) -> Vec<Case> {
    let root = data_dir();
    let mut files = Vec::new();
    json_files(&root, &mut files);
    files.sort();
    let mut out = Vec::new();
    for path in files {
        let file = path
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let doc: Json = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for sample in doc["samples"].as_array().unwrap() {
            let variants: Vec<Vec<u8>> = sample[ser.name()]
                .as_array()
                .map(|v| v.iter().map(|h| unhex(h.as_str().unwrap())).collect())
                .unwrap_or_default();
            for bytes in &variants {
                out.push(Case {
                    file: file.clone(),
                    description: sample["description"].as_str().unwrap().to_string(),
                    ser,
                    bytes: bytes.clone(),
                    variants: variants.clone(),
                    expected: sample["expected_attributes"].as_object().unwrap().clone(),
                });
            }
        }
    }
    out
}

fn skip_reason(case: &Case) -> Option<&'static str> {
    SKIPPED
        .iter()
        .find(|(file, desc, ser, _)| {
            *file == case.file && *desc == case.description && ser.is_none_or(|s| s == case.ser)
        })
        .map(|(.., reason)| *reason)
}

/// A JSON value from the vector files as a wire `Value`.
fn to_value(j: &Json) -> Value {
    match j {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => Value::UInt(u),
            (None, Some(i)) => Value::Int(i),
            _ => Value::Float(n.as_f64().unwrap()),
        },
        Json::String(s) => Value::str(s.as_str()),
        Json::Array(items) => Value::List(items.iter().map(to_value).collect()),
        Json::Object(m) => Value::Dict(Dict(
            m.iter()
                .map(|(k, v)| (Text::from(k.as_str()), to_value(v)))
                .collect(),
        )),
    }
}

/// Value equality where dict key order does not matter.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(p, q))
        }
        (Value::Dict(x), Value::Dict(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// The non-payload fields of a message under canonical attribute names
/// (its Options/Details/Extra dict as `dict`), and that dict, where other
/// attributes (e.g. HELLO's `roles`) are looked up.
struct Fields<'a> {
    list: Vec<(&'static str, Value)>,
    dict: Option<&'a Dict>,
}

impl<'a> Fields<'a> {
    fn id(&mut self, name: &'static str, v: u64) -> &mut Self {
        self.list.push((name, Value::UInt(v)));
        self
    }

    fn text(&mut self, name: &'static str, t: &Text) -> &mut Self {
        self.list.push((name, Value::Str(t.clone())));
        self
    }

    fn dict(&mut self, d: &'a Dict) -> &mut Self {
        self.list.push(("dict", Value::Dict(d.clone())));
        self.dict = Some(d);
        self
    }
}

fn fields(msg: &Message) -> Fields<'_> {
    let mut f = Fields {
        list: vec![("message_type", Value::UInt(msg.code()))],
        dict: None,
    };
    session_fields(msg, &mut f);
    pubsub_fields(msg, &mut f);
    rpc_fields(msg, &mut f);
    f
}

/// `fields` of the session messages and ERROR.
fn session_fields<'a>(msg: &'a Message, f: &mut Fields<'a>) {
    use Message::*;
    match msg {
        Hello { realm, details } => f.text("realm", realm).dict(details),
        Welcome { session, details } => f.id("session", session.0).dict(details),
        Abort {
            details, reason, ..
        }
        | Goodbye { details, reason } => f.text("reason", reason).dict(details),
        Challenge { auth_method, extra } => f.text("authmethod", auth_method).dict(extra),
        Authenticate { signature, extra } => f.text("signature", signature).dict(extra),
        Error {
            request_type,
            request,
            details,
            error,
            ..
        } => f
            .id("request_type", *request_type)
            .id("request", request.0)
            .text("error", error)
            .dict(details),
        _ => f,
    };
}

/// `fields` of the pub/sub messages.
fn pubsub_fields<'a>(msg: &'a Message, f: &mut Fields<'a>) {
    use Message::*;
    match msg {
        Publish {
            request,
            options,
            topic,
            ..
        }
        | Subscribe {
            request,
            options,
            topic,
        } => f
            .id("request", request.0)
            .text("topic", topic)
            .dict(options),
        Published {
            request,
            publication,
        } => f.id("request", request.0).id("publication", publication.0),
        Subscribed {
            request,
            subscription,
        } => f
            .id("request", request.0)
            .id("subscription", subscription.0),
        Unsubscribe {
            request,
            subscription,
            options,
        } => f
            .id("request", request.0)
            .id("subscription", subscription.0)
            .dict(options),
        Unsubscribed { request, details } => match details {
            Some(d) => f.id("request", request.0).dict(d),
            None => f.id("request", request.0),
        },
        Event {
            subscription,
            publication,
            details,
            ..
        } => f
            .id("subscription", subscription.0)
            .id("publication", publication.0)
            .dict(details),
        EventReceived { publication } => f.id("publication", publication.0),
        _ => f,
    };
}

/// `fields` of the RPC messages.
fn rpc_fields<'a>(msg: &'a Message, f: &mut Fields<'a>) {
    use Message::*;
    match msg {
        Call {
            request,
            options,
            procedure,
            ..
        }
        | Register {
            request,
            options,
            procedure,
        } => f
            .id("request", request.0)
            .text("procedure", procedure)
            .dict(options),
        Registered {
            request,
            registration,
        } => f
            .id("request", request.0)
            .id("registration", registration.0),
        Unregister {
            request,
            registration,
            options,
        } => f
            .id("request", request.0)
            .id("registration", registration.0)
            .dict(options),
        Unregistered { request, details } => match details {
            Some(d) => f.id("request", request.0).dict(d),
            None => f.id("request", request.0),
        },
        Invocation {
            request,
            registration,
            details,
            ..
        } => f
            .id("request", request.0)
            .id("registration", registration.0)
            .dict(details),
        Cancel { request, options }
        | Interrupt { request, options }
        | Yield {
            request, options, ..
        }
        | Result {
            request,
            details: options,
            ..
        } => f.id("request", request.0).dict(options),
        _ => f,
    };
}

/// The canonical name of a vector attribute (`None`: a payload attribute).
fn canonical(key: &str) -> Option<&str> {
    Some(match key {
        "args" | "kwargs" | "payload" => return None,
        "request_id" | "request" => "request",
        "session_id" | "session" => "session",
        "subscription_id" | "subscription" => "subscription",
        "publication_id" | "publication" => "publication",
        "registration_id" | "registration" => "registration",
        "method" | "authmethod" | "auth_method" => "authmethod",
        "options" | "details" | "extra" => "dict",
        other => other,
    })
}

fn payload_of(msg: &Message) -> Option<&Payload> {
    use Message::*;
    match msg {
        Abort { payload, .. }
        | Error { payload, .. }
        | Publish { payload, .. }
        | Event { payload, .. }
        | Call { payload, .. }
        | Result { payload, .. }
        | Invocation { payload, .. }
        | Yield { payload, .. } => Some(payload),
        _ => None,
    }
}

/// Checks every expected attribute against the message.
fn check_attributes(msg: &Message, want: &serde_json::Map<String, Json>) -> Result<(), String> {
    let Fields { list, dict } = fields(msg);
    for (key, expected) in want {
        let Some(name) = canonical(key) else {
            continue;
        };
        let expected = to_value(expected);
        let actual = list
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
            .or_else(|| dict.and_then(|d| d.get(key)));
        match actual {
            Some(v) if same(v, &expected) => {}
            Some(v) => return Err(format!("{key}: expected {expected:?}, got {v:?}")),
            None => return Err(format!("{key}: no such attribute in {msg:?}")),
        }
    }
    check_payload(msg, want)
}

/// Checks `args`, `kwargs` and `payload` (the transparent binary payload,
/// which the router holds in place of Arguments).
fn check_payload(msg: &Message, want: &serde_json::Map<String, Json>) -> Result<(), String> {
    let get = |k: &str| want.get(k).filter(|v| !v.is_null());
    let empty = Payload::empty();
    let payload = match payload_of(msg) {
        Some(p) => p,
        None if ["args", "kwargs", "payload"]
            .iter()
            .any(|k| get(k).is_some()) =>
        {
            return Err("payload attributes on a message without payload".into());
        }
        None => &empty,
    };
    let (args, kwargs) = payload.to_values().map_err(|e| format!("payload: {e}"))?;
    let want_args = match get("payload") {
        Some(hex) => {
            if get("args").is_some() {
                return Err("both args and a transparent payload expected".into());
            }
            Some(Value::Bytes(unhex(hex.as_str().unwrap_or_default()).into()))
        }
        None => get("args").map(to_value),
    };
    let want_kwargs = get("kwargs").map(to_value);
    for (name, got, want) in [("args", args, want_args), ("kwargs", kwargs, want_kwargs)] {
        let ok = match (&got, &want) {
            (Some(g), Some(w)) => same(g, w),
            (None, None) => true,
            _ => false,
        };
        if !ok {
            return Err(format!("{name}: expected {want:?}, got {got:?}"));
        }
    }
    Ok(())
}

/// The raw bytes of the Arguments element, when it is raw.
fn raw_args(msg: &Message) -> Option<&[u8]> {
    match payload_of(msg)?.args.as_ref()? {
        Elem::Raw { bytes, .. } => Some(bytes),
        Elem::Value(_) => None,
    }
}

/// Decodes, checks, re-encodes and checks one case.
fn check_case(case: &Case) -> Result<(), String> {
    let msg = decode(case.ser, case.bytes.clone().into()).map_err(|e| format!("decode: {e}"))?;
    check_attributes(&msg, &case.expected)?;
    let out = encode_to_bytes(case.ser, &msg);
    let again = decode(case.ser, out.clone()).map_err(|e| format!("re-decode: {e}"))?;
    check_attributes(&again, &case.expected).map_err(|e| format!("after re-encoding: {e}"))?;
    if again != msg {
        return Err(format!("re-decoded message differs: {again:?}"));
    }
    if raw_args(&again) != raw_args(&msg) {
        return Err("Arguments element not byte-exact after re-encoding".into());
    }
    if !case.ser.is_text() && !case.variants.iter().any(|v| v[..] == out[..]) {
        return Err(format!("re-encoding matches no variant: {out:02x?}"));
    }
    check_transcoding(case, &msg)
}

/// The payload survives transcoding to each other serializer and back (JSON
/// targets only when the source is JSON, so binary runs do not depend on it).
fn check_transcoding(case: &Case, msg: &Message) -> Result<(), String> {
    let Some(payload) = payload_of(msg) else {
        return Ok(());
    };
    let values = payload.to_values().map_err(|e| e.to_string())?;
    for target in Serializer::ALL {
        if target == case.ser || (target == Serializer::Json && !case.ser.is_text()) {
            continue;
        }
        let there = payload
            .transcoded(target)
            .map_err(|e| format!("transcode to {}: {e}", target.name()))?;
        let back = there
            .transcoded(case.ser)
            .map_err(|e| format!("transcode back from {}: {e}", target.name()))?;
        for p in [&there, &back] {
            if p.to_values().map_err(|e| e.to_string())? != values {
                return Err(format!("payload changed through {}", target.name()));
            }
        }
    }
    Ok(())
}

/// Runs every case in `ser` and fails with the list of failing samples.
fn run(ser: Serializer) {
    let cases = cases(ser);
    assert!(!cases.is_empty(), "no {} vectors found", ser.name());
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in &cases {
        if let Some(reason) = skip_reason(case) {
            eprintln!(
                "SKIP {} {} [{}]: {reason}",
                ser.name(),
                case.file,
                case.description
            );
            continue;
        }
        checked += 1;
        if let Err(e) = check_case(case) {
            failures.push(format!("{} [{}]: {e}", case.file, case.description));
        }
    }
    eprintln!("{}: {checked} variants checked", ser.name());
    assert!(
        failures.is_empty(),
        "{} of {checked} {} variants failed:\n{}",
        failures.len(),
        ser.name(),
        failures.join("\n")
    );
}

#[test]
fn json_vectors() {
    run(Serializer::Json);
}

#[test]
fn msgpack_vectors() {
    run(Serializer::MsgPack);
}

#[test]
fn cbor_vectors() {
    run(Serializer::Cbor);
}

/// Every binary sample's payload also transcodes to JSON and back (the JSON
/// leg of `check_transcoding`, which the binary runs leave out).
#[test]
fn binary_payloads_transcode_through_json() {
    let mut failures = Vec::new();
    for case in cases(Serializer::MsgPack)
        .into_iter()
        .chain(cases(Serializer::Cbor))
    {
        let Ok(msg) = decode(case.ser, case.bytes.clone().into()) else {
            continue; // reported by the serializer's own test
        };
        let Some(payload) = payload_of(&msg) else {
            continue;
        };
        let values = payload.to_values().unwrap();
        let result = payload
            .transcoded(Serializer::Json)
            .and_then(|p| Ok((p.to_values()?, p.transcoded(case.ser)?.to_values()?)));
        match result {
            Ok((a, b)) if a == values && b == values => {}
            other => failures.push(format!(
                "{} {} [{}]: {other:?}",
                case.ser.name(),
                case.file,
                case.description
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Every entry of `SKIPPED` names an existing sample (no stale skips).
#[test]
fn skip_list_names_existing_samples() {
    let all: Vec<Case> = Serializer::ALL.into_iter().flat_map(cases).collect();
    for (file, desc, ..) in SKIPPED {
        assert!(
            all.iter()
                .any(|c| c.file == *file && c.description == *desc),
            "stale skip entry: {file} [{desc}]"
        );
    }
}
