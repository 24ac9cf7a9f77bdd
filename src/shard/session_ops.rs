//! Session lifecycle on a shard: HELLO -> WELCOME (or ABORT), the dispatch
//! of an established session's messages, and the cleanup when it leaves
//! (subscriptions and registrations router-wide, calls in flight).

use super::{Shard, Violation};
use crate::routing::{is_valid_uri, MatchPolicy, UriCheck};
use crate::session::outbound::Outbound;
use crate::session::Session;
use crate::wire::message::code;
use crate::wire::{Dict, Message, Serializer, SessionId, Text, Value};
use std::rc::Rc;

/// A successful HELLO: the new session and its WELCOME.
#[derive(Debug)]
pub struct Opened {
    pub session: SessionId,
    pub welcome: Message,
}

/// What the connection does after a message was handled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Keep reading.
    Continue,
    /// The session ended with a GOODBYE exchange; the transport may carry a new HELLO.
    Goodbye,
    /// The peer aborted the session; close the transport.
    Aborted,
}

/// An ABORT for a HELLO that cannot be welcomed.
pub fn abort(reason: &'static str, message: impl Into<String>) -> Message {
    let details = Dict::new().with("message", Value::str(message.into()));
    Message::Abort {
        details,
        reason: Text::from_static(reason),
        payload: Default::default(),
    }
}

/// Why a HELLO is not welcomed: the ABORT reason URI and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub reason: &'static str,
    pub message: String,
}

impl Refused {
    fn new(reason: &'static str, message: impl Into<String>) -> Self {
        Refused {
            reason,
            message: message.into(),
        }
    }

    /// The ABORT to send.
    pub fn to_abort(&self) -> Message {
        abort(self.reason, self.message.clone())
    }
}

fn welcome_roles() -> Dict {
    let broker = Dict::new().with(
        "features",
        Dict::new()
            .with("publisher_exclusion", true)
            .with("pattern_based_subscription", true),
    );
    let dealer = Dict::new().with(
        "features",
        Dict::new().with("pattern_based_registration", true),
    );
    Dict::new().with("broker", broker).with("dealer", dealer)
}

/// Checks HELLO.Details: `roles` must be a non-empty dict; anonymous must be acceptable.
fn check_hello(details: &Dict) -> Result<(), Refused> {
    let roles = details.get_dict("roles").map_err(|_| {
        Refused::new(
            "wamp.error.protocol_violation",
            "HELLO.Details.roles must be a dict",
        )
    })?;
    if roles.is_none_or(|r| r.is_empty()) {
        return Err(Refused::new(
            "wamp.error.protocol_violation",
            "HELLO.Details.roles is required",
        ));
    }
    if let Some(methods) = details.get("authmethods") {
        let list = methods.as_list().ok_or_else(|| {
            Refused::new(
                "wamp.error.protocol_violation",
                "HELLO.Details.authmethods must be a list",
            )
        })?;
        if !list.is_empty() && !list.iter().any(|m| m.as_str() == Some("anonymous")) {
            return Err(Refused::new(
                "wamp.error.no_auth_method",
                "this router offers anonymous authentication only",
            ));
        }
    }
    Ok(())
}

impl Shard {
    /// Handles a HELLO: a new established session, or the ABORT to send.
    pub fn open_session(
        &mut self,
        realm: Text,
        details: &Dict,
        serializer: Serializer,
        outbound: Rc<Outbound>,
        max_sessions: usize,
    ) -> Result<Opened, Refused> {
        if !is_valid_uri(&realm, MatchPolicy::Exact, UriCheck::Loose) {
            return Err(Refused::new(
                "wamp.error.invalid_uri",
                format!("invalid realm '{realm}'"),
            ));
        }
        check_hello(details)?;
        if !self.realm_allowed(&realm) {
            return Err(Refused::new(
                "wamp.error.no_such_realm",
                format!("no realm '{realm}' on this router"),
            ));
        }
        if self.sessions.len() >= max_sessions {
            return Err(Refused::new(
                "switchyard.error.max_sessions_reached",
                "the router is at its session limit",
            ));
        }
        let id = loop {
            let id = SessionId(self.ids.session());
            if !self.sessions.contains_key(&id) {
                break id;
            }
        };
        self.realm_mut(&realm);
        let session = Session::new(id, realm.clone(), serializer, outbound);
        let details = Dict::new()
            .with("roles", welcome_roles())
            .with("realm", realm)
            .with("authid", session.authid.clone())
            .with("authrole", session.authrole.clone())
            .with("authmethod", "anonymous")
            .with("authprovider", "static")
            .with("agent", concat!("switchyard-", env!("CARGO_PKG_VERSION")));
        self.sessions.insert(id, session);
        self.stats.sessions_opened += 1;
        Ok(Opened {
            session: id,
            welcome: Message::Welcome {
                session: id,
                details,
            },
        })
    }

    /// Handles one message of an established session.
    pub fn handle_message(&mut self, sid: SessionId, msg: Message) -> Result<Flow, Violation> {
        let flow = self.dispatch(sid, msg);
        self.drain_local();
        if flow.is_err() {
            self.stats.protocol_violations += 1;
        }
        flow
    }

    /// With strict request IDs, a new request must take the next ID of the session.
    fn check_sequence(&mut self, sid: SessionId, msg: &Message) -> Result<(), Violation> {
        let request = match msg {
            Message::Publish { request, .. }
            | Message::Subscribe { request, .. }
            | Message::Unsubscribe { request, .. }
            | Message::Call { request, .. }
            | Message::Register { request, .. }
            | Message::Unregister { request, .. } => request.0,
            _ => return Ok(()),
        };
        let in_sequence = self
            .sessions
            .get_mut(&sid)
            .is_none_or(|s| s.next_request_in_sequence(request));
        if in_sequence {
            Ok(())
        } else {
            Err(Violation::new(format!(
                "request ID {request} breaks the sequence"
            )))
        }
    }

    fn dispatch(&mut self, sid: SessionId, msg: Message) -> Result<Flow, Violation> {
        if self.settings.strict_request_ids {
            self.check_sequence(sid, &msg)?;
        }
        match msg {
            Message::Publish {
                request,
                options,
                topic,
                payload,
            } => self.handle_publish(sid, request, &options, topic, payload)?,
            Message::Subscribe {
                request,
                options,
                topic,
            } => self.handle_subscribe(sid, request, &options, topic)?,
            Message::Unsubscribe {
                request,
                subscription,
                ..
            } => self.handle_unsubscribe(sid, request, subscription),
            Message::Call {
                request,
                procedure,
                payload,
                ..
            } => self.handle_call(sid, request, procedure, payload),
            Message::Register {
                request,
                options,
                procedure,
            } => self.handle_register(sid, request, &options, procedure)?,
            Message::Unregister {
                request,
                registration,
                ..
            } => self.handle_unregister(sid, request, registration),
            Message::Yield {
                request, payload, ..
            } => self.handle_yield(sid, request, payload)?,
            Message::Error {
                request_type: code::INVOCATION,
                request,
                error,
                payload,
                ..
            } => self.handle_callee_error(sid, request, error, payload)?,
            Message::Error { request_type, .. } => {
                return Err(Violation::new(format!(
                    "ERROR with REQUEST.Type {request_type} from a client"
                )))
            }
            // Call canceling is not announced; a CANCEL is ignored.
            Message::Cancel { .. } => {}
            Message::Goodbye { .. } => {
                self.close_session(sid);
                return Ok(Flow::Goodbye);
            }
            Message::Abort { .. } => {
                self.close_session(sid);
                return Ok(Flow::Aborted);
            }
            other => {
                return Err(Violation::new(format!(
                    "{} is not allowed on an established session",
                    other.name()
                )))
            }
        }
        Ok(Flow::Continue)
    }

    /// Removes a session and everything it held, router-wide.
    pub fn close_session(&mut self, sid: SessionId) {
        let Some(session) = self.sessions.remove(&sid) else {
            return;
        };
        for (_, topic, policy) in &session.subscriptions {
            self.drop_subscriber(&session.realm, topic, *policy, sid);
        }
        for (id, procedure, policy) in &session.registrations {
            self.withdraw_registration(&session.realm, procedure, *policy, *id, sid);
        }
        self.cancel_invocations_of(sid);
        self.forget_caller(sid, session.called_remote);
        self.drain_local();
    }

    /// Every session's outbound queue (for a shutdown GOODBYE).
    pub fn sessions(&self) -> impl Iterator<Item = (SessionId, Serializer, &Rc<Outbound>)> {
        self.sessions
            .values()
            .map(|s| (s.id, s.serializer, &s.outbound))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hello_without_roles_is_refused() {
        assert!(check_hello(&Dict::new()).is_err());
        let roles = Dict::new().with("roles", Dict::new().with("subscriber", Dict::new()));
        assert!(check_hello(&roles).is_ok());
    }

    #[test]
    fn hello_offering_only_unsupported_authmethods_is_refused() {
        let d = Dict::new()
            .with("roles", Dict::new().with("caller", Dict::new()))
            .with("authmethods", Value::List(vec!["ticket".into()]));
        assert_eq!(
            check_hello(&d).map_err(|r| r.reason),
            Err("wamp.error.no_auth_method")
        );
    }
}
