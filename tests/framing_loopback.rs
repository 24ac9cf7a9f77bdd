//! Framing over real loopback sockets: the glommio `accept` echo server
//! against our blocking `Client` and our async `connect`, on RawSocket and
//! WebSocket, every serializer, many message sizes.
#![allow(clippy::unwrap_used)]

mod framing_support;

use bytes::Bytes;
use framing_support::{options, payload, start, text, Outcome, TIMEOUT};
use glommio::{LocalExecutorBuilder, Placement};
use switchyard::transport::blocking::Client;
use switchyard::transport::{connect, Inbound, TransportKind};
use switchyard::wire::Serializer;

const SIZES: [usize; 9] = [0, 1, 125, 126, 4096, 65_535, 65_536, 300_000, 1 << 20];

fn echo_all(client: &mut Client, make: fn(usize) -> Vec<u8>) {
    for n in SIZES {
        let p = make(n);
        client.send(&p).unwrap();
        assert_eq!(client.recv().unwrap(), Bytes::from(p), "size {n}");
    }
}

#[test]
fn rawsocket_echoes_every_size_for_every_serializer() {
    let server = start(options(1 << 24));
    for ser in Serializer::ALL {
        let mut c = Client::connect(&server.rs(), ser, TIMEOUT).unwrap();
        assert_eq!(c.peer_max_message_size(), 1 << 24);
        echo_all(&mut c, payload);
        c.close().unwrap();
        match server.outcome() {
            Outcome::Closed(hs) => {
                assert_eq!(hs.kind, TransportKind::RawSocket);
                assert_eq!(hs.serializer, ser);
                assert_eq!(hs.peer_max_message_size, 1 << 24);
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn rawsocket_carries_exactly_16_mib_with_the_x_bit() {
    let server = start(options(1 << 24));
    let mut c = Client::connect(&server.rs(), Serializer::MsgPack, TIMEOUT).unwrap();
    let p = payload(1 << 24);
    c.send(&p).unwrap();
    assert_eq!(c.recv().unwrap().len(), 1 << 24);
}

#[test]
fn websocket_echoes_every_size_for_every_serializer() {
    let server = start(options(1 << 24));
    for ser in Serializer::ALL {
        let mut c = Client::connect(&server.ws("/ws"), ser, TIMEOUT).unwrap();
        assert_eq!(c.peer_max_message_size(), usize::MAX);
        echo_all(&mut c, if ser.is_text() { text } else { payload });
        c.close().unwrap();
        match server.outcome() {
            Outcome::Closed(hs) => {
                assert_eq!((hs.kind, hs.serializer), (TransportKind::WebSocket, ser));
            }
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn ping_is_answered_with_pong_on_both_transports() {
    let server = start(options(1 << 20));
    for url in [server.rs(), server.ws("/ws")] {
        let mut c = Client::connect(&url, Serializer::Cbor, TIMEOUT).unwrap();
        c.ping(b"hello").unwrap();
        assert_eq!(
            c.recv_frame().unwrap(),
            Some(Inbound::Pong(Bytes::from_static(b"hello")))
        );
    }
}

#[test]
fn server_pings_are_answered_by_the_blocking_client() {
    let server = start(options(1 << 20));
    for url in [server.rs(), server.ws("/ws")] {
        let mut c = Client::connect(&url, Serializer::Json, TIMEOUT).unwrap();
        c.send(b"PING").unwrap();
        // recv() answers the server's ping; the server reports the pong.
        assert_eq!(&c.recv().unwrap()[..], b"PONG:srv");
    }
}

#[test]
fn websocket_close_handshake_completes() {
    let server = start(options(1 << 20));
    let mut c = Client::connect(&server.ws("/ws"), Serializer::Json, TIMEOUT).unwrap();
    c.send(b"[1]").unwrap();
    assert_eq!(&c.recv().unwrap()[..], b"[1]");
    c.send_raw(&close_frame(1000)).unwrap();
    assert_eq!(c.recv_frame().unwrap(), Some(Inbound::Close));
    assert_eq!(
        c.recv_frame().unwrap(),
        None,
        "the server shuts down after its close frame"
    );
    assert!(matches!(server.outcome(), Outcome::Closed(_)));
}

/// A masked close frame with `code` (mask key zero).
fn close_frame(code: u16) -> Vec<u8> {
    let [a, b] = code.to_be_bytes();
    vec![0x88, 0x82, 0, 0, 0, 0, a, b]
}

#[test]
fn async_connect_echoes_on_both_transports() {
    let server = start(options(1 << 24));
    let urls = [
        server.rs(),
        server.ws("/ws"),
        format!("tcp://{}", server.addr),
    ];
    let ex = LocalExecutorBuilder::new(Placement::Unbound)
        .make()
        .unwrap();
    ex.run(async move {
        for (url, ser) in urls
            .iter()
            .zip([Serializer::MsgPack, Serializer::Json, Serializer::Cbor])
        {
            let (mut reader, mut writer) = connect(url, ser, 1 << 24).await.unwrap();
            let enc = writer.encoder();
            // Batch every message into one buffer and one write.
            let mut out = bytes::BytesMut::new();
            for n in SIZES {
                assert!(enc.message(&mut out, &text(n)));
            }
            writer.write_all(&out).await.unwrap();
            for n in SIZES {
                let got = reader.next().await.unwrap();
                assert_eq!(
                    got,
                    Some(Inbound::Message(Bytes::from(text(n)))),
                    "{url} size {n}"
                );
            }
            out.clear();
            enc.close(&mut out, 1000, "");
            writer.write_all(&out).await.unwrap();
            writer.shutdown().await;
            let end = reader.next().await.unwrap();
            assert!(matches!(end, Some(Inbound::Close) | None), "{url}: {end:?}");
            assert_eq!(reader.next().await.unwrap(), None);
        }
    });
    for _ in 0..3 {
        assert!(matches!(server.outcome(), Outcome::Closed(_)));
    }
}

#[test]
fn async_connect_reports_refusals() {
    let server = start(options(1 << 20));
    let url = server.ws("/nowhere");
    let ex = LocalExecutorBuilder::new(Placement::Unbound)
        .make()
        .unwrap();
    let err = ex.run(async move { connect(&url, Serializer::Json, 1 << 20).await.err() });
    let refusal = err.and_then(|e| e.refusal());
    assert_eq!(refusal, Some(switchyard::transport::Refusal::Http(404)));
}

#[test]
fn a_dropped_read_loses_no_bytes() {
    use futures_lite::{future, AsyncReadExt, AsyncWriteExt};
    use glommio::net::{TcpListener, TcpStream};
    use std::time::Duration;
    let ex = LocalExecutorBuilder::new(Placement::Unbound)
        .make()
        .unwrap();
    ex.run(async {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        client.write_all(&[0x7F, 0xF1, 0, 0]).await.unwrap();
        let accepted = listener.accept().await.unwrap();
        let (_, mut reader, _writer) = switchyard::transport::accept(
            switchyard::transport::Conn::Tcp(accepted),
            &framing_support::options(1 << 20),
        )
        .await
        .unwrap();
        let mut reply = [0u8; 4];
        client.read_exact(&mut reply).await.unwrap();
        // Half a frame arrives; the read waiting for the rest is abandoned.
        client
            .write_all(&[0, 0, 0, 6, b'a', b'b', b'c'])
            .await
            .unwrap();
        let give_up = async {
            glommio::timer::sleep(Duration::from_millis(50)).await;
            None
        };
        assert!(future::or(async { Some(reader.next().await) }, give_up)
            .await
            .is_none());
        client.write_all(b"def").await.unwrap();
        let got = reader.next().await.unwrap();
        assert_eq!(got, Some(Inbound::Message(Bytes::from_static(b"abcdef"))));
    });
}
