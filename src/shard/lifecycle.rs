//! Session lifecycle on a shard: opening the session record of an accepted
//! login (its ID, role and WELCOME; the login itself is `login.rs`), and
//! the cleanup when it leaves (subscriptions and registrations router-wide,
//! calls in flight).

use super::Shard;
use crate::realm::meta::session_details;
use crate::session::features::PeerFeatures;
use crate::session::handshake::Refused;
use crate::session::outbound::Outbound;
use crate::session::{Identity, Session, SessionEnd};
use crate::wire::{Dict, ErrorUri, Message, Serializer, SessionId, Text, Value};
use std::rc::Rc;

/// A successful HELLO: the new session and its WELCOME.
#[derive(Debug)]
pub struct Opened {
    pub session: SessionId,
    pub welcome: Message,
}

const ON_JOIN: &str = "wamp.session.on_join";
const ON_LEAVE: &str = "wamp.session.on_leave";

/// Who an accepted HELLO came from.
pub(super) struct Peer {
    pub session: SessionId,
    pub identity: Identity,
    pub features: PeerFeatures,
    pub serializer: Serializer,
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
    /// Opens an accepted session: its ID, its record, its WELCOME.
    pub(super) fn open(
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
        if self.session_count() >= max_sessions {
            return Err(Refused::new(
                ErrorUri::MaxSessionsReached,
                "the router is at its session limit",
            ));
        }
        while id.0 == 0 || self.sessions.contains_key(&id) {
            id = SessionId(self.ids.session());
        }
        let stats = &mut self.stats;
        let realm_state = (self.realms.entry(realm.clone()))
            .or_insert_with_key(|name| super::auto_realm(name, stats));
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
        if let Some(timeout) = realm_state.stall_timeout {
            outbound.set_stall_timeout(timeout);
        }
        let details = welcome_details(&realm, realm_state.meta_api(), &identity);
        let authmethod = identity.authmethod.clone();
        let mut session = Session::new(
            id,
            realm.clone(),
            serializer,
            outbound.clone(),
            identity,
            role,
        );
        session.features = features;
        realm_state.sessions_open += 1;
        self.sessions.insert(id, session);
        self.announce_join(&realm, id);
        self.stats.sessions_opened += 1;
        self.stats.count_login(&authmethod);
        let welcome = Message::Welcome {
            session: id,
            details,
        };
        Ok(Opened {
            session: id,
            welcome,
        })
    }

    /// Removes a session and everything it held, router-wide; counts it
    /// as ended for `why` (once: a session already gone is not counted).
    pub fn close_session(&mut self, sid: SessionId, why: SessionEnd) {
        let Some(session) = self.sessions.remove(&sid) else {
            return;
        };
        let (mut cx, realms, _) = self.split();
        if !session.internal {
            cx.stats.count_closed(why);
        }
        if let Some(realm) = realms.get_mut(session.realm.as_str()) {
            if !session.internal {
                realm.sessions_open = realm.sessions_open.saturating_sub(1);
                // The GOODBYE or ABORT that ended it.
                realm.messages_in +=
                    u64::from(matches!(why, SessionEnd::Goodbye | SessionEnd::Abort));
            }
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
