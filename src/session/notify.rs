//! `Notify`: a single-threaded wake-up flag with one waiter, the glue between
//! the sync core (which raises it) and the one task that waits on it.

use std::cell::Cell;
use std::future::poll_fn;
use std::task::{Context, Poll, Waker};

/// A single-threaded wake-up flag with one waiter.
#[derive(Default)]
pub struct Notify {
    flag: Cell<bool>,
    waker: Cell<Option<Waker>>,
}

impl Notify {
    /// Sets the flag and wakes the waiter.
    pub fn notify(&self) {
        self.flag.set(true);
        if let Some(w) = self.waker.take() {
            w.wake();
        }
    }

    /// True when the flag is set (without clearing it).
    pub fn is_set(&self) -> bool {
        self.flag.get()
    }

    /// Waits until the flag is set, and clears it.
    pub async fn wait(&self) {
        poll_fn(|cx| self.poll_wait(cx)).await
    }

    /// Ready (and cleared) when the flag is set; otherwise registers `cx`.
    pub fn poll_wait(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.flag.replace(false) {
            Poll::Ready(())
        } else {
            self.waker.set(Some(cx.waker().clone()));
            Poll::Pending
        }
    }
}
