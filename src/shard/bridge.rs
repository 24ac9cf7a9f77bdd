//! The HTTP bridge's side of a shard: one hidden session per realm (made on
//! first use, never announced, hidden from the meta API) that publishes and
//! calls for HTTP requests. Its identity is the bridge's authid and its role
//! the realm's role of the bridge's authrole, and its requests take the same
//! path as a client's (`Shard::route`: the role's rules or authorizer, the
//! session limits, then the broker or dealer). Its replies (PUBLISHED,
//! RESULT, ERROR) land in `internal_outbound` beside the authenticators'
//! answers, under request IDs from the same counter; the runtime hands
//! each to the HTTP request waiting on its ID.

use super::Shard;
use crate::session::Identity;
use crate::wire::options::{CallOptions, CancelMode, PublishOptions};
use crate::wire::{Dict, Message, Payload, RequestId, SessionId, Text};

/// Who the bridge acts as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BridgeIdentity {
    pub authid: Text,
    pub authrole: Text,
}

/// Why the bridge cannot act in a realm, or a request is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BridgeRefusal {
    /// No realm of that name on this router (shard).
    NoSuchRealm,
    /// The realm has no role of the bridge's authrole.
    NoSuchRole,
    /// The request breaks the protocol (an option of the wrong type, ...):
    /// what a client's session would be aborted for.
    Invalid(String),
}

/// A request of the bridge, before its request ID.
#[derive(Debug, Clone)]
pub enum BridgeRequest {
    Publish {
        topic: Text,
        options: Dict,
        payload: Payload,
    },
    Call {
        procedure: Text,
        options: Dict,
        payload: Payload,
    },
}

impl BridgeRequest {
    /// Checks what routing would otherwise find only once the request is
    /// routed (maybe later, replayed after an authorizer answered, when a
    /// violation would end the session): its options, and that a call is
    /// not progressive.
    fn check(&self) -> Result<(), BridgeRefusal> {
        let invalid = |e: crate::wire::options::OptionError| BridgeRefusal::Invalid(e.to_string());
        match self {
            BridgeRequest::Publish { options, .. } => {
                PublishOptions::parse(options).map_err(invalid)?;
            }
            BridgeRequest::Call { options, .. } => {
                let o = CallOptions::parse(options).map_err(invalid)?;
                if o.progress || o.receive_progress {
                    return Err(BridgeRefusal::Invalid(
                        "progressive calls are not supported by the bridge".into(),
                    ));
                }
            }
        }
        Ok(())
    }

    fn into_message(self, request: RequestId) -> Message {
        match self {
            BridgeRequest::Publish {
                topic,
                options,
                payload,
            } => Message::Publish {
                request,
                options,
                topic,
                payload,
            },
            BridgeRequest::Call {
                procedure,
                options,
                payload,
            } => Message::Call {
                request,
                options,
                procedure,
                payload,
            },
        }
    }
}

impl Shard {
    /// Sends `req` as the bridge in `realm`; its reply comes to
    /// `internal_outbound` under the returned request ID (a PUBLISH without
    /// `acknowledge` gets none).
    pub fn bridge_request(
        &mut self,
        who: &BridgeIdentity,
        realm: &str,
        req: BridgeRequest,
    ) -> Result<RequestId, BridgeRefusal> {
        req.check()?;
        let sid = self.bridge_session(who, realm)?;
        let request = self.next_internal_request();
        let routed = self.route(sid, req.into_message(request));
        self.drain_local();
        routed.map_err(|v| BridgeRefusal::Invalid(v.0))?;
        Ok(request)
    }

    /// Gives up call `request` of the bridge in `realm` (its HTTP request
    /// timed out first): CANCEL `killnowait`, so the dealer forgets it.
    pub fn bridge_cancel(&mut self, realm: &str, request: RequestId) {
        let Some(sid) = self.bridge.get(realm).copied() else {
            return;
        };
        let options = Dict::new().with("mode", CancelMode::KillNoWait.name());
        let cancel = Message::Cancel { request, options };
        if let Err(v) = self.route(sid, cancel) {
            tracing::warn!(realm, why = %v.0, "bridge cancel refused");
        }
        self.drain_local();
    }

    /// The bridge's session in `realm` (made on first use).
    fn bridge_session(
        &mut self,
        who: &BridgeIdentity,
        realm: &str,
    ) -> Result<SessionId, BridgeRefusal> {
        if let Some(sid) = self.bridge.get(realm) {
            if self.sessions.contains_key(sid) {
                return Ok(*sid);
            }
            // Ended (killed through the meta API): make a new one.
            self.bridge.remove(realm);
        }
        let state = self.realms.get(realm).ok_or(BridgeRefusal::NoSuchRealm)?;
        let role = state
            .auth
            .role(&who.authrole)
            .cloned()
            .ok_or(BridgeRefusal::NoSuchRole)?;
        let identity = Identity {
            authid: who.authid.clone(),
            authrole: who.authrole.clone(),
            authmethod: Text::from_static("http-bridge"),
            authprovider: Text::from_static("router"),
            authextra: None,
        };
        let realm = Text::from(realm);
        let sid = self.add_hidden_session(realm.clone(), identity, role);
        self.bridge.insert(realm, sid);
        Ok(sid)
    }
}

/// The request ID a reply of an internal session answers, if it is a reply.
pub fn reply_request(msg: &Message) -> Option<RequestId> {
    match msg {
        Message::Published { request, .. }
        | Message::Result { request, .. }
        | Message::Error { request, .. } => Some(*request),
        _ => None,
    }
}
