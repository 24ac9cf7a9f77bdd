//! Session lifecycle on a shard: the handshake (HELLO -> WELCOME or ABORT,
//! the realm's authentication methods answering for the shard), opening the
//! session record, and the cleanup when it leaves (subscriptions and
//! registrations router-wide, calls in flight).

use super::Shard;
use crate::realm::meta::session_details;
use crate::realm::{PubSubPolicy, Realm, RpcPolicy};
use crate::session::features::PeerFeatures;
use crate::session::handshake::{Authenticator, Handshake, Refused, Step, Verdict};
use crate::session::outbound::Outbound;
use crate::session::{Identity, Session};
use crate::wire::{Dict, ErrorUri, Message, Serializer, SessionId, Text, Value};
use rustc_hash::FxHashMap;
use std::rc::Rc;

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
    identity: Identity,
    features: PeerFeatures,
    serializer: Serializer,
}

/// The methods of a realm that admits anonymous sessions, and of one that does not.
const ANONYMOUS: &[&str] = &["anonymous"];
const NONE: &[&str] = &[];

/// The shard's realms as the handshake sees them.
struct Directory<'a> {
    realms: &'a FxHashMap<Text, Realm>,
    auto_create: bool,
}

impl Authenticator for Directory<'_> {
    fn methods(&self, realm: &str) -> Option<&[&'static str]> {
        match self.realms.get(realm) {
            Some(r) if r.anonymous => Some(ANONYMOUS),
            Some(_) => Some(NONE),
            None if self.auto_create => Some(ANONYMOUS),
            None => None,
        }
    }

    fn hello(&mut self, _: &Text, _: &'static str, _: &Dict) -> Verdict {
        Verdict::Welcome(Identity {
            authid: Text::default(),
            authrole: Text::from_static("anonymous"),
            authmethod: Text::from_static("anonymous"),
            authprovider: Text::from_static("static"),
        })
    }

    fn authenticate(&mut self, _: &Text, _: &'static str, _: &Text, _: &Dict) -> Verdict {
        Verdict::Deny(Refused::new(
            ErrorUri::ProtocolViolation,
            "AUTHENTICATE without a CHALLENGE",
        ))
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
        };
        match hs.on_message(msg, &mut dir) {
            Step::Accept {
                realm,
                identity,
                features,
            } => {
                let peer = Peer {
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
        let id = loop {
            let id = SessionId(self.ids.session());
            if !self.sessions.contains_key(&id) {
                break id;
            }
        };
        if !self.realms.contains_key(&realm) {
            self.realms.insert(
                realm.clone(),
                Realm::new(
                    realm.clone(),
                    true,
                    RpcPolicy::default(),
                    PubSubPolicy::default(),
                ),
            );
        }
        if identity.authid.as_str().is_empty() {
            identity.authid = Text::from(format!("anonymous-{id}"));
        }
        let meta = self.realms.get(&realm).is_some_and(|r| r.meta_api());
        let details = Dict::new()
            .with("roles", welcome_roles(meta))
            .with("realm", realm.clone())
            .with("authid", identity.authid.clone())
            .with("authrole", identity.authrole.clone())
            .with("authmethod", identity.authmethod.clone())
            .with("authprovider", identity.authprovider.clone())
            .with("agent", concat!("switchyard-", env!("CARGO_PKG_VERSION")));
        let mut session = Session::new(id, realm.clone(), serializer, outbound.clone(), identity);
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
