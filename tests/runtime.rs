//! The runtime around the shards: listeners rebind at once after a restart,
//! a shard that panics stops the router and is reported, realms that refuse
//! anonymous sessions refuse them on every transport and serializer, and a
//! shutdown ends every connection, with a session or without.
#![allow(clippy::unwrap_used)]

mod common;

use common::{abort_reason, Client, Kind, Router};
use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::time::Duration;
use switchyard::auth::RealmAuth;
use switchyard::runtime::{self, RouterOptions};
use switchyard::shard::RealmSettings;
use switchyard::wire::Serializer;

/// Local options whose listeners are exactly `ws` and `rs`.
fn on_ports(ws: std::net::SocketAddr, rs: std::net::SocketAddr) -> RouterOptions {
    let mut opts = RouterOptions::local(2);
    opts.websocket.as_mut().unwrap().address = ws;
    opts.rawsocket.as_mut().unwrap().address = rs;
    opts.shutdown_grace = Duration::from_secs(2);
    opts
}

/// True once the kernel holds a TIME_WAIT connection whose local port is
/// `port` (the state change follows the peer's FIN; given up to 2 s).
fn time_wait_on(port: u16) -> bool {
    let in_time_wait = || {
        let table = std::fs::read_to_string("/proc/net/tcp").unwrap();
        table.lines().skip(1).any(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            let local_port = cols[1].rsplit(':').next().unwrap();
            u16::from_str_radix(local_port, 16) == Ok(port) && cols[3] == "06"
        })
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(2);
    while !in_time_wait() {
        if std::time::Instant::now() > deadline {
            return false;
        }
        std::thread::yield_now();
    }
    true
}

#[test]
fn a_router_binds_a_port_at_once_while_a_previous_servers_connections_are_in_time_wait() {
    // A previous server on the port (std's listener sets SO_REUSEADDR, as
    // most servers do) closes its connection first, so its side of the
    // connection stays in TIME_WAIT after the client closes too.
    let previous = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = previous.local_addr().unwrap();
    let mut client = TcpStream::connect(port).unwrap();
    let (accepted, _) = previous.accept().unwrap();
    drop(accepted);
    assert_eq!(client.read(&mut [0u8; 1]).unwrap(), 0, "the server closed");
    drop((client, previous));
    assert!(time_wait_on(port.port()), "no TIME_WAIT left on {port}");
    let free = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let router = runtime::start(on_ports(free, port)).expect("binds at once");
    assert_eq!(router.rawsocket_addr(), Some(port));
    Client::join(&format!("rs://{port}"), Serializer::Json, "realm1");
}

#[test]
fn a_panicking_shard_stops_the_router_and_is_reported_with_its_id() {
    let mut opts = RouterOptions::local(3);
    opts.panic_shard = Some(1);
    opts.shutdown_grace = Duration::from_millis(200);
    let running = runtime::start(opts).unwrap();
    let failure = running.join().unwrap_err();
    assert_eq!(failure.shard, 1);
    assert!(failure.message.contains("injected fault"), "{failure}");
}

#[test]
fn a_realm_closed_to_anonymous_refuses_anonymous_hellos() {
    let mut opts = RouterOptions::local(2);
    opts.settings.realms.push(RealmSettings {
        auth: std::sync::Arc::new(RealmAuth::new(false, Vec::new(), Vec::new())),
        ..RealmSettings::open("com.closed")
    });
    let router = Router::start_with(opts);
    for kind in [Kind::WebSocket, Kind::RawSocket] {
        for serializer in Serializer::ALL {
            for methods in [None, Some("anonymous")] {
                let mut c = Client::connect(&router.url(kind), serializer);
                let reply = match methods {
                    None => c.hello("com.closed"),
                    Some(m) => c.hello_with("com.closed", &[m]),
                };
                assert_eq!(abort_reason(&reply), "wamp.error.no_auth_method");
                c.expect_closed();
            }
        }
    }
    // The other realms still welcome anonymous sessions.
    Client::join(&router.url(Kind::RawSocket), Serializer::Cbor, "realm1");
}

#[test]
fn shutdown_ends_connections_without_a_session_instead_of_waiting_out_the_grace() {
    let mut opts = RouterOptions::local(2);
    opts.shutdown_grace = Duration::from_secs(60);
    let running = runtime::start(opts).unwrap();
    let ws = format!("ws://{}/ws", running.websocket_addr().unwrap());
    let rs = running.rawsocket_addr().unwrap();
    // No handshake at all, a session that said GOODBYE, and one still open.
    let mut silent = TcpStream::connect(rs).unwrap();
    let mut left = Client::join(&ws, Serializer::Json, "realm1");
    left.goodbye();
    let mut open = Client::join(&ws, Serializer::Json, "realm1");
    let started = std::time::Instant::now();
    running.shutdown();
    running.join().unwrap();
    // Waiting out the grace would take a minute.
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(
        silent.read(&mut [0u8; 16]).unwrap(),
        0,
        "the silent connection was closed"
    );
    assert!(
        left.recv_or_closed().is_none(),
        "the transport after GOODBYE was closed"
    );
    match open.recv_or_closed() {
        Some(switchyard::wire::Message::Goodbye { reason, .. }) => {
            assert_eq!(reason.as_str(), "wamp.close.system_shutdown")
        }
        other => panic!("expected the shutdown GOODBYE, got {other:?}"),
    }
}
