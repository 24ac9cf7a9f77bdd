//! Limits over real sockets: strict request IDs, slow consumers, the
//! handshake timeout, dead-peer detection by ping, and the session limit.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use std::io::Read;
use std::time::{Duration, Instant};
use switchyard::runtime::RouterOptions;
use switchyard::session::outbound::SlowConsumer;
use switchyard::transport::Inbound;
use switchyard::wire::{Dict, Message, Payload, RequestId, Serializer, Text, Value};

fn setup(kind: Kind) -> Setup {
    Setup {
        shards: 2,
        kind,
        serializer: Serializer::MsgPack,
    }
}

#[test]
fn strict_request_ids_reject_a_gap() {
    let mut opts = RouterOptions::local(2);
    opts.settings.strict_request_ids = true;
    let router = Router::start_with(opts);
    for kind in [Kind::WebSocket, Kind::RawSocket] {
        let mut c = router.join(setup(kind));
        c.subscribe("com.in.sequence");
        c.send(&Message::Subscribe {
            request: RequestId(5),
            options: Dict::new(),
            topic: Text::from("com.gap"),
        });
        assert_eq!(abort_reason(&c.recv()), "wamp.error.protocol_violation");
        c.expect_closed();
    }
}

#[test]
fn a_slow_consumer_is_disconnected_with_a_reason() {
    let mut opts = RouterOptions::local(2);
    opts.outbound_budget = 64 * 1024;
    opts.outbound_watermark = 16 * 1024;
    opts.stall_timeout = Duration::from_millis(200);
    let router = Router::start_with(opts);
    for kind in [Kind::WebSocket, Kind::RawSocket] {
        let mut slow = router.join_on(setup(kind), 1);
        slow.subscribe("com.firehose");
        let mut publisher = router.join_on(setup(kind), 0);
        let big = Payload::args(vec![Value::Bytes(vec![7u8; 4096].into())]);
        // The subscriber reads nothing: socket buffers fill, then its queue.
        for _ in 0..20_000 {
            publisher.publish("com.firehose", Dict::new(), big.clone());
        }
        publisher.publish_acked("com.firehose", Payload::empty());
        let mut events = 0;
        let reason = loop {
            match slow.recv_or_closed() {
                Some(Message::Event { .. }) => events += 1,
                Some(Message::Abort { reason, .. }) => break reason,
                other => panic!("expected events then ABORT, got {other:?}"),
            }
        };
        assert_eq!(reason, "switchyard.error.slow_consumer");
        assert!(
            events < 20_000,
            "some events were not queued: the budget held"
        );
        slow.expect_closed();
    }
}

#[test]
fn drop_events_policy_keeps_the_session() {
    let mut opts = RouterOptions::local(1);
    opts.outbound_budget = 64 * 1024;
    opts.outbound_watermark = 16 * 1024;
    opts.stall_timeout = Duration::from_millis(200);
    opts.slow_consumer = SlowConsumer::DropEvents;
    let router = Router::start_with(opts);
    let mut slow = router.join(setup(Kind::RawSocket));
    slow.subscribe("com.firehose");
    let mut publisher = router.join(setup(Kind::RawSocket));
    let big = Payload::args(vec![Value::Bytes(vec![7u8; 4096].into())]);
    for _ in 0..20_000 {
        publisher.publish("com.firehose", Dict::new(), big.clone());
    }
    publisher.publish_acked("com.firehose", Payload::empty());
    // The session survived: its SUBSCRIBED comes after what was queued.
    let request = slow.request();
    slow.send(&Message::Subscribe {
        request,
        options: Dict::new(),
        topic: Text::from("com.still.here"),
    });
    let mut events = 0;
    loop {
        match slow.recv() {
            Message::Event { .. } => events += 1,
            Message::Subscribed { request: r, .. } if r == request => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    assert!(events < 20_000, "events of the stalled queue were dropped");
    // Drained, it gets events again.
    publisher.publish_acked("com.firehose", Payload::empty());
    match slow.recv() {
        Message::Event { payload, .. } => assert!(payload.is_empty()),
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn a_silent_connection_is_closed_after_the_handshake_timeout() {
    let mut opts = RouterOptions::local(1);
    opts.handshake_timeout = Duration::from_millis(200);
    let router = Router::start_with(opts);
    // Transport open, no HELLO: the router aborts and closes.
    let mut c = Client::connect(&router.url(Kind::RawSocket), Serializer::Json);
    let started = Instant::now();
    assert_eq!(abort_reason(&c.recv()), "wamp.error.protocol_violation");
    c.expect_closed();
    assert!(started.elapsed() < RECV_TIMEOUT);
    // Not even a transport handshake: the socket is closed.
    let mut raw = std::net::TcpStream::connect(router.running.rawsocket_addr().unwrap()).unwrap();
    raw.set_read_timeout(Some(RECV_TIMEOUT)).unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(
        raw.read(&mut buf).unwrap(),
        0,
        "the router closed the silent connection"
    );
}

#[test]
fn a_welcomed_session_outlives_the_handshake_timeout() {
    let mut opts = RouterOptions::local(1);
    opts.handshake_timeout = Duration::from_millis(100);
    let router = Router::start_with(opts);
    let mut c = router.join(setup(Kind::RawSocket));
    // Round trips for well past the timeout (and the sweeper's 50 ms tick).
    let started = Instant::now();
    let mut n = 0;
    while started.elapsed() < Duration::from_millis(500) {
        n += 1;
        c.subscribe(&format!("com.still.joined.{n}"));
    }
    assert!(n > 1);
}

#[test]
fn a_peer_that_does_not_answer_pings_is_disconnected() {
    let mut opts = RouterOptions::local(1);
    opts.ping_interval = Some(Duration::from_millis(100));
    opts.ping_timeout = Duration::from_millis(100);
    opts.ping_rawsocket = true;
    let router = Router::start_with(opts);
    for kind in [Kind::WebSocket, Kind::RawSocket] {
        let mut c = router.join(setup(kind));
        let mut pings = 0;
        // Read frames without answering pings until the router gives up.
        while let Ok(Some(frame)) = c.conn.recv_frame() {
            match frame {
                Inbound::Ping(_) => pings += 1,
                Inbound::Close => break,
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(pings >= 1, "the router pinged before closing");
    }
}

#[test]
fn a_peer_that_answers_pings_stays_connected() {
    let mut opts = RouterOptions::local(1);
    opts.ping_interval = Some(Duration::from_millis(50));
    opts.ping_timeout = Duration::from_millis(200);
    let router = Router::start_with(opts);
    let mut c = router.join(setup(Kind::WebSocket));
    let mut pings = 0;
    while pings < 3 {
        match c.conn.recv_frame().unwrap() {
            Some(Inbound::Ping(p)) => {
                pings += 1;
                // Answer through the client's own encoder by sending a pong.
                c.conn.pong(&p).unwrap();
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    c.subscribe("com.alive");
}

#[test]
fn hellos_over_the_session_limit_are_refused() {
    let mut opts = RouterOptions::local(1);
    opts.max_sessions = 2;
    let router = Router::start_with(opts);
    let _a = router.join(setup(Kind::RawSocket));
    let _b = router.join(setup(Kind::RawSocket));
    let mut c = Client::connect(&router.url(Kind::RawSocket), Serializer::MsgPack);
    assert_eq!(
        abort_reason(&c.hello("realm1")),
        "switchyard.error.max_sessions_reached"
    );
}

#[test]
fn unknown_realms_are_created_when_configured() {
    // One shard: a leaked event from realm1 would be queued before the expected one.
    let mut opts = RouterOptions::local(1);
    opts.settings.auto_create_realms = true;
    let router = Router::start_with(opts);
    let url = router.url(Kind::RawSocket);
    let mut sub = Client::join(&url, Serializer::Json, "com.brand.new");
    let id = sub.subscribe("com.topic");
    let mut elsewhere = Client::join(&url, Serializer::Json, "realm1");
    elsewhere.publish_acked("com.topic", Payload::empty());
    let mut publisher = Client::join(&url, Serializer::Cbor, "com.brand.new");
    publisher.publish_acked("com.topic", Payload::args(vec![Value::UInt(1)]));
    // Realms are separate: only the publication in the new realm arrives.
    match sub.recv() {
        Message::Event {
            subscription,
            payload,
            ..
        } => {
            assert_eq!(subscription, id);
            assert_same_payload(&payload, &Payload::args(vec![Value::UInt(1)]));
        }
        other => panic!("expected EVENT, got {other:?}"),
    }
}

#[test]
fn strict_uris_refuse_what_loose_ones_allow() {
    let mut opts = RouterOptions::local(1);
    opts.settings.uri_check = switchyard::routing::UriCheck::Strict;
    let router = Router::start_with(opts);
    let mut c = router.join(setup(Kind::WebSocket));
    let request = c.request();
    c.send(&Message::Subscribe {
        request,
        options: Dict::new(),
        topic: Text::from("com.Upper-Case"),
    });
    match c.recv() {
        Message::Error {
            error, request: r, ..
        } => {
            assert_eq!(r, request);
            assert_eq!(error, "wamp.error.invalid_uri");
        }
        other => panic!("expected ERROR invalid_uri, got {other:?}"),
    }
    c.subscribe("com.lower_case");
}
