//! WebSocket interop with tungstenite, a third-party implementation, in both
//! directions: tungstenite's sync client against our `accept`, and our
//! clients (blocking and async `connect`) against tungstenite's server.
#![allow(clippy::unwrap_used)]
// tungstenite's error and callback types are large; not ours to shrink.
#![allow(clippy::result_large_err)]

mod framing_support;

use framing_support::{options, payload, start, text, Outcome, TIMEOUT};
use glommio::{LocalExecutorBuilder, Placement};
use std::net::{TcpListener, TcpStream};
use switchyard::transport::blocking::Client;
use switchyard::transport::{connect, Inbound};
use switchyard::wire::Serializer;
use tungstenite::client::IntoClientRequest;
use tungstenite::handshake::server::{Request, Response};
use tungstenite::http::HeaderValue;
use tungstenite::protocol::frame::coding::{Data, OpCode};
use tungstenite::protocol::frame::Frame;
use tungstenite::{Message, WebSocket};

type Ws = WebSocket<tungstenite::stream::MaybeTlsStream<TcpStream>>;

fn tungstenite_client(url: &str, protocols: &str) -> Result<Ws, tungstenite::Error> {
    let mut req = url.into_client_request().unwrap();
    req.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_str(protocols).unwrap(),
    );
    let (ws, resp) = tungstenite::connect(req)?;
    let chosen = resp.headers().get("Sec-WebSocket-Protocol").unwrap();
    assert_eq!(chosen, "wamp.2.msgpack", "first supported in client order");
    Ok(ws)
}

#[test]
fn tungstenite_client_echoes_text_and_binary_of_many_sizes() {
    let server = start(options(1 << 22));
    // No space after the comma: tungstenite 0.24 does not trim the tokens
    // when it checks the server's choice.
    let mut ws = tungstenite_client(&server.ws("/ws"), "wamp.2.ubjson,wamp.2.msgpack").unwrap();
    for n in [0, 1, 125, 126, 65_535, 65_536, 1 << 20, 1 << 22] {
        ws.send(Message::Binary(payload(n))).unwrap();
        assert_eq!(ws.read().unwrap(), Message::Binary(payload(n)), "size {n}");
        let t = String::from_utf8(text(n)).unwrap();
        ws.send(Message::Text(t.clone())).unwrap();
        // The server answers in binary frames: the connection's serializer is MsgPack.
        assert_eq!(
            ws.read().unwrap(),
            Message::Binary(t.into_bytes()),
            "size {n}"
        );
    }
}

#[test]
fn tungstenite_ping_close_and_fragments() {
    let server = start(options(1 << 20));
    let mut ws = tungstenite_client(&server.ws("/ws"), "wamp.2.msgpack").unwrap();
    ws.send(Message::Ping(b"tick".to_vec())).unwrap();
    assert_eq!(ws.read().unwrap(), Message::Pong(b"tick".to_vec()));
    let first = Frame::message(b"frag".to_vec(), OpCode::Data(Data::Binary), false);
    let last = Frame::message(b"mented".to_vec(), OpCode::Data(Data::Continue), true);
    ws.send(Message::Frame(first)).unwrap();
    ws.send(Message::Frame(last)).unwrap();
    assert_eq!(ws.read().unwrap(), Message::Binary(b"fragmented".to_vec()));
    ws.close(None).unwrap();
    loop {
        match ws.read() {
            Ok(Message::Close(_)) => {}
            Err(tungstenite::Error::ConnectionClosed) => break,
            other => panic!("{other:?}"),
        }
    }
    assert!(matches!(server.outcome(), Outcome::Closed(_)));
}

#[test]
fn tungstenite_client_without_a_wamp_subprotocol_gets_400() {
    let server = start(options(1 << 20));
    match tungstenite_client(&server.ws("/ws"), "wamp.2.ubjson, chat") {
        Err(tungstenite::Error::Http(resp)) => {
            assert_eq!(resp.status(), 400);
            let body = String::from_utf8(resp.body().clone().unwrap()).unwrap();
            assert!(
                body.contains("wamp.2.json, wamp.2.msgpack, wamp.2.cbor"),
                "{body}"
            );
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
}

/// A tungstenite echo server for one connection; returns its URL.
fn tungstenite_server() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ws://{}/ws", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let callback = |req: &Request, mut resp: Response| {
                let offered = req.headers().get("Sec-WebSocket-Protocol").unwrap().clone();
                resp.headers_mut().insert("Sec-WebSocket-Protocol", offered);
                Ok(resp)
            };
            let mut ws = tungstenite::accept_hdr(stream.unwrap(), callback).unwrap();
            while let Ok(msg) = ws.read() {
                if msg.is_text() || msg.is_binary() {
                    ws.send(msg).unwrap();
                }
            }
        }
    });
    url
}

#[test]
fn our_clients_talk_to_a_tungstenite_server() {
    let url = tungstenite_server();
    let mut c = Client::connect(&url, Serializer::Json, TIMEOUT).unwrap();
    for n in [0, 125, 126, 70_000, 1 << 20] {
        c.send(&text(n)).unwrap();
        assert_eq!(c.recv().unwrap(), text(n), "size {n}");
    }
    c.ping(b"p").unwrap();
    assert_eq!(c.recv_frame().unwrap(), Some(Inbound::Pong("p".into())));
    c.close().unwrap();

    let ex = LocalExecutorBuilder::new(Placement::Unbound)
        .make()
        .unwrap();
    ex.run(async move {
        let (mut reader, mut writer) = connect(&url, Serializer::Cbor, 1 << 20).await.unwrap();
        let mut out = bytes::BytesMut::new();
        assert!(writer.encoder().message(&mut out, &payload(100_000)));
        writer.write_all(&out).await.unwrap();
        let got = reader.next().await.unwrap();
        assert_eq!(got, Some(Inbound::Message(payload(100_000).into())));
    });
}
