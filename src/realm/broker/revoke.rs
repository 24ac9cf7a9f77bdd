//! Subscription revocation: `wamp.subscription.remove_subscriber` ends one
//! session's subscription on the session's own shard. A subscriber that
//! announced `subscription_revocation` is told with
//! `[UNSUBSCRIBED, 0, {"subscription": id, "reason": ...}]`; any other is
//! removed silently (its events simply stop).

use super::Broker;
use crate::realm::cx::Cx;
use crate::session::features::PeerFeatures;
use crate::wire::{Dict, ErrorUri, Message, RequestId, SessionId, SubscriptionId, Text, Value};

impl Broker {
    /// Ends `session`'s subscription `subscription` (the session lives here).
    pub(super) fn revoke(
        &mut self,
        cx: &mut Cx,
        subscription: SubscriptionId,
        session: SessionId,
        reason: Option<Text>,
    ) -> Result<(), ErrorUri> {
        let s = cx
            .sessions
            .get_mut(&session)
            .filter(|s| s.realm == self.realm)
            .ok_or(ErrorUri::NoSuchSession)?;
        let at = s
            .subscriptions
            .iter()
            .position(|(id, ..)| *id == subscription)
            .ok_or(ErrorUri::NoSuchSubscription)?;
        let (_, topic, policy) = s.subscriptions.swap_remove(at);
        let told = s.features.has(PeerFeatures::SUBSCRIBER_REVOCATION);
        self.drop_subscriber(cx, &topic, policy, session);
        if told {
            let mut details = Dict::new().with("subscription", subscription.0);
            if let Some(reason) = reason {
                details.insert("reason", Value::Str(reason));
            }
            let msg = Message::Unsubscribed {
                request: RequestId(0),
                details: Some(details),
            };
            cx.reply(session, &msg);
        }
        Ok(())
    }
}
