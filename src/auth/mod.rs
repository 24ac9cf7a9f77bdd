//! Authentication and authorization, free of I/O and of sessions: who a
//! client is (`Identity`), the principals and methods a realm offers
//! (`RealmAuth`, `login`), the authenticator procedures that decide
//! the logins no principal covers (`dynamic`), failed-login throttling per source address
//! (`limiter`), what a role may do (`role`), and the cryptography of the
//! WAMP methods (`crypto`). The handshake state machine
//! (`session::handshake`) drives a login; the shard checks every request
//! against the session's `Role` before it routes it.

pub mod authz_cache;
pub mod crypto;
pub mod dynamic;
pub mod limiter;
pub mod login;
pub mod principal;
pub mod role;

pub use dynamic::{Answer, Ask, Asked};
pub use login::{Login, Outcome, Pending, Refusal};
pub use principal::{CraSecret, Principal, RealmAuth, Ticket};
pub use role::{Action, Authorizer, Decision, Grant, Role, Rule};

use crate::wire::{Dict, Text};

/// Who a session is, as its login established it.
#[derive(Debug, Clone, PartialEq)]
pub struct Identity {
    pub authid: Text,
    pub authrole: Text,
    pub authmethod: Text,
    pub authprovider: Text,
    /// What the method or the principal adds (`WELCOME.Details.authextra`).
    pub authextra: Option<Dict>,
}

impl Identity {
    /// An anonymous session (the router assigns its authid when it opens).
    pub fn anonymous() -> Identity {
        Identity {
            authid: Text::default(),
            authrole: Text::from_static("anonymous"),
            authmethod: Text::from_static("anonymous"),
            authprovider: Text::from_static("static"),
            authextra: None,
        }
    }
}
