//! `Outbound`: a session's queue of encoded frames, bounded by a byte
//! budget. Routing code pushes frames synchronously; the connection's writer
//! task drains everything ready in one batch and writes it with one syscall.
//!
//! Flow control (ARCHITECTURE.md section 8): above its soft watermark the
//! queue presses its `Pressure` valve, and every message queued meanwhile
//! records it, so the sessions feeding the queue stop being read until it
//! drains below half the watermark. A queue that stays above the watermark
//! for the stall timeout, or one that would exceed its budget, gets the
//! slow-consumer policy: `Disconnect` closes the session with a reason;
//! `DropEvents` drops EVENTs (counted) until the queue drains, but a reply
//! that cannot be queued (RESULT, ERROR, ...) still disconnects, so no reply
//! is ever lost silently.

use super::pressure::{self, Pressure};
use bytes::Bytes;
use std::cell::{Cell, OnceCell, RefCell};
use std::collections::VecDeque;
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

/// What to do with a session whose outbound queue is over budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlowConsumer {
    Disconnect,
    DropEvents,
}

/// Whether a frame may be dropped for a slow consumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameKind {
    /// An EVENT: may be dropped under `SlowConsumer::DropEvents`.
    Event,
    /// Anything else: never dropped.
    Reply,
}

/// What happened to a pushed frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    Queued,
    /// Dropped under `DropEvents` (the caller counts it).
    Dropped,
    /// The queue is over budget: the session is being closed.
    Overflow,
    /// The session is closing or closed; the frame was discarded.
    Closed,
}

/// One queued frame: a WAMP message, or a transport-level ping/pong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutFrame {
    Message(Bytes),
    Ping(Bytes),
    Pong(Bytes),
}

impl OutFrame {
    /// True when the frame's payload is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The frame's payload length.
    pub fn len(&self) -> usize {
        match self {
            OutFrame::Message(b) | OutFrame::Ping(b) | OutFrame::Pong(b) => b.len(),
        }
    }
}

/// The close reason of a queue that went over budget.
pub const OVERFLOW: &str = "outbound queue over budget (slow consumer)";
/// The close reason of a queue that stayed above its watermark too long.
pub const STALLED: &str =
    "outbound queue above its watermark for the stall timeout (slow consumer)";

/// The close reason of a peer that did not answer a ping in time.
pub const PING_TIMEOUT: &str = "ping timeout";
/// The close reason of every queue when the router shuts down.
pub const SHUTDOWN: &str = "router shutdown";
/// The close reason of a session killed through the meta API.
pub const KILLED: &str = "killed (meta API)";

/// Flow-control settings of a queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FlowControl {
    /// Hard byte budget: past it the slow-consumer policy applies at once.
    pub budget: usize,
    /// Soft watermark: above it the queue presses back on its feeders.
    pub watermark: usize,
    /// How long the queue may stay above the watermark while pressed.
    pub stall_timeout: Duration,
    pub policy: SlowConsumer,
}

impl FlowControl {
    /// A flow with the watermark at a quarter of `budget` and a 5 s stall timeout.
    pub fn with_budget(budget: usize, policy: SlowConsumer) -> FlowControl {
        FlowControl {
            budget,
            watermark: budget / 4,
            stall_timeout: Duration::from_secs(5),
            policy,
        }
    }
}

struct Inner {
    frames: VecDeque<OutFrame>,
    bytes: usize,
    /// The most bytes ever queued.
    peak: usize,
    /// Above the watermark: the valve is pressed.
    over: bool,
    /// Stalled under `DropEvents`: EVENTs are dropped until the queue drains.
    shedding: bool,
    closing: Option<&'static str>,
    waker: Option<Waker>,
    /// The reader waiting for the queue to close.
    close_waker: Option<Waker>,
}

/// A session's outbound frame queue.
pub struct Outbound {
    inner: RefCell<Inner>,
    budget: usize,
    watermark: usize,
    stall_timeout: Cell<Duration>,
    policy: SlowConsumer,
    /// Pressed while above the watermark.
    pressure: Rc<Pressure>,
    /// The largest message the peer accepts (its transport's limit).
    max_message: Cell<usize>,
    /// What the peer is connected by (for the meta API's session details).
    transport: OnceCell<TransportInfo>,
}

/// A connection's transport, as the meta API describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TransportInfo {
    /// `websocket` or `rawsocket`.
    pub kind: &'static str,
    /// The peer's address.
    pub peer: String,
    /// The peer's IP address (failed logins are counted per address).
    pub ip: Option<std::net::IpAddr>,
    /// Over TLS.
    pub tls: bool,
    /// The SHA-256 of the verified client certificate (TLS).
    pub client_cert: Option<[u8; 32]>,
}

impl Outbound {
    /// A queue holding at most `budget` bytes (see `FlowControl::with_budget`).
    pub fn new(budget: usize, policy: SlowConsumer) -> Self {
        Outbound::with_flow(FlowControl::with_budget(budget, policy))
    }

    /// A queue with the given flow control.
    pub fn with_flow(flow: FlowControl) -> Self {
        Outbound {
            inner: RefCell::new(Inner {
                frames: VecDeque::new(),
                bytes: 0,
                peak: 0,
                over: false,
                shedding: false,
                closing: None,
                waker: None,
                close_waker: None,
            }),
            budget: flow.budget,
            watermark: flow.watermark.min(flow.budget),
            stall_timeout: Cell::new(flow.stall_timeout),
            policy: flow.policy,
            pressure: Pressure::new(),
            max_message: Cell::new(usize::MAX),
            transport: OnceCell::new(),
        }
    }

    /// Records the connection's transport (once).
    pub fn set_transport(&self, info: TransportInfo) {
        let _ = self.transport.set(info);
    }

    /// The connection's transport, once known.
    pub fn transport(&self) -> Option<&TransportInfo> {
        self.transport.get()
    }

    /// Sets the largest message the peer accepts (once its transport is known).
    pub fn set_max_message(&self, max: usize) {
        self.max_message.set(max);
    }

    /// The largest message the peer accepts.
    pub fn max_message(&self) -> usize {
        self.max_message.get()
    }

    /// Sets the stall timeout (the realm's, once the session joined).
    pub fn set_stall_timeout(&self, timeout: Duration) {
        self.stall_timeout.set(timeout);
    }

    /// Queues one encoded message. Above the watermark, the queue's valve
    /// is recorded as met, so whoever fed the message pauses.
    pub fn push(&self, frame: Bytes, kind: FrameKind) -> Pushed {
        let mut inner = self.inner.borrow_mut();
        if inner.closing.is_some() {
            return Pushed::Closed;
        }
        if inner.shedding && kind == FrameKind::Event {
            return Pushed::Dropped;
        }
        if inner.bytes + frame.len() > self.budget && !inner.frames.is_empty() {
            if kind == FrameKind::Event && self.policy == SlowConsumer::DropEvents {
                return Pushed::Dropped;
            }
            self.close_inner(&mut inner, OVERFLOW);
            return Pushed::Overflow;
        }
        inner.bytes += frame.len();
        inner.frames.push_back(OutFrame::Message(frame));
        if inner.bytes > self.watermark {
            self.over_watermark(&mut inner);
        }
        wake(&mut inner);
        Pushed::Queued
    }

    /// Presses the valve on crossing the watermark; records it as met.
    #[cold]
    fn over_watermark(&self, inner: &mut Inner) {
        inner.peak = inner.peak.max(inner.bytes);
        if !inner.over {
            inner.over = true;
            let stall_at = Instant::now() + self.stall_timeout.get();
            self.pressure.press(Some(stall_at));
        }
        pressure::met(&self.pressure);
    }

    /// Ready when a paused feeder declared this queue stalled; then applies
    /// the slow-consumer policy and says whether the session must close.
    pub fn poll_stalled(&self, cx: &mut Context<'_>) -> Poll<bool> {
        if self.pressure.poll_stalled(cx).is_pending() {
            return Poll::Pending;
        }
        let mut inner = self.inner.borrow_mut();
        if self.policy == SlowConsumer::DropEvents {
            inner.shedding = true;
            inner.over = false;
            self.pressure.release_all();
            return Poll::Ready(false);
        }
        self.close_inner(&mut inner, STALLED);
        Poll::Ready(true)
    }

    fn close_inner(&self, inner: &mut Inner, reason: &'static str) {
        inner.closing.get_or_insert(reason);
        if std::mem::take(&mut inner.over) {
            self.pressure.release_all();
        }
        wake(inner);
    }

    /// The most bytes this queue ever held above its watermark (0 if never).
    pub fn peak_bytes(&self) -> usize {
        self.inner.borrow().peak
    }

    /// Queues a last frame (GOODBYE, ABORT) past the budget, then closes.
    pub fn push_last(&self, frame: Bytes, reason: &'static str) {
        let mut inner = self.inner.borrow_mut();
        if inner.closing.is_none() {
            inner.bytes += frame.len();
            inner.frames.push_back(OutFrame::Message(frame));
            inner.closing = Some(reason);
        }
        wake(&mut inner);
    }

    /// Queues a frame past the budget without closing (a GOODBYE reply, a pong).
    pub fn push_unbounded(&self, frame: OutFrame) {
        let mut inner = self.inner.borrow_mut();
        if inner.closing.is_none() {
            inner.bytes += frame.len();
            inner.frames.push_back(frame);
            wake(&mut inner);
        }
    }

    /// Closes the queue: the writer flushes what is queued and stops.
    pub fn close(&self, reason: &'static str) {
        let mut inner = self.inner.borrow_mut();
        self.close_inner(&mut inner, reason);
    }

    /// True when the queue closed because the consumer was too slow.
    pub fn overflowed(&self) -> bool {
        matches!(self.inner.borrow().closing, Some(OVERFLOW | STALLED))
    }

    /// Why the queue is closing, if it is.
    pub fn closing(&self) -> Option<&'static str> {
        self.inner.borrow().closing
    }

    /// Bytes queued now.
    pub fn queued_bytes(&self) -> usize {
        self.inner.borrow().bytes
    }

    /// Waits until the queue starts closing (the connection must then end).
    pub async fn wait_closed(&self) {
        poll_fn(|cx| self.poll_closed(cx)).await
    }

    /// Ready once the queue is closing; otherwise registers `cx` to be woken then.
    pub fn poll_closed(&self, cx: &mut Context<'_>) -> Poll<()> {
        let mut inner = self.inner.borrow_mut();
        if inner.closing.is_some() {
            return Poll::Ready(());
        }
        inner.close_waker = Some(cx.waker().clone());
        Poll::Pending
    }

    /// Waits until frames are ready and moves them into `out`: all of them,
    /// or as many as fit `max_bytes` (at least one), so a backed-up queue is
    /// written in bounded batches through a reused buffer.
    /// Returns `false` once the queue is closing and empty.
    pub async fn next_batch(&self, out: &mut Vec<OutFrame>, max_bytes: usize) -> bool {
        poll_fn(|cx| {
            let mut inner = self.inner.borrow_mut();
            if !inner.frames.is_empty() {
                let mut taken = 0;
                while let Some(f) = inner.frames.front() {
                    if taken > 0 && taken + f.len() > max_bytes {
                        break;
                    }
                    taken += f.len();
                    if let Some(f) = inner.frames.pop_front() {
                        out.push(f);
                    }
                }
                inner.bytes -= taken;
                if inner.bytes <= self.watermark / 2 {
                    self.drained(&mut inner);
                }
                return Poll::Ready(true);
            }
            if inner.closing.is_some() {
                return Poll::Ready(false);
            }
            inner.waker = Some(cx.waker().clone());
            Poll::Pending
        })
        .await
    }
}

impl Outbound {
    /// Below half the watermark: the feeders go on, shedding stops.
    fn drained(&self, inner: &mut Inner) {
        inner.shedding = false;
        if std::mem::take(&mut inner.over) {
            self.pressure.release();
        }
    }
}

fn wake(inner: &mut Inner) {
    if let Some(w) = inner.waker.take() {
        w.wake();
    }
    if inner.closing.is_some() {
        if let Some(w) = inner.close_waker.take() {
            w.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(n: usize) -> Bytes {
        Bytes::from(vec![0u8; n])
    }

    #[test]
    fn over_budget_disconnects_by_default() {
        let q = Outbound::new(100, SlowConsumer::Disconnect);
        assert_eq!(q.push(frame(60), FrameKind::Event), Pushed::Queued);
        assert_eq!(q.push(frame(60), FrameKind::Event), Pushed::Overflow);
        assert!(q.closing().is_some());
        assert_eq!(q.push(frame(1), FrameKind::Reply), Pushed::Closed);
    }

    #[test]
    fn drop_events_keeps_replies_or_disconnects() {
        let q = Outbound::new(100, SlowConsumer::DropEvents);
        assert_eq!(q.push(frame(60), FrameKind::Event), Pushed::Queued);
        assert_eq!(q.push(frame(60), FrameKind::Event), Pushed::Dropped);
        assert!(q.closing().is_none());
        assert_eq!(q.push(frame(60), FrameKind::Reply), Pushed::Overflow);
    }

    #[test]
    fn a_single_large_frame_fits_an_empty_queue() {
        let q = Outbound::new(10, SlowConsumer::Disconnect);
        assert_eq!(q.push(frame(50), FrameKind::Reply), Pushed::Queued);
    }

    #[test]
    fn next_batch_drains_everything_ready() {
        let q = Outbound::new(1000, SlowConsumer::Disconnect);
        q.push(frame(1), FrameKind::Event);
        q.push(frame(2), FrameKind::Event);
        let mut out = Vec::new();
        let ready = futures_lite::future::block_on(q.next_batch(&mut out, usize::MAX));
        assert!(ready);
        assert_eq!(out.len(), 2);
        assert_eq!(q.queued_bytes(), 0);
        q.push(frame(10), FrameKind::Event);
        q.push(frame(10), FrameKind::Event);
        out.clear();
        assert!(futures_lite::future::block_on(q.next_batch(&mut out, 15)));
        assert_eq!(out.len(), 1, "a batch stops at the byte limit");
        assert_eq!(q.queued_bytes(), 10);
        q.close("bye");
        out.clear();
        assert!(futures_lite::future::block_on(q.next_batch(&mut out, 15)));
        out.clear();
        assert!(!futures_lite::future::block_on(
            q.next_batch(&mut out, usize::MAX)
        ));
    }
}
