//! The HTTP bridge on the operators' HTTP listener (shard 0): `POST
//! /publish` and `POST /call` with a JSON body, for systems that cannot
//! speak WAMP. Each request becomes a PUBLISH or CALL of the bridge's
//! hidden session in the named realm (`Shard::bridge_request`), which takes
//! the path of any client's request: the realm's rules for the bridge's
//! role, the session limits, the broker or dealer, every shard. The reply
//! comes back through the shard's internal replies (`BridgeWaits`) and is
//! answered as JSON (`reply.rs`).
//!
//! Before anything reaches the router a request must: be a POST (405), find
//! a free slot (503 past `max_concurrent`), say its length with
//! `Content-Length` (411; chunked bodies are refused), fit in
//! `max_body_bytes` (413, the body left unread), carry the ticket and the
//! signature's parameters (401), arrive whole in time (408), be signed
//! (401), and hold a well-formed body (400, `request.rs`). Every wait is bounded: the body by the HTTP read
//! timeout, the reply by the call timeout.

mod check;
mod reply;
mod request;

pub use check::Signing;

use super::auth_answers::{BridgeWaits, Wait};
use super::http::{reason, Head};
use crate::shard::{BridgeIdentity, BridgeRefusal, Shard};
use crate::wire::{Dict, Message, RequestId, Text, Value};
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::net::TcpStream;
use reply::Reply;
use request::{Endpoint, Parsed};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime};

/// How much longer than a call's own timeout the bridge waits for its
/// answer (the dealer's timeout answers first; this bounds the rest).
const REPLY_GRACE: Duration = Duration::from_secs(1);

/// What the bridge runs with (`[http.bridge]`, secrets read).
#[derive(Clone)]
pub struct BridgeOptions {
    pub authid: String,
    pub authrole: String,
    /// The bearer ticket every request must carry, if any.
    pub ticket: Option<String>,
    /// Signed requests, if required.
    pub signing: Option<Signing>,
    pub max_body_bytes: usize,
    pub max_concurrent: usize,
    /// The longest wait for a reply; caps a call's `timeout`.
    pub call_timeout: Duration,
}

impl std::fmt::Debug for BridgeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BridgeOptions")
            .field("authid", &self.authid)
            .field("authrole", &self.authrole)
            .field(
                "ticket",
                &self.ticket.as_ref().map(|_| crate::config::REDACTED),
            )
            .field("signing", &self.signing)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_concurrent", &self.max_concurrent)
            .field("call_timeout", &self.call_timeout)
            .finish()
    }
}

/// The bridge of shard 0's HTTP listener.
pub struct Bridge {
    opts: BridgeOptions,
    who: BridgeIdentity,
    shard: Rc<RefCell<Shard>>,
    waits: Rc<BridgeWaits>,
    in_flight: Cell<usize>,
}

/// A request slot, given back when dropped.
struct Slot<'a>(&'a Cell<usize>);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        self.0.set(self.0.get() - 1);
    }
}

/// A registered wait, forgotten when dropped (answered, timed out, or the
/// request's task ended).
struct Waiting<'a> {
    waits: &'a BridgeWaits,
    request: RequestId,
    wait: Rc<Wait<Message>>,
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.waits.remove(self.request);
    }
}

impl Bridge {
    pub fn new(opts: BridgeOptions, shard: Rc<RefCell<Shard>>, waits: Rc<BridgeWaits>) -> Bridge {
        let who = BridgeIdentity {
            authid: Text::from(opts.authid.as_str()),
            authrole: Text::from(opts.authrole.as_str()),
        };
        Bridge {
            opts,
            who,
            shard,
            waits,
            in_flight: Cell::new(0),
        }
    }

    /// Whether `target` (path and query) is one of the bridge's endpoints.
    pub fn serves(target: &str) -> bool {
        Endpoint::at(path_of(target)).is_some()
    }

    /// Answers one request (its head read, its body possibly not yet):
    /// the whole HTTP response.
    pub async fn serve(
        &self,
        head: &Head,
        stream: &mut TcpStream,
        body_timeout: Duration,
    ) -> Vec<u8> {
        let reply = self.answer(head, stream, body_timeout).await;
        self.response(&reply)
    }

    async fn answer(&self, head: &Head, stream: &mut TcpStream, body_timeout: Duration) -> Reply {
        let (path, query) = head.target.split_once('?').unwrap_or((&head.target, ""));
        let Some(endpoint) = Endpoint::at(path) else {
            return Reply::refuse(404, "not_found", "not found");
        };
        if head.method != "POST" {
            return Reply::refuse(405, "method_not_allowed", format!("{path} takes POST only"));
        }
        let Some(_slot) = self.slot() else {
            let n = self.opts.max_concurrent;
            return Reply::refuse(503, "unavailable", format!("{n} bridge requests in flight"));
        };
        let len = match content_length(head) {
            Ok(len) => len,
            Err(refusal) => return refusal,
        };
        if len > self.opts.max_body_bytes {
            let max = self.opts.max_body_bytes;
            let why = format!("the body of {len} bytes is over the limit of {max}");
            return Reply::refuse(413, "payload_too_large", why);
        }
        if let Some(ticket) = &self.opts.ticket {
            if let Err(why) = check::check_ticket(ticket, head.header("authorization")) {
                return Reply::refuse(401, "unauthorized", why);
            }
        }
        let signed = match &self.opts.signing {
            Some(signing) => match check::signed_params(signing, query, SystemTime::now()) {
                Ok(signed) => Some((signing, signed)),
                Err(why) => return Reply::refuse(401, "unauthorized", why),
            },
            None => None,
        };
        let body = match read_body(head, stream, len, body_timeout).await {
            Ok(body) => body,
            Err(refusal) => return refusal,
        };
        if let Some((signing, signed)) = signed {
            if let Err(why) = check::verify(signing, &signed, &body) {
                return Reply::refuse(401, "unauthorized", why);
            }
        }
        match request::parse(endpoint, &body, self.opts.call_timeout) {
            Ok(parsed) => self.forward(parsed).await,
            Err(why) => Reply::bad_request(why),
        }
    }

    /// A request slot, unless `max_concurrent` are taken.
    fn slot(&self) -> Option<Slot<'_>> {
        let n = self.in_flight.get();
        if n >= self.opts.max_concurrent {
            return None;
        }
        self.in_flight.set(n + 1);
        Some(Slot(&self.in_flight))
    }

    /// Sends the request as the bridge's session and waits for its reply.
    async fn forward(&self, parsed: Parsed) -> Reply {
        let Parsed {
            realm,
            request,
            acknowledged,
            timeout,
        } = parsed;
        let is_call = matches!(request, crate::shard::BridgeRequest::Call { .. });
        let sent = self
            .shard
            .borrow_mut()
            .bridge_request(&self.who, &realm, request);
        let id = match sent {
            Ok(id) => id,
            Err(refusal) => return self.refused(&realm, refusal),
        };
        if !acknowledged {
            return Reply {
                status: 202,
                body: Value::Dict(Dict::new()),
            };
        }
        // Registered before any await: the reply cannot have come yet.
        let waiting = Waiting {
            waits: &self.waits,
            request: id,
            wait: self.waits.add(id),
        };
        let within = if is_call {
            timeout + REPLY_GRACE
        } else {
            timeout
        };
        if let Some(msg) = reply_within(&waiting.wait, within).await {
            return Reply::of_message(msg);
        }
        drop(waiting);
        if is_call {
            self.shard.borrow_mut().bridge_cancel(&realm, id);
        }
        let ms = within.as_millis();
        Reply::refuse(
            504,
            "wamp.error.timeout",
            format!("no answer within {ms} ms"),
        )
    }

    fn refused(&self, realm: &str, refusal: BridgeRefusal) -> Reply {
        match refusal {
            BridgeRefusal::NoSuchRealm => Reply::refuse(
                404,
                "wamp.error.no_such_realm",
                format!("no realm '{realm}' on this router"),
            ),
            BridgeRefusal::NoSuchRole => Reply::refuse(
                403,
                "wamp.error.no_such_role",
                format!(
                    "realm '{realm}' has no role '{}', the bridge's authrole",
                    self.opts.authrole
                ),
            ),
            BridgeRefusal::Invalid(why) => Reply::bad_request(why),
        }
    }

    /// The HTTP response of `reply`.
    fn response(&self, reply: &Reply) -> Vec<u8> {
        let body = reply.body_bytes();
        let status = reply.status;
        let mut head = format!(
            "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
             Cache-Control: no-store\r\n",
            reason(status),
            body.len()
        );
        if status == 405 {
            head.push_str("Allow: POST\r\n");
        }
        if status == 401 && self.opts.ticket.is_some() {
            head.push_str("WWW-Authenticate: Bearer realm=\"switchyard\"\r\n");
        }
        head.push_str("Connection: close\r\n\r\n");
        [head.into_bytes(), body].concat()
    }
}

/// The path of a request target (without the query).
fn path_of(target: &str) -> &str {
    target.split('?').next().unwrap_or_default()
}

/// The body's length from `Content-Length`; a chunked (or otherwise
/// transfer-encoded) body is refused.
fn content_length(head: &Head) -> Result<usize, Reply> {
    if head.header("transfer-encoding").is_some() {
        return Err(Reply::refuse(
            411,
            "length_required",
            "chunked bodies are not supported: send the body with a Content-Length",
        ));
    }
    let mut values = head.headers_named("content-length");
    let Some(first) = values.next() else {
        return Err(Reply::refuse(
            411,
            "length_required",
            "a Content-Length is required",
        ));
    };
    let bad = || Reply::bad_request("Content-Length must be a single decimal number");
    if values.any(|v| v != first) {
        return Err(bad());
    }
    let text = std::str::from_utf8(first).map_err(|_| bad())?.trim();
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    // Too many digits for a usize: over any limit.
    Ok(text.parse().unwrap_or(usize::MAX))
}

/// Reads the `len` bytes of the body (those that came with the head
/// first) within `timeout`; bytes after the body are ignored. A client
/// that sent `Expect: 100-continue` is told to go on first.
async fn read_body(
    head: &Head,
    stream: &mut TcpStream,
    len: usize,
    timeout: Duration,
) -> Result<Vec<u8>, Reply> {
    let mut body = head.rest.clone();
    body.truncate(len);
    if body.len() == len {
        return Ok(body);
    }
    let expects = head
        .header("expect")
        .is_some_and(|v| v.eq_ignore_ascii_case(b"100-continue"));
    if expects {
        let _ = stream.write_all(b"HTTP/1.1 100 Continue\r\n\r\n").await;
    }
    let deadline = Instant::now() + timeout;
    let mut buf = vec![0u8; (len - body.len()).min(16 * 1024)];
    while body.len() < len {
        let want = (len - body.len()).min(buf.len());
        let left = deadline.saturating_duration_since(Instant::now());
        let read =
            futures_lite::future::or(async { Some(stream.read(&mut buf[..want]).await) }, async {
                glommio::timer::sleep(left).await;
                None
            })
            .await;
        match read {
            Some(Ok(n)) if n > 0 => body.extend_from_slice(&buf[..n]),
            Some(_) => {
                return Err(Reply::bad_request(format!(
                    "the body ended after {} of its {len} bytes",
                    body.len()
                )))
            }
            None => {
                return Err(Reply::refuse(
                    408,
                    "request_timeout",
                    format!("the body did not arrive within {} s", timeout.as_secs()),
                ))
            }
        }
    }
    Ok(body)
}

/// The reply `wait` receives within `within`, if any.
async fn reply_within(wait: &Wait<Message>, within: Duration) -> Option<Message> {
    let deadline = Instant::now() + within;
    loop {
        if let Some(msg) = wait.take() {
            return Some(msg);
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return None;
        }
        futures_lite::future::or(wait.ready.wait(), glommio::timer::sleep(left)).await;
    }
}
