//! One shard's life: connect the mesh, bind the listeners, accept
//! connections until told to stop, then say GOODBYE to every session and
//! wait (up to the grace period) for the connections to close.

use super::addresses::{AddressLimits, Admitted};
use super::auth_answers::{run_auth_answers, AuthWaits, BridgeWaits};
use super::connection::{run_connection, ConnectionContext, Incoming};
use super::deadlines::{run_call_timers, Deadlines};
use super::live::LiveConns;
use super::mesh::{self, MeshEnds};
use super::{RouterOptions, LISTENERS};
use crate::session::deadlines::Liveness;
use crate::session::outbound::FlowControl;
use crate::shard::Shard;
use crate::transport::tls::TlsServer;
use crate::wire::{encode_to_bytes, CloseReason, Dict, Message, Text};
use glommio::net::TcpListener;
use std::cell::RefCell;
use std::io;
use std::net::SocketAddr;
use std::os::fd::{FromRawFd, IntoRawFd};
use std::rc::Rc;
use std::sync::atomic::AtomicBool;
use std::sync::mpsc::{Receiver, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::Instrument;

/// The addresses a shard bound.
#[derive(Debug, Clone, Copy)]
pub struct Bound {
    /// In the order of `RouterOptions::listeners`.
    pub tcp: [Option<SocketAddr>; LISTENERS],
    /// The HTTP listener (shard 0 only).
    pub http: Option<SocketAddr>,
}

/// What a shard thread starts from.
pub struct ShardStart {
    pub shard: usize,
    pub nr_shards: usize,
    pub opts: RouterOptions,
    /// The TLS configuration of each TLS listener (shared by the shards).
    pub tls: [Option<Arc<TlsServer>>; LISTENERS],
    pub mesh: MeshEnds,
    pub stop: Arc<AtomicBool>,
    /// Rung (after `stop` is raised) to stop this shard.
    pub bell: super::stop::Bell,
    /// The addresses bound, once the shard listens, or why it cannot.
    pub ready: Sender<io::Result<Bound>>,
    /// For shards other than 0: the addresses shard 0 bound (ports resolved).
    pub addresses: Option<Receiver<[Option<SocketAddr>; LISTENERS]>>,
}

/// The shard's main future.
pub async fn run_shard(start: ShardStart) {
    let mut opts = start.opts;
    opts.settings.handshake_timeout = opts.handshake_timeout;
    let shard = Rc::new(RefCell::new(Shard::new(
        start.shard,
        start.nr_shards,
        opts.settings.clone(),
    )));
    mesh::start(shard.clone(), start.mesh, opts.mesh_batch_max).await;
    if let Some(rx) = &start.addresses {
        // Blocks this thread briefly at start-up, after the mesh connected.
        let Ok(addresses) = rx.recv() else { return };
        for (l, a) in opts.listeners_mut().into_iter().zip(addresses) {
            set_address(l, a);
        }
    }
    let live = Rc::new(LiveConns::default());
    let deadlines = Rc::new(Deadlines::default());
    glommio::spawn_local(deadlines.clone().run_sweeper()).detach();
    glommio::spawn_local(run_call_timers(shard.clone())).detach();
    let auth_waits = Rc::new(AuthWaits::default());
    let bridge_waits = Rc::new(BridgeWaits::default());
    let answers = run_auth_answers(shard.clone(), auth_waits.clone(), bridge_waits.clone());
    glommio::spawn_local(answers).detach();
    let liveness = opts.ping_interval.map(|every| Liveness {
        every,
        timeout: opts.ping_timeout,
    });
    let per_shard_max = opts.max_sessions.div_ceil(start.nr_shards);
    let addresses = AddressLimits::new(
        opts.max_connections_per_address,
        opts.max_handshakes_per_address,
    );
    let mut bound = [None; LISTENERS];
    let mut accepting = Vec::new();
    let context = |accept: &crate::transport::AcceptOptions, tls: Option<Arc<TlsServer>>| {
        Rc::new(ConnectionContext {
            shard: shard.clone(),
            accept: accept.clone(),
            handshake_timeout: opts.handshake_timeout,
            max_sessions: per_shard_max,
            flow: FlowControl {
                budget: opts.outbound_budget,
                watermark: opts.outbound_watermark,
                stall_timeout: opts.stall_timeout,
                policy: opts.slow_consumer,
            },
            live: live.clone(),
            deadlines: deadlines.clone(),
            liveness,
            ping_rawsocket: opts.ping_rawsocket,
            auth_waits: auth_waits.clone(),
            addresses: addresses.clone(),
            tls,
        })
    };
    let listeners = opts.listeners().into_iter().zip(&start.tls).zip(&mut bound);
    for ((l, tls), slot) in listeners {
        let Some(l) = l else { continue };
        let listener = match bind(l.address) {
            Ok(listener) => listener,
            Err(e) => {
                let _ = start.ready.send(Err(io::Error::other(format!(
                    "cannot listen on {}: {e}",
                    l.address
                ))));
                return;
            }
        };
        *slot = listener.local_addr().ok();
        let ctx = context(&l.accept, tls.clone());
        let task = run_accept(listener, ctx).instrument(tracing::Span::current());
        accepting.push(glommio::spawn_local(task));
    }
    let unix = match opts.unix.as_ref().filter(|_| start.shard == 0) {
        Some(u) => match super::unix::bind(u) {
            Ok(listener) => {
                let ctx = context(&u.accept, None);
                let task =
                    super::unix::run_accept(listener, ctx).instrument(tracing::Span::current());
                accepting.push(glommio::spawn_local(task));
                Some(u.path.clone())
            }
            Err(e) => {
                let why = format!("cannot listen on {}: {e}", u.path.display());
                let _ = start.ready.send(Err(io::Error::other(why)));
                return;
            }
        },
        None => None,
    };
    let http = match opts.http.filter(|_| start.shard == 0) {
        Some(address) => match bind_http(address, &shard, &start.stop, &opts, &bridge_waits) {
            Ok((addr, task)) => {
                accepting.push(task);
                Some(addr)
            }
            Err(e) => {
                let why = format!("cannot listen on {address} (http): {e}");
                let _ = start.ready.send(Err(io::Error::other(why)));
                return;
            }
        },
        None => None,
    };
    let _ = start.ready.send(Ok(Bound { tcp: bound, http }));
    if opts.panic_shard == Some(start.shard) {
        panic!("injected fault: shard {} panics", start.shard);
    }
    start.bell.rung().await;
    for task in accepting {
        task.cancel().await;
    }
    say_goodbye(&shard);
    live.close_all(crate::session::outbound::SHUTDOWN);
    let deadline = Instant::now() + opts.shutdown_grace;
    while live.count() > 0 && Instant::now() < deadline {
        glommio::timer::sleep(Duration::from_millis(5)).await;
    }
    if let Some(path) = unix {
        let _ = std::fs::remove_file(path);
    }
    let stats = shard.borrow().report().stats;
    tracing::info!(shard = start.shard, ?stats, "shard stopped");
}

/// A listening socket with SO_REUSEADDR (a restart binds at once, even
/// with connections of a previous run in TIME_WAIT) and SO_REUSEPORT (every
/// shard binds the same address; the kernel spreads connections).
fn bind(address: SocketAddr) -> io::Result<TcpListener> {
    use socket2::{Domain, Protocol, SockAddr, Socket, Type};
    let domain = if address.is_ipv6() {
        Domain::IPV6
    } else {
        Domain::IPV4
    };
    let socket = Socket::new(domain, Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.bind(&SockAddr::from(address))?;
    socket.listen(1024)?;
    // SAFETY: the descriptor is a bound, listening TCP socket that nothing
    // else owns once `into_raw_fd` gave it up.
    Ok(unsafe { TcpListener::from_raw_fd(socket.into_raw_fd()) })
}

/// Binds the HTTP listener (with the bridge, if enabled) and starts
/// accepting on it.
fn bind_http(
    address: SocketAddr,
    shard: &Rc<RefCell<Shard>>,
    stop: &Arc<AtomicBool>,
    opts: &RouterOptions,
    bridge_waits: &Rc<BridgeWaits>,
) -> io::Result<(SocketAddr, glommio::Task<()>)> {
    let listener = bind(address)?;
    let addr = listener.local_addr()?;
    let bridge = opts
        .bridge
        .clone()
        .map(|b| super::bridge::Bridge::new(b, shard.clone(), bridge_waits.clone()));
    let ctx = Rc::new(super::http::HttpContext {
        shard: shard.clone(),
        stop: stop.clone(),
        bridge,
    });
    let task = super::http::run_http(listener, ctx).instrument(tracing::Span::current());
    Ok((addr, glommio::spawn_local(task)))
}

fn set_address(l: &mut Option<super::ListenerOptions>, addr: Option<SocketAddr>) {
    if let (Some(l), Some(a)) = (l.as_mut(), addr) {
        l.address = a;
    }
}

/// Accepts connections forever, each in its own task.
async fn run_accept(listener: TcpListener, ctx: Rc<ConnectionContext>) {
    let mut failures = super::fds::AcceptFailures::default();
    loop {
        match listener.accept().await {
            Ok(stream) => {
                let Some(admitted) = admit(&ctx, &stream) else {
                    ctx.shard.borrow_mut().stats.connections_refused += 1;
                    continue;
                };
                let conn = run_connection(ctx.clone(), Incoming::Tcp(stream), admitted);
                glommio::spawn_local(conn).detach();
            }
            Err(e) => failures.failed(&e.into()).await,
        }
    }
}

/// Counts `stream` against its address's limits: `None` when over one
/// (the stream is then dropped, which closes it), `Some(None)` when no
/// limit is set.
fn admit(ctx: &ConnectionContext, stream: &glommio::net::TcpStream) -> Option<Option<Admitted>> {
    let Some(limits) = &ctx.addresses else {
        return Some(None);
    };
    match stream.peer_addr() {
        Ok(peer) => limits.admit(peer.ip()).map(Some),
        Err(_) => Some(None),
    }
}

/// Sends GOODBYE `wamp.close.system_shutdown` to every session of the shard.
fn say_goodbye(shard: &Rc<RefCell<Shard>>) {
    let shard = shard.borrow();
    let msg = Message::Goodbye {
        details: Dict::new().with("message", "the router is shutting down"),
        reason: Text::from(CloseReason::SystemShutdown),
    };
    for (_, serializer, outbound) in shard.sessions() {
        outbound.push_last(
            encode_to_bytes(serializer, &msg),
            crate::session::outbound::SHUTDOWN,
        );
    }
}
