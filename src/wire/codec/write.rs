//! Generic message encoding: a typed `Message` into the elements of a list
//! in any `Format`. Raw payload elements in the same serializer are copied
//! as they are; others are transcoded here.

use super::Format;
use crate::wire::id::{RegistrationId, SubscriptionId};
use crate::wire::message::Message;
use crate::wire::payload::{Elem, Payload};
use crate::wire::value::{Dict, Value};
use bytes::BytesMut;
use std::marker::PhantomData;

/// Writes the elements of one list, putting separators where the format needs them.
struct List<'a, F> {
    out: &'a mut BytesMut,
    first: bool,
    _f: PhantomData<F>,
}

impl<'a, F: Format> List<'a, F> {
    fn open(out: &'a mut BytesMut, len: usize) -> Self {
        F::list_open(out, len);
        List {
            out,
            first: true,
            _f: PhantomData,
        }
    }

    fn next(&mut self) -> &mut BytesMut {
        if !self.first {
            F::list_sep(self.out);
        }
        self.first = false;
        self.out
    }

    fn uint(&mut self, v: u64) -> &mut Self {
        F::write_uint(self.next(), v);
        self
    }

    fn str(&mut self, s: &str) -> &mut Self {
        F::write_str(self.next(), s);
        self
    }

    fn dict(&mut self, d: &Dict) -> &mut Self {
        F::write_dict(self.next(), d);
        self
    }

    fn elem(&mut self, e: &Elem) -> &mut Self {
        let out = self.next();
        match e {
            Elem::Raw { ser, bytes } if *ser == F::SERIALIZER => out.extend_from_slice(bytes),
            Elem::Raw { .. } => match e.to_value() {
                Ok(v) => F::write_value(out, &v),
                // A raw element that does not decode was accepted by a decoder
                // that checked its bounds; keep the message well-formed.
                Err(_) => F::write_value(out, &Value::Null),
            },
            Elem::Value(v) => F::write_value(out, v),
        }
        self
    }

    /// Arguments and ArgumentsKw: `[]` stands in for absent Arguments when ArgumentsKw is present.
    fn payload(&mut self, p: &Payload) -> &mut Self {
        match (&p.args, &p.kwargs) {
            (None, None) => {}
            (Some(a), None) => {
                self.elem(a);
            }
            (a, Some(k)) => {
                match a {
                    Some(a) => self.elem(a),
                    None => self.elem(&Elem::Value(Value::List(Vec::new()))),
                };
                self.elem(k);
            }
        }
        self
    }

    fn close(self) {
        F::list_close(self.out);
    }
}

fn payload_len(p: &Payload) -> usize {
    match (&p.args, &p.kwargs) {
        (None, None) => 0,
        (Some(_), None) => 1,
        (_, Some(_)) => 2,
    }
}

/// Appends the encoding of `msg` in format `F` to `out`.
pub(crate) fn encode<F: Format>(msg: &Message, out: &mut BytesMut) {
    let code = msg.code();
    match msg {
        Message::Hello { realm, details } => {
            let mut l = List::<F>::open(out, 3);
            l.uint(code).str(realm).dict(details);
            l.close();
        }
        Message::Welcome { session, details } => {
            let mut l = List::<F>::open(out, 3);
            l.uint(code).uint(session.0).dict(details);
            l.close();
        }
        Message::Abort {
            details, reason, ..
        } => {
            // Always 3 elements: Autobahn rejects the 4/5-element form.
            let mut l = List::<F>::open(out, 3);
            l.uint(code).dict(details).str(reason);
            l.close();
        }
        Message::Challenge {
            auth_method: s,
            extra,
        }
        | Message::Authenticate {
            signature: s,
            extra,
        } => {
            let mut l = List::<F>::open(out, 3);
            l.uint(code).str(s).dict(extra);
            l.close();
        }
        Message::Goodbye { details, reason } => {
            let mut l = List::<F>::open(out, 3);
            l.uint(code).dict(details).str(reason);
            l.close();
        }
        Message::Error {
            request_type,
            request,
            details,
            error,
            payload,
        } => {
            let mut l = List::<F>::open(out, 5 + payload_len(payload));
            l.uint(code)
                .uint(*request_type)
                .uint(request.0)
                .dict(details)
                .str(error)
                .payload(payload);
            l.close();
        }
        _ => encode_routed::<F>(msg, code, out),
    }
}

/// The pub/sub and RPC messages.
fn encode_routed<F: Format>(msg: &Message, code: u64, out: &mut BytesMut) {
    match msg {
        Message::Publish {
            request,
            options: d,
            topic: uri,
            payload,
        }
        | Message::Call {
            request,
            options: d,
            procedure: uri,
            payload,
        } => {
            let mut l = List::<F>::open(out, 4 + payload_len(payload));
            l.uint(code)
                .uint(request.0)
                .dict(d)
                .str(uri)
                .payload(payload);
            l.close();
        }
        Message::Subscribe {
            request,
            options,
            topic: uri,
        }
        | Message::Register {
            request,
            options,
            procedure: uri,
        } => {
            let mut l = List::<F>::open(out, 4);
            l.uint(code).uint(request.0).dict(options).str(uri);
            l.close();
        }
        Message::Published {
            request,
            publication,
        } => two_ids::<F>(out, code, request.0, publication.0),
        Message::Subscribed {
            request,
            subscription,
        } => two_ids::<F>(out, code, request.0, subscription.0),
        Message::Registered {
            request,
            registration,
        } => two_ids::<F>(out, code, request.0, registration.0),
        Message::Unsubscribe {
            request,
            subscription: SubscriptionId(id),
            options,
        }
        | Message::Unregister {
            request,
            registration: RegistrationId(id),
            options,
        } => {
            let mut l = List::<F>::open(out, if options.is_empty() { 3 } else { 4 });
            l.uint(code).uint(request.0).uint(*id);
            if !options.is_empty() {
                l.dict(options);
            }
            l.close();
        }
        Message::Unsubscribed { request, details } | Message::Unregistered { request, details } => {
            let mut l = List::<F>::open(out, if details.is_some() { 3 } else { 2 });
            l.uint(code).uint(request.0);
            if let Some(d) = details {
                l.dict(d);
            }
            l.close();
        }
        Message::Event {
            subscription,
            publication,
            details,
            payload,
        } => {
            let mut l = List::<F>::open(out, 4 + payload_len(payload));
            l.uint(code)
                .uint(subscription.0)
                .uint(publication.0)
                .dict(details)
                .payload(payload);
            l.close();
        }
        Message::Invocation {
            request,
            registration,
            details,
            payload,
        } => {
            let mut l = List::<F>::open(out, 4 + payload_len(payload));
            l.uint(code)
                .uint(request.0)
                .uint(registration.0)
                .dict(details)
                .payload(payload);
            l.close();
        }
        Message::Cancel {
            request,
            options: d,
        }
        | Message::Interrupt {
            request,
            options: d,
        } => {
            let mut l = List::<F>::open(out, 3);
            l.uint(code).uint(request.0).dict(d);
            l.close();
        }
        Message::Result {
            request,
            details: d,
            payload,
        }
        | Message::Yield {
            request,
            options: d,
            payload,
        } => {
            let mut l = List::<F>::open(out, 3 + payload_len(payload));
            l.uint(code).uint(request.0).dict(d).payload(payload);
            l.close();
        }
        Message::EventReceived { publication } => {
            let mut l = List::<F>::open(out, 2);
            l.uint(code).uint(publication.0);
            l.close();
        }
        // Session messages and ERROR are handled by `encode`.
        _ => {}
    }
}

fn two_ids<F: Format>(out: &mut BytesMut, code: u64, a: u64, b: u64) {
    let mut l = List::<F>::open(out, 3);
    l.uint(code).uint(a).uint(b);
    l.close();
}
