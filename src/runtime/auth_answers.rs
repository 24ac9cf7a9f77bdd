//! The answers of dynamic authenticators and authorizers: a shard's hidden
//! caller sessions reply into the shard's `internal_outbound`; one task per
//! shard reads it, gives authorizer answers to the shard (which replays the
//! requests that waited), and hands each other RESULT or ERROR to the
//! connection waiting on its request ID (`AuthWaits`). A
//! connection that went away (handshake timeout, closed) has removed its
//! wait, and its late answer is dropped.

use crate::auth::Answer;
use crate::session::notify::Notify;
use crate::session::outbound::OutFrame;
use crate::shard::{auth_answer, Shard};
use crate::wire::{decode, RequestId, Serializer};
use rustc_hash::FxHashMap;
use std::cell::RefCell;
use std::rc::Rc;

/// One handshake's wait for its authenticator.
#[derive(Default)]
pub struct AuthWait {
    answer: RefCell<Option<Answer>>,
    pub ready: Notify,
}

impl AuthWait {
    /// The answer, once it came.
    pub fn take(&self) -> Option<Answer> {
        self.answer.borrow_mut().take()
    }
}

/// The handshakes of a shard waiting for an authenticator, by request ID.
#[derive(Default)]
pub struct AuthWaits(RefCell<FxHashMap<RequestId, Rc<AuthWait>>>);

impl AuthWaits {
    /// Registers a wait for `request`.
    pub fn add(&self, request: RequestId) -> Rc<AuthWait> {
        let wait = Rc::new(AuthWait::default());
        self.0.borrow_mut().insert(request, wait.clone());
        wait
    }

    /// Forgets the wait for `request` (its connection gave up).
    pub fn remove(&self, request: RequestId) {
        self.0.borrow_mut().remove(&request);
    }

    fn answer(&self, request: RequestId, answer: Answer) {
        if let Some(wait) = self.0.borrow_mut().remove(&request) {
            *wait.answer.borrow_mut() = Some(answer);
            wait.ready.notify();
        }
    }
}

/// Reads the shard's internal replies until the shard stops.
pub async fn run_auth_answers(shard: Rc<RefCell<Shard>>, waits: Rc<AuthWaits>) {
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
