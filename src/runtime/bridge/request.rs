//! The JSON body of a bridge request, checked field by field: `POST
//! /publish` takes `{realm, topic, args?, kwargs?, options?}`, `POST /call`
//! takes `{realm, procedure, args?, kwargs?, options?}`. The body is read
//! with the router's own JSON codec, so WAMP's JSON conventions hold (a
//! string `"\u0000" + base64` is binary). Every refusal names the field.

use crate::shard::BridgeRequest;
use crate::wire::codec::decode_value;
use crate::wire::{Dict, Payload, Serializer, Text, Value};
use std::time::Duration;

/// The two endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Publish,
    Call,
}

impl Endpoint {
    /// The endpoint served at `path`.
    pub fn at(path: &str) -> Option<Endpoint> {
        match path {
            "/publish" => Some(Endpoint::Publish),
            "/call" => Some(Endpoint::Call),
            _ => None,
        }
    }

    /// The body's field naming the URI.
    fn uri_field(self) -> &'static str {
        match self {
            Endpoint::Publish => "topic",
            Endpoint::Call => "procedure",
        }
    }
}

/// A body that passed every check.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub realm: String,
    pub request: BridgeRequest,
    /// Whether a reply is awaited: always for a call; for a publish, unless
    /// `options.acknowledge` is `false`.
    pub acknowledged: bool,
    /// How long the reply may take (a call's `timeout`, capped).
    pub timeout: Duration,
}

/// Checks `body` for `endpoint`; a call's timeout (and the wait for a
/// publish's acknowledgement) is capped by `max_timeout`. The error says
/// what is wrong, naming the field.
pub fn parse(endpoint: Endpoint, body: &[u8], max_timeout: Duration) -> Result<Parsed, String> {
    let value = decode_value(Serializer::Json, body).map_err(|e| format!("malformed JSON: {e}"))?;
    let Value::Dict(fields) = value else {
        return Err("the body must be a JSON object".into());
    };
    let uri_field = endpoint.uri_field();
    for (name, _) in fields.iter() {
        if !["realm", uri_field, "args", "kwargs", "options"].contains(&name) {
            return Err(format!(
                "unknown field '{name}' (expected realm, {uri_field}, args, kwargs, options)"
            ));
        }
    }
    let realm = required_str(&fields, "realm")?;
    let uri = Text::from(required_str(&fields, uri_field)?);
    let args = match fields.get("args") {
        None | Some(Value::Null) => None,
        Some(Value::List(a)) => Some(a.clone()),
        Some(_) => return Err("field 'args' must be an array".into()),
    };
    let kwargs = match fields.get("kwargs") {
        None | Some(Value::Null) => None,
        Some(Value::Dict(k)) => Some(k.clone()),
        Some(_) => return Err("field 'kwargs' must be an object".into()),
    };
    let mut options = match fields.get("options") {
        None | Some(Value::Null) => Dict::new(),
        Some(Value::Dict(o)) => o.clone(),
        Some(_) => return Err("field 'options' must be an object".into()),
    };
    let payload = Payload::from_values(args, kwargs);
    match endpoint {
        Endpoint::Publish => {
            let acknowledged = match options.get("acknowledge") {
                None => true,
                Some(Value::Bool(b)) => *b,
                Some(_) => return Err("field 'options.acknowledge' must be a boolean".into()),
            };
            options.insert("acknowledge", acknowledged);
            Ok(Parsed {
                realm,
                request: BridgeRequest::Publish {
                    topic: uri,
                    options,
                    payload,
                },
                acknowledged,
                timeout: max_timeout,
            })
        }
        Endpoint::Call => {
            let timeout = call_timeout(&options, max_timeout)?;
            options.insert("timeout", timeout.as_millis() as u64);
            Ok(Parsed {
                realm,
                request: BridgeRequest::Call {
                    procedure: uri,
                    options,
                    payload,
                },
                acknowledged: true,
                timeout,
            })
        }
    }
}

/// A string field that must be there and not be empty.
fn required_str(fields: &Dict, name: &str) -> Result<String, String> {
    match fields.get(name) {
        None | Some(Value::Null) => Err(format!("field '{name}' is missing")),
        Some(Value::Str(s)) if s.as_str().is_empty() => {
            Err(format!("field '{name}' must not be empty"))
        }
        Some(Value::Str(s)) => Ok(s.as_str().to_owned()),
        Some(_) => Err(format!("field '{name}' must be a string")),
    }
}

/// A call's timeout: its `timeout` option in milliseconds (0 or none: the
/// bridge's longest), capped by `max`. One answer per request: progressive
/// results and invocations are refused.
fn call_timeout(options: &Dict, max: Duration) -> Result<Duration, String> {
    for option in ["receive_progress", "progress"] {
        if options
            .get(option)
            .is_some_and(|v| v != &Value::Bool(false))
        {
            return Err(format!(
                "option '{option}' is not supported by the bridge (one answer per request)"
            ));
        }
    }
    let asked = match options.get("timeout") {
        None | Some(Value::UInt(0)) => return Ok(max),
        Some(Value::UInt(ms)) => Duration::from_millis(*ms),
        Some(_) => {
            return Err("field 'options.timeout' must be a non-negative integer (ms)".into())
        }
    };
    Ok(asked.min(max))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: Duration = Duration::from_secs(10);

    fn publish(body: &str) -> Result<Parsed, String> {
        parse(Endpoint::Publish, body.as_bytes(), MAX)
    }

    fn call(body: &str) -> Result<Parsed, String> {
        parse(Endpoint::Call, body.as_bytes(), MAX)
    }

    #[test]
    fn a_publish_keeps_its_payload_and_options_and_is_acknowledged_by_default() {
        let p = publish(
            r#"{"realm":"r","topic":"com.t","args":[1,"\u0000AAL/"],
                "kwargs":{"k":null},"options":{"retain":true}}"#,
        )
        .unwrap();
        assert_eq!(p.realm, "r");
        assert!(p.acknowledged);
        let BridgeRequest::Publish {
            topic,
            options,
            payload,
        } = p.request
        else {
            panic!("not a publish")
        };
        assert_eq!(topic.as_str(), "com.t");
        assert_eq!(options.get("retain"), Some(&Value::Bool(true)));
        assert_eq!(options.get("acknowledge"), Some(&Value::Bool(true)));
        let (args, kwargs) = payload.to_values().unwrap();
        let bytes = Value::Bytes(bytes::Bytes::from_static(&[0, 2, 255]));
        assert_eq!(args, Some(Value::List(vec![Value::UInt(1), bytes])));
        assert_eq!(
            kwargs,
            Some(Value::Dict(Dict::new().with("k", Value::Null)))
        );
        let quiet = publish(r#"{"realm":"r","topic":"t","options":{"acknowledge":false}}"#);
        let quiet = quiet.unwrap();
        assert!(!quiet.acknowledged);
        assert!(quiet_payload_is_empty(&quiet));
    }

    fn quiet_payload_is_empty(p: &Parsed) -> bool {
        matches!(&p.request, BridgeRequest::Publish { payload, .. } if payload.is_empty())
    }

    #[test]
    fn a_call_timeout_is_capped_and_zero_means_the_longest() {
        let t = |body: &str| call(body).unwrap().timeout;
        assert_eq!(t(r#"{"realm":"r","procedure":"p"}"#), MAX);
        let asked = r#"{"realm":"r","procedure":"p","options":{"timeout":250}}"#;
        assert_eq!(t(asked), Duration::from_millis(250));
        let zero = r#"{"realm":"r","procedure":"p","options":{"timeout":0}}"#;
        assert_eq!(t(zero), MAX);
        let long = r#"{"realm":"r","procedure":"p","options":{"timeout":99999999}}"#;
        assert_eq!(t(long), MAX);
        let p = call(asked).unwrap();
        let BridgeRequest::Call { options, .. } = p.request else {
            panic!("not a call")
        };
        assert_eq!(options.get("timeout"), Some(&Value::UInt(250)));
    }

    #[test]
    fn every_refusal_names_what_is_wrong() {
        let cases = [
            (r#"{"realm":"r","topic":"#, "malformed JSON"),
            ("", "malformed JSON"),
            ("[1]", "must be a JSON object"),
            (r#"{"topic":"t"}"#, "field 'realm' is missing"),
            (r#"{"realm":"r"}"#, "field 'topic' is missing"),
            (
                r#"{"realm":"r","topic":7}"#,
                "field 'topic' must be a string",
            ),
            (
                r#"{"realm":"","topic":"t"}"#,
                "field 'realm' must not be empty",
            ),
            (
                r#"{"realm":"r","topic":"t","args":{}}"#,
                "'args' must be an array",
            ),
            (
                r#"{"realm":"r","topic":"t","kwargs":[]}"#,
                "'kwargs' must be an object",
            ),
            (
                r#"{"realm":"r","topic":"t","options":1}"#,
                "'options' must be an object",
            ),
            (
                r#"{"realm":"r","topic":"t","procedure":"p"}"#,
                "unknown field 'procedure'",
            ),
            (
                r#"{"realm":"r","topic":"t","options":{"acknowledge":"yes"}}"#,
                "'options.acknowledge' must be a boolean",
            ),
        ];
        for (body, want) in cases {
            let why = publish(body).unwrap_err();
            assert!(why.contains(want), "{body}: {why}");
        }
        let calls = [
            (r#"{"realm":"r","topic":"t"}"#, "unknown field 'topic'"),
            (
                r#"{"realm":"r","procedure":"p","options":{"timeout":-1}}"#,
                "'options.timeout' must be a non-negative integer",
            ),
            (
                r#"{"realm":"r","procedure":"p","options":{"receive_progress":true}}"#,
                "'receive_progress' is not supported",
            ),
        ];
        for (body, want) in calls {
            let why = call(body).unwrap_err();
            assert!(why.contains(want), "{body}: {why}");
        }
    }
}
