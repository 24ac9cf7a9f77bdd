//! The `switchyard` binary: it serves WAMP, stops gracefully on SIGTERM
//! (GOODBYE `wamp.close.system_shutdown`, exit 0), and its config commands
//! name the keys they complain about.
#![allow(clippy::unwrap_used)]

mod common;

use common::Client;
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::Duration;
use switchyard::wire::{Message, Serializer};

fn switchyard() -> Command {
    Command::new(env!("CARGO_BIN_EXE_switchyard"))
}

/// A router binary on free loopback ports, with its URLs.
struct Spawned {
    child: Child,
    ws: String,
    rs: String,
    /// The metrics and health listener, `IP:PORT`.
    http: String,
}

/// Starts the binary with `args` (plus free ports, 2 unpinned shards) and
/// waits until it says it is ready; stderr is piped when `capture_stderr`.
fn spawn_router(args: &[&str], capture_stderr: bool) -> Spawned {
    let mut cmd = switchyard();
    cmd.args([
        "--ws",
        "127.0.0.1:0",
        "--rs",
        "127.0.0.1:0",
        "--http",
        "127.0.0.1:0",
        "--shards",
        "2",
    ])
    .args(["--placement", "unpinned"])
    .args(args)
    .stdout(Stdio::piped());
    if capture_stderr {
        cmd.stderr(Stdio::piped());
    }
    let mut child = cmd.spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut ws, mut rs, mut http) = (String::new(), String::new(), String::new());
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(url) = line.strip_prefix("switchyard listening websocket ") {
            ws = url.to_string() + "/ws";
        } else if let Some(url) = line.strip_prefix("switchyard listening rawsocket ") {
            rs = url.to_string();
        } else if let Some(addr) = line.strip_prefix("switchyard listening http http://") {
            http = addr.to_string();
        } else if line.starts_with("switchyard ready") {
            break;
        }
    }
    Spawned {
        child,
        ws,
        rs,
        http,
    }
}

/// Sends SIGTERM and waits (bounded) for the exit.
fn terminate(mut child: Child) -> (ExitStatus, String) {
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let mut stderr = child.stderr.take();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(e) = stderr.as_mut() {
            e.read_to_string(&mut text).unwrap();
        }
        tx.send((child.wait(), text))
    });
    let (status, text) = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("the router exits");
    (status.unwrap(), text)
}

#[test]
fn sigterm_says_goodbye_to_every_session_and_exits_zero() {
    let router = spawn_router(&["--log-level", "warn"], false);
    let mut clients = [
        Client::join(&router.ws, Serializer::Json, "realm1"),
        Client::join(&router.rs, Serializer::Cbor, "realm1"),
    ];
    unsafe { libc::kill(router.child.id() as i32, libc::SIGTERM) };
    for c in clients.iter_mut() {
        match c.recv() {
            Message::Goodbye { reason, .. } => assert_eq!(reason, "wamp.close.system_shutdown"),
            other => panic!("expected GOODBYE, got {other:?}"),
        }
    }
    let (status, _) = terminate(router.child);
    assert!(status.success(), "exit status {status}");
}

#[test]
fn the_binary_prints_its_http_address_and_answers_health_there() {
    use std::io::Write;
    let router = spawn_router(&["--log-level", "warn"], false);
    let mut s = std::net::TcpStream::connect(&router.http).unwrap();
    s.write_all(b"GET /health HTTP/1.1\r\n\r\n").unwrap();
    let mut reply = String::new();
    s.read_to_string(&mut reply).unwrap();
    assert!(reply.starts_with("HTTP/1.1 200 "), "{reply}");
    assert!(reply.contains("\"shards\":2"), "{reply}");
    let (status, _) = terminate(router.child);
    assert!(status.success(), "exit status {status}");
}

/// Joins a session, then breaks the protocol with a PUBLISH whose topic is a number.
fn commit_a_violation(url: &str) {
    let mut c = Client::join(url, Serializer::Json, "realm1");
    c.send_raw(br#"[16, 1, {}, 42]"#);
    assert!(c
        .recv_or_closed()
        .is_some_and(|m| matches!(m, Message::Abort { .. })));
}

#[test]
fn text_logs_carry_no_colour_codes_when_stderr_is_not_a_terminal() {
    let router = spawn_router(&["--log-level", "debug"], true);
    commit_a_violation(&router.rs);
    let (status, log) = terminate(router.child);
    assert!(status.success(), "exit status {status}");
    assert!(!log.contains('\u{1b}'), "ANSI escapes in:\n{log}");
    let line = log
        .lines()
        .find(|l| l.contains("protocol violation"))
        .unwrap_or_else(|| panic!("no violation logged in:\n{log}"));
    for field in [
        "shard{id=",
        "conn{peer=",
        "transport=RawSocket",
        "serializer=",
        "session=",
        "reason=",
    ] {
        assert!(line.contains(field), "{field} missing from: {line}");
    }
}

#[test]
fn json_logs_are_one_object_per_line() {
    let dir = std::env::temp_dir().join(format!("switchyard-log-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("json.toml");
    std::fs::write(&file, "log_level = \"debug\"\nlog_format = \"json\"\n").unwrap();
    let router = spawn_router(&["--config", file.to_str().unwrap()], true);
    commit_a_violation(&router.ws);
    let (status, log) = terminate(router.child);
    assert!(status.success(), "exit status {status}");
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let violation = lines
        .iter()
        .find(|v| v["fields"]["message"] == "protocol violation")
        .unwrap_or_else(|| panic!("no violation logged in:\n{log}"));
    assert!(violation["fields"]["reason"].is_string(), "{violation}");
    assert_eq!(violation["span"]["name"], "conn", "{violation}");
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
