#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The router binary reloads its TLS certificates on SIGHUP: a client that
//! trusts only the new CA is refused before the signal and served after it,
//! while a session opened before the signal goes on; SIGTERM then stops the
//! router cleanly.

mod common;

use common::tls::{Ca, Pki};
use common::Client;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use switchyard::wire::{Message, Serializer};

/// Reads the router's stdout until it is ready; returns the rss:// URL.
fn rss_url(out: &mut impl BufRead) -> String {
    let mut url = None;
    for line in out.lines() {
        let line = line.unwrap();
        if let Some(addr) = line.strip_prefix("switchyard listening rawsocket rss://") {
            url = Some(format!("rss://{addr}"));
        }
        if line.starts_with("switchyard ready") {
            break;
        }
    }
    url.expect("the router announced its rss:// listener")
}

#[test]
fn sighup_reloads_the_certificate_for_new_connections() {
    let pki = Pki::new("sighup");
    let config = pki.dir.join("router.toml");
    let text = format!(
        "shards = 2\nplacement = \"unpinned\"\nlog_level = \"info\"\n\
         [websocket]\naddress = \"127.0.0.1:0\"\n[rawsocket]\naddress = \"127.0.0.1:0\"\n\
         [rawsocket.tls]\nenabled = true\naddress = \"127.0.0.1:0\"\n\
         cert_file = \"{}\"\nkey_file = \"{}\"\n",
        pki.server.cert.display(),
        pki.server.key.display()
    );
    std::fs::write(&config, text).unwrap();
    let mut router = Command::new(env!("CARGO_BIN_EXE_switchyard"))
        .arg("--config")
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(router.stdout.take().unwrap());
    let url = rss_url(&mut out);
    let mut old = Client::join_tls(&url, Serializer::MsgPack, "realm1", Some(pki.ca.trust()));
    let next = Ca::new(&pki.dir, "next");
    assert!(Client::try_connect_tls(&url, Serializer::MsgPack, Some(next.trust())).is_err());
    let leaf = next.server();
    std::fs::copy(&leaf.cert, &pki.server.cert).unwrap();
    std::fs::copy(&leaf.key, &pki.server.key).unwrap();
    // SAFETY: kill(2) on the child's pid; no memory is involved.
    assert_eq!(unsafe { libc::kill(router.id() as i32, libc::SIGHUP) }, 0);
    // The signal is handled on its own thread: poll for its effect.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut new = loop {
        match Client::try_connect_tls(&url, Serializer::MsgPack, Some(next.trust())) {
            Ok(c) => break c,
            Err(_) if Instant::now() < deadline => {}
            Err(e) => panic!("the new certificate was never served: {e}"),
        }
    };
    let welcome = new.login("realm1", &common::auth::Credentials::Anonymous);
    assert!(matches!(welcome, Message::Welcome { .. }), "{welcome:?}");
    old.subscribe("com.example.sighup");
    let request = new.publish_acked("com.example.sighup", common::arg(7));
    assert!(request.0 > 0);
    match old.recv() {
        Message::Event { payload, .. } => {
            assert_eq!(common::first_arg(&payload), 7)
        }
        other => panic!("expected EVENT, got {other:?}"),
    }
    // SAFETY: as above.
    assert_eq!(unsafe { libc::kill(router.id() as i32, libc::SIGTERM) }, 0);
    assert!(router.wait().unwrap().success());
}
