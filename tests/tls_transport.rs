//! The TLS transports over real sockets: WebSocket and RawSocket over TLS
//! (a test PKI made with rcgen) beside the plain listeners, for 1-3 shards
//! and every serializer: TLS sessions meet plain and Unix-socket sessions
//! on other shards; client certificates required or optional (logins with
//! authmethod "tls"); certificates reloaded for new connections while old
//! sessions go on; stalled TLS handshakes dropped at the handshake timeout;
//! the config's checks of it all. The Unix socket: `unix_socket.rs`.
#![allow(clippy::unwrap_used)]

mod common;

use common::auth::{abort_message, detail};
use common::exchange::*;
use common::tls::{join_on_as, matrix_realm, with_tls_listeners, Ca, Pki, SecureRouter, Via};
use common::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};
use switchyard::config::Config;
use switchyard::runtime::RouterOptions;
use switchyard::transport::tls::ClientAuth;
use switchyard::wire::{Dict, Message, Serializer, Value};

#[test]
fn tls_sessions_do_pubsub_and_rpc_with_plain_and_unix_sessions_on_other_shards() {
    for shards in 1..=3 {
        let r = SecureRouter::start(shards, "meet");
        // Three shards: TLS on 1, plain on 2, Unix on 0 (two: TLS on 1, the others on 0).
        let (tls_shard, plain_shard) = (1 % shards, 2 % shards);
        for kind in KINDS {
            for ser in Serializer::ALL {
                eprintln!("-- {shards} shards, {kind:?} over TLS, {}", ser.name());
                let realm = matrix_realm(shards, kind, ser);
                let mut secure = r.join_on(Via::Tls(kind), ser, tls_shard, &realm);
                let mut plain = r.join_on(Via::Plain(kind), ser, plain_shard, &realm);
                let mut local = r.join_on(Via::Unix, ser, 0, &realm);
                exchange("meet", &mut secure, &mut [&mut plain, &mut local]);
                for c in [&mut secure, &mut plain, &mut local] {
                    c.goodbye();
                }
            }
        }
    }
}

/// The realm of the client-certificate tests: no anonymous access; one
/// principal per fingerprint form (lowercase hex, and openssl's uppercase
/// with colons). `open` admits anonymous sessions.
const DEVICES: &str = "tls.devices";

fn client_cert_config(pki: &Pki, client_auth: &str, d1: &str, d2: &str) -> String {
    format!(
        r#"{listeners}
[session]
auth_failures_max = 0
[[realms.realm]]
name = "{DEVICES}"
anonymous = false
[[realms.realm.principals]]
authid = "device-1"
authrole = "device"
tls_certificates = ["{d1}"]
[[realms.realm.principals]]
authid = "device-2"
authrole = "device"
tls_certificates = ["{d2}"]
[[realms.realm.roles]]
name = "device"
permissions = [{{ uri = "com.", match = "prefix", allow = {{ call = true, register = true, publish = true, subscribe = true }} }}]
[[realms.realm]]
name = "open"
"#,
        listeners = pki.listeners_toml(client_auth)
    )
}

/// Logs in with authmethod tls (naming `authid` in HELLO if given).
fn tls_hello(c: &mut Client, authid: Option<&str>) -> Message {
    let mut details = Dict::new()
        .with("roles", roles())
        .with("authmethods", Value::List(vec![Value::str("tls")]));
    if let Some(a) = authid {
        details.insert("authid", Value::str(a));
    }
    let reply = c.hello_as(DEVICES, details);
    if let Message::Welcome { session, .. } = &reply {
        c.session = *session;
    }
    reply
}

fn assert_tls_welcome(m: &Message, authid: &str) {
    assert_eq!(detail(m, "authid"), authid, "{m:?}");
    assert_eq!(detail(m, "authrole"), "device", "{m:?}");
    assert_eq!(detail(m, "authmethod"), "tls", "{m:?}");
}

/// A device session works: it subscribes and publishes acknowledged.
fn assert_usable(c: &mut Client) {
    let sub = c.subscribe("com.device.self");
    let opts = Dict::new()
        .with("acknowledge", true)
        .with("exclude_me", false);
    c.publish("com.device.self", opts, arg(7));
    let mut got = (false, false);
    while got != (true, true) {
        match c.recv() {
            Message::Event {
                subscription,
                payload,
                ..
            } => {
                assert_eq!(subscription, sub);
                assert_eq!(first_arg(&payload), 7);
                got.0 = true;
            }
            Message::Published { .. } => got.1 = true,
            other => panic!("expected EVENT and PUBLISHED, got {other:?}"),
        }
    }
}

/// The client certificates of these tests: two mapped to principals, one
/// from the same CA mapped to none, one from another CA.
struct Certs {
    pki: Pki,
    device1: common::tls::Leaf,
    device2: common::tls::Leaf,
    unmapped: common::tls::Leaf,
    stranger: common::tls::Leaf,
}

fn certs(tag: &str) -> Certs {
    let pki = Pki::new(tag);
    let device1 = pki.ca.client("device-1");
    let device2 = pki.ca.client("device-2");
    let unmapped = pki.ca.client("device-3");
    let other = Ca::new(&pki.dir, "other");
    let stranger = other.client("device-1");
    Certs {
        pki,
        device1,
        device2,
        unmapped,
        stranger,
    }
}

/// `try_connect_tls` must fail (the TLS handshake refused).
fn assert_refused(
    url: &str,
    ser: Serializer,
    tls: std::sync::Arc<rustls::ClientConfig>,
    who: &str,
) {
    match Client::try_connect_tls(url, ser, Some(tls)) {
        Ok(_) => panic!("{who} connected to {url}"),
        Err(e) => eprintln!("   {who} refused as expected: {e}"),
    }
}

#[test]
fn required_client_certificates_refuse_clients_without_one_and_log_in_by_fingerprint() {
    let c = certs("req");
    let text = client_cert_config(
        &c.pki,
        "required",
        &c.device1.fingerprint(),
        &c.device2.fingerprint_colons(),
    );
    for shards in 1..=3 {
        let router = Router::from_toml(shards, &text);
        for kind in KINDS {
            let url = router.tls_url(kind);
            for ser in Serializer::ALL {
                eprintln!("-- {shards} shards, {kind:?} over TLS, {}", ser.name());
                let ca = &c.pki.ca;
                assert_refused(&url, ser, ca.trust(), "a client without a certificate");
                assert_refused(&url, ser, ca.trust_as(&c.stranger), "another CA's client");
                // A mapped certificate logs in on every shard.
                for shard in 0..shards {
                    let mut d = login_on(&url, ser, ca.trust_as(&c.device1), shards, shard);
                    assert_usable(&mut d);
                    d.goodbye();
                }
                let mut d2 = Client::connect_tls(&url, ser, Some(ca.trust_as(&c.device2)));
                assert_tls_welcome(&tls_hello(&mut d2, Some("device-2")), "device-2");
                // Verified, but no principal has it, or another principal is named.
                let mut u = Client::connect_tls(&url, ser, Some(ca.trust_as(&c.unmapped)));
                let m = tls_hello(&mut u, None);
                assert_eq!(abort_reason(&m), "wamp.error.authentication_failed");
                assert!(abort_message(&m).contains("no principal"), "{m:?}");
                let mut d1 = Client::connect_tls(&url, ser, Some(ca.trust_as(&c.device1)));
                let m = tls_hello(&mut d1, Some("device-2"));
                assert_eq!(abort_reason(&m), "wamp.error.authentication_failed");
            }
        }
    }
}

/// A client that logged in with its certificate (WELCOME checked) and
/// whose session lives on `shard`.
fn login_on(
    url: &str,
    ser: Serializer,
    tls: std::sync::Arc<rustls::ClientConfig>,
    shards: usize,
    shard: usize,
) -> Client {
    for _ in 0..500 {
        let mut c = Client::connect_tls(url, ser, Some(tls.clone()));
        let m = tls_hello(&mut c, None);
        assert_tls_welcome(&m, "device-1");
        if c.session.0 % shards as u64 == shard as u64 {
            return c;
        }
        c.goodbye();
    }
    panic!("no session landed on shard {shard} in 500 tries");
}

#[test]
fn optional_client_certificates_admit_clients_without_one_and_log_in_those_with_one() {
    let c = certs("opt");
    let text = client_cert_config(
        &c.pki,
        "optional",
        &c.device1.fingerprint_colons(),
        &c.device2.fingerprint(),
    );
    let router = Router::from_toml(2, &text);
    let ca = &c.pki.ca;
    for kind in KINDS {
        let url = router.tls_url(kind);
        for ser in Serializer::ALL {
            eprintln!("-- {kind:?} over TLS, {}", ser.name());
            let mut anon = Client::connect_tls(&url, ser, Some(ca.trust()));
            let m = anon.hello("open");
            assert_eq!(detail(&m, "authmethod"), "anonymous", "{m:?}");
            let mut anon = Client::connect_tls(&url, ser, Some(ca.trust()));
            let m = tls_hello(&mut anon, None);
            assert_eq!(abort_reason(&m), "wamp.error.authentication_failed");
            assert!(abort_message(&m).contains("certificate"), "{m:?}");
            for (leaf, authid) in [(&c.device1, "device-1"), (&c.device2, "device-2")] {
                let mut d = Client::connect_tls(&url, ser, Some(ca.trust_as(leaf)));
                assert_tls_welcome(&tls_hello(&mut d, None), authid);
                assert_usable(&mut d);
                d.goodbye();
            }
            assert_refused(&url, ser, ca.trust_as(&c.stranger), "another CA's client");
        }
    }
    // The plain listeners know nothing of certificates.
    let mut plain = Client::connect(&router.url(Kind::RawSocket), Serializer::Json);
    let m = tls_hello(&mut plain, None);
    assert_eq!(abort_reason(&m), "wamp.error.authentication_failed");
}

#[test]
fn reloaded_certificates_serve_new_connections_while_old_sessions_go_on() {
    let pki = Pki::new("reload");
    let old_ca = &pki.ca;
    let shards = 2;
    let opts = with_tls_listeners(RouterOptions::local(shards), &pki.files(ClientAuth::Off));
    let router = Router::start_with(opts);
    let realm = matrix_realm(shards, Kind::WebSocket, Serializer::Json);
    let join = |kind, tls, shard| {
        join_on_as(
            &router.tls_url(kind),
            Serializer::Json,
            Some(tls),
            shards,
            shard,
            &realm,
        )
    };
    let mut old_ws = join(Kind::WebSocket, old_ca.trust(), 0);
    let mut old_rs = join(Kind::RawSocket, old_ca.trust(), 1);
    let next_ca = Ca::new(&pki.dir, "next");
    for kind in KINDS {
        assert_refused(
            &router.tls_url(kind),
            Serializer::Json,
            next_ca.trust(),
            "a client trusting the next CA before the reload",
        );
    }

    let next = next_ca.server();
    std::fs::copy(&next.cert, &pki.server.cert).unwrap();
    std::fs::copy(&next.key, &pki.server.key).unwrap();
    assert_eq!(router.running.reload_tls(), Vec::<String>::new());
    let served_by = |expected: &Ca, refused: &Ca| {
        for kind in KINDS {
            for shard in 0..shards {
                let mut c = join(kind, expected.trust(), shard);
                c.goodbye();
            }
            let url = router.tls_url(kind);
            assert_refused(
                &url,
                Serializer::Json,
                refused.trust(),
                "the other CA's client",
            );
        }
    };
    served_by(&next_ca, old_ca);
    let mut new_ws = join(Kind::WebSocket, next_ca.trust(), 1);
    let mut new_rs = join(Kind::RawSocket, next_ca.trust(), 0);
    exchange("reload", &mut old_ws, &mut [&mut new_rs, &mut old_rs]);

    // A bad key keeps the certificate that works, for both listeners.
    std::fs::write(&pki.server.key, "this is not a key\n").unwrap();
    let errors = router.running.reload_tls();
    assert_eq!(errors.len(), 2, "{errors:?}");
    let key = pki.server.key.display().to_string();
    for e in &errors {
        assert!(e.contains(&key), "the error names {key}: {e}");
    }
    served_by(&next_ca, old_ca);
    // Every session goes on, old and new.
    let topic = "com.after.reload";
    let sub_old = old_rs.subscribe(topic);
    let sub_new = new_rs.subscribe(topic);
    for (publisher, n) in [(&mut new_ws, 1), (&mut old_ws, 2)] {
        publisher.publish_acked(topic, arg(n));
        expect_event(&mut old_rs, sub_old, &arg(n));
        expect_event(&mut new_rs, sub_new, &arg(n));
    }
}

/// How a stalled connection stalls.
#[derive(Debug, Clone, Copy)]
enum Stall {
    /// Sends nothing.
    Silent,
    /// Sends the first half of a ClientHello.
    HalfHello,
    /// Completes the TLS handshake, then sends no WAMP transport handshake.
    NoTransportHandshake,
}

/// Opens a connection to `addr` that stalls as `how`.
fn stall(
    addr: SocketAddr,
    how: Stall,
    ca: &Ca,
) -> (TcpStream, Instant, Option<rustls::ClientConnection>) {
    let started = Instant::now();
    let mut s = TcpStream::connect(addr).unwrap();
    let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
    let mut tls = rustls::ClientConnection::new(ca.trust(), name).unwrap();
    match how {
        Stall::Silent => (s, started, None),
        Stall::HalfHello => {
            let mut hello = Vec::new();
            tls.write_tls(&mut hello).unwrap();
            assert!(hello.len() > 10, "a ClientHello of {} bytes", hello.len());
            s.write_all(&hello[..hello.len() / 2]).unwrap();
            (s, started, None)
        }
        Stall::NoTransportHandshake => {
            s.set_read_timeout(Some(RECV_TIMEOUT)).unwrap();
            while tls.is_handshaking() {
                tls.complete_io(&mut s).unwrap();
            }
            (s, started, Some(tls))
        }
    }
}

#[test]
fn a_stalled_tls_handshake_is_dropped_at_the_handshake_timeout_while_others_are_served() {
    let timeout = Duration::from_millis(500);
    let pki = Pki::new("stall");
    let text = format!(
        "{}[session]\nhandshake_timeout_ms = {}\n",
        pki.listeners_toml("off"),
        timeout.as_millis()
    );
    let router = Router::from_toml(2, &text);
    let realm = "realm1";
    let addrs = [
        router.running.websocket_tls_addr().unwrap(),
        router.running.rawsocket_tls_addr().unwrap(),
    ];
    let mut stalled = Vec::new();
    for addr in addrs {
        for how in [Stall::Silent, Stall::HalfHello, Stall::NoTransportHandshake] {
            // Two each: the kernel spreads them over the shards.
            for _ in 0..2 {
                stalled.push((how, stall(addr, how, &pki.ca)));
            }
        }
    }
    // Meanwhile others connect over TLS, join and talk.
    let mut served: Vec<Client> = KINDS
        .iter()
        .enumerate()
        .map(|(i, kind)| {
            let url = router.tls_url(*kind);
            join_on_as(&url, Serializer::MsgPack, Some(pki.ca.trust()), 2, i, realm)
        })
        .collect();
    let [a, b] = &mut served[..] else {
        unreachable!()
    };
    exchange("during", a, &mut [&mut *b]);
    for (how, (mut s, started, tls)) in stalled {
        s.set_read_timeout(Some(timeout + Duration::from_secs(5)))
            .unwrap();
        let ended = match tls {
            // The router closes the TLS session (close_notify) or just the socket.
            Some(mut tls) => loop {
                match tls.read_tls(&mut s) {
                    Ok(0) => break Ok(()),
                    Ok(_) => {
                        if tls.process_new_packets().is_err() {
                            break Ok(());
                        }
                        let mut buf = [0u8; 64];
                        match tls.reader().read(&mut buf) {
                            Ok(0) => break Ok(()),
                            Ok(n) => panic!("{how:?}: the router sent {n} bytes of data"),
                            Err(_) => continue,
                        }
                    }
                    Err(e) => break Err(e),
                }
            },
            None => {
                let mut buf = Vec::new();
                s.read_to_end(&mut buf).map(|_| ())
            }
        };
        let elapsed = started.elapsed();
        match ended {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {}
            Err(e) => panic!("{how:?}: not closed: {e} after {elapsed:?}"),
        }
        assert!(
            elapsed >= timeout && elapsed < timeout + Duration::from_secs(3),
            "{how:?}: closed after {elapsed:?}, the timeout is {timeout:?}"
        );
    }
    // The sessions that finished their handshakes in time go on.
    exchange("after", b, &mut [&mut *a]);
}

/// A config with TLS on both listeners (client certificates required on
/// one) and a Unix socket.
fn secure_config(pki: &Pki, sock: &Path) -> String {
    format!(
        r#"
[websocket.tls]
enabled = true
address = "127.0.0.1:0"
cert_file = "{cert}"
key_file = "{key}"
[rawsocket.tls]
enabled = true
address = "127.0.0.1:0"
cert_file = "{cert}"
key_file = "{key}"
client_auth = "required"
client_ca_file = "{ca}"
[unix]
enabled = true
path = "{sock}"
mode = "0640"
"#,
        cert = pki.server.cert.display(),
        key = pki.server.key.display(),
        ca = pki.ca.file.display(),
        sock = sock.display(),
    )
}

#[test]
fn tls_listeners_and_a_unix_socket_pass_validation_and_bad_files_name_their_listener() {
    let pki = Pki::new("cfg");
    let sock = pki.dir.join("c.sock");
    let good = secure_config(&pki, &sock);
    let config = Config::from_toml_str(&good).unwrap_or_else(|e| panic!("{e}"));
    let opts = RouterOptions::from_config(&config);
    let ws = opts.websocket_tls.as_ref().unwrap().tls.as_ref().unwrap();
    assert_eq!(ws.cert, pki.server.cert);
    assert_eq!(ws.client_auth, ClientAuth::Off);
    let rs = opts.rawsocket_tls.as_ref().unwrap().tls.as_ref().unwrap();
    assert_eq!(rs.client_auth, ClientAuth::Required);
    assert_eq!(rs.client_ca.as_deref(), Some(pki.ca.file.as_path()));
    let unix = opts.unix.as_ref().unwrap();
    assert_eq!((unix.path.as_path(), unix.mode), (sock.as_path(), 0o640));

    // The binary's --check-config agrees.
    let file = pki.dir.join("secure.toml");
    std::fs::write(&file, &good).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .arg("--config")
        .arg(&file)
        .arg("--check-config")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "--check-config: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let garbage = pki.dir.join("garbage.pem");
    std::fs::write(&garbage, "-----BEGIN CERTIFICATE-----\nbm9wZQ==\n").unwrap();
    let missing = pki.dir.join("missing.pem");
    let other = Ca::new(&pki.dir, "other").server();
    let cert = pki.server.cert.display().to_string();
    let key = pki.server.key.display().to_string();
    let ca = pki.ca.file.display().to_string();
    let (garbage, missing) = (garbage.display().to_string(), missing.display().to_string());
    let other_key = other.key.display().to_string();
    // (what is replaced, by what, the key the problem names, what its message names)
    let cases: Vec<(String, String, &str, &str)> = vec![
        (
            format!("cert_file = \"{cert}\"\nkey_file = \"{key}\"\n["),
            format!("cert_file = \"{missing}\"\nkey_file = \"{key}\"\n["),
            "websocket.tls",
            &missing,
        ),
        (
            format!("key_file = \"{key}\"\nclient_auth"),
            format!("key_file = \"{garbage}\"\nclient_auth"),
            "rawsocket.tls",
            &garbage,
        ),
        (
            format!("cert_file = \"{cert}\"\nkey_file = \"{key}\"\nclient_auth"),
            format!("cert_file = \"{garbage}\"\nkey_file = \"{key}\"\nclient_auth"),
            "rawsocket.tls",
            &garbage,
        ),
        (
            format!("client_ca_file = \"{ca}\""),
            format!("client_ca_file = \"{missing}\""),
            "rawsocket.tls",
            &missing,
        ),
        (
            format!("client_ca_file = \"{ca}\""),
            String::new(),
            "rawsocket.tls.client_ca_file",
            "",
        ),
        (
            format!("cert_file = \"{cert}\"\nkey_file = \"{key}\"\n["),
            format!("key_file = \"{key}\"\n["),
            "websocket.tls.cert_file",
            "",
        ),
        (
            format!("key_file = \"{key}\"\n["),
            format!("key_file = \"{other_key}\"\n["),
            "websocket.tls",
            "",
        ),
    ];
    for (from, to, problem_key, names) in cases {
        assert!(good.contains(&from), "{from}");
        let bad = good.replacen(&from, &to, 1);
        let err = Config::from_toml_str(&bad)
            .err()
            .unwrap_or_else(|| panic!("accepted with {to:?} for {from:?}"));
        let problem = err
            .problems()
            .iter()
            .find(|p| p.key == problem_key)
            .unwrap_or_else(|| panic!("no problem of {problem_key} in: {err}"));
        assert!(problem.to_string().contains(names), "{problem}");
    }
    // Both listeners wrong: both named at once.
    let bad = good.replace(&key, &missing);
    let err = Config::from_toml_str(&bad).err().unwrap();
    let keys: Vec<_> = err.problems().iter().map(|p| p.key.as_str()).collect();
    assert!(
        keys.contains(&"websocket.tls") && keys.contains(&"rawsocket.tls"),
        "{err}"
    );
}
