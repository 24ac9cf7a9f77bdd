#![allow(clippy::unwrap_used)]
//! Per-address limits over real sockets: 10,000 connections from one
//! address that send one byte of the RawSocket handshake and stall are cut
//! to that address's handshake limit (the rest closed on accept and
//! counted), while a client from another address joins normally; once some
//! of the stalled connections go, that address may connect again.

mod common;

use common::metrics::{scrape, value};
use common::{Client, Kind, Router, Setup};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};
use switchyard::runtime::RouterOptions;
use switchyard::wire::Serializer;

const LIMIT: u32 = 100;
const FLOOD: usize = 10_000;

/// A TCP connection to `to` from `from`, having sent `first` (a write
/// error means the router closed it already: the caller finds out).
fn open_from(from: [u8; 4], to: SocketAddr, first: &[u8]) -> TcpStream {
    use socket2::{Domain, Protocol, SockAddr, Socket, Type};
    let s = Socket::new(Domain::IPV4, Type::STREAM, Some(Protocol::TCP)).unwrap();
    s.bind(&SockAddr::from(SocketAddr::from((from, 0))))
        .unwrap();
    s.connect(&SockAddr::from(to)).unwrap();
    let mut s: TcpStream = s.into();
    let _ = s.write_all(first);
    s
}

/// Waits until `cond` holds, failing after `within`.
fn eventually(within: Duration, what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::yield_now();
    }
}

/// Whether a RawSocket handshake from `from` is answered (not closed).
fn answered(from: [u8; 4], to: SocketAddr) -> bool {
    // RawSocket hello: magic, max length 2^24, MessagePack.
    let mut s = open_from(from, to, &[0x7F, 0xF2, 0, 0]);
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut reply = [0u8; 4];
    s.read_exact(&mut reply).is_ok() && reply[0] == 0x7F
}

#[test]
fn stalled_connections_from_one_address_are_cut_to_its_limit() {
    switchyard::runtime::raise_nofile_limit().unwrap();
    let mut opts = RouterOptions::local(1);
    opts.max_handshakes_per_address = LIMIT;
    opts.handshake_timeout = Duration::from_secs(120);
    let router = Router::start_with(opts);
    let rs = router.running.rawsocket_addr().unwrap();
    let flooder = [127, 0, 0, 2];
    let mut stalled: Vec<TcpStream> = (0..FLOOD)
        .map(|_| open_from(flooder, rs, &[0x7F]))
        .collect();
    let refused = FLOOD as u64 - u64::from(LIMIT);
    eventually(Duration::from_secs(60), "the flood to be refused", || {
        value(
            &scrape(&router),
            "switchyard_connections_refused_total",
            "all",
        ) >= refused
    });
    assert_eq!(
        value(
            &scrape(&router),
            "switchyard_connections_refused_total",
            "all"
        ),
        refused
    );
    // Another address joins and works as usual.
    let setup = Setup {
        shards: 1,
        kind: Kind::RawSocket,
        serializer: Serializer::MsgPack,
    };
    let mut c = Client::join(&router.url(setup.kind), setup.serializer, &setup.realm());
    c.subscribe("com.still.served");
    // The flooding address is turned away until some of its stalled
    // connections go (the first ones: those were accepted).
    assert!(!answered(flooder, rs));
    stalled.drain(..2 * LIMIT as usize);
    eventually(Duration::from_secs(30), "room for the address", || {
        answered(flooder, rs)
    });
}
