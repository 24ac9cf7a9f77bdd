//! The slow path of authorization: requests a role's rules do not decide
//! and whose role has a dynamic authorizer. A cached decision routes the
//! request at once; otherwise the request is parked on its session, the
//! authorizer is called (through the realm's hidden session, like the
//! authenticators), and every later message of that session parks behind
//! it, so the session's order holds. The answer is cached (for its TTL,
//! per authid or per role) and the parked messages are replayed in order;
//! each may park again. An ERROR, a bad answer or no answer within the
//! handshake timeout denies the request and is not cached.
//!
//! A session that parks more than `MAX_PARKED` messages is aborted; one that
//! says GOODBYE while messages are parked drops them with the session.

use super::dispatch::{asks, Asking};
use super::Shard;
use crate::auth::authz_cache::Scope;
use crate::auth::{Action, Answer, Grant};
use crate::realm::meta::session_details;
use crate::routing::MatchPolicy;
use crate::session::handshake::abort;
use crate::session::{SessionEnd, Violation, ViolationKind};
use crate::wire::options::CallOptions;
use crate::wire::{
    encode_to_bytes, Dict, ErrorUri, Message, Payload, RequestId, SessionId, Text, Value,
};
use std::collections::VecDeque;
use std::time::Instant;

/// Messages a session may have waiting for an authorizer.
pub const MAX_PARKED: usize = 1024;

/// An authorizer call in flight.
pub struct AuthzAsked {
    session: SessionId,
    action: Action,
    uri: Text,
    authrole: Text,
    authid: Text,
    default_ttl: std::time::Duration,
}

/// The cache key of a request: the URI, or `match:pattern` for a pattern.
fn cache_key(a: &Asking<'_>) -> Text {
    match a.policy {
        MatchPolicy::Exact => a.uri.clone(),
        p => Text::from(format!("{}:{}", p.name(), a.uri)),
    }
}

impl Shard {
    /// `msg` could not be routed at once: its session has messages parked,
    /// or its role asks an authorizer.
    #[cold]
    pub(super) fn authorize_slowly(
        &mut self,
        sid: SessionId,
        msg: Message,
    ) -> Result<(), Violation> {
        let Some(session) = self.sessions.get_mut(&sid) else {
            return Ok(());
        };
        if let Some(parked) = &mut session.parked {
            if parked.len() >= MAX_PARKED {
                return Err(Violation::new(format!(
                    "more than {MAX_PARKED} messages wait for authorization"
                )));
            }
            parked.push_back(msg);
            return Ok(());
        }
        let Some((action, uri, key, policy)) =
            asks(&msg).map(|a| (a.action, a.uri.clone(), cache_key(&a), a.policy))
        else {
            return Ok(());
        };
        let realm = session.realm.clone();
        let role = session.role.clone();
        let identity = session.identity.clone();
        let cached = self.realms.get(realm.as_str()).and_then(|r| {
            let now = Instant::now();
            r.authz.get(action, &uri, &role.name, &identity.authid, now)
        });
        if let Some(grant) = cached {
            return self.route_with(sid, msg, Some(grant)).map(|_| ());
        }
        let Some(authorizer) = role.authorizer.clone() else {
            return self.route_with(sid, msg, Some(Grant::DENY)).map(|_| ());
        };
        let details = session_details(session);
        session.parked = Some(Box::new(VecDeque::from([msg])));
        let mut args = vec![
            Value::Dict(details),
            Value::Str(uri),
            Value::str(action.name()),
        ];
        if policy != MatchPolicy::Exact {
            args.push(Value::Dict(Dict::new().with("match", policy.name())));
        }
        let request = self.call_internal(&realm, authorizer.procedure, args);
        self.authz_asked.insert(
            request,
            AuthzAsked {
                session: sid,
                action,
                uri: key,
                authrole: role.name.clone(),
                authid: identity.authid.clone(),
                default_ttl: authorizer.ttl,
            },
        );
        Ok(())
    }

    /// Takes an internal answer if it is an authorizer's (else gives it back).
    pub fn on_internal_answer(&mut self, request: RequestId, answer: Answer) -> Option<Answer> {
        let Some(asked) = self.authz_asked.remove(&request) else {
            return Some(answer);
        };
        let grant = self.decision(&asked, answer);
        self.replay(asked.session, grant);
        self.drain_local();
        None
    }

    /// The grant an answer gives, cached when it says so.
    fn decision(&mut self, asked: &AuthzAsked, answer: Answer) -> Grant {
        let (grant, ttl, scope) = match parse_decision(answer) {
            Ok(d) => d,
            Err(why) => {
                tracing::warn!(uri = %asked.uri, why, "authorizer gave no decision; denied");
                return Grant::DENY;
            }
        };
        let ttl = ttl.unwrap_or(asked.default_ttl);
        let realm = self.sessions.get(&asked.session).map(|s| s.realm.clone());
        let realm = realm.and_then(|r| self.realms.get_mut(r.as_str()));
        if let (Some(realm), false) = (realm, ttl.is_zero()) {
            let scope = match scope {
                Some(s) if s == "role" => Scope::Role,
                _ => Scope::Authid(asked.authid.clone()),
            };
            realm.authz.insert(
                asked.action,
                asked.uri.clone(),
                asked.authrole.clone(),
                scope,
                (grant, Instant::now() + ttl),
            );
        }
        grant
    }

    /// Routes the parked head with `grant`, then the rest in order.
    fn replay(&mut self, sid: SessionId, grant: Grant) {
        let Some(session) = self.sessions.get_mut(&sid) else {
            return;
        };
        let Some(mut parked) = session.parked.take() else {
            return;
        };
        let Some(head) = parked.pop_front() else {
            return;
        };
        let mut result = self.route_with(sid, head, Some(grant)).map(|_| ());
        for msg in parked.into_iter() {
            if result.is_err() {
                break;
            }
            result = self.route(sid, msg);
        }
        if let Err(v) = result {
            self.abort_session(sid, v.1, &v.0);
        }
    }

    /// Ends a session that broke the protocol in a replayed message (a
    /// hidden session's shared queue gets no ABORT: it must stay open).
    fn abort_session(&mut self, sid: SessionId, kind: ViolationKind, message: &str) {
        if let Some(s) = self.sessions.get(&sid).filter(|s| !s.internal) {
            let m = abort(ErrorUri::ProtocolViolation, message);
            s.outbound
                .push_last(encode_to_bytes(s.serializer, &m), "protocol violation");
        }
        self.stats.count_violation(kind);
        self.close_session(sid, SessionEnd::ProtocolViolation);
    }

    /// Calls `procedure(args)` of `realm` as the router; the answer comes
    /// back to `internal_outbound` under the returned request ID.
    pub(super) fn call_internal(
        &mut self,
        realm: &Text,
        procedure: Text,
        args: Vec<Value>,
    ) -> RequestId {
        let sid = self.internal_session(realm);
        let request = self.next_internal_request();
        let timeout = self.settings.handshake_timeout.as_millis().max(1) as u64;
        let options = CallOptions {
            timeout_ms: timeout,
            ..CallOptions::default()
        };
        let (mut cx, realms, _) = self.split();
        if let Some(r) = realms.get_mut(realm.as_str()) {
            let payload = Payload::args(args);
            let called = r
                .dealer
                .handle_call(&mut cx, sid, request, &options, procedure, payload);
            if let Err(v) = called {
                tracing::warn!(realm = %realm, why = %v.0, "internal call refused");
            }
        }
        self.drain_local();
        request
    }
}

/// (grant, TTL, scope) of an authorizer's answer: `true`/`false`, or
/// `{allow, disclose?, ttl_ms?, scope?}`.
fn parse_decision(
    answer: Answer,
) -> Result<(Grant, Option<std::time::Duration>, Option<String>), String> {
    let value = match answer {
        Answer::Result(v) => v,
        Answer::Error { uri, .. } => return Err(format!("ERROR {uri}")),
    };
    if let Some(allow) = value.as_bool() {
        return Ok((
            Grant {
                allow,
                disclose: false,
            },
            None,
            None,
        ));
    }
    let d: &Dict = value.as_dict().ok_or("neither a bool nor a dict")?;
    let allow = d
        .get("allow")
        .and_then(Value::as_bool)
        .ok_or("no boolean 'allow'")?;
    let disclose = d.get("disclose").and_then(Value::as_bool).unwrap_or(false);
    let ttl = d
        .get("ttl_ms")
        .and_then(Value::as_u64)
        .map(std::time::Duration::from_millis);
    let scope = d.get("scope").and_then(Value::as_str).map(str::to_owned);
    Ok((Grant { allow, disclose }, ttl, scope))
}
