//! Realms: per realm and per shard, a `Broker` and a `Dealer`; plus the
//! `Home` tables a shard keeps for the keys it is the home shard of.

pub mod broker;
pub mod dealer;
pub mod home;

pub use broker::Broker;
pub use dealer::Dealer;
pub use home::Home;

/// One realm on one shard.
#[derive(Default)]
pub struct Realm {
    pub broker: Broker,
    pub dealer: Dealer,
}
