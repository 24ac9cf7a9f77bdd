//! Every WAMP URI the router itself sends, as typed values: `ErrorUri` for
//! ERROR and ABORT reasons (the spec's `wamp.error.*` and the router's own
//! `switchyard.error.*`), `CloseReason` for GOODBYE (and ABORT) reasons in
//! `wamp.close.*`. Spellings follow the spec's URI table; where the
//! ecosystem differs from the spec, both forms are offered (e.g.
//! `NoAuthMethod`, used by Autobahn and Crossbar, and the spec's
//! `NoMatchingAuthMethod`).

use super::text::Text;
use std::fmt;

/// Defines a URI enum with `uri`, `ALL`, `from_uri`, `Display` and
/// `From<_> for Text`, from one table of variants and their URIs.
macro_rules! uri_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident => $uri:literal, )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )*
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// The URI as sent on the wire.
            pub const fn uri(self) -> &'static str {
                match self {
                    $( $name::$variant => $uri, )*
                }
            }

            /// The variant whose URI is `uri`.
            pub fn from_uri(uri: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|v| v.uri() == uri)
            }
        }

        impl From<$name> for Text {
            fn from(v: $name) -> Text {
                Text::from_static(v.uri())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.uri())
            }
        }
    };
}

uri_enum! {
    /// An error URI the router sends in ERROR or ABORT.
    pub enum ErrorUri {
        /// A topic, procedure, realm or reason URI is malformed.
        InvalidUri => "wamp.error.invalid_uri",
        /// HELLO named a realm the router does not have.
        NoSuchRealm => "wamp.error.no_such_realm",
        /// UNSUBSCRIBE (or a meta procedure) named an unknown subscription.
        NoSuchSubscription => "wamp.error.no_such_subscription",
        /// CALL matched no registration.
        NoSuchProcedure => "wamp.error.no_such_procedure",
        /// UNREGISTER (or a meta procedure) named an unknown registration.
        NoSuchRegistration => "wamp.error.no_such_registration",
        /// A session meta procedure named an unknown session.
        NoSuchSession => "wamp.error.no_such_session",
        /// The authenticated role does not exist on the realm.
        NoSuchRole => "wamp.error.no_such_role",
        /// The authid is unknown.
        NoSuchPrincipal => "wamp.error.no_such_principal",
        /// ABORT reason for protocol errors.
        ProtocolViolation => "wamp.error.protocol_violation",
        /// No offered authmethod is acceptable (Autobahn / Crossbar spelling).
        NoAuthMethod => "wamp.error.no_auth_method",
        /// No offered authmethod is acceptable (spec spelling).
        NoMatchingAuthMethod => "wamp.error.no_matching_auth_method",
        /// The router rejects an option.
        OptionNotAllowed => "wamp.error.option_not_allowed",
        /// The router refuses a `disclose_me` request.
        OptionDisallowedDiscloseMe => "wamp.error.option_disallowed.disclose_me",
        /// REGISTER conflicts with an existing registration.
        ProcedureAlreadyExists => "wamp.error.procedure_already_exists",
        /// The call was cancelled (CANCEL, or the callee left).
        Canceled => "wamp.error.canceled",
        /// The action is denied.
        NotAuthorized => "wamp.error.not_authorized",
        /// Bad credentials.
        AuthenticationDenied => "wamp.error.authentication_denied",
        /// A technical failure during authentication.
        AuthenticationFailed => "wamp.error.authentication_failed",
        /// Anonymous access is not allowed.
        AuthenticationRequired => "wamp.error.authentication_required",
        /// The authorizer itself failed.
        AuthorizationFailed => "wamp.error.authorization_failed",
        /// The payload failed router-side validation.
        InvalidArgument => "wamp.error.invalid_argument",
        /// The call timed out.
        Timeout => "wamp.error.timeout",
        /// Every callee was unavailable.
        NoAvailableCallee => "wamp.error.no_available_callee",
        /// The callee lacks a feature the call needs.
        FeatureNotSupported => "wamp.error.feature_not_supported",
        /// A testament procedure was given a scope other than destroyed or detached.
        TestamentError => "wamp.error.testament_error",
        /// No event history is kept for the subscription.
        HistoryUnavailable => "wamp.error.history_unavailable",
        /// A callee cannot take a call now (call reroute: try another callee).
        Unavailable => "wamp.error.unavailable",
        /// A message is too large for the receiver's transport limit.
        PayloadSizeExceeded => "wamp.error.payload_size_exceeded",
        /// The router is at its session limit (ABORT reason).
        MaxSessionsReached => "switchyard.error.max_sessions_reached",
        /// The session's outbound queue overflowed (ABORT reason).
        SlowConsumer => "switchyard.error.slow_consumer",
        /// A per-session limit refused the request (args: the limit's name and value).
        LimitExceeded => "switchyard.error.limit_exceeded",
    }
}

uri_enum! {
    /// A reason URI the router sends in GOODBYE (or ABORT) to close a session.
    pub enum CloseReason {
        /// The reply to a peer's GOODBYE.
        GoodbyeAndOut => "wamp.close.goodbye_and_out",
        /// The router is shutting down.
        SystemShutdown => "wamp.close.system_shutdown",
        /// The realm is being closed.
        CloseRealm => "wamp.close.close_realm",
        /// The session was killed (session kill meta procedures).
        Killed => "wamp.close.killed",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn all_uris() -> Vec<&'static str> {
        let errors = ErrorUri::ALL.iter().map(|u| u.uri());
        errors
            .chain(CloseReason::ALL.iter().map(|u| u.uri()))
            .collect()
    }

    #[test]
    fn no_two_variants_share_a_uri() {
        let uris = all_uris();
        let unique: HashSet<&str> = uris.iter().copied().collect();
        assert_eq!(unique.len(), uris.len());
    }

    #[test]
    fn uris_read_back_and_convert() {
        for &e in ErrorUri::ALL {
            assert_eq!(ErrorUri::from_uri(e.uri()), Some(e));
            assert_eq!(Text::from(e), e.uri());
            assert_eq!(e.to_string(), e.uri());
        }
        for &c in CloseReason::ALL {
            assert_eq!(CloseReason::from_uri(c.uri()), Some(c));
            assert_eq!(Text::from(c), c.uri());
        }
        assert_eq!(ErrorUri::from_uri("wamp.error.cancelled"), None);
        assert_eq!(CloseReason::from_uri("wamp.close.normal"), None);
    }

    #[test]
    fn spellings_match_the_spec_table() {
        assert_eq!(ErrorUri::Canceled.uri(), "wamp.error.canceled");
        assert_eq!(
            ErrorUri::OptionDisallowedDiscloseMe.uri(),
            "wamp.error.option_disallowed.disclose_me"
        );
        assert_eq!(ErrorUri::NoAuthMethod.uri(), "wamp.error.no_auth_method");
        assert_eq!(
            CloseReason::GoodbyeAndOut.uri(),
            "wamp.close.goodbye_and_out"
        );
        const PROTOCOL_VIOLATION: &str = ErrorUri::ProtocolViolation.uri();
        assert_eq!(PROTOCOL_VIOLATION, "wamp.error.protocol_violation");
    }
}
