#![allow(clippy::unwrap_used)]
//! Flow control over real sockets, 1-3 shards (ARCHITECTURE.md section 8):
//! a publisher flooding a subscriber slower than itself is paused rather
//! than the subscriber cut off, so every event arrives, in order, and the
//! queue never passes its budget; a subscriber that stops reading is cut
//! after the stall timeout while another subscriber of the topic gets every
//! event; a slow callee pauses its caller without losing a call; and a flood
//! does not hold up calls on the same shard.

mod common;

use common::metrics::{scrape, value};
use common::{first_arg, Client, Kind, Router, Setup};
use std::thread;
use std::time::{Duration, Instant};
use switchyard::runtime::RouterOptions;
use switchyard::wire::{Dict, Message, Payload, Serializer, Value};

const BUDGET: usize = 1 << 20;
const WATERMARK: usize = 256 * 1024;
const TOPIC: &str = "com.flood";

fn router(shards: usize, stall: Duration) -> Router {
    router_with(shards, stall, WATERMARK)
}

fn router_with(shards: usize, stall: Duration, watermark: usize) -> Router {
    let mut opts = RouterOptions::local(shards);
    opts.outbound_budget = BUDGET;
    opts.outbound_watermark = watermark;
    opts.stall_timeout = stall;
    Router::start_with(opts)
}

fn setup(shards: usize, kind: Kind, serializer: Serializer) -> Setup {
    Setup {
        shards,
        kind,
        serializer,
    }
}

/// Event `n`: its number and 1 KiB of filler.
fn numbered(n: u64) -> Payload {
    Payload::args(vec![Value::UInt(n), Value::Bytes(vec![0x5a; 1024].into())])
}

/// Publishes events 0..n without acknowledgement, then one acknowledged
/// publish (so the publisher knows the router took them all).
fn flood(mut publisher: Client, n: u64) -> thread::JoinHandle<Duration> {
    thread::spawn(move || {
        let started = Instant::now();
        for i in 0..n {
            publisher.publish(TOPIC, Dict::new(), numbered(i));
        }
        publisher.publish_acked("com.flood.done", Payload::empty());
        started.elapsed()
    })
}

/// Receives events 0..n in order, pausing `pause` every `every` events.
fn receive_in_order(c: &mut Client, n: u64, every: u64, pause: Duration) {
    for i in 0..n {
        match c.recv() {
            Message::Event { payload, .. } => assert_eq!(first_arg(&payload), i, "event order"),
            other => panic!("expected event {i}, got {other:?}"),
        }
        if i % every == every - 1 {
            thread::sleep(pause);
        }
    }
}

#[test]
fn a_flood_to_a_slower_subscriber_loses_nothing() {
    let cases = [
        setup(1, Kind::RawSocket, Serializer::MsgPack),
        setup(2, Kind::WebSocket, Serializer::Json),
        setup(3, Kind::RawSocket, Serializer::Cbor),
    ];
    for case in cases {
        let router = router(case.shards, Duration::from_secs(30));
        let mut subscriber = router.join_on(case, case.shards - 1);
        subscriber.subscribe(TOPIC);
        let publisher = router.join_on(case, 0);
        let n = 20_000;
        let publishing = flood(publisher, n);
        // About 10 k events/s at most: slower than the publisher.
        receive_in_order(&mut subscriber, n, 20, Duration::from_millis(2));
        publishing.join().unwrap();
        let m = scrape(&router);
        assert!(
            value(&m, "switchyard_flow_pauses_total", "all") >= 1,
            "{case:?}: {m:?}"
        );
        assert_eq!(
            value(&m, "switchyard_slow_consumer_disconnects_total", "all"),
            0
        );
        let peak = value(&m, "switchyard_outbound_queue_peak_bytes", "all") as usize;
        assert!(peak > WATERMARK && peak <= BUDGET, "{case:?}: peak {peak}");
        // Still joined and usable.
        subscriber.subscribe("com.after.flood");
    }
}

#[test]
fn a_stuck_subscriber_is_cut_after_the_stall_timeout() {
    let stall = Duration::from_millis(300);
    for shards in [1, 3] {
        let case = setup(shards, Kind::RawSocket, Serializer::MsgPack);
        let router = router(shards, stall);
        let mut stuck = router.join_on(case, shards - 1);
        stuck.subscribe(TOPIC);
        let mut healthy = router.join_on(case, 1 % shards);
        healthy.subscribe(TOPIC);
        let n = 20_000;
        let publishing = flood(router.join_on(case, 0), n);
        receive_in_order(&mut healthy, n, n, Duration::ZERO);
        let took = publishing.join().unwrap();
        // Stuck forever without the stall: the router would never read the
        // publisher again once the stuck queue passed its watermark.
        assert!(took < Duration::from_secs(30), "publisher took {took:?}");
        let mut events = 0;
        let reason = loop {
            match stuck.recv_or_closed() {
                Some(Message::Event { .. }) => events += 1,
                Some(Message::Abort { reason, .. }) => break reason,
                other => panic!("expected events then ABORT, got {other:?}"),
            }
        };
        assert_eq!(reason, "switchyard.error.slow_consumer");
        assert!(events < n, "the stuck subscriber was cut before the end");
        let m = scrape(&router);
        assert!(
            value(&m, "switchyard_flow_stalls_total", "all") >= 1,
            "{m:?}"
        );
        assert_eq!(
            value(&m, "switchyard_slow_consumer_disconnects_total", "all"),
            1
        );
    }
}

#[test]
fn a_slow_callee_pauses_its_caller_without_losing_a_call() {
    let case = setup(2, Kind::RawSocket, Serializer::MsgPack);
    // A window of calls holds 256 KiB: eight times the watermark.
    let router = router_with(2, Duration::from_secs(30), 32 * 1024);
    let mut callee = router.join_on(case, 1);
    callee.register("com.slow").unwrap();
    let mut caller = router.join_on(case, 0);
    let (windows, window) = (8u64, 256u64);
    let serving = thread::spawn(move || {
        for i in 0..windows * window {
            callee.serve_one(|p| Payload::args(vec![Value::UInt(first_arg(p))]));
            if i % 16 == 15 {
                thread::sleep(Duration::from_millis(2));
            }
        }
    });
    for w in 0..windows {
        let requests: Vec<_> = (0..window)
            .map(|i| caller.call("com.slow", numbered(w * window + i)))
            .collect();
        for (i, request) in requests.into_iter().enumerate() {
            match caller.recv() {
                Message::Result {
                    request: r,
                    payload,
                    ..
                } => {
                    assert_eq!(r, request);
                    assert_eq!(first_arg(&payload), w * window + i as u64);
                }
                other => panic!("expected a RESULT, got {other:?}"),
            }
        }
    }
    serving.join().unwrap();
    let m = scrape(&router);
    assert!(
        value(&m, "switchyard_flow_pauses_total", "all") >= 1,
        "{m:?}"
    );
    assert_eq!(
        value(&m, "switchyard_slow_consumer_disconnects_total", "all"),
        0
    );
}

#[test]
fn a_flood_does_not_hold_up_calls_on_the_same_shard() {
    let case = setup(1, Kind::RawSocket, Serializer::MsgPack);
    let stall = Duration::from_secs(5);
    let router = router(1, stall);
    let mut stuck = router.join(case);
    stuck.subscribe(TOPIC);
    let mut callee = router.join(case);
    callee.register("com.echo").unwrap();
    let serving = thread::spawn(move || {
        for _ in 0..50 {
            callee.serve_one(|p| p.clone());
        }
    });
    let mut caller = router.join(case);
    let publishing = flood(router.join(case), 20_000);
    let mut slowest = Duration::ZERO;
    for i in 0..50 {
        let started = Instant::now();
        caller.call("com.echo", common::arg(i));
        match caller.recv() {
            Message::Result { payload, .. } => assert_eq!(first_arg(&payload), i),
            other => panic!("expected a RESULT, got {other:?}"),
        }
        slowest = slowest.max(started.elapsed());
    }
    serving.join().unwrap();
    // Calls go on while the publisher waits out the stuck subscriber.
    assert!(slowest < stall / 5, "slowest call {slowest:?}");
    publishing.join().unwrap();
}

#[test]
fn a_realm_may_set_its_own_stall_timeout() {
    // The router's stall timeout outlasts the clients' 10 s I/O timeout:
    // only the realm's own 200 ms lets the publisher through in time.
    let router = Router::from_toml(
        2,
        "[session]\nstall_timeout_ms = 60000\noutbound_watermark_bytes = 65536\n\
         [[realms.realm]]\nname = \"com.quick\"\n\
         [realms.realm.session]\nstall_timeout_ms = 200\n",
    );
    let url = router.url(Kind::RawSocket);
    let mut stuck = Client::join(&url, Serializer::MsgPack, "com.quick");
    stuck.subscribe(TOPIC);
    let publisher = Client::join(&url, Serializer::MsgPack, "com.quick");
    let took = flood(publisher, 20_000).join().unwrap();
    assert!(took < Duration::from_secs(10), "publisher took {took:?}");
    let reason = loop {
        match stuck.recv_or_closed() {
            Some(Message::Event { .. }) => continue,
            Some(Message::Abort { reason, .. }) => break reason,
            other => panic!("expected events then ABORT, got {other:?}"),
        }
    };
    assert_eq!(reason, "switchyard.error.slow_consumer");
}
