//! Loopback harness shared by the framing tests: a glommio echo server on
//! 127.0.0.1:0 (its address is handed over a channel, no sleeps) that runs
//! `accept`, then a reader task and a writer task per connection, and
//! reports how each connection ended.
//!
//! Echo protocol: a message comes back as the same message; a message
//! `PING` makes the server send a ping `srv`; a pong comes back as the
//! message `PONG:<payload>`; a ping is answered with a pong; a close frame
//! is answered with a close frame (1000) and FIN.
#![allow(dead_code, clippy::unwrap_used)]

use bytes::BytesMut;
use glommio::channels::local_channel;
use glommio::net::TcpListener;
use glommio::{LocalExecutorBuilder, Placement};
use std::net::SocketAddr;
use std::sync::mpsc;
use std::time::Duration;
use switchyard::transport::{
    accept, AcceptOptions, Conn, FrameEncoder, FrameReader, Handshake, Inbound, TransportError,
};

pub const TIMEOUT: Duration = Duration::from_secs(10);

/// How one server-side connection ended.
#[derive(Debug)]
pub enum Outcome {
    /// The handshake failed (refusals included).
    Handshake(String),
    /// Clean end: the peer closed (close frame or EOF).
    Closed(Handshake),
    /// The reader failed; the close code sent, if any.
    Failed(Handshake, String, Option<u16>),
}

pub struct Server {
    pub addr: SocketAddr,
    pub outcomes: mpsc::Receiver<Outcome>,
}

impl Server {
    pub fn ws(&self, path: &str) -> String {
        format!("ws://{}{}", self.addr, path)
    }

    pub fn rs(&self) -> String {
        format!("rs://{}", self.addr)
    }

    /// The outcome of the next connection to end.
    pub fn outcome(&self) -> Outcome {
        self.outcomes.recv_timeout(TIMEOUT).unwrap()
    }
}

pub fn options(max_message_size: usize) -> AcceptOptions {
    AcceptOptions {
        rawsocket: true,
        websocket: true,
        ws_path: "/ws".into(),
        max_message_size,
        compression: None,
    }
}

/// Starts an echo server on its own thread and executor.
pub fn start(opts: AcceptOptions) -> Server {
    let (addr_tx, addr_rx) = mpsc::channel();
    let (out_tx, outcomes) = mpsc::channel();
    std::thread::spawn(move || {
        let ex = LocalExecutorBuilder::new(Placement::Unbound)
            .make()
            .unwrap();
        ex.run(async move {
            let listener = TcpListener::bind("127.0.0.1:0").unwrap();
            addr_tx.send(listener.local_addr().unwrap()).unwrap();
            while let Ok(stream) = listener.accept().await {
                let (opts, out_tx) = (opts.clone(), out_tx.clone());
                glommio::spawn_local(async move {
                    let _ = out_tx.send(serve(stream, &opts).await);
                })
                .detach();
            }
        });
    });
    Server {
        addr: addr_rx.recv_timeout(TIMEOUT).unwrap(),
        outcomes,
    }
}

async fn serve(stream: glommio::net::TcpStream, opts: &AcceptOptions) -> Outcome {
    let (hs, mut reader, mut writer) = match accept(Conn::Tcp(stream), opts).await {
        Ok(parts) => parts,
        Err(e) => return Outcome::Handshake(e.to_string()),
    };
    let enc = writer.encoder();
    // The writer runs in its own task, fed by a channel: reads and writes
    // proceed concurrently on the two halves.
    let (tx, rx) = local_channel::new_unbounded::<BytesMut>();
    let writer_task = glommio::spawn_local(async move {
        while let Some(buf) = rx.recv().await {
            if writer.write_all(&buf).await.is_err() {
                break;
            }
        }
        writer.shutdown().await;
    });
    let end = echo(&mut reader, enc, &tx).await;
    drop(tx);
    writer_task.await;
    match end {
        Ok(()) => Outcome::Closed(hs),
        Err(e) => Outcome::Failed(hs, e.to_string(), e.close_code()),
    }
}

async fn echo(
    reader: &mut FrameReader,
    enc: FrameEncoder,
    tx: &local_channel::LocalSender<BytesMut>,
) -> Result<(), TransportError> {
    loop {
        let mut out = BytesMut::new();
        match reader.next().await {
            Ok(Some(Inbound::Message(m))) if &m[..] == b"PING" => enc.ping(&mut out, b"srv"),
            Ok(Some(Inbound::Message(m))) => enc.message(&mut out, &m),
            Ok(Some(Inbound::Ping(p))) => enc.pong(&mut out, &p),
            Ok(Some(Inbound::Pong(p))) => enc.message(&mut out, &[b"PONG:", &p[..]].concat()),
            Ok(Some(Inbound::Close)) => {
                enc.close(&mut out, 1000, "bye");
                let _ = tx.try_send(out);
                return Ok(());
            }
            Ok(None) => return Ok(()),
            Err(e) => {
                if let Some(code) = e.close_code() {
                    enc.close(&mut out, code, "protocol error");
                    let _ = tx.try_send(out);
                }
                return Err(e);
            }
        };
        tx.try_send(out).unwrap();
    }
}

/// Deterministic test bytes of length `n`.
pub fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 % 251) as u8).collect()
}

/// A JSON-ish text payload of length `n` (valid UTF-8).
pub fn text(n: usize) -> Vec<u8> {
    (0..n).map(|i| b'a' + (i % 26) as u8).collect()
}
