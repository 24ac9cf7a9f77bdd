//! One WAMP client connection of the load generator, on the project's own
//! transport and codecs: join (HELLO -> [CHALLENGE -> AUTHENTICATE] ->
//! WELCOME, with clear errors for an ABORT, a refused handshake or a silent
//! router), batched sends, and received messages decoded one at a time.

use crate::login::Login;
use anyhow::{anyhow, bail, Context, Result};
use bytes::BytesMut;
use std::time::Duration;
use switchyard::transport::{
    connect_to, ClientOptions, Compression, FrameReader, FrameWriter, Inbound,
};
use switchyard::wire::{decode, encode, Dict, Message, Serializer, SessionId, Text};

/// How long a router may take to answer the handshake or a request.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct Target {
    pub url: String,
    pub serializer: Serializer,
    pub realm: String,
    /// How every session logs in.
    pub login: Login,
    /// Local addresses to connect from, in turn (empty: the kernel picks).
    pub sources: Vec<std::net::IpAddr>,
    /// The TLS client configuration of a wss:// or rss:// URL.
    pub tls: Option<std::sync::Arc<rustls::ClientConfig>>,
    /// Offer WebSocket permessage-deflate.
    pub compression: bool,
}

/// Which source address the next connection uses.
static NEXT_SOURCE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// An established WAMP session.
pub struct Conn {
    pub reader: FrameReader,
    pub writer: FrameWriter,
    pub serializer: Serializer,
    pub session: SessionId,
    /// The router's `agent` from WELCOME.
    pub agent: String,
    out: BytesMut,
    msg: BytesMut,
    next_request: u64,
}

/// HELLO: every role, with the RPC features the `rpc` scenario uses
/// (progressive call results; the callee also accepts INTERRUPT).
fn hello(target: &Target) -> Message {
    let features = |f: Dict| Dict::new().with("features", f);
    let progressive = Dict::new().with("progressive_call_results", true);
    let roles = Dict::new()
        .with("publisher", Dict::new())
        .with("subscriber", Dict::new())
        .with("caller", features(progressive.clone()))
        .with("callee", features(progressive.with("call_canceling", true)));
    let mut details = Dict::new()
        .with("roles", roles)
        .with("agent", "switchyard-load");
    target.login.hello_details(&mut details);
    Message::Hello {
        realm: Text::from(target.realm.as_str()),
        details,
    }
}

impl Conn {
    /// Connects and joins the realm.
    pub async fn join(target: &Target) -> Result<Conn> {
        let n = NEXT_SOURCE.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let source = (!target.sources.is_empty()).then(|| target.sources[n % target.sources.len()]);
        let tls = target.tls.as_ref();
        let opts = ClientOptions {
            max_message_size: 16 << 20,
            compression: target
                .compression
                .then_some(Compression { threshold: 1024 }),
        };
        let connecting = connect_to(&target.url, target.serializer, opts, source, tls);
        let (reader, writer) = glommio::timer::timeout(ANSWER_TIMEOUT, async {
            connecting
                .await
                .map_err(|e| glommio::GlommioError::IoError(e.into()))
        })
        .await
        .map_err(|e| anyhow!("connecting to {}: {e}", target.url))?;
        let mut c = Conn {
            reader,
            writer,
            serializer: target.serializer,
            session: SessionId(0),
            agent: String::new(),
            out: BytesMut::new(),
            msg: BytesMut::new(),
            next_request: 0,
        };
        c.queue(&hello(target));
        c.flush().await?;
        let mut reply = c.recv_timeout(ANSWER_TIMEOUT).await?;
        if let Message::Challenge { auth_method, extra } = &reply {
            let answer = target
                .login
                .answer(auth_method.as_str(), extra)
                .with_context(|| format!("logging in with {}", target.login))?;
            c.queue(&answer);
            c.flush().await?;
            reply = c.recv_timeout(ANSWER_TIMEOUT).await?;
        }
        match reply {
            Message::Welcome { session, details } => {
                c.session = session;
                c.agent = details
                    .get_str("agent")
                    .ok()
                    .flatten()
                    .unwrap_or("unknown")
                    .to_string();
                Ok(c)
            }
            Message::Abort {
                reason, details, ..
            } => {
                let why = details
                    .get_str("message")
                    .ok()
                    .flatten()
                    .unwrap_or("")
                    .to_string();
                let login = match target.login.authmethod() {
                    "anonymous" => String::new(),
                    _ => format!(" (logging in with {})", target.login),
                };
                bail!("the router refused the session: {reason} {why}{login}")
            }
            other => bail!("expected WELCOME, got {}", other.name()),
        }
    }

    /// The next request ID of this session.
    pub fn request(&mut self) -> u64 {
        self.next_request += 1;
        self.next_request
    }

    /// Frames `msg` into the send buffer (sent by `flush`).
    pub fn queue(&mut self, msg: &Message) {
        self.msg.clear();
        encode(self.serializer, msg, &mut self.msg);
        self.writer.encoder().message(&mut self.out, &self.msg);
    }

    /// Bytes waiting in the send buffer.
    pub fn queued(&self) -> usize {
        self.out.len()
    }

    /// Writes everything queued, in one write.
    pub async fn flush(&mut self) -> Result<()> {
        if !self.out.is_empty() {
            self.writer
                .write_all(&self.out)
                .await
                .context("writing to the router")?;
            self.out.clear();
        }
        Ok(())
    }

    /// The next WAMP message (pings answered).
    pub async fn recv(&mut self) -> Result<Message> {
        loop {
            match self
                .reader
                .next()
                .await
                .context("reading from the router")?
            {
                Some(Inbound::Message(frame)) => {
                    return decode(self.serializer, frame)
                        .map_err(|e| anyhow!("undecodable message: {e}"))
                }
                Some(Inbound::Ping(p)) => {
                    self.writer.encoder().pong(&mut self.out, &p);
                    self.flush().await?;
                }
                Some(Inbound::Pong(_)) => {}
                Some(Inbound::Close) | None => bail!("the router closed the connection"),
            }
        }
    }

    /// `recv`, failing when nothing arrives within `limit`.
    pub async fn recv_timeout(&mut self, limit: Duration) -> Result<Message> {
        match self.recv_within(limit).await? {
            Some(m) => Ok(m),
            None => bail!("no answer from the router within {limit:?}"),
        }
    }

    /// `recv`, or `Ok(None)` when nothing arrives within `limit`. A failed
    /// connection is an error (never a busy loop of timeouts).
    pub async fn recv_within(&mut self, limit: Duration) -> Result<Option<Message>> {
        let received = futures_lite::future::or(async { Some(self.recv().await) }, async {
            glommio::timer::sleep(limit).await;
            None
        });
        received.await.transpose()
    }

    /// Sends GOODBYE and waits (briefly) for the reply.
    pub async fn goodbye(&mut self) -> Result<()> {
        self.queue(&Message::Goodbye {
            details: Dict::new(),
            reason: Text::from_static("wamp.close.close_realm"),
        });
        self.flush().await?;
        loop {
            if let Message::Goodbye { .. } = self.recv_timeout(ANSWER_TIMEOUT).await? {
                return Ok(());
            }
        }
    }
}
