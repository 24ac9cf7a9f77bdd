//! The runtime, the only async layer: starts one glommio executor per shard
//! (pinned or not), wires the mesh, binds every listener on every shard
//! (SO_REUSEPORT: the kernel spreads connections), runs the connection
//! tasks and each shard's deadline sweeper, serves the operators' HTTP
//! endpoints (metrics, health, status) and the HTTP bridge on shard 0,
//! supervises the shard threads, and stops it all gracefully.
//!
//! Shard 0 binds first so that a port 0 in the configuration resolves to one
//! port that the other shards then share. `start` returns once every shard
//! listens, so callers (tests included) never wait by sleeping. A shard that
//! panics is logged with its id and stops the router; `Running::join` then
//! reports it, and the binary exits non-zero.

mod addresses;
mod auth_answers;
mod auth_options;
mod bridge;
mod connection;
mod deadlines;
mod fds;
mod http;
mod listener;
mod live;
pub mod mesh;
pub use stop::Stop;
mod options;
mod stop;
mod unix;

pub use bridge::{BridgeOptions, Signing};
pub use fds::raise_nofile_limit;
pub use http::{MAX_HEAD as HTTP_MAX_HEAD, SHARD_ANSWER_BOUND};

use crate::realm::ids::MAX_SHARDS;
use crate::session::outbound::SlowConsumer;
use crate::shard::Settings;
use crate::transport::tls::{TlsFiles, TlsServer};
use crate::transport::AcceptOptions;
use glommio::{LocalExecutorBuilder, Placement};
use std::io;
use std::net::SocketAddr;
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Duration;
use tracing::Instrument;

/// One listening endpoint.
#[derive(Debug, Clone)]
pub struct ListenerOptions {
    pub address: SocketAddr,
    pub accept: AcceptOptions,
    /// TLS on this listener (its files are loaded at start, and again on
    /// `Running::reload_tls`).
    pub tls: Option<TlsFiles>,
}

/// RawSocket on a Unix domain socket (served by shard 0).
#[derive(Debug, Clone)]
pub struct UnixOptions {
    pub path: std::path::PathBuf,
    /// The socket file's permission bits.
    pub mode: u32,
    pub accept: AcceptOptions,
}

/// The TCP listeners, in the order of `RouterOptions::listeners` and of
/// the addresses shard 0 reports.
pub const LISTENERS: usize = 4;

/// Everything the runtime needs to run a router.
#[derive(Debug, Clone)]
pub struct RouterOptions {
    pub shards: usize,
    pub pinned: bool,
    pub websocket: Option<ListenerOptions>,
    pub rawsocket: Option<ListenerOptions>,
    /// WebSocket over TLS, on a port of its own.
    pub websocket_tls: Option<ListenerOptions>,
    /// RawSocket over TLS, on a port of its own.
    pub rawsocket_tls: Option<ListenerOptions>,
    pub unix: Option<UnixOptions>,
    /// The operators' HTTP listener (metrics, health, status), served by shard 0.
    pub http: Option<SocketAddr>,
    /// The HTTP bridge on that listener (`POST /publish`, `POST /call`).
    pub bridge: Option<BridgeOptions>,
    pub handshake_timeout: Duration,
    /// Idle time before a peer is pinged (`None`: never).
    pub ping_interval: Option<Duration>,
    pub ping_timeout: Duration,
    /// Whether RawSocket peers are pinged too.
    pub ping_rawsocket: bool,
    pub max_sessions: usize,
    /// Connections one IP address may hold open on each shard (0: no limit).
    pub max_connections_per_address: u32,
    /// Connections of one IP address in their handshake, per shard (0: no limit).
    pub max_handshakes_per_address: u32,
    pub outbound_budget: usize,
    /// Soft watermark of a session's outbound queue (flow control).
    pub outbound_watermark: usize,
    /// How long a queue may stay above its watermark before the policy.
    pub stall_timeout: Duration,
    pub slow_consumer: SlowConsumer,
    pub shutdown_grace: Duration,
    /// How long an idle shard polls before it sleeps (`None`: not at all).
    pub spin_before_park: Option<Duration>,
    /// Batches (not envelopes) each shard-to-shard channel holds.
    pub mesh_capacity: usize,
    /// Most envelopes in one batch.
    pub mesh_batch_max: usize,
    pub settings: Settings,
    /// Fault injection for tests: this shard panics once it listens.
    #[doc(hidden)]
    pub panic_shard: Option<usize>,
}

impl RouterOptions {
    /// The TCP listeners: WebSocket, RawSocket, and their TLS twins.
    pub fn listeners(&self) -> [&Option<ListenerOptions>; LISTENERS] {
        [
            &self.websocket,
            &self.rawsocket,
            &self.websocket_tls,
            &self.rawsocket_tls,
        ]
    }

    fn listeners_mut(&mut self) -> [&mut Option<ListenerOptions>; LISTENERS] {
        [
            &mut self.websocket,
            &mut self.rawsocket,
            &mut self.websocket_tls,
            &mut self.rawsocket_tls,
        ]
    }

    /// Options for tests and embedding: loopback listeners on free ports.
    pub fn local(shards: usize) -> Self {
        let addr: SocketAddr = SocketAddr::from(([127, 0, 0, 1], 0));
        let max = 16 << 20;
        RouterOptions {
            shards,
            pinned: false,
            websocket: Some(ListenerOptions {
                address: addr,
                accept: websocket_accept("/ws", max),
                tls: None,
            }),
            rawsocket: Some(ListenerOptions {
                address: addr,
                accept: rawsocket_accept(max),
                tls: None,
            }),
            websocket_tls: None,
            rawsocket_tls: None,
            unix: None,
            http: Some(addr),
            bridge: None,
            handshake_timeout: Duration::from_secs(10),
            ping_interval: Some(Duration::from_secs(30)),
            ping_timeout: Duration::from_secs(10),
            ping_rawsocket: false,
            max_sessions: 100_000,
            max_connections_per_address: 0,
            max_handshakes_per_address: 0,
            outbound_budget: 4 << 20,
            outbound_watermark: 1 << 20,
            stall_timeout: Duration::from_secs(5),
            slow_consumer: SlowConsumer::Disconnect,
            shutdown_grace: Duration::from_secs(5),
            spin_before_park: None,
            mesh_capacity: 65536,
            mesh_batch_max: 256,
            settings: Settings::default(),
            panic_shard: None,
        }
    }
}

/// Reloads the certificates and keys of the TLS listeners.
#[derive(Clone)]
pub struct TlsReloader(Vec<Arc<TlsServer>>);

impl TlsReloader {
    /// Reloads each listener; returns the failures (those keep their old
    /// configuration).
    pub fn reload(&self) -> Vec<String> {
        self.0.iter().filter_map(|t| t.reload().err()).collect()
    }
}

/// A shard thread that ended by panicking.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("shard {shard} panicked: {message}")]
pub struct ShardPanicked {
    pub shard: usize,
    pub message: String,
}

/// A running router.
pub struct Running {
    bound: [Option<SocketAddr>; LISTENERS],
    http: Option<SocketAddr>,
    tls: Vec<Arc<TlsServer>>,
    stop: Arc<Stop>,
    threads: Vec<JoinHandle<Result<(), ShardPanicked>>>,
}

impl Running {
    /// The WebSocket listener's address.
    pub fn websocket_addr(&self) -> Option<SocketAddr> {
        self.bound[0]
    }

    /// The RawSocket listener's address.
    pub fn rawsocket_addr(&self) -> Option<SocketAddr> {
        self.bound[1]
    }

    /// The WebSocket-over-TLS listener's address.
    pub fn websocket_tls_addr(&self) -> Option<SocketAddr> {
        self.bound[2]
    }

    /// The RawSocket-over-TLS listener's address.
    pub fn rawsocket_tls_addr(&self) -> Option<SocketAddr> {
        self.bound[3]
    }

    /// The HTTP listener's address (metrics, health, readiness, status).
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.http
    }

    /// Reads every TLS listener's certificate and key again, for the
    /// connections that come next; a listener whose files fail keeps its
    /// old configuration. Returns each failure.
    pub fn reload_tls(&self) -> Vec<String> {
        self.tls_reloader().reload()
    }

    /// A handle that reloads the TLS listeners (from any thread, e.g. on SIGHUP).
    pub fn tls_reloader(&self) -> TlsReloader {
        TlsReloader(self.tls.clone())
    }

    /// A handle that asks the router to stop (from any thread, e.g. a signal handler).
    pub fn stopper(&self) -> Arc<Stop> {
        self.stop.clone()
    }

    /// Asks every shard to stop: GOODBYE to every session, then exit.
    pub fn shutdown(&self) {
        self.stop.stop();
    }

    /// Waits for every shard to finish; the first shard that panicked, if any.
    pub fn join(mut self) -> Result<(), ShardPanicked> {
        let mut outcome = Ok(());
        for t in self.threads.drain(..) {
            let ended = t.join().unwrap_or_else(|_| {
                Err(ShardPanicked {
                    shard: usize::MAX,
                    message: "supervisor thread panicked".into(),
                })
            });
            if outcome.is_ok() {
                outcome = ended;
            }
        }
        outcome
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.shutdown();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Loads the TLS configuration of each TLS listener.
fn load_tls(opts: &RouterOptions) -> io::Result<[Option<Arc<TlsServer>>; LISTENERS]> {
    let mut out: [Option<Arc<TlsServer>>; LISTENERS] = Default::default();
    for (slot, l) in out.iter_mut().zip(opts.listeners()) {
        let Some(files) = l.as_ref().and_then(|l| l.tls.clone()) else {
            continue;
        };
        let alpn: Vec<&'static [u8]> = match l.as_ref().is_some_and(|l| l.accept.websocket) {
            true => vec![b"http/1.1"],
            false => Vec::new(),
        };
        *slot = Some(Arc::new(
            TlsServer::new(files, alpn).map_err(io::Error::other)?,
        ));
    }
    Ok(out)
}

/// Starts the router; returns once every shard is listening.
pub fn start(opts: RouterOptions) -> io::Result<Running> {
    let n = opts.shards.clamp(1, MAX_SHARDS);
    let tls = load_tls(&opts)?;
    let (stop, bells) = Stop::new(n)?;
    let mut bells = bells.into_iter();
    let mut threads = Vec::with_capacity(n);
    let mut readies = Vec::with_capacity(n);
    let mut address_txs = Vec::with_capacity(n);
    for (shard, mesh_ends) in mesh::build(n, opts.mesh_capacity).into_iter().enumerate() {
        let (ready_tx, ready_rx) = mpsc::channel();
        let (addr_tx, addr_rx) = mpsc::channel();
        let ctx = listener::ShardStart {
            shard,
            nr_shards: n,
            opts: opts.clone(),
            tls: tls.clone(),
            mesh: mesh_ends,
            stop: stop.flag(),
            bell: bells
                .next()
                .ok_or_else(|| io::Error::other("a shard without a bell"))?,
            ready: ready_tx,
            addresses: (shard > 0).then_some(addr_rx),
        };
        let placement = if opts.pinned {
            Placement::Fixed(shard % num_cpus())
        } else {
            Placement::Unbound
        };
        let mut builder = LocalExecutorBuilder::new(placement)
            .name(&format!("shard-{shard}"))
            .io_memory(1 << 20);
        if let Some(spin) = opts.spin_before_park {
            builder = builder.spin_before_park(spin);
        }
        let handle = builder
            .spawn(move || {
                listener::run_shard(ctx).instrument(tracing::info_span!("shard", id = shard))
            })
            .map_err(|e| io::Error::other(e.to_string()))?;
        let stop = stop.clone();
        threads.push(std::thread::spawn(move || supervise(shard, handle, &stop)));
        readies.push(ready_rx);
        address_txs.push(addr_tx);
    }
    let not_started = || io::Error::other("a shard failed to start");
    // Shard 0 resolves port 0 to real ports; the others bind the same ones.
    let bound = readies[0].recv().map_err(|_| not_started())??;
    for tx in &address_txs[1..] {
        tx.send(bound.tcp).map_err(|_| not_started())?;
    }
    for ready in &readies[1..] {
        ready.recv().map_err(|_| not_started())??;
    }
    Ok(Running {
        bound: bound.tcp,
        http: bound.http,
        tls: tls.into_iter().flatten().collect(),
        stop,
        threads,
    })
}

/// Waits for shard `shard`'s thread; a panic is logged and stops every shard.
fn supervise(
    shard: usize,
    handle: glommio::ExecutorJoinHandle<()>,
    stop: &Stop,
) -> Result<(), ShardPanicked> {
    let Err(e) = handle.join() else {
        return Ok(());
    };
    let message = match e {
        glommio::GlommioError::BuilderError(glommio::BuilderErrorKind::ThreadPanic(p)) => p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string()),
        other => other.to_string(),
    };
    tracing::error!(shard, %message, "shard panicked; stopping the router");
    stop.stop();
    Err(ShardPanicked { shard, message })
}

/// What a WebSocket listener accepts: permessage-deflate as configured by
/// default (messages from 1 KiB on compressed).
pub(crate) fn websocket_accept(path: &str, max_message_size: usize) -> AcceptOptions {
    let ws = crate::config::WebSocketConfig::default();
    AcceptOptions {
        rawsocket: false,
        websocket: true,
        ws_path: path.to_string(),
        max_message_size,
        compression: ws.compression.then_some(crate::transport::Compression {
            threshold: ws.compression_threshold_bytes,
        }),
    }
}

/// What a RawSocket listener accepts.
pub(crate) fn rawsocket_accept(max_message_size: usize) -> AcceptOptions {
    AcceptOptions {
        rawsocket: true,
        websocket: false,
        ws_path: String::new(),
        max_message_size,
        compression: None,
    }
}

fn num_cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
