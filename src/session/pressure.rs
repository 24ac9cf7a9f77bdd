//! Back-pressure (ARCHITECTURE.md section 8): `Pressure`, a valve that is
//! pressed while something downstream cannot take more (an outbound queue
//! above its watermark, another shard whose queues are, a mesh channel that
//! is full), and the shard-local list of the valves that the message being
//! handled met (`met`, `take_met`).
//!
//! Routing code stays synchronous: a push into a pressed queue is queued as
//! usual and the valve is recorded. The code that fed the message in (a
//! connection's reader, a shard's mesh inbox) takes the list once the
//! message is handled and stops reading until every valve is released. A
//! valve with a stall deadline that is still pressed when the deadline
//! passes is marked stalled, and its owner applies the slow-consumer policy
//! (which releases it), so no waiter waits longer than the stall timeout.

use std::cell::{Cell, RefCell};
use std::future::{poll_fn, Future};
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Instant;

/// A valve waiters stop behind while it is pressed.
#[derive(Default)]
pub struct Pressure {
    /// Presses not yet released (a queue presses once; a shard pair may
    /// press for several reasons).
    presses: Cell<u32>,
    /// When a waiter may declare the owner stalled (`None`: never).
    stall_at: Cell<Option<Instant>>,
    /// Raised once the stall deadline passed with the valve pressed.
    stalled: Cell<bool>,
    waiters: RefCell<Vec<Waker>>,
    /// The owner, woken when the valve stalls.
    owner: RefCell<Option<Waker>>,
}

impl Pressure {
    /// A released valve.
    pub fn new() -> Rc<Pressure> {
        Rc::new(Pressure::default())
    }

    /// True while pressed.
    pub fn is_pressed(&self) -> bool {
        self.presses.get() > 0
    }

    /// Presses the valve; a stall may be declared from `stall_at` on.
    pub fn press(&self, stall_at: Option<Instant>) {
        if self.presses.get() == 0 {
            self.stall_at.set(stall_at);
            self.stalled.set(false);
        }
        self.presses.set(self.presses.get() + 1);
    }

    /// Releases one press; waiters go on once none is left.
    pub fn release(&self) {
        let left = self.presses.get().saturating_sub(1);
        self.presses.set(left);
        if left == 0 {
            self.stall_at.set(None);
            for w in self.waiters.borrow_mut().drain(..) {
                w.wake();
            }
        }
    }

    /// Releases every press at once (the owner closed or gave up its queue).
    pub fn release_all(&self) {
        if self.presses.get() > 0 {
            self.presses.set(1);
            self.release();
        }
    }

    /// When the owner may be declared stalled, while pressed.
    pub fn stall_at(&self) -> Option<Instant> {
        self.stall_at.get()
    }

    /// Marks the pressed valve stalled and wakes its owner.
    pub fn stall(&self) {
        if self.is_pressed() && !self.stalled.replace(true) {
            if let Some(w) = self.owner.borrow_mut().take() {
                w.wake();
            }
        }
    }

    /// Ready (once per stall) when a waiter declared the valve stalled;
    /// otherwise registers the owner's `cx`.
    pub fn poll_stalled(&self, cx: &mut Context<'_>) -> Poll<()> {
        if self.stalled.replace(false) && self.is_pressed() {
            return Poll::Ready(());
        }
        *self.owner.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }

    /// Ready once released; otherwise registers `cx` among the waiters.
    pub fn poll_released(&self, cx: &mut Context<'_>) -> Poll<()> {
        if !self.is_pressed() {
            return Poll::Ready(());
        }
        let mut waiters = self.waiters.borrow_mut();
        if !waiters.iter().any(|w| w.will_wake(cx.waker())) {
            waiters.push(cx.waker().clone());
        }
        Poll::Pending
    }
}

thread_local! {
    /// The valves met by the message being handled on this shard's thread.
    static MET: RefCell<Vec<Rc<Pressure>>> = const { RefCell::new(Vec::new()) };
}

/// Records that the message being handled was queued behind `p`.
pub fn met(p: &Rc<Pressure>) {
    MET.with(|m| {
        let mut m = m.borrow_mut();
        if !m.iter().rev().take(8).any(|q| Rc::ptr_eq(q, p)) {
            m.push(p.clone());
        }
    });
}

/// Moves the valves met since the last call into `out` (left empty when
/// none were met: the common case costs one thread-local access).
pub fn take_met(out: &mut Vec<Rc<Pressure>>) {
    MET.with(|m| {
        let mut m = m.borrow_mut();
        if !m.is_empty() {
            out.append(&mut m);
        }
    });
}

/// Forgets the valves met so far (before an entry point that takes its own).
pub fn clear_met() {
    MET.with(|m| m.borrow_mut().clear());
}

/// Waits until every valve in `valves` is released, declaring a valve
/// stalled when its stall deadline passes first. `valves` is emptied.
pub async fn wait_released(valves: &mut Vec<Rc<Pressure>>) {
    while let Some(p) = valves.last() {
        if !p.is_pressed() {
            valves.pop();
            continue;
        }
        match p.stall_at() {
            Some(at) if at <= Instant::now() => {
                p.stall();
                poll_fn(|cx| p.poll_released(cx)).await;
            }
            Some(at) => {
                let released = poll_fn(|cx| p.poll_released(cx));
                let timer = glommio::timer::sleep(at.saturating_duration_since(Instant::now()));
                futures_lite::future::or(released, async {
                    timer.await;
                })
                .await;
            }
            None => poll_fn(|cx| p.poll_released(cx)).await,
        }
    }
}

/// `wait_released`, unless `stop` finishes first (then `Some` of its output).
pub async fn wait_released_or<T>(
    valves: &mut Vec<Rc<Pressure>>,
    stop: impl Future<Output = T>,
) -> Option<T> {
    futures_lite::future::or(async { Some(stop.await) }, async {
        wait_released(valves).await;
        None
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn presses_count_and_release_wakes() {
        let p = Pressure::new();
        p.press(None);
        p.press(None);
        p.release();
        assert!(p.is_pressed());
        p.release();
        assert!(!p.is_pressed());
        p.press(None);
        p.release_all();
        assert!(!p.is_pressed());
    }

    #[test]
    fn met_keeps_each_valve_once() {
        let a = Pressure::new();
        let b = Pressure::new();
        clear_met();
        met(&a);
        met(&a);
        met(&b);
        let mut out = Vec::new();
        take_met(&mut out);
        assert_eq!(out.len(), 2);
        out.clear();
        take_met(&mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn a_stall_is_reported_once_while_pressed() {
        let p = Pressure::new();
        let waker = futures_lite::future::block_on(poll_fn(|cx| Poll::Ready(cx.waker().clone())));
        let mut cx = Context::from_waker(&waker);
        p.stall();
        assert!(p.poll_stalled(&mut cx).is_pending(), "not pressed");
        p.press(Some(Instant::now() + Duration::from_secs(1)));
        p.stall();
        assert!(p.poll_stalled(&mut cx).is_ready());
        assert!(p.poll_stalled(&mut cx).is_pending());
        p.release();
        assert!(p.stall_at().is_none());
    }
}
