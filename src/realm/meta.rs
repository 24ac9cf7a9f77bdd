//! The meta API's questions to every shard and their partial answers:
//! `SessionQuery` (answered from the shard's sessions), `SubscriptionQuery`
//! (answered by the shard's broker), and `MetaPart`, which the asking
//! dealer gathers (one per shard asked) into one RESULT. Killing sessions
//! is a session query too: the shard closes them after the envelope.

use super::cx::Cx;
use crate::routing::MatchPolicy;
use crate::session::outbound::KILLED;
use crate::session::Session;
use crate::wire::{encode_to_bytes, CloseReason, Dict, Message, SessionId, Text, Value};

/// Which sessions a kill is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KillTarget {
    Session(SessionId),
    Authid(Text),
    Authrole(Text),
    All,
}

/// A question about the sessions of one realm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionQuery {
    /// How many sessions (of these authroles, if given) this shard has.
    Count { authroles: Option<Vec<Text>> },
    /// The IDs of the sessions (of these authroles, if given).
    List { authroles: Option<Vec<Text>> },
    /// The details of one session.
    Get { session: SessionId },
    /// Close the target sessions (never `except`, the caller) with GOODBYE.
    Kill {
        target: KillTarget,
        reason: Text,
        message: Option<Text>,
        except: SessionId,
    },
}

/// A question about the subscriptions of one realm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubscriptionQuery {
    /// Every subscription, by match policy.
    List,
    /// The subscription of exactly (topic, policy).
    Lookup { topic: Text, policy: MatchPolicy },
    /// Every subscription matching `topic`.
    Match { topic: Text },
    /// The details of one subscription.
    Get { id: u64 },
    /// The subscribers of one subscription.
    Subscribers { id: u64 },
}

/// One shard's part of an answer.
#[derive(Debug, Clone, PartialEq)]
pub enum MetaPart {
    /// How many (sessions are on this shard).
    Count(u64),
    /// Session or subscription IDs (subscriptions with their match policy).
    Ids(Vec<(MatchPolicy, u64)>),
    /// The details of the one thing asked for, if this shard has it.
    Details(Option<Dict>),
}

/// Answers `query` from this shard's sessions of `realm`.
pub fn answer_sessions(cx: &mut Cx, realm: &Text, query: &SessionQuery) -> MetaPart {
    let in_realm = |s: &&Session| s.realm == *realm && !s.internal;
    let of_roles = |roles: &Option<Vec<Text>>, s: &Session| {
        roles
            .as_ref()
            .is_none_or(|roles| roles.contains(&s.identity.authrole))
    };
    match query {
        SessionQuery::Count { authroles } => {
            let n = cx
                .sessions
                .values()
                .filter(in_realm)
                .filter(|s| of_roles(authroles, s));
            MetaPart::Count(n.count() as u64)
        }
        SessionQuery::List { authroles } => {
            let ids = cx
                .sessions
                .values()
                .filter(in_realm)
                .filter(|s| of_roles(authroles, s));
            MetaPart::Ids(ids.map(|s| (MatchPolicy::Exact, s.id.0)).collect())
        }
        SessionQuery::Get { session } => {
            let s = cx.sessions.get(session).filter(in_realm);
            MetaPart::Details(s.map(session_details))
        }
        SessionQuery::Kill {
            target,
            reason,
            message,
            except,
        } => {
            let doomed: Vec<SessionId> = cx
                .sessions
                .values()
                .filter(in_realm)
                .filter(|s| s.id != *except && targets(target, s))
                .map(|s| s.id)
                .collect();
            for sid in &doomed {
                say_goodbye(cx, *sid, reason, message.as_ref());
            }
            MetaPart::Ids(doomed.iter().map(|s| (MatchPolicy::Exact, s.0)).collect())
        }
    }
}

fn targets(target: &KillTarget, s: &Session) -> bool {
    match target {
        KillTarget::Session(id) => s.id == *id,
        KillTarget::Authid(a) => s.identity.authid == *a,
        KillTarget::Authrole(r) => s.identity.authrole == *r,
        KillTarget::All => true,
    }
}

/// Sends a killed session GOODBYE (its last frame) and has the shard close it.
fn say_goodbye(cx: &mut Cx, sid: SessionId, reason: &Text, message: Option<&Text>) {
    let Some(s) = cx.sessions.get(&sid) else {
        return;
    };
    let mut details = Dict::new();
    if let Some(m) = message {
        details.insert("message", Value::Str(m.clone()));
    }
    let goodbye = Message::Goodbye {
        details,
        reason: reason.clone(),
    };
    s.outbound
        .push_last(encode_to_bytes(s.serializer, &goodbye), KILLED);
    cx.closing.push(sid);
}

/// The details of a session, as `wamp.session.get` and `on_join` give them.
pub fn session_details(s: &Session) -> Dict {
    let details = Dict::new()
        .with("session", s.id.0)
        .with("authid", s.identity.authid.clone())
        .with("authrole", s.identity.authrole.clone())
        .with("authmethod", s.identity.authmethod.clone())
        .with("authprovider", s.identity.authprovider.clone());
    let details = match &s.identity.authextra {
        Some(extra) => details.with("authextra", extra.clone()),
        None => details,
    };
    details
        .with("serializer", s.serializer.name())
        .with("transport", transport_details(s))
}

/// `{type, peer}` of the session's connection (`{}` for an in-process one).
fn transport_details(s: &Session) -> Dict {
    let Some(t) = s.outbound.transport() else {
        return Dict::new();
    };
    Dict::new()
        .with("type", t.kind)
        .with("peer", Value::str(t.peer.clone()))
}

/// The default reason of a kill.
pub fn killed() -> Text {
    Text::from(CloseReason::Killed)
}
