//! Generic message decoding: element ranges from a `Format` into a typed
//! `Message`, checking element counts, field types and ID ranges.

use super::{Elements, Format, Kind};
use crate::wire::error::DecodeError;
use crate::wire::id::{self, PublicationId, RegistrationId, RequestId, SessionId, SubscriptionId};
use crate::wire::message::{code, type_name, Message};
use crate::wire::payload::{Elem, Payload};
use crate::wire::text::Text;
use crate::wire::value::Dict;
use bytes::Bytes;
use std::marker::PhantomData;

/// Reads the fields of one message.
struct Fields<'a, F> {
    frame: &'a Bytes,
    els: Elements,
    name: &'static str,
    _f: PhantomData<F>,
}

impl<F: Format> Fields<'_, F> {
    fn bad(&self, field: &'static str, problem: &'static str) -> DecodeError {
        DecodeError::BadField {
            message: self.name,
            field,
            problem,
        }
    }

    fn elem(&self, i: usize) -> &[u8] {
        &self.frame[self.els.range(i)]
    }

    /// Fails unless the element count is within `min..=max`.
    fn expect_len(&self, min: usize, max: usize) -> Result<(), DecodeError> {
        let len = self.els.len();
        if len < min || len > max {
            return Err(DecodeError::BadLength {
                message: self.name,
                len,
            });
        }
        Ok(())
    }

    fn uint(&self, i: usize, field: &'static str) -> Result<u64, DecodeError> {
        F::read_uint(self.elem(i)).ok_or_else(|| self.bad(field, "must be an integer"))
    }

    /// An ID in [1, 2^53] (or 0 when `zero_ok`).
    fn id(&self, i: usize, field: &'static str, zero_ok: bool) -> Result<u64, DecodeError> {
        let v = self.uint(i, field)?;
        if id::is_valid_id(v) || (zero_ok && v == 0) {
            Ok(v)
        } else {
            Err(self.bad(field, "ID out of range [1, 2^53]"))
        }
    }

    fn request(&self, i: usize) -> Result<RequestId, DecodeError> {
        self.id(i, "Request", false).map(RequestId)
    }

    fn text(&self, i: usize, field: &'static str) -> Result<Text, DecodeError> {
        F::read_text(self.frame, self.els.range(i))
            .ok_or_else(|| self.bad(field, "must be a string"))
    }

    fn dict(&self, i: usize, field: &'static str) -> Result<Dict, DecodeError> {
        F::read_dict(self.elem(i))?.ok_or_else(|| self.bad(field, "must be a dict"))
    }

    /// A dict at `i` if the message has that element, else an empty dict.
    fn opt_dict(&self, i: usize, field: &'static str) -> Result<Dict, DecodeError> {
        if i < self.els.len() {
            self.dict(i, field)
        } else {
            Ok(Dict::new())
        }
    }

    /// Arguments at `i` and ArgumentsKw at `i + 1`, each optional, kept raw.
    fn payload(&self, i: usize) -> Result<Payload, DecodeError> {
        let raw = |j: usize| Elem::Raw {
            ser: F::SERIALIZER,
            bytes: self.frame.slice(self.els.range(j)),
        };
        let mut payload = Payload::empty();
        if i < self.els.len() {
            match F::kind(self.elem(i)) {
                Kind::List | Kind::Str | Kind::Bytes => payload.args = Some(raw(i)),
                _ => return Err(self.bad("Arguments", "must be a list")),
            }
        }
        if i + 1 < self.els.len() {
            if F::kind(self.elem(i + 1)) != Kind::Dict {
                return Err(self.bad("ArgumentsKw", "must be a dict"));
            }
            payload.kwargs = Some(raw(i + 1));
        }
        Ok(payload)
    }
}

/// Decodes one frame with format `F`.
pub(crate) fn decode<F: Format>(frame: Bytes) -> Result<Message, DecodeError> {
    let els = F::split(&frame)?;
    if els.len() == 0 {
        return Err(DecodeError::Empty);
    }
    let first = &frame[els.range(0)];
    let code = F::read_uint(first).ok_or(DecodeError::BadField {
        message: "message",
        field: "MessageType",
        problem: "must be an integer",
    })?;
    let name = type_name(code);
    if name == "UNKNOWN" {
        return Err(DecodeError::UnknownType(code));
    }
    let f = Fields::<F> {
        frame: &frame,
        els,
        name,
        _f: PhantomData,
    };
    match code {
        code::HELLO..=code::GOODBYE => session_message(&f, code),
        code::ERROR => {
            f.expect_len(5, 7)?;
            Ok(Message::Error {
                request_type: f.uint(1, "REQUEST.Type")?,
                request: f.request(2)?,
                details: f.dict(3, "Details")?,
                error: f.text(4, "Error")?,
                payload: f.payload(5)?,
            })
        }
        code::PUBLISH..=code::EVENT => pubsub_message(&f, code),
        code::CALL..=code::YIELD => rpc_message(&f, code),
        _ => {
            f.expect_len(2, 2)?;
            Ok(Message::EventReceived {
                publication: PublicationId(f.id(1, "Publication", false)?),
            })
        }
    }
}

fn session_message<F: Format>(f: &Fields<'_, F>, code: u64) -> Result<Message, DecodeError> {
    Ok(match code {
        code::HELLO => {
            f.expect_len(3, 3)?;
            Message::Hello {
                realm: f.text(1, "Realm")?,
                details: f.dict(2, "Details")?,
            }
        }
        code::WELCOME => {
            f.expect_len(3, 3)?;
            Message::Welcome {
                session: SessionId(f.id(1, "Session", false)?),
                details: f.dict(2, "Details")?,
            }
        }
        code::ABORT => {
            f.expect_len(3, 5)?;
            Message::Abort {
                details: f.dict(1, "Details")?,
                reason: f.text(2, "Reason")?,
                payload: f.payload(3)?,
            }
        }
        code::CHALLENGE => {
            f.expect_len(3, 3)?;
            Message::Challenge {
                auth_method: f.text(1, "AuthMethod")?,
                extra: f.dict(2, "Extra")?,
            }
        }
        code::AUTHENTICATE => {
            f.expect_len(3, 3)?;
            Message::Authenticate {
                signature: f.text(1, "Signature")?,
                extra: f.dict(2, "Extra")?,
            }
        }
        code::GOODBYE => {
            f.expect_len(3, 3)?;
            Message::Goodbye {
                details: f.dict(1, "Details")?,
                reason: f.text(2, "Reason")?,
            }
        }
        other => return Err(DecodeError::UnknownType(other)),
    })
}

fn pubsub_message<F: Format>(f: &Fields<'_, F>, code: u64) -> Result<Message, DecodeError> {
    Ok(match code {
        code::PUBLISH => {
            f.expect_len(4, 6)?;
            Message::Publish {
                request: f.request(1)?,
                options: f.dict(2, "Options")?,
                topic: f.text(3, "Topic")?,
                payload: f.payload(4)?,
            }
        }
        code::PUBLISHED => {
            f.expect_len(3, 3)?;
            Message::Published {
                request: f.request(1)?,
                publication: PublicationId(f.id(2, "Publication", false)?),
            }
        }
        code::SUBSCRIBE => {
            f.expect_len(4, 4)?;
            Message::Subscribe {
                request: f.request(1)?,
                options: f.dict(2, "Options")?,
                topic: f.text(3, "Topic")?,
            }
        }
        code::SUBSCRIBED => {
            f.expect_len(3, 3)?;
            Message::Subscribed {
                request: f.request(1)?,
                subscription: SubscriptionId(f.id(2, "Subscription", false)?),
            }
        }
        code::UNSUBSCRIBE => {
            f.expect_len(3, 4)?;
            Message::Unsubscribe {
                request: f.request(1)?,
                subscription: SubscriptionId(f.id(2, "Subscription", false)?),
                options: f.opt_dict(3, "Options")?,
            }
        }
        code::UNSUBSCRIBED => {
            f.expect_len(2, 3)?;
            let details = (f.els.len() == 3)
                .then(|| f.dict(2, "Details"))
                .transpose()?;
            Message::Unsubscribed {
                request: RequestId(f.id(1, "Request", true)?),
                details,
            }
        }
        code::EVENT => {
            f.expect_len(4, 6)?;
            Message::Event {
                subscription: SubscriptionId(f.id(1, "Subscription", false)?),
                publication: PublicationId(f.id(2, "Publication", false)?),
                details: f.dict(3, "Details")?,
                payload: f.payload(4)?,
            }
        }
        other => return Err(DecodeError::UnknownType(other)),
    })
}

fn rpc_message<F: Format>(f: &Fields<'_, F>, code: u64) -> Result<Message, DecodeError> {
    Ok(match code {
        code::CALL => {
            f.expect_len(4, 6)?;
            Message::Call {
                request: f.request(1)?,
                options: f.dict(2, "Options")?,
                procedure: f.text(3, "Procedure")?,
                payload: f.payload(4)?,
            }
        }
        code::CANCEL | code::INTERRUPT => {
            f.expect_len(3, 3)?;
            let (request, options) = (f.request(1)?, f.dict(2, "Options")?);
            if code == code::CANCEL {
                Message::Cancel { request, options }
            } else {
                Message::Interrupt { request, options }
            }
        }
        code::RESULT => {
            f.expect_len(3, 5)?;
            Message::Result {
                request: f.request(1)?,
                details: f.dict(2, "Details")?,
                payload: f.payload(3)?,
            }
        }
        code::REGISTER => {
            f.expect_len(4, 4)?;
            Message::Register {
                request: f.request(1)?,
                options: f.dict(2, "Options")?,
                procedure: f.text(3, "Procedure")?,
            }
        }
        code::REGISTERED => {
            f.expect_len(3, 3)?;
            Message::Registered {
                request: f.request(1)?,
                registration: RegistrationId(f.id(2, "Registration", false)?),
            }
        }
        code::UNREGISTER => {
            f.expect_len(3, 4)?;
            Message::Unregister {
                request: f.request(1)?,
                registration: RegistrationId(f.id(2, "Registration", false)?),
                options: f.opt_dict(3, "Options")?,
            }
        }
        code::UNREGISTERED => {
            f.expect_len(2, 3)?;
            let details = (f.els.len() == 3)
                .then(|| f.dict(2, "Details"))
                .transpose()?;
            Message::Unregistered {
                request: RequestId(f.id(1, "Request", true)?),
                details,
            }
        }
        code::INVOCATION => {
            f.expect_len(4, 6)?;
            Message::Invocation {
                request: f.request(1)?,
                registration: RegistrationId(f.id(2, "Registration", false)?),
                details: f.dict(3, "Details")?,
                payload: f.payload(4)?,
            }
        }
        code::YIELD => {
            f.expect_len(3, 5)?;
            Message::Yield {
                request: f.request(1)?,
                options: f.dict(2, "Options")?,
                payload: f.payload(3)?,
            }
        }
        other => return Err(DecodeError::UnknownType(other)),
    })
}
