//! WAMP identifiers: the [1, 2^53] range rule and one newtype per ID scope
//! (session, request, subscription, registration, publication).

/// The largest legal WAMP ID: 2^53.
pub const MAX_ID: u64 = 1 << 53;

/// True when `v` is a legal WAMP ID (1..=2^53).
pub fn is_valid_id(v: u64) -> bool {
    (1..=MAX_ID).contains(&v)
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        pub struct $name(pub u64);

        impl $name {
            /// The raw integer as it goes on the wire.
            pub fn get(self) -> u64 {
                self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// A session ID (global scope, random).
    SessionId
);
id_type!(
    /// A request ID (session scope). Zero appears only in revocation messages.
    RequestId
);
id_type!(
    /// A subscription ID (router scope, shared by all subscribers of a (topic, match)).
    SubscriptionId
);
id_type!(
    /// A registration ID (router scope).
    RegistrationId
);
id_type!(
    /// A publication ID (global scope, random).
    PublicationId
);

/// Draws a random ID from [1, 2^53], for the global-scope IDs.
pub fn random_id<R: rand::Rng + ?Sized>(rng: &mut R) -> u64 {
    rng.gen_range(1..=MAX_ID)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_range_excludes_zero_and_above_two_pow_53() {
        assert!(!is_valid_id(0));
        assert!(is_valid_id(1));
        assert!(is_valid_id(MAX_ID));
        assert!(!is_valid_id(MAX_ID + 1));
    }

    #[test]
    fn random_ids_stay_in_range() {
        let mut rng = rand::thread_rng();
        for _ in 0..1000 {
            assert!(is_valid_id(random_id(&mut rng)));
        }
    }
}
