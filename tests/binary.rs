//! The `switchyard` binary: it serves WAMP, stops gracefully on SIGTERM
//! (GOODBYE `wamp.close.system_shutdown`, exit 0), and its config commands
//! name the keys they complain about.
#![allow(clippy::unwrap_used)]

mod common;

use common::Client;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use switchyard::wire::{Message, Serializer};

fn switchyard() -> Command {
    Command::new(env!("CARGO_BIN_EXE_switchyard"))
}

#[test]
fn sigterm_says_goodbye_to_every_session_and_exits_zero() {
    let mut child = switchyard()
        .args([
            "--ws",
            "127.0.0.1:0",
            "--rs",
            "127.0.0.1:0",
            "--shards",
            "2",
            "--placement",
            "unpinned",
        ])
        .args(["--log-level", "warn"])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut ws, mut rs) = (String::new(), String::new());
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(url) = line.strip_prefix("switchyard listening websocket ") {
            ws = url.to_string() + "/ws";
        } else if let Some(url) = line.strip_prefix("switchyard listening rawsocket ") {
            rs = url.to_string();
        } else if line.starts_with("switchyard ready") {
            break;
        }
    }
    let mut clients = [
        Client::join(&ws, Serializer::Json, "realm1"),
        Client::join(&rs, Serializer::Cbor, "realm1"),
    ];
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    for c in clients.iter_mut() {
        match c.recv() {
            Message::Goodbye { reason, .. } => assert_eq!(reason, "wamp.close.system_shutdown"),
            other => panic!("expected GOODBYE, got {other:?}"),
        }
    }
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || tx.send(child.wait()));
    let status = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("the router exits")
        .unwrap();
    assert!(status.success(), "exit status {status}");
}

/// Runs `--check-config` on a file holding `toml`; returns (success, everything printed).
fn check_config(file: &std::path::Path, toml: &str) -> (bool, String) {
    std::fs::write(file, toml).unwrap();
    let out = switchyard()
        .arg("--config")
        .arg(file)
        .arg("--check-config")
        .output()
        .unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[test]
fn check_config_reports_every_bad_key() {
    let dir = std::env::temp_dir().join(format!("switchyard-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.toml");
    let (ok, text) = check_config(&file, "shards = 1\n[session]\nhandshake_timeot_ms = 5\n");
    assert!(
        !ok && text.contains("session.handshake_timeot_ms"),
        "{text}"
    );
    let (ok, text) = check_config(
        &file,
        "[rawsocket]\nmax_message_size = 1000\n[websocket]\npath = \"ws\"\n",
    );
    assert!(!ok, "{text}");
    assert!(
        text.contains("rawsocket.max_message_size") && text.contains("websocket.path"),
        "{text}"
    );
    let (ok, text) = check_config(&file, "shards = 2\n");
    assert!(ok, "{text}");
}

#[test]
fn print_config_shows_the_effective_configuration() {
    let out = switchyard()
        .args(["--shards", "3", "--print-config"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let printed =
        switchyard::config::Config::from_toml_str(&String::from_utf8_lossy(&out.stdout)).unwrap();
    assert_eq!(printed.shards, 3);
    assert_eq!(printed.websocket.address.to_string(), "127.0.0.1:8080");
}
