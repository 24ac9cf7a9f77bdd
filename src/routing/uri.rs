//! URI validation (spec-digest 2.7): the loose and strict rules, the forms
//! allowed for pattern subscriptions/registrations, and the reserved `wamp.`
//! namespace.

/// How strictly URI components are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UriCheck {
    /// Components non-empty, without whitespace, `.` or `#`.
    Loose,
    /// Components of `[0-9a-z_]` only.
    Strict,
}

pub use crate::wire::options::MatchPolicy;

fn component_ok(c: &str, check: UriCheck) -> bool {
    match check {
        UriCheck::Loose => !c
            .chars()
            .any(|ch| ch.is_whitespace() || ch == '.' || ch == '#'),
        UriCheck::Strict => c
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
    }
}

/// True when `uri` is valid for use with `policy` under `check`.
///
/// Exact: every component non-empty. Prefix: the last component may be empty
/// (and `""` is the prefix of everything). Wildcard: any component may be empty.
pub fn is_valid_uri(uri: &str, policy: MatchPolicy, check: UriCheck) -> bool {
    if uri.is_empty() {
        return policy != MatchPolicy::Exact;
    }
    // No allocation: this runs for every PUBLISH and CALL.
    let mut parts = uri.split('.').peekable();
    while let Some(c) = parts.next() {
        let last = parts.peek().is_none();
        let ok = match (c.is_empty(), policy) {
            (false, _) => component_ok(c, check),
            (true, MatchPolicy::Exact) => false,
            (true, MatchPolicy::Prefix) => last,
            (true, MatchPolicy::Wildcard) => true,
        };
        if !ok {
            return false;
        }
    }
    true
}

/// True when `uri` lies in the namespace reserved for the protocol.
pub fn is_reserved(uri: &str) -> bool {
    uri.starts_with("wamp.")
}

#[cfg(test)]
mod tests {
    use super::*;
    use MatchPolicy::*;
    use UriCheck::*;

    #[test]
    fn loose_exact_uris() {
        assert!(is_valid_uri("com.myapp.topic1", Exact, Loose));
        assert!(is_valid_uri("com.MyApp.Topic-1", Exact, Loose));
        assert!(!is_valid_uri("com..topic", Exact, Loose));
        assert!(!is_valid_uri("com.my app", Exact, Loose));
        assert!(!is_valid_uri("com.a#b", Exact, Loose));
        assert!(!is_valid_uri("", Exact, Loose));
        assert!(!is_valid_uri("com.", Exact, Loose));
    }

    #[test]
    fn strict_rejects_uppercase_and_dashes() {
        assert!(is_valid_uri("com.myapp.topic_1", Exact, Strict));
        assert!(!is_valid_uri("com.MyApp", Exact, Strict));
        assert!(!is_valid_uri("com.my-app", Exact, Strict));
    }

    #[test]
    fn pattern_forms() {
        assert!(is_valid_uri("com.app.", Prefix, Loose));
        assert!(is_valid_uri("", Prefix, Loose));
        assert!(!is_valid_uri("com..app", Prefix, Loose));
        assert!(is_valid_uri("com..app", Wildcard, Loose));
        assert!(is_valid_uri(".a.", Wildcard, Loose));
    }

    #[test]
    fn wamp_namespace_is_reserved() {
        assert!(is_reserved("wamp.session.on_join"));
        assert!(!is_reserved("wampy.topic"));
    }

    #[test]
    fn every_uri_the_router_sends_is_a_valid_strict_uri() {
        use crate::wire::{CloseReason, ErrorUri};
        let errors = ErrorUri::ALL.iter().map(|u| u.uri());
        for uri in errors.chain(CloseReason::ALL.iter().map(|u| u.uri())) {
            assert!(
                is_valid_uri(uri, MatchPolicy::Exact, UriCheck::Strict),
                "{uri}"
            );
        }
    }
}
