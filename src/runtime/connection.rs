//! The connection task: the only code doing socket I/O for its session. The
//! reader decodes frames and feeds them to the handshake, then to the
//! shard; the writer drains the session's outbound queue, many frames per
//! write. Deadlines (handshake timeout, pings) are entries in the shard's
//! wheel, never a timer of the connection's own.
//!
//! Each connection has a span (peer, transport, serializer, session) that
//! is entered where the connection logs, not around every poll: entering a
//! span costs the subscriber a call per poll on the hot path.

use super::addresses::{AddressLimits, Admitted};
use super::auth_answers::{AuthWait, AuthWaits};
use super::deadlines::Deadlines;
use super::live::LiveConns;
use crate::auth::Answer;
use crate::session::deadlines::{ConnDeadline, ConnTimer, Liveness};
use crate::session::handshake::{abort, Handshake as Login};
use crate::session::notify::Notify;
use crate::session::outbound::{FlowControl, OutFrame, Outbound, TransportInfo};
use crate::session::pressure::{self, Pressure};
use crate::session::{Flow, SessionEnd, ViolationKind};
use crate::shard::{HandshakeOutcome, Shard};
use crate::transport::tls::TlsServer;
use crate::transport::{self, AcceptOptions, FrameReader, FrameWriter, Inbound, TransportKind};
use crate::transport::{Conn, Handshake};
use crate::wire::counts::TypeCells;
use crate::wire::{
    decode, encode_to_bytes, CloseReason, Dict, ErrorUri, Message, RequestId, Serializer,
    SessionId, Text, Value,
};
use bytes::{Bytes, BytesMut};
use futures_lite::future::or;
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

/// The most bytes of queued messages written in one batch.
const WRITE_BATCH: usize = 256 * 1024;

/// What every connection of a listener needs.
pub struct ConnectionContext {
    pub shard: Rc<RefCell<Shard>>,
    pub accept: AcceptOptions,
    pub handshake_timeout: Duration,
    pub max_sessions: usize,
    /// Each session's outbound budget, watermark, stall timeout and policy.
    pub flow: FlowControl,
    /// Connections alive on this shard (for a graceful shutdown).
    pub live: Rc<LiveConns>,
    /// The shard's deadline wheel.
    pub deadlines: Rc<Deadlines>,
    /// How idle peers are pinged (`None`: never).
    pub liveness: Option<Liveness>,
    /// Whether RawSocket peers are pinged (WebSocket peers always are).
    pub ping_rawsocket: bool,
    /// Handshakes waiting for a dynamic authenticator.
    pub auth_waits: Rc<AuthWaits>,
    /// The TLS configuration of a TLS listener.
    pub tls: Option<Arc<TlsServer>>,
    /// Per-address connection and handshake limits (`None`: none set).
    pub addresses: Option<Rc<AddressLimits>>,
}

/// An accepted socket, before any handshake.
pub enum Incoming {
    Tcp(glommio::net::TcpStream),
    Unix(glommio::net::UnixStream),
}

/// The TLS handshake (on a TLS listener), then the transport's.
async fn open(
    incoming: Incoming,
    ctx: &ConnectionContext,
) -> Result<(Handshake, FrameReader, FrameWriter), transport::TransportError> {
    let conn = match (incoming, &ctx.tls) {
        (Incoming::Tcp(s), Some(tls)) => {
            let acceptor = futures_rustls::TlsAcceptor::from(tls.config());
            // Boxed: a plain connection's task need not hold TLS state.
            Conn::TlsServer(Box::new(Box::pin(acceptor.accept(s)).await?))
        }
        (Incoming::Tcp(s), None) => Conn::Tcp(s),
        (Incoming::Unix(s), _) => Conn::Unix(s),
    };
    transport::accept(conn, &ctx.accept).await
}

/// Runs one accepted connection to its end.
pub async fn run_connection(
    ctx: Rc<ConnectionContext>,
    incoming: Incoming,
    admitted: Option<Admitted>,
) {
    let peer_addr = match &incoming {
        Incoming::Tcp(s) => s.peer_addr().ok(),
        Incoming::Unix(_) => None,
    };
    let peer = match (&incoming, peer_addr) {
        (Incoming::Unix(_), _) => "unix".to_owned(),
        (_, Some(a)) => a.to_string(),
        (_, None) => "unknown".to_owned(),
    };
    let span = tracing::info_span!(
        "conn",
        peer = %peer,
        transport = tracing::field::Empty,
        serializer = tracing::field::Empty,
        session = tracing::field::Empty,
    );
    let outbound = Rc::new(Outbound::with_flow(ctx.flow));
    let now = Instant::now();
    let timer = ConnTimer::new(outbound.clone(), now);
    let _live = ctx.live.enter(&timer);
    let handshake = ConnDeadline::Handshake(Rc::downgrade(&timer));
    ctx.deadlines.add(now + ctx.handshake_timeout, handshake);
    // Transport handshake and HELLO must both finish before the flag rises.
    let accepting = async { Some(open(incoming, &ctx).await) };
    let (hs, reader, writer) = match or(accepting, until(&timer.handshake_expired)).await {
        Some(Ok(parts)) => parts,
        Some(Err(e)) => {
            return span.in_scope(|| tracing::debug!(error = %e, "transport handshake failed"))
        }
        None => return span.in_scope(|| tracing::debug!("transport handshake timed out")),
    };
    let parts = Established {
        hs,
        reader,
        writer,
        peer,
        peer_addr,
        admitted,
        span,
    };
    // Boxed: until here the task holds only the handshake's state.
    Box::pin(serve(&ctx, &outbound, &timer, parts)).await;
}

/// A connection through its transport handshake.
struct Established {
    hs: Handshake,
    reader: FrameReader,
    writer: FrameWriter,
    peer: String,
    peer_addr: Option<std::net::SocketAddr>,
    admitted: Option<Admitted>,
    span: tracing::Span,
}

/// Runs a connection from the end of its transport handshake: the writer
/// task, pings, and the reader until the session ends.
async fn serve(
    ctx: &Rc<ConnectionContext>,
    outbound: &Rc<Outbound>,
    timer: &Rc<ConnTimer>,
    parts: Established,
) {
    let Established {
        hs,
        mut reader,
        writer,
        peer,
        peer_addr,
        admitted,
        span,
    } = parts;
    span.record("transport", tracing::field::debug(hs.kind));
    span.record("serializer", hs.serializer.name());
    outbound.set_max_message(writer.peer_max_message_size());
    outbound.set_transport(TransportInfo {
        kind: match hs.kind {
            TransportKind::WebSocket => "websocket",
            TransportKind::RawSocket => "rawsocket",
        },
        peer: peer.clone(),
        ip: peer_addr.map(|a| a.ip()),
        tls: ctx.tls.is_some(),
        client_cert: hs.client_cert,
    });
    // The close code the writer ends with: 1000 unless the peer's framing
    // was at fault (1002, 1007, 1009).
    let close_code = Rc::new(Cell::new(1000));
    let writer = run_writer(
        writer,
        outbound.clone(),
        hs.serializer,
        ctx.shard.borrow().sent_counter(),
        close_code.clone(),
        span.clone(),
    );
    let writer_task = glommio::spawn_local(writer);
    if let Some(l) = ctx.liveness {
        if hs.kind == TransportKind::WebSocket || ctx.ping_rawsocket {
            let every = ConnDeadline::Liveness(Rc::downgrade(timer), l);
            ctx.deadlines.add(Instant::now() + l.every, every);
        }
    }
    let mut session = SessionState {
        ctx,
        serializer: hs.serializer,
        outbound,
        timer,
        handshake: Login::default(),
        asking: None,
        id: None,
        close_code: &close_code,
        paused: Vec::new(),
        admitted,
        span,
    };
    session.run(&mut reader).await;
    if let Some((request, _)) = session.asking.take() {
        ctx.auth_waits.remove(request);
    }
    if let Some(sid) = session.id.take() {
        let why = SessionEnd::of_queue(outbound.closing());
        ctx.shard.borrow_mut().close_session(sid, why);
    }
    outbound.close("connection closed");
    writer_task.await;
}

/// The reader side of one connection.
struct SessionState<'a> {
    ctx: &'a ConnectionContext,
    serializer: Serializer,
    outbound: &'a Rc<Outbound>,
    timer: &'a ConnTimer,
    handshake: Login,
    /// The authenticator call the handshake waits for.
    asking: Option<(RequestId, Rc<AuthWait>)>,
    id: Option<SessionId>,
    /// The close code the writer sends.
    close_code: &'a Cell<u16>,
    /// The valves the last message met: nothing is read until they release.
    paused: Vec<Rc<Pressure>>,
    /// This connection's place in its address's limits.
    admitted: Option<Admitted>,
    span: tracing::Span,
}

/// What woke the reader.
enum Wake {
    Read(Result<Option<Inbound>, transport::TransportError>),
    /// The queue closed (slow consumer, shutdown, ping timeout).
    Closed,
    /// A paused feeder declared this session's queue stalled; the policy
    /// was applied (`true`: the session must close).
    Stalled(bool),
    /// The handshake deadline passed.
    Expired,
    /// The authenticator the handshake asked answered.
    Answered(Answer),
}

impl SessionState<'_> {
    /// The next frame, or why there is none. One pinned read future polled
    /// beside the close and deadline flags: nothing is moved per frame.
    async fn next(&self, reader: &mut FrameReader) -> Wake {
        let expired = self
            .timer
            .handshaking
            .get()
            .then_some(&self.timer.handshake_expired);
        let mut read = std::pin::pin!(reader.next());
        let asking = self.asking.as_ref().map(|(_, wait)| wait);
        std::future::poll_fn(|cx| {
            if let Some(wait) = asking {
                if wait.ready.poll_wait(cx).is_ready() {
                    if let Some(answer) = wait.take() {
                        return Poll::Ready(Wake::Answered(answer));
                    }
                }
            }
            if let Poll::Ready(r) = read.as_mut().poll(cx) {
                return Poll::Ready(Wake::Read(r));
            }
            if let Poll::Ready(wake) = self.poll_own_queue(cx) {
                return Poll::Ready(wake);
            }
            match expired.map(|flag| flag.poll_wait(cx)) {
                Some(Poll::Ready(())) => Poll::Ready(Wake::Expired),
                _ => Poll::Pending,
            }
        })
        .await
    }

    /// Whether this session's own queue closed or stalled.
    fn poll_own_queue(&self, cx: &mut std::task::Context<'_>) -> Poll<Wake> {
        if let Poll::Ready(close) = self.outbound.poll_stalled(cx) {
            return Poll::Ready(Wake::Stalled(close));
        }
        if self.outbound.poll_closed(cx).is_ready() {
            return Poll::Ready(Wake::Closed);
        }
        Poll::Pending
    }

    /// Stops reading until the valves the last message met are released
    /// (or this session's own queue closes or stalls: then that wake).
    async fn pause(&mut self) -> Option<Wake> {
        self.ctx.shard.borrow_mut().stats.flow_pauses += 1;
        let mut paused = std::mem::take(&mut self.paused);
        let own = std::future::poll_fn(|cx| self.poll_own_queue(cx));
        let wake = pressure::wait_released_or(&mut paused, own).await;
        self.paused = paused;
        wake
    }

    /// Counts a stall of this session's queue; `false` ends the connection.
    fn on_stalled(&mut self, close: bool) -> bool {
        let mut shard = self.ctx.shard.borrow_mut();
        shard.stats.flow_stalls += 1;
        if close {
            shard.stats.slow_consumer_disconnects += 1;
        }
        !close
    }

    async fn run(&mut self, reader: &mut FrameReader) {
        loop {
            let wake = match self.paused.is_empty() {
                true => None,
                false => self.pause().await,
            };
            let wake = match wake {
                Some(wake) => wake,
                None => self.next(reader).await,
            };
            let next = match wake {
                Wake::Read(next) => next,
                Wake::Closed => return,
                Wake::Stalled(close) => {
                    if !self.on_stalled(close) {
                        return;
                    }
                    continue;
                }
                Wake::Expired if self.asking.is_some() => {
                    return self.refuse_late_authenticator();
                }
                Wake::Expired if self.handshake.is_fresh() => {
                    let why = "no HELLO within the handshake timeout";
                    return self.violation(ViolationKind::Handshake, why);
                }
                Wake::Expired => {
                    let why = "the login did not finish within the handshake timeout";
                    return self.violation(ViolationKind::Handshake, why);
                }
                Wake::Answered(answer) => {
                    if !self.on_answer(answer) {
                        return;
                    }
                    continue;
                }
            };
            self.timer.seen(Instant::now());
            let frame = match next {
                Ok(Some(Inbound::Message(frame))) => frame,
                Ok(Some(Inbound::Ping(p))) => {
                    self.outbound.push_unbounded(OutFrame::Pong(p));
                    continue;
                }
                Ok(Some(Inbound::Pong(_))) => continue,
                Ok(Some(Inbound::Close)) | Ok(None) => return,
                Err(e) => {
                    if let Some(code) = e.close_code() {
                        self.close_code.set(code);
                    }
                    return self
                        .span
                        .in_scope(|| tracing::debug!(error = %e, "transport error"));
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
                self.violation(ViolationKind::Decode, &e.to_string());
                return false;
            }
        };
        match self.id {
            None => self.on_handshake(msg),
            Some(sid) => self.on_established(sid, msg),
        }
    }

    fn on_handshake(&mut self, msg: Message) -> bool {
        let outcome = self.ctx.shard.borrow_mut().on_handshake(
            &mut self.handshake,
            msg,
            self.serializer,
            self.outbound,
            self.ctx.max_sessions,
        );
        self.on_outcome(outcome)
    }

    /// Goes on with the handshake once its authenticator answered.
    fn on_answer(&mut self, answer: Answer) -> bool {
        self.asking = None;
        let outcome = self.ctx.shard.borrow_mut().on_auth_answer(
            &mut self.handshake,
            answer,
            self.serializer,
            self.outbound,
            self.ctx.max_sessions,
        );
        self.on_outcome(outcome)
    }

    /// The handshake timeout passed while an authenticator was asked.
    fn refuse_late_authenticator(&mut self) {
        if let Some((request, _)) = self.asking.take() {
            self.ctx.auth_waits.remove(request);
        }
        let m = abort(
            ErrorUri::AuthenticationFailed,
            "the authenticator did not answer within the handshake timeout",
        );
        self.send_last(&m, "authenticator timeout");
    }

    fn on_outcome(&mut self, outcome: HandshakeOutcome) -> bool {
        match outcome {
            HandshakeOutcome::Welcomed(o) => {
                self.send(&o.welcome);
                self.id = Some(o.session);
                self.span.record("session", o.session.0);
                // Welcomed: the handshake deadline no longer applies.
                self.timer.handshaking.set(false);
                if let Some(a) = &mut self.admitted {
                    a.welcomed();
                }
                true
            }
            HandshakeOutcome::Send(m) => {
                self.send(&m);
                true
            }
            HandshakeOutcome::Abort(m) => {
                let _in = self.span.enter();
                tracing::debug!(reason = ?abort_reason(&m), "session refused");
                self.send_last(&m, "session refused");
                false
            }
            HandshakeOutcome::Asking(request) => {
                self.asking = Some((request, self.ctx.auth_waits.add(request)));
                true
            }
            HandshakeOutcome::Closed => false,
        }
    }

    fn on_established(&mut self, sid: SessionId, msg: Message) -> bool {
        pressure::clear_met();
        let flow = self.ctx.shard.borrow_mut().handle_message(sid, msg);
        pressure::take_met(&mut self.paused);
        match flow {
            Ok(Flow::Continue) => true,
            Ok(Flow::Goodbye) => {
                self.id = None;
                self.handshake = Login::default();
                let reply = Message::Goodbye {
                    details: Dict::new(),
                    reason: Text::from(CloseReason::GoodbyeAndOut),
                };
                self.send(&reply);
                true
            }
            Ok(Flow::Aborted) => {
                self.id = None;
                false
            }
            Err(v) => {
                self.violation(v.1, &v.0);
                false
            }
        }
    }

    /// Aborts the session with `wamp.error.protocol_violation` and cleans it up.
    fn violation(&mut self, kind: ViolationKind, message: &str) {
        self.span
            .in_scope(|| tracing::debug!(reason = message, "protocol violation"));
        let mut shard = self.ctx.shard.borrow_mut();
        shard.stats.count_violation(kind);
        if let Some(sid) = self.id.take() {
            shard.close_session(sid, SessionEnd::ProtocolViolation);
        }
        drop(shard);
        self.send_last(
            &abort(ErrorUri::ProtocolViolation, message),
            "protocol violation",
        );
    }

    fn send(&self, msg: &Message) {
        let frame = encode_to_bytes(self.serializer, msg);
        self.outbound.push_unbounded(OutFrame::Message(frame));
    }

    fn send_last(&self, msg: &Message, reason: &'static str) {
        self.outbound
            .push_last(encode_to_bytes(self.serializer, msg), reason);
    }
}

fn abort_reason(m: &Message) -> &str {
    match m {
        Message::Abort { reason, .. } => reason.as_str(),
        other => other.name(),
    }
}

/// Resolves (to `None`) once `flag` rises.
async fn until<T>(flag: &Notify) -> Option<T> {
    flag.wait().await;
    None
}

/// Writes everything queued, one write per batch, until the queue closes;
/// counts the messages sent per type into the shard's `sent`.
async fn run_writer(
    mut writer: FrameWriter,
    outbound: Rc<Outbound>,
    serializer: Serializer,
    sent: Rc<TypeCells>,
    close_code: Rc<Cell<u16>>,
    span: tracing::Span,
) {
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
                OutFrame::Message(m) => {
                    sent.count_frame(serializer, m);
                    enc.message(&mut buf, m)
                }
                OutFrame::Ping(p) => enc.ping(&mut buf, p),
                OutFrame::Pong(p) => enc.pong(&mut buf, p),
            };
            if !framed {
                let _in = span.enter();
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
        let details = Dict::new().with("message", Value::str(crate::session::outbound::OVERFLOW));
        let msg = Message::Abort {
            details,
            reason: Text::from(ErrorUri::SlowConsumer),
            payload: Default::default(),
        };
        enc.message(&mut buf, &encode_to_bytes(serializer, &msg));
        sent.add(msg.code());
    }
    enc.close(&mut buf, close_code.get(), "");
    let _ = writer.write_all(&buf).await;
    writer.shutdown().await;
}
