//! Interop with a real third-party client: Autobahn-Python (installed by this
//! test into a venv under `target/`, from PyPI) runs pub/sub, RPC and the
//! Advanced RPC features against the router over WebSocket and RawSocket with
//! JSON, MsgPack and CBOR, logs in with every method it has a client for
//! (ticket, WAMP-CRA, cryptosign, SCRAM) against a realm with roles, and
//! negotiates WebSocket permessage-deflate; and over WebSocket and RawSocket
//! over TLS and RawSocket on a Unix domain socket, including a login by
//! client certificate (authmethod "tls").
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::auth::interop_auth_realm;
use common::process::{assert_interop_ok, run};
use common::tls::{Pki, SecureRouter, Via};
use common::{Kind, Router};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;
use switchyard::auth::crypto::cryptosign::SigningKey;

/// What the venv gets, pinned: Autobahn with the extras its clients need
/// (`encryption` brings PyNaCl for cryptosign, `scram` argon2-cffi and
/// passlib for SCRAM), and those three libraries pinned too.
const PACKAGES: [&str; 4] = [
    "autobahn[serialization,encryption,scram]==26.10.2",
    "pynacl==1.6.2",
    "argon2-cffi==25.1.0",
    "passlib==1.7.4",
];

/// The venv's python, creating the venv and installing Autobahn on first use
/// (once per test process: the tests of this file run in parallel).
fn autobahn_python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(install_autobahn)
}

fn install_autobahn() -> PathBuf {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("autobahn-venv");
    let python = venv.join("bin/python");
    // The marker holds the package list: a venv made for another list (or
    // by an older version of this test) is brought up to this one.
    let marker = venv.join(".installed");
    let wanted = PACKAGES.join(" ");
    if std::fs::read_to_string(&marker).is_ok_and(|m| m == wanted) {
        return python;
    }
    let system = std::env::var("PYTHON").unwrap_or_else(|_| "python3".into());
    let found = Command::new(&system).arg("--version").output();
    assert!(
        found.is_ok_and(|o| o.status.success()),
        "the interop tests need Python 3 ('{system}' not found): install python3 with venv support, or set PYTHON"
    );
    let out = run(
        Command::new(&system).args(["-m", "venv"]).arg(&venv),
        "python3 -m venv",
        Duration::from_secs(120),
    );
    assert!(
        out.status.success(),
        "creating the venv failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pip = run(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(PACKAGES),
        "pip install autobahn",
        Duration::from_secs(600),
    );
    assert!(
        pip.status.success(),
        "installing {wanted} failed: {}",
        String::from_utf8_lossy(&pip.stderr)
    );
    std::fs::write(&marker, wanted).unwrap();
    python
}

/// Runs `script` (in tests/interop/) against `router` for every transport and
/// serializer; each run must exit 0 and print INTEROP OK.
fn run_script_everywhere(script: &str, router: &Router, limit: Duration) {
    let python = autobahn_python();
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/interop")
        .join(script);
    let ws = format!("ws://{}/ws", router.running.websocket_addr().unwrap());
    let rs = format!("rs://{}", router.running.rawsocket_addr().unwrap());
    for (url, kind) in [(&ws, "websocket"), (&rs, "rawsocket")] {
        for ser in ["json", "msgpack", "cbor"] {
            let out = run(
                Command::new(python)
                    .arg(&script)
                    .args([url.as_str(), kind, ser]),
                "the autobahn client",
                limit,
            );
            assert_interop_ok(&out, &format!("{} over {kind}/{ser}", script.display()));
        }
    }
}

#[test]
fn autobahn_python_does_pubsub_and_rpc_over_every_transport_and_serializer() {
    let router = Router::start(2);
    run_script_everywhere("autobahn_client.py", &router, Duration::from_secs(90));
}

/// Flow control with a real client: a slow Autobahn subscriber (its event
/// loop blocked 1 ms every 10 events) gets all of a fast Autobahn
/// publisher's 10,000 events, in order, on three shards with a 64 KiB
/// watermark, and the router paused the publisher on the way.
#[test]
fn autobahn_python_publisher_is_paused_for_a_slow_subscriber_without_loss() {
    let mut opts = switchyard::runtime::RouterOptions::local(3);
    opts.outbound_watermark = 64 * 1024;
    opts.stall_timeout = Duration::from_secs(60);
    let router = Router::start_with(opts);
    run_script_everywhere("autobahn_flow.py", &router, Duration::from_secs(240));
    let m = common::metrics::scrape(&router);
    let pauses = common::metrics::value(&m, "switchyard_flow_pauses_total", "all");
    assert!(pauses >= 1, "no pause");
}

/// Progressive call results, call canceling, call timeout (in ms) and shared
/// roundrobin registrations, on three shards (the kernel spreads the sessions'
/// connections over them, so calls cross shards).
#[test]
fn autobahn_python_uses_the_advanced_rpc_features_over_every_transport_and_serializer() {
    let router = Router::start(3);
    run_script_everywhere("autobahn_advanced_rpc.py", &router, Duration::from_secs(90));
}

/// Subscriber black/white listing (session ids, authid, authrole), publisher
/// identification, event retention and event history, on three shards. The
/// history step runs in realm `test.history` (the script's default 4th
/// argument), which keeps the history of `com.interop.history`.
#[test]
fn autobahn_python_uses_the_advanced_pubsub_features_over_every_transport_and_serializer() {
    let mut opts = switchyard::runtime::RouterOptions::local(3);
    let mut realm = switchyard::shard::RealmSettings::open("test.history");
    realm.pubsub.history.push(switchyard::realm::HistorySpec {
        topic: "com.interop.history".into(),
        policy: switchyard::routing::MatchPolicy::Exact,
        limit: 10,
        max_age: None,
    });
    opts.settings.realms.push(realm);
    let router = Router::start_with(opts);
    run_script_everywhere(
        "autobahn_advanced_pubsub.py",
        &router,
        Duration::from_secs(90),
    );
}

/// The meta API on three shards: session on_join/on_leave events, session
/// count/list/get, registration and subscription lookups, and testaments
/// (published when their session leaves; flushed ones never).
#[test]
fn autobahn_python_uses_the_meta_api_over_every_transport_and_serializer() {
    let router = Router::start(3);
    run_script_everywhere("autobahn_meta.py", &router, Duration::from_secs(90));
}

/// Autobahn-Python logs in with ticket, WAMP-CRA (plain and salted),
/// cryptosign (with and without authid) and SCRAM (argon2id) on a
/// router of two shards configured from TOML; each session's WELCOME names
/// the principal, an allowed call answers and a denied one gets
/// wamp.error.not_authorized; a wrong ticket is refused with
/// wamp.error.authentication_failed. Over WebSocket (JSON, CBOR) and
/// RawSocket (MsgPack).
#[test]
fn autobahn_python_logs_in_with_every_method_and_is_authorized_by_role() {
    let key = SigningKey::generate();
    let router = Router::from_toml(2, &interop_auth_realm(&key.public()));
    let python = autobahn_python();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/autobahn_auth.py");
    let ws = format!("ws://{}/ws", router.running.websocket_addr().unwrap());
    let rs = format!("rs://{}", router.running.rawsocket_addr().unwrap());
    let (seed, pubkey) = (key.seed_hex(), key.public().to_hex());
    let runs = [
        (&ws, "websocket", "json"),
        (&rs, "rawsocket", "msgpack"),
        (&ws, "websocket", "cbor"),
    ];
    for (url, kind, ser) in runs {
        let out = run(
            Command::new(python)
                .arg(&script)
                .args([url.as_str(), kind, ser, &seed, &pubkey]),
            "the autobahn client",
            Duration::from_secs(90),
        );
        assert_interop_ok(&out, &format!("{} over {kind}/{ser}", script.display()));
    }
}

/// WebSocket permessage-deflate with Autobahn's own offer (the one its
/// ApplicationRunner makes): agreed without context takeover, pub/sub and
/// RPC with ~200 kB payloads (events, arguments and results compressed, a
/// small event plain, Autobahn's 16 KiB fragments reassembled), on two
/// shards with every serializer; with compression off the offer is declined
/// and the same steps pass uncompressed.
#[test]
fn autobahn_python_negotiates_permessage_deflate() {
    let python = autobahn_python();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/autobahn_deflate.py");
    let on = Router::start(2);
    let mut opts = switchyard::runtime::RouterOptions::local(2);
    opts.websocket.as_mut().unwrap().accept.compression = None;
    let off = Router::start_with(opts);
    for (router, mode) in [(&on, "on"), (&off, "off")] {
        let ws = format!("ws://{}/ws", router.running.websocket_addr().unwrap());
        for ser in ["json", "msgpack", "cbor"] {
            let out = run(
                Command::new(python)
                    .arg(&script)
                    .args([ws.as_str(), ser, mode]),
                "the autobahn client",
                Duration::from_secs(90),
            );
            assert_interop_ok(&out, &format!("{} {mode} over {ser}", script.display()));
        }
    }
}

/// Runs tests/interop/autobahn_secure.py with `args`; it must exit 0 and
/// print INTEROP OK.
fn run_secure_script(args: &[&str]) {
    let python = autobahn_python();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/autobahn_secure.py");
    let out = run(
        Command::new(python).arg(&script).args(args),
        "the autobahn client",
        Duration::from_secs(90),
    );
    assert_interop_ok(&out, &format!("{} {args:?}", script.display()));
}

/// Pub/sub and RPC between two Autobahn-Python sessions over WebSocket over
/// TLS and RawSocket over TLS (an SSLContext trusting only the test CA; one
/// trusting only the system CAs is refused) and over RawSocket on the Unix
/// socket (Autobahn's asyncio Component connects to a `unix` endpoint),
/// with JSON, MsgPack and CBOR, on two shards.
#[test]
fn autobahn_python_does_pubsub_and_rpc_over_tls_and_the_unix_socket() {
    let r = SecureRouter::start(2, "ab");
    let ca = r.pki.ca.file.display().to_string();
    let unix = r.unix.display().to_string();
    let runs = [
        ("wss", r.url(Via::Tls(Kind::WebSocket)), Some(&ca)),
        ("rss", r.url(Via::Tls(Kind::RawSocket)), Some(&ca)),
        ("unix", unix, None),
    ];
    for (mode, target, ca) in &runs {
        for ser in ["json", "msgpack", "cbor"] {
            let mut args = vec![*mode, target.as_str(), ser];
            args.extend(ca.map(String::as_str));
            run_secure_script(&args);
        }
    }
}

/// Autobahn-Python shows a client certificate over wss:// (client
/// certificates optional on the listener) and joins with authmethod "tls":
/// WELCOME names the principal holding the certificate's fingerprint.
#[test]
fn autobahn_python_logs_in_with_a_client_certificate_over_wss() {
    let pki = Pki::new("abcert");
    let device = pki.ca.client("sensor-7");
    let text = format!(
        "{}\n[[realms.realm]]\nname = \"devices\"\nanonymous = false\n\
         [[realms.realm.principals]]\nauthid = \"sensor-7\"\nauthrole = \"device\"\n\
         tls_certificates = [\"{}\"]\n\
         [[realms.realm.roles]]\nname = \"device\"\n\
         permissions = [{{ uri = \"com.\", match = \"prefix\", allow = {{ publish = true }} }}]\n",
        pki.listeners_toml("optional"),
        device.fingerprint_colons(),
    );
    let router = Router::from_toml(2, &text);
    let url = router.tls_url(Kind::WebSocket);
    let (ca, cert, key) = (
        pki.ca.file.display().to_string(),
        device.cert.display().to_string(),
        device.key.display().to_string(),
    );
    for ser in ["json", "msgpack", "cbor"] {
        run_secure_script(&["cert", &url, ser, &ca, &cert, &key, "sensor-7", "devices"]);
    }
}
