//! Session lifecycle on a shard: the handshake (HELLO -> WELCOME or ABORT,
//! the realm's authentication methods answering for the shard), opening the
//! session record, and the cleanup when it leaves (subscriptions and
//! registrations router-wide, calls in flight).

use super::Shard;
use crate::auth::limiter::Limiter;
use crate::auth::{Login, Outcome, Pending, RealmAuth, Refusal};
use crate::realm::ids::IdAlloc;
use crate::realm::meta::session_details;
use crate::realm::{PubSubPolicy, Realm, RpcPolicy};
use crate::session::features::PeerFeatures;
use crate::session::handshake::{Authenticator, Handshake, HelloInfo, Refused, Step, Verdict};
use crate::session::outbound::Outbound;
use crate::session::{Identity, Session};
use crate::wire::{Dict, ErrorUri, Message, Serializer, SessionId, Text, Value};
use rustc_hash::FxHashMap;
use std::net::IpAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

/// A successful HELLO: the new session and its WELCOME.
#[derive(Debug)]
pub struct Opened {
    pub session: SessionId,
    pub welcome: Message,
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
    /// Nothing to do until an authenticator answers.
    Wait,
    /// The client aborted: close.
    Closed,
}

const ON_JOIN: &str = "wamp.session.on_join";
const ON_LEAVE: &str = "wamp.session.on_leave";

/// Who an accepted HELLO came from.
struct Peer {
    session: SessionId,
    identity: Identity,
    features: PeerFeatures,
    serializer: Serializer,
}

/// The methods of an auto-created realm.
const ANONYMOUS: &[&str] = &["anonymous"];

/// The shard's realms as the handshake sees them.
struct Directory<'a> {
    realms: &'a FxHashMap<Text, Realm>,
    auto_create: bool,
    ids: &'a mut IdAlloc,
    limiter: &'a mut Limiter,
    /// The client's address (failed logins are counted per address).
    peer: Option<IpAddr>,
}

impl Directory<'_> {
    fn auth(&self, realm: &str) -> Option<&RealmAuth> {
        self.realms.get(realm).map(|r| &*r.auth)
    }

    /// Turns a login outcome into a verdict, counting a failure.
    fn verdict(&mut self, outcome: Outcome) -> Verdict {
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
            Outcome::Deny(r) => {
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
        };
        let outcome = match self.auth(realm) {
            Some(a) => a.hello(method, &login),
            None => return Verdict::Welcome(Identity::anonymous()),
        };
        self.verdict(outcome)
    }

    fn authenticate(
        &mut self,
        realm: &Text,
        pending: Pending,
        signature: &Text,
        extra: &Dict,
    ) -> Verdict {
        let outcome = match self.auth(realm) {
            Some(a) => a.authenticate(pending, signature, extra),
            None => Outcome::Deny(Refusal {
                reason: ErrorUri::NoSuchRealm,
                message: format!("no realm '{realm}' on this router"),
                failed: false,
            }),
        };
        self.verdict(outcome)
    }
}

fn welcome_roles(meta: bool) -> Dict {
    let broker = Dict::new().with(
        "features",
        Dict::new()
            .with("publisher_exclusion", true)
            .with("pattern_based_subscription", true)
            .with("subscriber_blackwhite_listing", true)
            .with("publisher_identification", true)
            .with("event_retention", true)
            .with("event_history", true)
            .with("subscription_revocation", true)
            .with("session_meta_api", meta)
            .with("subscription_meta_api", meta),
    );
    let dealer = Dict::new().with(
        "features",
        Dict::new()
            .with("pattern_based_registration", true)
            .with("progressive_call_results", true)
            .with("progressive_call_invocations", true)
            .with("call_timeout", true)
            .with("call_canceling", true)
            .with("caller_identification", true)
            .with("shared_registration", true)
            .with("call_reroute", true)
            .with("session_meta_api", meta)
            .with("registration_meta_api", meta)
            .with("testament_meta_api", meta),
    );
    Dict::new().with("broker", broker).with("dealer", dealer)
}

/// WELCOME.Details: the router's roles and who the session is.
fn welcome_details(realm: &Text, meta: bool, identity: &Identity) -> Dict {
    let mut details = Dict::new()
        .with("roles", welcome_roles(meta))
        .with("realm", realm.clone())
        .with("authid", identity.authid.clone())
        .with("authrole", identity.authrole.clone())
        .with("authmethod", identity.authmethod.clone())
        .with("authprovider", identity.authprovider.clone());
    if let Some(extra) = &identity.authextra {
        details = details.with("authextra", extra.clone());
    }
    details.with("agent", concat!("switchyard-", env!("CARGO_PKG_VERSION")))
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
        let mut dir = Directory {
            realms: &self.realms,
            auto_create: self.settings.auto_create_realms,
            ids: &mut self.ids,
            limiter: &mut self.limiter,
            peer: outbound.transport().and_then(|t| t.ip),
        };
        match hs.on_message(msg, &mut dir) {
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
            Step::Abort(m) => HandshakeOutcome::Abort(m),
            Step::Wait => HandshakeOutcome::Wait,
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
            HandshakeOutcome::Wait | HandshakeOutcome::Closed => {
                let r = Refused::new(ErrorUri::ProtocolViolation, "handshake incomplete");
                Err(Box::new(r.to_abort()))
            }
        }
    }

    /// Opens an accepted session: its ID, its record, its WELCOME.
    fn open(
        &mut self,
        realm: Text,
        peer: Peer,
        outbound: &Rc<Outbound>,
        max_sessions: usize,
    ) -> Result<Opened, Refused> {
        let Peer {
            session: mut id,
            mut identity,
            features,
            serializer,
        } = peer;
        if self.sessions.len() >= max_sessions {
            return Err(Refused::new(
                ErrorUri::MaxSessionsReached,
                "the router is at its session limit",
            ));
        }
        while id.0 == 0 || self.sessions.contains_key(&id) {
            id = SessionId(self.ids.session());
        }
        let realm_state = self.realms.entry(realm.clone()).or_insert_with(|| {
            Realm::new(
                realm.clone(),
                Arc::new(RealmAuth::open()),
                RpcPolicy::default(),
                PubSubPolicy::default(),
            )
        });
        let Some(role) = realm_state.auth.role(&identity.authrole).cloned() else {
            return Err(Refused::new(
                ErrorUri::NoSuchRole,
                format!(
                    "authrole '{}' is not a role of realm '{realm}'",
                    identity.authrole
                ),
            ));
        };
        if identity.authid.as_str().is_empty() {
            identity.authid = Text::from(format!("anonymous-{id}"));
        }
        let details = welcome_details(&realm, realm_state.meta_api(), &identity);
        let mut session = Session::new(
            id,
            realm.clone(),
            serializer,
            outbound.clone(),
            identity,
            role,
        );
        session.features = features;
        self.sessions.insert(id, session);
        self.announce_join(&realm, id);
        self.stats.sessions_opened += 1;
        let welcome = Message::Welcome {
            session: id,
            details,
        };
        Ok(Opened {
            session: id,
            welcome,
        })
    }

    /// Removes a session and everything it held, router-wide.
    pub fn close_session(&mut self, sid: SessionId) {
        let Some(session) = self.sessions.remove(&sid) else {
            return;
        };
        let (mut cx, realms, _) = self.split();
        if let Some(realm) = realms.get_mut(session.realm.as_str()) {
            realm
                .broker
                .session_closed(&mut cx, sid, &session.subscriptions);
            realm.dealer.session_closed(&mut cx, &session);
            realm.broker.publish_testaments(&mut cx, &session);
            let who = &session.identity;
            realm.broker.publish_meta(&mut cx, ON_LEAVE, || {
                vec![
                    Value::UInt(sid.0),
                    Value::Str(who.authid.clone()),
                    Value::Str(who.authrole.clone()),
                ]
            });
        }
        self.drain_local();
    }

    /// Publishes `wamp.session.on_join` for new session `sid`.
    fn announce_join(&mut self, realm: &Text, sid: SessionId) {
        let (mut cx, realms, _) = self.split();
        let Some(r) = realms.get_mut(realm.as_str()) else {
            return;
        };
        let sessions = &*cx.sessions;
        let details = || sessions.get(&sid).map(session_details);
        let Some(details) = r.broker.observed_meta(ON_JOIN).then(details).flatten() else {
            return;
        };
        r.broker
            .publish_meta(&mut cx, ON_JOIN, || vec![Value::Dict(details)]);
        self.drain_local();
    }
}
