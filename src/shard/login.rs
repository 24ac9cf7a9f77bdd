//! Logins on a shard: the handshake's `Authenticator` over the shard's
//! realms (`Directory`: methods, principals, failed-login throttling), the
//! steps a handshake asks for, and the calls to dynamic authenticators.
//! Those are made by one hidden router session per realm and shard (see
//! `internal_session`): its RESULTs and ERRORs land in the shard's
//! `internal_outbound`, where the runtime reads them and hands each to the
//! connection waiting on its request ID.

use super::lifecycle::{Opened, Peer};
use super::Shard;
use crate::auth::limiter::Limiter;
use crate::auth::{Answer, Asked, Login, Outcome, Pending, RealmAuth, Refusal, Role};
use crate::realm::ids::IdAlloc;
use crate::realm::{Realm, Stats};
use crate::session::handshake::{Authenticator, Handshake, HelloInfo, Refused, Step, Verdict};
use crate::session::outbound::Outbound;
use crate::session::{Identity, Session, ViolationKind};
use crate::wire::{Dict, ErrorUri, Message, RequestId, Serializer, SessionId, Text, Value};
use rustc_hash::FxHashMap;
use std::net::IpAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

/// Whether `abort` ends a handshake for a protocol violation.
fn is_violation(abort: &Message) -> bool {
    let violation = ErrorUri::ProtocolViolation.uri();
    matches!(abort, Message::Abort { reason, .. } if reason.as_str() == violation)
}

/// The methods of an auto-created realm.
const ANONYMOUS: &[&str] = &["anonymous"];

/// The shard's realms as the handshake sees them.
struct Directory<'a> {
    realms: &'a FxHashMap<Text, Realm>,
    auto_create: bool,
    ids: &'a mut IdAlloc,
    limiter: &'a mut Limiter,
    /// Failed logins are counted per method.
    stats: &'a mut Stats,
    /// The client's address (failed logins are counted per address).
    peer: Option<IpAddr>,
    /// `{type, peer}` of the connection, for dynamic authenticators.
    transport: Option<Dict>,
    /// The verified client certificate's SHA-256, if any.
    client_cert: Option<[u8; 32]>,
}

impl Directory<'_> {
    fn auth(&self, realm: &str) -> Option<&RealmAuth> {
        self.realms.get(realm).map(|r| &*r.auth)
    }

    /// Turns a login outcome of `method` into a verdict, counting a failure.
    fn verdict(&mut self, method: &'static str, outcome: Outcome) -> Verdict {
        match outcome {
            Outcome::Welcome(identity) => Verdict::Welcome(identity),
            Outcome::Challenge {
                authmethod,
                extra,
                pending,
            } => Verdict::Challenge {
                authmethod: Text::from_static(authmethod),
                extra,
                pending,
            },
            Outcome::Ask(ask) => Verdict::Ask(ask),
            Outcome::Deny(r) => {
                if r.failed {
                    self.stats.count_login_failure(method);
                }
                if let (true, Some(ip)) = (r.failed, self.peer) {
                    self.limiter.failed(ip, Instant::now());
                }
                Verdict::Deny(Refused::new(r.reason, r.message))
            }
        }
    }

    /// A refusal when the client's address has failed too often.
    fn throttled(&mut self) -> Option<Verdict> {
        let wait = self.limiter.blocked(self.peer?, Instant::now())?;
        let secs = wait.as_secs() + 1;
        Some(Verdict::Deny(Refused::new(
            ErrorUri::AuthenticationFailed,
            format!("too many failed logins from this address; retry in {secs} s"),
        )))
    }
}

impl Authenticator for Directory<'_> {
    fn methods(&self, realm: &str) -> Option<&[&'static str]> {
        match self.auth(realm) {
            Some(a) => Some(a.methods()),
            None if self.auto_create => Some(ANONYMOUS),
            None => None,
        }
    }

    fn session_id(&mut self) -> SessionId {
        SessionId(self.ids.session())
    }

    fn hello(&mut self, realm: &Text, method: &'static str, hello: &HelloInfo<'_>) -> Verdict {
        if method == "anonymous" {
            return Verdict::Welcome(Identity::anonymous());
        }
        if let Some(refused) = self.throttled() {
            return refused;
        }
        let details = hello.details;
        let login = Login {
            realm,
            authid: details.get("authid").and_then(Value::as_str),
            authextra: details.get("authextra").and_then(Value::as_dict),
            session: hello.session.0,
            transport: self.transport.as_ref(),
            client_cert: self.client_cert,
        };
        let outcome = match self.auth(realm) {
            Some(a) => a.hello(method, &login),
            None => return Verdict::Welcome(Identity::anonymous()),
        };
        self.verdict(method, outcome)
    }

    fn authenticate(
        &mut self,
        realm: &Text,
        pending: Pending,
        signature: &Text,
        extra: &Dict,
    ) -> Verdict {
        let method = pending.method();
        let outcome = match self.auth(realm) {
            Some(a) => a.authenticate(pending, signature, extra),
            None => no_realm(realm),
        };
        self.verdict(method, outcome)
    }

    fn answered(&mut self, realm: &Text, asked: Asked, answer: Answer) -> Verdict {
        let method = asked.method();
        let outcome = match self.auth(realm) {
            Some(a) => a.answered(asked, answer),
            None => no_realm(realm),
        };
        self.verdict(method, outcome)
    }
}

fn no_realm(realm: &Text) -> Outcome {
    Outcome::Deny(Refusal {
        reason: Text::from(ErrorUri::NoSuchRealm),
        message: format!("no realm '{realm}' on this router"),
        failed: false,
    })
}

/// What the connection does after a handshake message.
#[derive(Debug)]
pub enum HandshakeOutcome {
    /// The session is open: send WELCOME.
    Welcomed(Opened),
    /// Send this (a CHALLENGE) and keep reading.
    Send(Message),
    /// Send this ABORT and close.
    Abort(Message),
    /// Nothing to do until the authenticator called with this request
    /// answers (`Shard::on_auth_answer`).
    Asking(RequestId),
    /// The client aborted: close.
    Closed,
}

impl Shard {
    /// Feeds one message of a connection's handshake.
    pub fn on_handshake(
        &mut self,
        hs: &mut Handshake,
        msg: Message,
        serializer: Serializer,
        outbound: &Rc<Outbound>,
        max_sessions: usize,
    ) -> HandshakeOutcome {
        self.stats.messages_in.add(msg.code());
        let step = hs.on_message(msg, &mut self.directory(outbound));
        self.carry_out(step, serializer, outbound, max_sessions)
    }

    /// Feeds the answer of the authenticator a handshake asked.
    pub fn on_auth_answer(
        &mut self,
        hs: &mut Handshake,
        answer: Answer,
        serializer: Serializer,
        outbound: &Rc<Outbound>,
        max_sessions: usize,
    ) -> HandshakeOutcome {
        let step = hs.on_answer(answer, &mut self.directory(outbound));
        self.carry_out(step, serializer, outbound, max_sessions)
    }

    fn directory(&mut self, outbound: &Rc<Outbound>) -> Directory<'_> {
        let transport = outbound.transport().map(|t| {
            Dict::new()
                .with("type", t.kind)
                .with("peer", Value::str(t.peer.as_str()))
        });
        Directory {
            realms: &self.realms,
            auto_create: self.settings.auto_create_realms,
            ids: &mut self.ids,
            limiter: &mut self.limiter,
            stats: &mut self.stats,
            peer: outbound.transport().and_then(|t| t.ip),
            transport,
            client_cert: outbound.transport().and_then(|t| t.client_cert),
        }
    }

    fn carry_out(
        &mut self,
        step: Step,
        serializer: Serializer,
        outbound: &Rc<Outbound>,
        max_sessions: usize,
    ) -> HandshakeOutcome {
        match step {
            Step::Accept {
                realm,
                session,
                identity,
                features,
            } => {
                let peer = Peer {
                    session,
                    identity,
                    features,
                    serializer,
                };
                let opened = self.open(realm, peer, outbound, max_sessions);
                match opened {
                    Ok(o) => HandshakeOutcome::Welcomed(o),
                    Err(r) => HandshakeOutcome::Abort(r.to_abort()),
                }
            }
            Step::Send(m) => HandshakeOutcome::Send(m),
            Step::Abort(m) => {
                if is_violation(&m) {
                    self.stats.count_violation(ViolationKind::Handshake);
                }
                HandshakeOutcome::Abort(m)
            }
            Step::Ask {
                realm,
                procedure,
                args,
            } => HandshakeOutcome::Asking(self.ask_authenticator(&realm, procedure, args)),
            Step::Closed => HandshakeOutcome::Closed,
        }
    }

    /// Runs a whole handshake from one HELLO (tests and in-process use).
    pub fn open_session(
        &mut self,
        realm: Text,
        details: &Dict,
        serializer: Serializer,
        outbound: Rc<Outbound>,
        max_sessions: usize,
    ) -> Result<Opened, Box<Message>> {
        let hello = Message::Hello {
            realm,
            details: details.clone(),
        };
        let mut hs = Handshake::default();
        match self.on_handshake(&mut hs, hello, serializer, &outbound, max_sessions) {
            HandshakeOutcome::Welcomed(o) => Ok(o),
            HandshakeOutcome::Abort(m) | HandshakeOutcome::Send(m) => Err(Box::new(m)),
            HandshakeOutcome::Asking(_) | HandshakeOutcome::Closed => {
                let r = Refused::new(ErrorUri::ProtocolViolation, "handshake incomplete");
                Err(Box::new(r.to_abort()))
            }
        }
    }

    /// Calls `procedure(args)` of `realm` for a handshake.
    fn ask_authenticator(&mut self, realm: &Text, procedure: Text, args: Vec<Value>) -> RequestId {
        self.call_internal(realm, procedure, args)
    }

    /// The hidden session that calls `realm`'s authenticators from this
    /// shard (made on first use, never announced, allowed everything).
    pub(super) fn internal_session(&mut self, realm: &Text) -> SessionId {
        if let Some(sid) = self.internal.get(realm) {
            return *sid;
        }
        let identity = Identity {
            authid: Text::from_static("switchyard"),
            authrole: Text::from_static("switchyard.router"),
            authmethod: Text::from_static("internal"),
            authprovider: Text::from_static("router"),
            authextra: None,
        };
        let role = Arc::new(Role::allow_all(identity.authrole.clone()));
        let sid = self.add_hidden_session(realm.clone(), identity, role);
        self.internal.insert(realm.clone(), sid);
        sid
    }

    /// Adds a hidden router session of `realm` (not announced, not counted,
    /// its replies landing in `internal_outbound`) and returns its ID.
    pub(super) fn add_hidden_session(
        &mut self,
        realm: Text,
        identity: Identity,
        role: Arc<Role>,
    ) -> SessionId {
        let mut sid = SessionId(self.ids.session());
        while sid.0 == 0 || self.sessions.contains_key(&sid) {
            sid = SessionId(self.ids.session());
        }
        let outbound = self.internal_outbound.clone();
        let mut session = Session::new(sid, realm, Serializer::Json, outbound, identity, role);
        session.internal = true;
        self.sessions.insert(sid, session);
        sid
    }

    /// Where the internal sessions' replies land (read by the runtime).
    pub fn internal_outbound(&self) -> Rc<Outbound> {
        self.internal_outbound.clone()
    }
}

/// The answer a RESULT or ERROR gives a handshake, with its request ID.
pub fn auth_answer(msg: Message) -> Option<(RequestId, Answer)> {
    match msg {
        Message::Result {
            request, payload, ..
        } => {
            let (args, kwargs) = payload.to_values().unwrap_or((None, None));
            let first = args
                .as_ref()
                .and_then(Value::as_list)
                .and_then(|a| a.first().cloned());
            let value = first.or(kwargs).unwrap_or(Value::Null);
            Some((request, Answer::Result(value)))
        }
        Message::Error {
            request,
            error,
            payload,
            ..
        } => {
            let (args, _) = payload.to_values().unwrap_or((None, None));
            let message = args
                .as_ref()
                .and_then(Value::as_list)
                .and_then(|a| a.first())
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            Some((
                request,
                Answer::Error {
                    uri: error,
                    message,
                },
            ))
        }
        _ => None,
    }
}
