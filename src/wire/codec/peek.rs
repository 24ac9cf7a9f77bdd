//! The message type of an encoded frame, read from its first bytes only:
//! the list header and the first element (the type code). The connection
//! writer counts outgoing messages per type with it, so it must stay a
//! handful of branches: no decoding, no allocation.
//!
//! A frame whose start is not a list opening on a non-negative integer
//! gives `None` (a frame the router encoded always peeks).

use super::Serializer;

/// The type code of the encoded message `frame` in `ser`.
#[inline]
pub fn peek_type(ser: Serializer, frame: &[u8]) -> Option<u64> {
    match ser {
        Serializer::Json => json(frame),
        Serializer::MsgPack => msgpack(frame),
        Serializer::Cbor => cbor(frame),
    }
}

/// Reads `n` big-endian bytes at `at`.
#[inline]
fn be(frame: &[u8], at: usize, n: usize) -> Option<u64> {
    let bytes = frame.get(at..at + n)?;
    Some(bytes.iter().fold(0, |v, b| (v << 8) | u64::from(*b)))
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

/// `[16,...`: up to four digits after the bracket (whitespace allowed
/// around them), ended by a comma, a bracket or whitespace.
fn json(frame: &[u8]) -> Option<u64> {
    let mut bytes = frame.iter().copied().skip_while(|b| is_space(*b));
    if bytes.next()? != b'[' {
        return None;
    }
    let mut bytes = bytes.skip_while(|b| is_space(*b));
    let (mut code, mut digits) = (0u64, 0);
    loop {
        match bytes.next()? {
            d @ b'0'..=b'9' if digits < 4 => code = code * 10 + u64::from(d - b'0'),
            b',' | b']' if digits > 0 => return Some(code),
            b if is_space(b) && digits > 0 => return Some(code),
            _ => return None,
        }
        digits += 1;
    }
}

/// A fixarray, array 16 or array 32 header, then a positive fixint or an
/// unsigned (or non-negative signed) integer.
fn msgpack(frame: &[u8]) -> Option<u64> {
    let at = match *frame.first()? {
        0x91..=0x9f => 1,
        0xdc => 3,
        0xdd => 5,
        _ => return None,
    };
    let head = *frame.get(at)?;
    let len = match head {
        0x00..=0x7f => return Some(u64::from(head)),
        0xcc | 0xd0 => 1,
        0xcd | 0xd1 => 2,
        0xce | 0xd2 => 4,
        0xcf | 0xd3 => 8,
        _ => return None,
    };
    let v = be(frame, at + 1, len)?;
    let negative = head >= 0xd0 && v >> (len * 8 - 1) == 1;
    (!negative).then_some(v)
}

/// An array header (major type 4, definite or indefinite), then an
/// unsigned integer (major type 0).
fn cbor(frame: &[u8]) -> Option<u64> {
    let at = match *frame.first()? {
        0x81..=0x97 | 0x9f => 1,
        0x98 => 2,
        0x99 => 3,
        0x9a => 5,
        0x9b => 9,
        _ => return None,
    };
    match *frame.get(at)? {
        b @ 0x00..=0x17 => Some(u64::from(b)),
        0x18 => be(frame, at + 1, 1),
        0x19 => be(frame, at + 1, 2),
        0x1a => be(frame, at + 1, 4),
        0x1b => be(frame, at + 1, 8),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::id::{PublicationId, RegistrationId, RequestId, SessionId, SubscriptionId};
    use crate::wire::message::{code, Message};
    use crate::wire::payload::Payload;
    use crate::wire::text::Text;
    use crate::wire::value::{Dict, Value};
    use crate::wire::{decode, encode_to_bytes};

    /// One message of each of the 25 types, with large ids and payloads
    /// where the layout has them.
    fn one_of_each() -> Vec<Message> {
        let d = || Dict::new().with("k", Value::str("v"));
        let t = |s: &str| Text::from(s);
        let p = || Payload::args(vec![Value::UInt(1), Value::str("x")]);
        let (req, big) = (RequestId(7), 1u64 << 52);
        vec![
            Message::Hello {
                realm: t("realm1"),
                details: d(),
            },
            Message::Welcome {
                session: SessionId(big),
                details: d(),
            },
            Message::Abort {
                details: d(),
                reason: t("wamp.error.no_such_realm"),
                payload: p(),
            },
            Message::Challenge {
                auth_method: t("ticket"),
                extra: d(),
            },
            Message::Authenticate {
                signature: t("secret"),
                extra: d(),
            },
            Message::Goodbye {
                details: d(),
                reason: t("wamp.close.normal"),
            },
            Message::Error {
                request_type: code::CALL,
                request: req,
                details: d(),
                error: t("wamp.error.no_such_procedure"),
                payload: p(),
            },
            Message::Publish {
                request: req,
                options: d(),
                topic: t("a.b"),
                payload: p(),
            },
            Message::Published {
                request: req,
                publication: PublicationId(big),
            },
            Message::Subscribe {
                request: req,
                options: d(),
                topic: t("a.b"),
            },
            Message::Subscribed {
                request: req,
                subscription: SubscriptionId(big),
            },
            Message::Unsubscribe {
                request: req,
                subscription: SubscriptionId(big),
                options: d(),
            },
            Message::Unsubscribed {
                request: req,
                details: None,
            },
            Message::Event {
                subscription: SubscriptionId(big),
                publication: PublicationId(big),
                details: d(),
                payload: p(),
            },
            Message::Call {
                request: req,
                options: d(),
                procedure: t("a.f"),
                payload: p(),
            },
            Message::Cancel {
                request: req,
                options: d(),
            },
            Message::Result {
                request: req,
                details: d(),
                payload: p(),
            },
            Message::Register {
                request: req,
                options: d(),
                procedure: t("a.f"),
            },
            Message::Registered {
                request: req,
                registration: RegistrationId(big),
            },
            Message::Unregister {
                request: req,
                registration: RegistrationId(big),
                options: Dict::new(),
            },
            Message::Unregistered {
                request: RequestId(0),
                details: Some(d()),
            },
            Message::Invocation {
                request: req,
                registration: RegistrationId(big),
                details: d(),
                payload: p(),
            },
            Message::Interrupt {
                request: req,
                options: d(),
            },
            Message::Yield {
                request: req,
                options: d(),
                payload: p(),
            },
            Message::EventReceived {
                publication: PublicationId(big),
            },
        ]
    }

    #[test]
    fn every_message_type_peeks_in_every_serializer() {
        let all = one_of_each();
        let mut codes: Vec<u64> = all.iter().map(Message::code).collect();
        codes.dedup();
        assert_eq!(codes.len(), 25, "one message of each type");
        for ser in Serializer::ALL {
            for msg in &all {
                let frame = encode_to_bytes(ser, msg);
                let back = decode(ser, frame.clone()).unwrap();
                assert_eq!(back.code(), msg.code(), "{ser:?} round trip");
                assert_eq!(peek_type(ser, &frame), Some(msg.code()), "{ser:?} {msg:?}");
            }
        }
    }

    #[test]
    fn json_peeks_through_whitespace_and_refuses_what_is_no_type() {
        let ok: &[(&[u8], u64)] = &[
            (b"[36,1,2,{}]", 36),
            (b" \n[ 8 , 48,1,{},\"e\"]", 8),
            (b"[337\t,5]", 337),
            (b"[6]", 6),
        ];
        for (frame, want) in ok {
            assert_eq!(
                json(frame),
                Some(*want),
                "{}",
                String::from_utf8_lossy(frame)
            );
        }
        let bad: &[&[u8]] = &[
            b"",
            b"[",
            b"[,",
            b"{\"a\":1}",
            b"[-1,2]",
            b"[1.5,2]",
            b"[\"x\",1]",
            b"[12345,1]",
            b"[16",
            b"16,",
        ];
        for frame in bad {
            assert_eq!(json(frame), None, "{}", String::from_utf8_lossy(frame));
        }
    }

    #[test]
    fn msgpack_peeks_every_array_and_integer_header() {
        let ok: &[(&[u8], u64)] = &[
            (&[0x92, 0x24, 0x01], 36),
            (&[0xdc, 0x00, 0x02, 0x10, 0x01], 16),
            (&[0xdd, 0x00, 0x00, 0x00, 0x02, 0x30, 0x01], 48),
            (&[0x92, 0xcc, 0x24, 0x01], 36),
            (&[0x92, 0xcd, 0x01, 0x51, 0x01], 337),
            (&[0x92, 0xce, 0x00, 0x00, 0x00, 0x44], 68),
            (&[0x92, 0xcf, 0, 0, 0, 0, 0, 0, 0, 0x46], 70),
            (&[0x92, 0xd0, 0x11], 17),
            (&[0x92, 0xd1, 0x01, 0x51], 337),
            (&[0x92, 0xd3, 0, 0, 0, 0, 0, 0, 0, 0x02], 2),
        ];
        for (frame, want) in ok {
            assert_eq!(msgpack(frame), Some(*want), "{frame:x?}");
        }
        let bad: &[&[u8]] = &[
            &[],
            &[0x90],
            &[0x80, 0x24],
            &[0x92, 0xff],
            &[0x92, 0xd0, 0xff],
            &[0x92, 0xa1, 0x61],
            &[0x92, 0xcd, 0x01],
            &[0xdc, 0x00],
        ];
        for frame in bad {
            assert_eq!(msgpack(frame), None, "{frame:x?}");
        }
    }

    #[test]
    fn cbor_peeks_every_array_and_unsigned_header() {
        let ok: &[(&[u8], u64)] = &[
            (&[0x82, 0x10, 0x01], 16),
            (&[0x82, 0x18, 0x24, 0x01], 36),
            (&[0x82, 0x19, 0x01, 0x51, 0x01], 337),
            (&[0x82, 0x1a, 0x00, 0x00, 0x00, 0x32], 50),
            (&[0x82, 0x1b, 0, 0, 0, 0, 0, 0, 0, 0x40], 64),
            (&[0x98, 0x02, 0x18, 0x44], 68),
            (&[0x99, 0x00, 0x02, 0x01], 1),
            (&[0x9a, 0x00, 0x00, 0x00, 0x02, 0x03], 3),
            (&[0x9b, 0, 0, 0, 0, 0, 0, 0, 0x02, 0x05], 5),
            (&[0x9f, 0x06, 0xff], 6),
        ];
        for (frame, want) in ok {
            assert_eq!(cbor(frame), Some(*want), "{frame:x?}");
        }
        let bad: &[&[u8]] = &[
            &[],
            &[0x80],
            &[0xa1, 0x10],
            &[0x82, 0x20],
            &[0x82, 0x61, 0x61],
            &[0x82, 0x19, 0x01],
            &[0x98],
        ];
        for frame in bad {
            assert_eq!(cbor(frame), None, "{frame:x?}");
        }
    }
}
