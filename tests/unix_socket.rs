//! RawSocket on a Unix domain socket over real sockets: its sessions live
//! on shard 0 and meet sessions of every other shard; the socket file gets
//! its configured mode, replaces a stale file of a crashed run but not a
//! live one or a regular file, and is removed when the router stops.
#![allow(clippy::unwrap_used)]

mod common;

use common::exchange::*;
use common::tls::{matrix_realm, unix_url, with_unix, SecureRouter, TestDir, Via};
use common::*;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use switchyard::runtime::{self, RouterOptions};
use switchyard::wire::Serializer;

#[test]
fn unix_socket_sessions_live_on_shard_0_and_do_pubsub_and_rpc_with_every_other_shard() {
    let r = SecureRouter::start(3, "unix");
    for ser in Serializer::ALL {
        let realm = matrix_realm(3, Kind::RawSocket, ser);
        let url = r.url(Via::Unix);
        for _ in 0..6 {
            let mut c = Client::join_tls(&url, ser, &realm, None);
            assert_eq!(c.session.0 % 3, 0, "a Unix-socket session off shard 0");
            c.goodbye();
        }
        let mut local = r.join_on(Via::Unix, ser, 0, &realm);
        let mut on1 = r.join_on(Via::Plain(Kind::RawSocket), ser, 1, &realm);
        let mut on2 = r.join_on(Via::Plain(Kind::WebSocket), ser, 2, &realm);
        exchange("unix", &mut local, &mut [&mut on1, &mut on2]);
    }
}

/// Options of a router on `shards` shards with the Unix socket `path`.
fn unix_options(shards: usize, path: &Path, mode: u32) -> RouterOptions {
    with_unix(RouterOptions::local(shards), path, mode)
}

fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_socket_file_gets_the_configured_mode_and_is_removed_when_the_router_stops() {
    let dir = TestDir::new("mode");
    for (shards, mode) in [(1, 0o600), (2, 0o666), (3, 0o640)] {
        let path = dir.join(&format!("m{mode:o}.sock"));
        let router = Router::start_with(unix_options(shards, &path, mode));
        let meta = std::fs::symlink_metadata(&path).unwrap();
        assert!(meta.file_type().is_socket());
        assert_eq!(mode_of(&path), mode, "mode of {}", path.display());
        let mut c = Client::join_tls(&unix_url(&path), Serializer::Json, "realm1", None);
        c.goodbye();
        // Closed first: the router would wait its shutdown grace for it.
        drop(c);
        drop(router);
        assert!(
            std::fs::symlink_metadata(&path).is_err(),
            "{} is still there after the router stopped",
            path.display()
        );
    }
    // The same through the config: an octal string.
    let path = dir.join("cfg.sock");
    let text = format!(
        "[unix]\nenabled = true\npath = \"{}\"\nmode = \"0604\"\n",
        path.display()
    );
    let router = Router::from_toml(2, &text);
    assert_eq!(mode_of(&path), 0o604);
    let mut c = Client::join_tls(&unix_url(&path), Serializer::Cbor, "realm1", None);
    c.goodbye();
    drop(c);
    drop(router);
    assert!(std::fs::symlink_metadata(&path).is_err());
}

#[test]
fn a_stale_socket_file_is_replaced_and_a_live_one_is_left_alone() {
    let dir = TestDir::new("stale");
    let path = dir.join("s.sock");
    drop(std::os::unix::net::UnixListener::bind(&path).unwrap());
    let meta = std::fs::symlink_metadata(&path).unwrap();
    assert!(meta.file_type().is_socket(), "the stale socket file exists");
    let router = Router::start_with(unix_options(2, &path, 0o600));
    assert_eq!(mode_of(&path), 0o600);
    let mut c = Client::join_tls(&unix_url(&path), Serializer::MsgPack, "realm1", None);
    c.goodbye();
    drop(c);
    drop(router);
    assert!(std::fs::symlink_metadata(&path).is_err());

    // A socket another process listens on is not taken over.
    let live = std::os::unix::net::UnixListener::bind(&path).unwrap();
    let err = runtime::start(unix_options(2, &path, 0o600))
        .err()
        .expect("start fails on a live socket");
    let text = err.to_string();
    assert!(
        text.contains(&path.display().to_string()) && text.contains("listens"),
        "{text}"
    );
    let _peer = std::os::unix::net::UnixStream::connect(&path).unwrap();
    assert!(live.accept().is_ok(), "the live socket still accepts");
}

#[test]
fn a_regular_file_at_the_socket_path_makes_start_fail_with_a_clear_error() {
    let dir = TestDir::new("file");
    let path = dir.join("f.sock");
    std::fs::write(&path, "precious data\n").unwrap();
    for shards in [1, 2] {
        let err = runtime::start(unix_options(shards, &path, 0o600))
            .err()
            .expect("start fails on a regular file");
        let text = err.to_string();
        assert!(
            text.contains(&path.display().to_string()) && text.contains("not a socket"),
            "{text}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "precious data\n");
    }
}
