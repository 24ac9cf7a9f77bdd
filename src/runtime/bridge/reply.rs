//! The bridge's answers: a JSON body and a status. A refusal by the bridge
//! itself is `{"error": <code>, "message": <text>}`; a WAMP reply becomes
//! `{"id": ...}` (PUBLISHED), `{"args": [...], "kwargs": {...}}` (RESULT)
//! or `{"error": <uri>, "args": [...], "kwargs": {...}}` (ERROR), with the
//! status of `wamp_error_status`.

use crate::wire::codec::encode_value;
use crate::wire::{Dict, Message, Payload, Serializer, Value};
use bytes::BytesMut;

/// One HTTP answer of the bridge.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    /// A refusal by the bridge: `{"error": code, "message": message}`.
    pub fn refuse(status: u16, code: &str, message: impl Into<String>) -> Reply {
        let body = Dict::new()
            .with("error", code)
            .with("message", Value::str(message.into()));
        Reply {
            status,
            body: Value::Dict(body),
        }
    }

    /// 400 `bad_request`.
    pub fn bad_request(message: impl Into<String>) -> Reply {
        Reply::refuse(400, "bad_request", message)
    }

    /// The answer of a WAMP reply (PUBLISHED, RESULT or ERROR) of the
    /// bridge's session.
    pub fn of_message(msg: Message) -> Reply {
        match msg {
            Message::Published { publication, .. } => Reply {
                status: 200,
                body: Value::Dict(Dict::new().with("id", publication.0)),
            },
            Message::Result { payload, .. } => match arguments(&payload) {
                Some(body) => Reply {
                    status: 200,
                    body: Value::Dict(body),
                },
                None => undecodable(),
            },
            Message::Error { error, payload, .. } => match arguments(&payload) {
                Some(args) => {
                    let mut body = Dict::new().with("error", error.clone());
                    body.0.extend(args.0);
                    Reply {
                        status: wamp_error_status(error.as_str()),
                        body: Value::Dict(body),
                    }
                }
                None => undecodable(),
            },
            other => Reply::refuse(
                500,
                "internal_error",
                format!("unexpected {} for a bridge request", other.name()),
            ),
        }
    }

    /// The JSON body.
    pub fn body_bytes(&self) -> Vec<u8> {
        let mut out = BytesMut::with_capacity(64);
        encode_value(Serializer::Json, &self.body, &mut out);
        out.to_vec()
    }
}

/// `{"args": [...], "kwargs": {...}}` of a payload (each empty when
/// absent); `None` if it does not decode.
fn arguments(payload: &Payload) -> Option<Dict> {
    let (args, kwargs) = payload.to_values().ok()?;
    Some(
        Dict::new()
            .with("args", args.unwrap_or(Value::List(Vec::new())))
            .with("kwargs", kwargs.unwrap_or(Value::Dict(Dict::new()))),
    )
}

fn undecodable() -> Reply {
    Reply::refuse(502, "bad_gateway", "the reply's arguments do not decode")
}

/// The HTTP status of a WAMP ERROR:
///
/// | error URI | status |
/// | --- | --- |
/// | `wamp.error.invalid_uri`, `wamp.error.invalid_argument`, `wamp.error.option_not_allowed` | 400 |
/// | `wamp.error.not_authorized`, `wamp.error.authorization_failed` | 403 |
/// | `wamp.error.no_such_procedure`, `wamp.error.no_such_realm` | 404 |
/// | `switchyard.error.limit_exceeded` | 429 |
/// | `wamp.error.no_available_callee`, `wamp.error.unavailable` | 503 |
/// | `wamp.error.timeout` | 504 |
/// | anything else (an application error of the callee, `wamp.error.canceled`, ...) | 502 |
pub fn wamp_error_status(uri: &str) -> u16 {
    match uri {
        "wamp.error.invalid_uri"
        | "wamp.error.invalid_argument"
        | "wamp.error.option_not_allowed" => 400,
        "wamp.error.not_authorized" | "wamp.error.authorization_failed" => 403,
        "wamp.error.no_such_procedure" | "wamp.error.no_such_realm" => 404,
        "switchyard.error.limit_exceeded" => 429,
        "wamp.error.no_available_callee" | "wamp.error.unavailable" => 503,
        "wamp.error.timeout" => 504,
        _ => 502,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::message::code;
    use crate::wire::{PublicationId, RequestId, Text};

    fn json(r: &Reply) -> String {
        String::from_utf8(r.body_bytes()).unwrap()
    }

    #[test]
    fn replies_carry_ids_results_and_errors_as_json() {
        let published = Reply::of_message(Message::Published {
            request: RequestId(1),
            publication: PublicationId(77),
        });
        assert_eq!(
            (published.status, json(&published)),
            (200, r#"{"id":77}"#.into())
        );
        let result = Reply::of_message(Message::Result {
            request: RequestId(2),
            details: Dict::new(),
            payload: Payload::args(vec![Value::UInt(3)]),
        });
        assert_eq!(
            (result.status, json(&result)),
            (200, r#"{"args":[3],"kwargs":{}}"#.into())
        );
        let error = Reply::of_message(Message::Error {
            request_type: code::CALL,
            request: RequestId(3),
            details: Dict::new(),
            error: Text::from("com.example.oops"),
            payload: Payload::from_values(None, Some(Dict::new().with("why", "no"))),
        });
        assert_eq!(error.status, 502);
        assert_eq!(
            json(&error),
            r#"{"error":"com.example.oops","args":[],"kwargs":{"why":"no"}}"#
        );
        let refused = Reply::bad_request("field 'topic' must be a string");
        assert_eq!(
            json(&refused),
            r#"{"error":"bad_request","message":"field 'topic' must be a string"}"#
        );
    }

    #[test]
    fn wamp_errors_map_to_statuses() {
        for (uri, status) in [
            ("wamp.error.no_such_procedure", 404),
            ("wamp.error.not_authorized", 403),
            ("wamp.error.timeout", 504),
            ("wamp.error.invalid_argument", 400),
            ("wamp.error.invalid_uri", 400),
            ("switchyard.error.limit_exceeded", 429),
            ("wamp.error.canceled", 502),
            ("com.example.error", 502),
        ] {
            assert_eq!(wamp_error_status(uri), status, "{uri}");
        }
    }
}
