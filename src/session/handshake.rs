//! The opening handshake as a pure state machine:
//! HELLO -> (CHALLENGE -> AUTHENTICATE)* -> WELCOME | ABORT.
//!
//! `Handshake` is fed the client's messages and the verdicts of an
//! `Authenticator` (which may answer at once, or ask a dynamic
//! authenticator procedure first: `Step::Ask`, answered through
//! `on_answer`), and returns a `Step` for the connection to carry out. It does no I/O and knows nothing of shards: the shard opens the
//! session when the step is `Accept`.

use super::features::PeerFeatures;
use super::Identity;
use crate::auth::{Answer, Ask, Asked, Pending as Challenged};
use crate::routing::{is_valid_uri, MatchPolicy, UriCheck};
use crate::wire::{Dict, ErrorUri, Message, SessionId, Text, Value};

/// The most authentication methods a HELLO may offer.
pub const MAX_AUTHMETHODS: usize = 16;

/// Why a session is not welcomed: the ABORT reason URI and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused {
    pub reason: Text,
    pub message: String,
}

impl Refused {
    pub fn new(reason: impl Into<Text>, message: impl Into<String>) -> Self {
        Refused {
            reason: reason.into(),
            message: message.into(),
        }
    }

    /// The ABORT to send.
    pub fn to_abort(&self) -> Message {
        abort(self.reason.clone(), self.message.clone())
    }
}

/// An ABORT with `Details.message`.
pub fn abort(reason: impl Into<Text>, message: impl Into<String>) -> Message {
    let details = Dict::new().with("message", Value::str(message.into()));
    Message::Abort {
        details,
        reason: reason.into(),
        payload: Default::default(),
    }
}

/// An authenticator's answer.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// The client is who it says: welcome it.
    Welcome(Identity),
    /// Ask the client to prove it; `pending` is handed back with its answer.
    Challenge {
        authmethod: Text,
        extra: Dict,
        pending: Challenged,
    },
    /// Refuse the session.
    Deny(Refused),
    /// Call an authenticator first; its answer comes back through
    /// `Handshake::on_answer`.
    Ask(Box<Ask>),
}

/// What the router knows of realms and authentication methods.
pub trait Authenticator {
    /// The methods `realm` accepts, in the router's order of preference
    /// (`None`: there is no such realm).
    fn methods(&self, realm: &str) -> Option<&[&'static str]>;
    /// The session ID a HELLO's session will have (allocated at HELLO:
    /// WAMP-CRA puts it in its challenge).
    fn session_id(&mut self) -> SessionId;
    /// A HELLO for `realm` chose `method` (one of `methods(realm)`).
    fn hello(&mut self, realm: &Text, method: &'static str, hello: &HelloInfo<'_>) -> Verdict;
    /// An AUTHENTICATE answering the challenge that left `pending`.
    fn authenticate(
        &mut self,
        realm: &Text,
        pending: Challenged,
        signature: &Text,
        extra: &Dict,
    ) -> Verdict;
    /// An authenticator answered what `asked` waited for.
    fn answered(&mut self, realm: &Text, asked: Asked, answer: Answer) -> Verdict;
}

/// What an authenticator reads of a HELLO.
#[derive(Debug, Clone, Copy)]
pub struct HelloInfo<'a> {
    pub details: &'a Dict,
    pub session: SessionId,
}

/// What the connection does next.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Send this message (a CHALLENGE) and keep reading.
    Send(Message),
    /// Open session `session` for `identity` in `realm` and send WELCOME.
    Accept {
        realm: Text,
        session: SessionId,
        identity: Identity,
        features: PeerFeatures,
    },
    /// Send this ABORT and close.
    Abort(Message),
    /// Call `procedure(args)` of `realm` and feed its answer to `on_answer`.
    Ask {
        realm: Text,
        procedure: Text,
        args: Vec<Value>,
    },
    /// The client aborted: close without a reply.
    Closed,
}

#[derive(Debug, Clone, PartialEq)]
enum State {
    AwaitHello,
    AwaitAuthenticate { realm: Text, pending: Challenged },
    AwaitAnswer { realm: Text, asked: Asked },
    Done,
}

/// One connection's handshake.
#[derive(Debug, Clone, PartialEq)]
pub struct Handshake {
    state: State,
    /// What the HELLO announced.
    features: PeerFeatures,
    /// The ID chosen at HELLO.
    session: SessionId,
}

impl Default for Handshake {
    fn default() -> Self {
        Handshake {
            state: State::AwaitHello,
            features: PeerFeatures::NONE,
            session: SessionId(0),
        }
    }
}

fn violation(message: impl Into<String>) -> Step {
    Step::Abort(abort(ErrorUri::ProtocolViolation, message))
}

impl Handshake {
    /// True once the handshake ended (accepted, refused or aborted).
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Feeds one client message.
    pub fn on_message(&mut self, msg: Message, auth: &mut dyn Authenticator) -> Step {
        let state = std::mem::replace(&mut self.state, State::Done);
        let step = match (state, msg) {
            (_, Message::Abort { .. }) => Step::Closed,
            (State::AwaitHello, Message::Hello { realm, details }) => {
                self.hello(realm, &details, auth)
            }
            (
                State::AwaitAuthenticate { realm, pending },
                Message::Authenticate { signature, extra },
            ) => {
                let verdict = auth.authenticate(&realm, pending, &signature, &extra);
                self.verdict(realm, verdict)
            }
            (State::AwaitAnswer { .. }, other) => {
                violation(format!("{} received while authenticating", other.name()))
            }
            (State::AwaitHello, Message::Authenticate { .. }) => {
                violation("AUTHENTICATE without a CHALLENGE")
            }
            (_, other) => violation(format!("{} received before WELCOME", other.name())),
        };
        self.finish(step)
    }

    /// True until a HELLO arrives.
    pub fn is_fresh(&self) -> bool {
        self.state == State::AwaitHello
    }

    /// True while an authenticator's answer is awaited.
    pub fn is_asking(&self) -> bool {
        matches!(self.state, State::AwaitAnswer { .. })
    }

    /// Feeds the answer of the authenticator a `Step::Ask` called.
    pub fn on_answer(&mut self, answer: Answer, auth: &mut dyn Authenticator) -> Step {
        let step = match std::mem::replace(&mut self.state, State::Done) {
            State::AwaitAnswer { realm, asked } => {
                let verdict = auth.answered(&realm, asked, answer);
                self.verdict(realm, verdict)
            }
            other => {
                self.state = other;
                return violation("an authenticator answer nobody asked for");
            }
        };
        self.finish(step)
    }

    fn finish(&mut self, step: Step) -> Step {
        if !matches!(step, Step::Send(_) | Step::Ask { .. }) {
            self.state = State::Done;
        }
        step
    }

    fn hello(&mut self, realm: Text, details: &Dict, auth: &mut dyn Authenticator) -> Step {
        if !is_valid_uri(&realm, MatchPolicy::Exact, UriCheck::Loose) {
            return Step::Abort(abort(
                ErrorUri::InvalidUri,
                format!("invalid realm '{realm}'"),
            ));
        }
        let offered = match check_hello(details) {
            Ok(offered) => offered,
            Err(r) => return Step::Abort(r.to_abort()),
        };
        let Some(methods) = auth.methods(&realm) else {
            return Step::Abort(abort(
                ErrorUri::NoSuchRealm,
                format!("no realm '{realm}' on this router"),
            ));
        };
        let Some(method) = choose_method(methods, &offered) else {
            return Step::Abort(abort(
                ErrorUri::NoAuthMethod,
                no_method_message(&realm, methods),
            ));
        };
        self.features = PeerFeatures::from_hello(details);
        self.session = auth.session_id();
        let hello = HelloInfo {
            details,
            session: self.session,
        };
        let verdict = auth.hello(&realm, method, &hello);
        self.verdict(realm, verdict)
    }

    fn verdict(&mut self, realm: Text, verdict: Verdict) -> Step {
        match verdict {
            Verdict::Welcome(identity) => Step::Accept {
                realm,
                session: self.session,
                identity,
                features: self.features,
            },
            Verdict::Challenge {
                authmethod,
                extra,
                pending,
            } => {
                self.state = State::AwaitAuthenticate { realm, pending };
                Step::Send(Message::Challenge {
                    auth_method: authmethod,
                    extra,
                })
            }
            Verdict::Deny(refused) => Step::Abort(refused.to_abort()),
            Verdict::Ask(ask) => {
                let Ask {
                    procedure,
                    args,
                    asked,
                } = *ask;
                self.state = State::AwaitAnswer {
                    realm: realm.clone(),
                    asked,
                };
                Step::Ask {
                    realm,
                    procedure,
                    args,
                }
            }
        }
    }
}

/// The first method the client offers (in its order) that the realm has;
/// no `authmethods` offers anonymous only.
fn choose_method(methods: &[&'static str], offered: &[&str]) -> Option<&'static str> {
    if offered.is_empty() {
        return methods.iter().copied().find(|m| *m == "anonymous");
    }
    offered
        .iter()
        .find_map(|o| methods.iter().copied().find(|m| m == o))
}

fn no_method_message(realm: &str, methods: &[&str]) -> String {
    if methods.is_empty() {
        format!("realm '{realm}' accepts no authentication method")
    } else {
        format!("realm '{realm}' accepts only: {}", methods.join(", "))
    }
}

/// Checks HELLO.Details (`roles` a non-empty dict, `authmethods` a list of
/// strings) and returns the offered methods.
fn check_hello(details: &Dict) -> Result<Vec<&str>, Refused> {
    let bad = |m: &str| Refused::new(ErrorUri::ProtocolViolation, m);
    let roles = details
        .get_dict("roles")
        .map_err(|_| bad("HELLO.Details.roles must be a dict"))?;
    if roles.is_none_or(|r| r.is_empty()) {
        return Err(bad("HELLO.Details.roles is required"));
    }
    let Some(methods) = details.get("authmethods") else {
        return Ok(Vec::new());
    };
    let list = methods
        .as_list()
        .ok_or_else(|| bad("HELLO.Details.authmethods must be a list"))?;
    if list.len() > MAX_AUTHMETHODS {
        return Err(bad(&format!(
            "HELLO.Details.authmethods lists {} methods; at most {MAX_AUTHMETHODS} are accepted",
            list.len()
        )));
    }
    list.iter()
        .map(|m| {
            m.as_str()
                .ok_or_else(|| bad("HELLO.Details.authmethods must hold strings"))
        })
        .collect()
}

#[cfg(test)]
mod tests;
