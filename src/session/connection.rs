//! The connection task: the only code doing socket I/O for its session. The
//! reader decodes frames and runs the session state machine (HELLO, the
//! established session, GOODBYE, protocol violations); the writer drains the
//! session's outbound queue, many frames per write.

use super::outbound::{OutFrame, Outbound, SlowConsumer};
use crate::shard::mesh::Notify;
use crate::shard::session_ops::{abort, Flow};
use crate::shard::Shard;
use crate::transport::{self, AcceptOptions, FrameReader, FrameWriter, Inbound, TransportKind};
use crate::wire::{decode, encode_to_bytes, Dict, Message, Serializer, SessionId, Text, Value};
use bytes::{Bytes, BytesMut};
use futures_lite::future::or;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

/// The most bytes of queued messages written in one batch.
const WRITE_BATCH: usize = 256 * 1024;

/// What every connection of a listener needs.
pub struct ConnectionContext {
    pub shard: Rc<RefCell<Shard>>,
    pub accept: AcceptOptions,
    pub handshake_timeout: Duration,
    pub max_sessions: usize,
    pub outbound_budget: usize,
    pub slow_consumer: SlowConsumer,
    /// Connections alive on this shard (for a graceful shutdown).
    pub live: Rc<Cell<usize>>,
    /// The shard's handshake deadlines (no timer per connection).
    pub deadlines: Rc<super::deadlines::Deadlines>,
    /// Idle time before a peer is pinged (`None`: never).
    pub ping_interval: Option<Duration>,
    /// How long a pinged peer has to send anything.
    pub ping_timeout: Duration,
    /// Whether RawSocket peers are pinged (WebSocket peers always are).
    pub ping_rawsocket: bool,
}

/// Counts a live connection for as long as it exists.
struct LiveGuard(Rc<Cell<usize>>);

impl Drop for LiveGuard {
    fn drop(&mut self) {
        self.0.set(self.0.get().saturating_sub(1));
    }
}

/// Runs one accepted connection to its end.
pub async fn run_connection(ctx: Rc<ConnectionContext>, stream: glommio::net::TcpStream) {
    ctx.live.set(ctx.live.get() + 1);
    let _guard = LiveGuard(ctx.live.clone());
    // Transport handshake and HELLO must both finish before this flag rises.
    let expired = ctx.deadlines.watch(ctx.handshake_timeout);
    let accepting = async { Some(transport::accept(stream, &ctx.accept).await) };
    let (hs, mut reader, writer) = match or(accepting, until(&expired)).await {
        Some(Ok(parts)) => parts,
        Some(Err(e)) => {
            tracing::debug!(error = %e, "transport handshake failed");
            return;
        }
        None => {
            tracing::debug!("transport handshake timed out");
            return;
        }
    };
    let outbound = Rc::new(Outbound::new(ctx.outbound_budget, ctx.slow_consumer));
    let writer_task = glommio::spawn_local(run_writer(writer, outbound.clone(), hs.serializer));
    let last_seen = Rc::new(Cell::new(Instant::now()));
    let pinger = match ctx.ping_interval {
        Some(every) if hs.kind == TransportKind::WebSocket || ctx.ping_rawsocket => {
            let task = run_liveness(outbound.clone(), last_seen.clone(), every, ctx.ping_timeout);
            Some(glommio::spawn_local(task).detach())
        }
        _ => None,
    };
    let mut session = SessionState {
        ctx: &ctx,
        serializer: hs.serializer,
        outbound: &outbound,
        id: None,
        last_seen,
        expired: Some(expired),
    };
    session.run(&mut reader).await;
    if let Some(p) = pinger {
        p.cancel();
    }
    if let Some(sid) = session.id.take() {
        ctx.shard.borrow_mut().close_session(sid);
    }
    outbound.close("connection closed");
    writer_task.await;
}

/// The reader side of one connection.
struct SessionState<'a> {
    ctx: &'a ConnectionContext,
    serializer: Serializer,
    outbound: &'a Rc<Outbound>,
    id: Option<SessionId>,
    /// When the peer last sent anything (for the liveness check).
    last_seen: Rc<Cell<Instant>>,
    /// Raised when the handshake deadline passes; dropped once welcomed.
    expired: Option<Rc<Notify>>,
}

impl SessionState<'_> {
    async fn run(&mut self, reader: &mut FrameReader) {
        loop {
            let outbound = self.outbound.clone();
            let expired = self.expired.clone();
            let read = or(async { Some(reader.next().await) }, async {
                outbound.wait_closed().await;
                None
            });
            let next = match or(async { Some(read.await) }, async {
                until_opt(expired.as_deref()).await
            })
            .await
            {
                Some(next) => next,
                None => return self.violation("no HELLO within the handshake timeout"),
            };
            // The queue closed (slow consumer, shutdown): the session ends.
            let Some(next) = next else { return };
            self.last_seen.set(Instant::now());
            let frame = match next {
                Ok(Some(Inbound::Message(frame))) => frame,
                Ok(Some(Inbound::Ping(p))) => {
                    self.outbound.push_unbounded(OutFrame::Pong(p));
                    continue;
                }
                Ok(Some(Inbound::Pong(_))) => continue,
                Ok(Some(Inbound::Close)) | Ok(None) => return,
                Err(e) => {
                    tracing::debug!(error = %e, "transport error");
                    return;
                }
            };
            if !self.on_frame(frame) {
                return;
            }
        }
    }

    /// Handles one frame; `false` ends the connection.
    fn on_frame(&mut self, frame: Bytes) -> bool {
        let msg = match decode(self.serializer, frame) {
            Ok(msg) => msg,
            Err(e) => {
                self.violation(&e.to_string());
                return false;
            }
        };
        match self.id {
            None => self.on_hello(msg),
            Some(sid) => self.on_established(sid, msg),
        }
    }

    fn on_hello(&mut self, msg: Message) -> bool {
        match msg {
            Message::Hello { realm, details } => {
                let opened = self.ctx.shard.borrow_mut().open_session(
                    realm,
                    &details,
                    self.serializer,
                    self.outbound.clone(),
                    self.ctx.max_sessions,
                );
                match opened {
                    Ok(o) => {
                        self.outbound
                            .push_unbounded(OutFrame::Message(encode_to_bytes(
                                self.serializer,
                                &o.welcome,
                            )));
                        self.id = Some(o.session);
                        // Welcomed: the handshake deadline no longer applies.
                        self.expired = None;
                        true
                    }
                    Err(refused) => {
                        self.send_last(&refused.to_abort(), "session refused");
                        false
                    }
                }
            }
            Message::Abort { .. } => false,
            other => {
                self.violation(&format!("{} received before HELLO", other.name()));
                false
            }
        }
    }

    fn on_established(&mut self, sid: SessionId, msg: Message) -> bool {
        let flow = self.ctx.shard.borrow_mut().handle_message(sid, msg);
        match flow {
            Ok(Flow::Continue) => true,
            Ok(Flow::Goodbye) => {
                self.id = None;
                let reply = Message::Goodbye {
                    details: Dict::new(),
                    reason: Text::from_static("wamp.close.goodbye_and_out"),
                };
                self.outbound
                    .push_unbounded(OutFrame::Message(encode_to_bytes(self.serializer, &reply)));
                true
            }
            Ok(Flow::Aborted) => {
                self.id = None;
                false
            }
            Err(v) => {
                self.violation(&v.0);
                false
            }
        }
    }

    /// Aborts the session with `wamp.error.protocol_violation` and cleans it up.
    fn violation(&mut self, message: &str) {
        if let Some(sid) = self.id.take() {
            self.ctx.shard.borrow_mut().close_session(sid);
        }
        self.send_last(
            &abort("wamp.error.protocol_violation", message),
            "protocol violation",
        );
    }

    fn send_last(&self, msg: &Message, reason: &'static str) {
        self.outbound
            .push_last(encode_to_bytes(self.serializer, msg), reason);
    }
}

/// Resolves (to `None`) once `flag` rises.
async fn until<T>(flag: &Notify) -> Option<T> {
    flag.wait().await;
    None
}

/// `until`, or never when there is no flag.
async fn until_opt<T>(flag: Option<&Notify>) -> Option<T> {
    match flag {
        Some(f) => until(f).await,
        None => std::future::pending().await,
    }
}

/// Pings an idle peer every `every`; closes the connection when a pinged
/// peer sends nothing within `timeout`.
async fn run_liveness(
    outbound: Rc<Outbound>,
    last_seen: Rc<Cell<Instant>>,
    every: Duration,
    timeout: Duration,
) {
    loop {
        glommio::timer::sleep(every).await;
        if outbound.closing().is_some() {
            return;
        }
        if last_seen.get().elapsed() < every {
            continue;
        }
        let sent = Instant::now();
        outbound.push_unbounded(OutFrame::Ping(Bytes::from_static(b"switchyard")));
        glommio::timer::sleep(timeout).await;
        if last_seen.get() < sent {
            tracing::debug!("peer did not answer a ping in time");
            outbound.close("ping timeout");
            return;
        }
    }
}

/// Writes everything queued, one write per batch, until the queue closes.
async fn run_writer(mut writer: FrameWriter, outbound: Rc<Outbound>, serializer: Serializer) {
    let enc = writer.encoder();
    let peer_max = writer.peer_max_message_size();
    let mut batch = Vec::new();
    // Allocated on first use, reused while busy, released when idle.
    let mut buf = BytesMut::new();
    while outbound.next_batch(&mut batch, WRITE_BATCH).await {
        buf.clear();
        for f in batch.drain(..) {
            let framed = match &f {
                OutFrame::Message(m) if m.len() > peer_max => false,
                OutFrame::Message(m) => enc.message(&mut buf, m),
                OutFrame::Ping(p) => enc.ping(&mut buf, p),
                OutFrame::Pong(p) => enc.pong(&mut buf, p),
            };
            if !framed {
                tracing::warn!(
                    len = f.len(),
                    peer_max,
                    "frame too large for the peer; not sent"
                );
            }
        }
        if writer.write_all(&buf).await.is_err() {
            break;
        }
        if buf.capacity() > 16 * 1024 && outbound.queued_bytes() == 0 {
            buf = BytesMut::new();
        }
    }
    buf.clear();
    if outbound.overflowed() {
        let details = Dict::new().with("message", Value::str(super::outbound::OVERFLOW));
        let msg = Message::Abort {
            details,
            reason: Text::from_static("switchyard.error.slow_consumer"),
            payload: Default::default(),
        };
        enc.message(&mut buf, &encode_to_bytes(serializer, &msg));
    }
    enc.close(&mut buf, 1000, "");
    let _ = writer.write_all(&buf).await;
    writer.shutdown().await;
}
