//! Interop with real third-party JavaScript clients: autobahn-js and wampy
//! (installed by this test with npm into `target/`, pinned) make plain and
//! progressive calls, and wampy discloses the caller and times a call out,
//! against the router over WebSocket with JSON, MsgPack and CBOR; both log in
//! with ticket, WAMP-CRA (plain and salted) and cryptosign to a realm with
//! roles.
//!
//! The scripts live in tests/interop/node/; see lib.js there for the minimal
//! callee they call when the client library's own callee cannot stream.
//! Skipped (with a message) only where `node` is not on PATH.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::auth::interop_auth_realm;
use common::process::{assert_interop_ok, run};
use common::Router;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;
use switchyard::auth::crypto::cryptosign::SigningKey;

/// The npm packages, pinned. autobahn-js takes its WebSocket from the global
/// that Node has from version 22 on; on older Node the scripts install `ws`
/// there (wampy is handed `ws` explicitly). `when` gives autobahn-js promises
/// that report progress.
const PACKAGES: [&str; 4] = ["autobahn@26.3.1", "when@3.7.8", "wampy@8.0.2", "ws@8.23.1"];

fn node_present() -> bool {
    let found = Command::new("node").arg("--version").output();
    if found.as_ref().is_ok_and(|o| o.status.success()) {
        return true;
    }
    eprintln!(
        "SKIPPED: the Node interop tests need `node` on PATH (Node.js 20 or later, with npm); \
         none was found, so autobahn-js and wampy were not run"
    );
    false
}

/// The node_modules folder with the pinned packages, installing them on
/// first use (once per test process: the tests of this file run in parallel).
fn node_modules() -> &'static Path {
    static MODULES: OnceLock<PathBuf> = OnceLock::new();
    MODULES.get_or_init(install_packages)
}

fn install_packages() -> PathBuf {
    let prefix = Path::new(env!("CARGO_TARGET_TMPDIR")).join("node-interop");
    let modules = prefix.join("node_modules");
    let marker = prefix.join(".installed");
    let wanted = PACKAGES.join(" ");
    if std::fs::read_to_string(&marker).is_ok_and(|m| m == wanted) {
        return modules;
    }
    std::fs::create_dir_all(&prefix).unwrap();
    let npm = run(
        Command::new("npm")
            .arg("install")
            .arg("--prefix")
            .arg(&prefix)
            .args([
                "--no-audit",
                "--no-fund",
                "--save-exact",
                "--ignore-scripts",
                "--loglevel=error",
            ])
            .args(PACKAGES),
        "npm install",
        Duration::from_secs(600),
    );
    assert!(
        npm.status.success(),
        "installing {wanted} with npm failed (node is present, so npm must be too): {}",
        String::from_utf8_lossy(&npm.stderr)
    );
    std::fs::write(&marker, wanted).unwrap();
    modules
}

/// Runs tests/interop/node/`script` against `router` for every serializer;
/// each run must exit 0 and print INTEROP OK.
fn run_script_everywhere(script: &str, router: &Router) {
    run_script(script, router, &["json", "msgpack", "cbor"], &[]);
}

/// Runs tests/interop/node/`script` WS_URL SERIALIZER `args...` for each of
/// `serializers`; each run must exit 0 and print INTEROP OK.
fn run_script(script: &str, router: &Router, serializers: &[&str], args: &[&str]) {
    let modules = node_modules();
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/interop/node")
        .join(script);
    let ws = format!("ws://{}/ws", router.running.websocket_addr().unwrap());
    for ser in serializers {
        let out = run(
            Command::new("node")
                .env("NODE_PATH", modules)
                .arg(&script)
                .args([ws.as_str(), ser])
                .args(args),
            "the node client",
            Duration::from_secs(60),
        );
        assert_interop_ok(&out, &format!("{} over websocket/{ser}", script.display()));
    }
}

#[test]
fn autobahn_js_receives_progressive_results_over_every_serializer() {
    if !node_present() {
        return;
    }
    let router = Router::start(3);
    run_script_everywhere("autobahn_js.js", &router);
}

#[test]
fn wampy_receives_progressive_results_discloses_the_caller_and_times_out_over_every_serializer() {
    if !node_present() {
        return;
    }
    let router = Router::start(3);
    run_script_everywhere("wampy.js", &router);
}

/// A router of two shards with the realm of tests/interop/auth_realm.toml,
/// and the arguments the login scripts take after the serializer: the seed
/// of kim's key and its public key (hex).
fn auth_router() -> (Router, [String; 2]) {
    let key = SigningKey::generate();
    let router = Router::from_toml(2, &interop_auth_realm(&key.public()));
    (router, [key.seed_hex(), key.public().to_hex()])
}

/// autobahn-js logs in with ticket, WAMP-CRA (auth_cra.sign; salted with
/// auth_cra.derive_key from the CHALLENGE's salt, iterations and keylen) and
/// cryptosign (auth_cryptosign); each session's WELCOME names the principal,
/// an allowed call answers and a denied one gets wamp.error.not_authorized;
/// a wrong ticket is refused with wamp.error.authentication_failed. JSON and
/// MsgPack.
#[test]
fn autobahn_js_logs_in_with_ticket_wampcra_and_cryptosign_and_is_authorized_by_role() {
    if !node_present() {
        return;
    }
    let (router, [seed, pubkey]) = auth_router();
    run_script(
        "autobahn_js_auth.js",
        &router,
        &["json", "msgpack"],
        &[&seed, &pubkey],
    );
}

/// wampy logs in the same ways with its own wampcra and cryptosign plugins
/// (JSON and CBOR).
#[test]
fn wampy_logs_in_with_ticket_wampcra_and_cryptosign_and_is_authorized_by_role() {
    if !node_present() {
        return;
    }
    let (router, [seed, pubkey]) = auth_router();
    run_script(
        "wampy_auth.js",
        &router,
        &["json", "cbor"],
        &[&seed, &pubkey],
    );
}
