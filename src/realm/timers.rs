//! `CallTimers`: a shard's call timeouts, on the session layer's timing
//! wheel. An entry names the call (realm, caller session, CALL request) and
//! the token the call held when it was armed; the dealer ignores an entry
//! whose call finished or was re-armed since (lazy removal: finishing a
//! call never touches the wheel). The runtime sleeps until `next_due` and
//! calls the shard to fire what came due; arming an entry earlier than the
//! runtime's planned wake-up raises `notifier`.

use crate::session::deadlines::Wheel;
use crate::session::notify::Notify;
use crate::wire::{RequestId, SessionId, Text};
use std::rc::Rc;
use std::time::Instant;

/// One armed call timeout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallTimer {
    pub realm: Text,
    pub session: SessionId,
    pub request: RequestId,
    pub token: u64,
}

/// A shard's call timeouts.
pub struct CallTimers {
    wheel: Wheel<CallTimer>,
    /// When the runtime means to look next (`None`: only when notified).
    scheduled: Option<Instant>,
    notify: Rc<Notify>,
    next_token: u64,
}

impl Default for CallTimers {
    fn default() -> Self {
        CallTimers {
            wheel: Wheel::new(Instant::now()),
            scheduled: None,
            notify: Rc::new(Notify::default()),
            next_token: 0,
        }
    }
}

impl CallTimers {
    /// Arms a timeout at `at` for the call; returns its token (never 0).
    pub fn arm(
        &mut self,
        at: Instant,
        realm: &Text,
        session: SessionId,
        request: RequestId,
    ) -> u64 {
        self.next_token += 1;
        let token = self.next_token;
        let timer = CallTimer {
            realm: realm.clone(),
            session,
            request,
            token,
        };
        self.wheel.insert(at, timer);
        if self.scheduled.is_none_or(|s| at < s) {
            self.scheduled = Some(at);
            self.notify.notify();
        }
        token
    }

    /// The earliest instant something may be due (`None`: nothing armed);
    /// records it as the runtime's next wake-up.
    pub fn plan_wakeup(&mut self) -> Option<Instant> {
        self.scheduled = self.wheel.next_due();
        self.scheduled
    }

    /// Moves the entries due at `now` into `due`.
    pub fn expire(&mut self, now: Instant, due: &mut Vec<CallTimer>) {
        self.wheel.expire(now, due);
    }

    /// Raised when an entry is armed ahead of the planned wake-up.
    pub fn notifier(&self) -> Rc<Notify> {
        self.notify.clone()
    }
}
