//! `PeerFeatures`: the Advanced Profile features a client announced in
//! HELLO.Details.roles (`roles.<role>.features.<name> = true`), as a bitset
//! the dealer consults per call (may this callee be interrupted, may it get
//! progressive invocations). Both spellings of call canceling are accepted
//! (`call_canceling`, and `call_cancelling` from the progressive invocations
//! text).

use crate::wire::Dict;

/// Features a peer announced, one bit each.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct PeerFeatures(u16);

impl PeerFeatures {
    /// Caller: may send progressive CALL chunks.
    pub const CALLER_PROGRESSIVE_INVOCATIONS: PeerFeatures = PeerFeatures(1);
    /// Callee: handles INTERRUPT.
    pub const CALLEE_CANCELING: PeerFeatures = PeerFeatures(1 << 1);
    /// Callee: may send progressive YIELDs.
    pub const CALLEE_PROGRESSIVE_RESULTS: PeerFeatures = PeerFeatures(1 << 2);
    /// Callee: accepts progressive INVOCATION chunks.
    pub const CALLEE_PROGRESSIVE_INVOCATIONS: PeerFeatures = PeerFeatures(1 << 3);

    /// Subscriber: understands `[UNSUBSCRIBED, 0, {...}]` (subscription revocation).
    pub const SUBSCRIBER_REVOCATION: PeerFeatures = PeerFeatures(1 << 4);

    /// No feature.
    pub const NONE: PeerFeatures = PeerFeatures(0);

    /// True when every feature of `other` is in `self`.
    pub fn has(self, other: PeerFeatures) -> bool {
        self.0 & other.0 == other.0
    }

    /// `self` with the features of `other` added.
    pub fn with(self, other: PeerFeatures) -> PeerFeatures {
        PeerFeatures(self.0 | other.0)
    }

    /// The raw bits (to carry across shards).
    pub fn bits(self) -> u16 {
        self.0
    }

    /// Reads `HELLO.Details.roles`. Anything malformed counts as not announced.
    /// A callee without call canceling is treated as supporting neither
    /// progressive results nor progressive invocations (the spec ties both
    /// to canceling, so a stream can always be stopped).
    pub fn from_hello(details: &Dict) -> PeerFeatures {
        let Ok(Some(roles)) = details.get_dict("roles") else {
            return PeerFeatures::NONE;
        };
        let announced = |role: &str, name: &str| {
            let Ok(Some(r)) = roles.get_dict(role) else {
                return false;
            };
            let Ok(Some(f)) = r.get_dict("features") else {
                return false;
            };
            matches!(f.get_bool(name), Ok(Some(true)))
        };
        let mut out = PeerFeatures::NONE;
        if announced("subscriber", "subscription_revocation") {
            out = out.with(Self::SUBSCRIBER_REVOCATION);
        }
        if announced("caller", "progressive_call_invocations") {
            out = out.with(Self::CALLER_PROGRESSIVE_INVOCATIONS);
        }
        let canceling =
            announced("callee", "call_canceling") || announced("callee", "call_cancelling");
        if canceling {
            out = out.with(Self::CALLEE_CANCELING);
            if announced("callee", "progressive_call_results") {
                out = out.with(Self::CALLEE_PROGRESSIVE_RESULTS);
            }
            if announced("callee", "progressive_call_invocations") {
                out = out.with(Self::CALLEE_PROGRESSIVE_INVOCATIONS);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hello(caller: Dict, callee: Dict) -> Dict {
        let roles = Dict::new()
            .with("caller", Dict::new().with("features", caller))
            .with("callee", Dict::new().with("features", callee));
        Dict::new().with("roles", roles)
    }

    #[test]
    fn callee_features_need_call_canceling() {
        let f = PeerFeatures::from_hello(&hello(
            Dict::new().with("progressive_call_invocations", true),
            Dict::new()
                .with("progressive_call_results", true)
                .with("progressive_call_invocations", true),
        ));
        assert!(f.has(PeerFeatures::CALLER_PROGRESSIVE_INVOCATIONS));
        assert!(!f.has(PeerFeatures::CALLEE_PROGRESSIVE_RESULTS));
        assert!(!f.has(PeerFeatures::CALLEE_PROGRESSIVE_INVOCATIONS));
        let f = PeerFeatures::from_hello(&hello(
            Dict::new(),
            Dict::new()
                .with("call_cancelling", true)
                .with("progressive_call_invocations", true),
        ));
        assert!(f.has(PeerFeatures::CALLEE_CANCELING));
        assert!(f.has(PeerFeatures::CALLEE_PROGRESSIVE_INVOCATIONS));
        assert!(!f.has(PeerFeatures::CALLER_PROGRESSIVE_INVOCATIONS));
    }

    #[test]
    fn malformed_roles_announce_nothing() {
        let d = Dict::new().with("roles", Dict::new().with("callee", true));
        assert_eq!(PeerFeatures::from_hello(&d), PeerFeatures::NONE);
        assert_eq!(PeerFeatures::from_hello(&Dict::new()), PeerFeatures::NONE);
    }
}
