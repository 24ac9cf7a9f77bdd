//! The replies to a shard's hidden sessions: the callers of dynamic
//! authenticators and authorizers, and the HTTP bridge's sessions, all
//! reply into the shard's `internal_outbound`, under request IDs from one
//! counter. One task per shard reads it: a reply a bridge request waits for
//! goes whole to that request (`BridgeWaits`); an authorizer's answer goes
//! to the shard (which replays the requests that waited); any other RESULT
//! or ERROR goes to the connection whose handshake waits on its request ID
//! (`AuthWaits`). A waiter that went away (handshake timeout, connection
//! closed, HTTP request timed out) has removed its wait, and its late
//! answer is dropped.

use crate::auth::Answer;
use crate::session::notify::Notify;
use crate::session::outbound::OutFrame;
use crate::shard::{auth_answer, reply_request, Shard};
use crate::wire::{decode, Message, RequestId, Serializer};
use rustc_hash::FxHashMap;
use std::cell::RefCell;
use std::rc::Rc;

/// One waiter's wait for the reply to its request.
pub struct Wait<T> {
    answer: RefCell<Option<T>>,
    pub ready: Notify,
}

impl<T> Default for Wait<T> {
    fn default() -> Self {
        Wait {
            answer: RefCell::new(None),
            ready: Notify::default(),
        }
    }
}

impl<T> Wait<T> {
    /// The answer, once it came.
    pub fn take(&self) -> Option<T> {
        self.answer.borrow_mut().take()
    }
}

/// The waits of a shard's waiters, by request ID.
pub struct Waits<T>(RefCell<FxHashMap<RequestId, Rc<Wait<T>>>>);

impl<T> Default for Waits<T> {
    fn default() -> Self {
        Waits(RefCell::new(FxHashMap::default()))
    }
}

impl<T> Waits<T> {
    /// Registers a wait for `request`.
    pub fn add(&self, request: RequestId) -> Rc<Wait<T>> {
        let wait = Rc::new(Wait::default());
        self.0.borrow_mut().insert(request, wait.clone());
        wait
    }

    /// Forgets the wait for `request` (its waiter gave up).
    pub fn remove(&self, request: RequestId) {
        self.0.borrow_mut().remove(&request);
    }

    /// Whether someone waits for `request`.
    fn waits_for(&self, request: RequestId) -> bool {
        self.0.borrow().contains_key(&request)
    }

    fn answer(&self, request: RequestId, answer: T) {
        if let Some(wait) = self.0.borrow_mut().remove(&request) {
            *wait.answer.borrow_mut() = Some(answer);
            wait.ready.notify();
        }
    }
}

/// One handshake's wait for its authenticator.
pub type AuthWait = Wait<Answer>;
/// The handshakes of a shard waiting for an authenticator.
pub type AuthWaits = Waits<Answer>;
/// The HTTP bridge's requests waiting for their reply (PUBLISHED, RESULT
/// or ERROR).
pub type BridgeWaits = Waits<Message>;

/// Reads the shard's internal replies until the shard stops.
pub async fn run_auth_answers(
    shard: Rc<RefCell<Shard>>,
    waits: Rc<AuthWaits>,
    bridge: Rc<BridgeWaits>,
) {
    let outbound = shard.borrow().internal_outbound();
    let mut batch = Vec::new();
    while outbound.next_batch(&mut batch, 1 << 20).await {
        for frame in batch.drain(..) {
            let OutFrame::Message(bytes) = frame else {
                continue;
            };
            let Ok(msg) = decode(Serializer::Json, bytes) else {
                continue;
            };
            match reply_request(&msg) {
                Some(request) if bridge.waits_for(request) => {
                    bridge.answer(request, msg);
                    continue;
                }
                _ => {}
            }
            let Some((request, answer)) = auth_answer(msg) else {
                continue;
            };
            let left = shard.borrow_mut().on_internal_answer(request, answer);
            if let Some(answer) = left {
                waits.answer(request, answer);
            }
        }
    }
}
