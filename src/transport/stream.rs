//! `FrameReader` and `FrameWriter`: the two halves of an established
//! connection on glommio.
//!
//! Concurrency: both halves share the one `Conn` (through an
//! `Rc<RefCell<_>>` borrowed only inside each synchronous `poll_read` /
//! `poll_write`, never across an await). glommio keeps separate read and
//! write readiness sources, so a reader task and a writer task can both be
//! waiting at once, and a connection costs one file descriptor.

use super::codec::{FrameDecoder, FrameEncoder, Inbound};
use super::conn::Conn;
use super::error::TransportError;
use bytes::BytesMut;
use futures_lite::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use std::cell::RefCell;
use std::io::{self, Read};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

/// Initial size of a read buffer during handshakes and in the blocking client.
pub(crate) const READ_CHUNK: usize = 8 * 1024;
/// The least a read asks for: an idle connection holds no more than this.
const MIN_READ: usize = 1024;
/// The most one read asks for (and zero-fills), even for a larger frame.
const MAX_READ: usize = 64 * 1024;
/// The most reserved ahead for a frame's body: beyond it, the buffer grows
/// (doubling) as data arrives, so memory follows bytes received, not the
/// length a header announces.
const MAX_RESERVE: usize = 1 << 20;

/// The reading half: yields whole messages and control frames.
#[derive(Debug)]
pub struct FrameReader {
    stream: Half,
    buf: BytesMut,
    decoder: FrameDecoder,
    done: bool,
    /// How much the next read asks for: doubles while reads fill it, halves
    /// while they come back small, so busy peers read in large batches and
    /// idle ones hold little memory.
    chunk: usize,
}

impl FrameReader {
    /// The next message or control frame. `Ok(None)`: the peer closed the
    /// TCP connection cleanly between frames (and after `Inbound::Close` or
    /// an error). Cancel-safe: dropping the future loses no data.
    pub async fn next(&mut self) -> Result<Option<Inbound>, TransportError> {
        if self.done {
            return Ok(None);
        }
        loop {
            match self.decoder.decode(&mut self.buf) {
                Ok(Some(frame)) => {
                    self.done = matches!(frame, Inbound::Close);
                    return Ok(Some(frame));
                }
                Ok(None) => {}
                Err(e) => {
                    self.done = true;
                    return Err(e.into());
                }
            }
            let offered = self.decoder.wanted().max(self.chunk).min(MAX_READ);
            let n = read_more(&mut self.stream, &mut self.buf, offered).await?;
            if n == 0 {
                self.done = true;
                return self.decoder.at_eof(&self.buf);
            }
            self.chunk = next_chunk(self.chunk, n, offered);
        }
    }
}

/// The writing half: frames are appended to caller buffers with the
/// `encoder()` and written with `write_all`.
#[derive(Debug)]
pub struct FrameWriter {
    stream: Half,
    encoder: FrameEncoder,
    peer_max: usize,
}

impl FrameWriter {
    /// The encoder for this connection's framing.
    pub fn encoder(&self) -> FrameEncoder {
        self.encoder
    }

    /// The largest message the peer accepts (RawSocket: from its handshake;
    /// WebSocket announces none: `usize::MAX`).
    pub fn peer_max_message_size(&self) -> usize {
        self.peer_max
    }

    /// Writes all of `buf` (typically many encoded frames). Not cancel-safe:
    /// a dropped write may have sent part of `buf`.
    pub async fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        self.stream.write_all(buf).await
    }

    /// Shuts down the sending direction (FIN). The reader still sees what
    /// the peer sends until it closes its side.
    pub async fn shutdown(&mut self) {
        self.stream.shutdown_write().await;
    }
}

/// What `split` needs besides the stream.
pub(crate) struct Framing {
    pub(crate) decoder: FrameDecoder,
    pub(crate) encoder: FrameEncoder,
    pub(crate) peer_max: usize,
}

/// Splits an established connection into its two halves. `buf` holds bytes
/// already read past the handshake.
pub(crate) fn split(
    stream: Conn,
    buf: BytesMut,
    framing: Framing,
) -> io::Result<(FrameReader, FrameWriter)> {
    let stream = Half(Rc::new(RefCell::new(stream)));
    let writer = FrameWriter {
        stream: stream.clone(),
        encoder: framing.encoder,
        peer_max: framing.peer_max,
    };
    // The handshake's buffer is not kept when empty: idle sessions stay small.
    let buf = if buf.is_empty() { BytesMut::new() } else { buf };
    let reader = FrameReader {
        stream,
        buf,
        decoder: framing.decoder,
        done: false,
        chunk: 2 * MIN_READ,
    };
    Ok((reader, writer))
}

/// One half of a connection: the shared stream, borrowed only inside a poll.
#[derive(Debug, Clone)]
struct Half(Rc<RefCell<Conn>>);

impl Half {
    /// Shuts down the sending direction (TLS: close_notify, then FIN);
    /// errors (the peer already reset) leave nothing to do.
    async fn shutdown_write(&mut self) {
        let _ = futures_lite::future::poll_fn(|cx| {
            futures_lite::AsyncWrite::poll_close(Pin::new(&mut *self.0.borrow_mut()), cx)
        })
        .await;
    }
}

impl AsyncRead for Half {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0.borrow_mut()).poll_read(cx, buf)
    }
}

impl futures_lite::AsyncWrite for Half {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.0.borrow_mut()).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0.borrow_mut()).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.0.borrow_mut()).poll_close(cx)
    }
}

/// Reads more bytes onto the end of `buf` for a frame that still needs
/// `wanted` bytes (the decoder has checked that against the size limit);
/// returns how many (0: EOF). Cancel-safe: if the future is dropped, `buf`
/// is unchanged.
pub(crate) async fn read_more<R: AsyncRead + Unpin>(
    r: &mut R,
    buf: &mut BytesMut,
    wanted: usize,
) -> io::Result<usize> {
    let mut fill = Fill::new(buf, wanted);
    let n = r.read(fill.spare()).await?;
    fill.commit(n);
    Ok(n)
}

/// Reads at most `max` more bytes onto the end of `buf`, reserving and
/// zero-filling no more than that (for handshakes: a connection that
/// stalls in its handshake holds a buffer of its own size only). Returns
/// how many (0: EOF); cancel-safe like `read_more`.
pub(crate) async fn read_at_most<R: AsyncRead + Unpin>(
    r: &mut R,
    buf: &mut BytesMut,
    max: usize,
) -> io::Result<usize> {
    let keep = buf.len();
    buf.resize(keep + max, 0);
    let mut fill = Fill { buf, keep };
    let n = r.read(fill.spare()).await?;
    fill.commit(n);
    Ok(n)
}

/// `read_more` for blocking readers.
pub(crate) fn read_more_blocking<R: Read>(
    r: &mut R,
    buf: &mut BytesMut,
    wanted: usize,
) -> io::Result<usize> {
    let mut fill = Fill::new(buf, wanted);
    let n = r.read(fill.spare())?;
    fill.commit(n);
    Ok(n)
}

/// The read size after a read of `n` bytes out of `offered`.
fn next_chunk(chunk: usize, n: usize, offered: usize) -> usize {
    if n == offered {
        (chunk * 2).min(MAX_READ)
    } else if n < chunk / 4 {
        (chunk / 2).max(MIN_READ)
    } else {
        chunk
    }
}

/// Zero-filled room at the end of a buffer for one read; whatever was not
/// filled is cut off again when the `Fill` is dropped, however that happens.
struct Fill<'a> {
    buf: &'a mut BytesMut,
    keep: usize,
}

impl<'a> Fill<'a> {
    /// Reserves room for the rest of the frame (up to `MAX_RESERVE`) but
    /// zero-fills only what one read may fill.
    fn new(buf: &'a mut BytesMut, wanted: usize) -> Self {
        let keep = buf.len();
        buf.reserve(wanted.clamp(MIN_READ, MAX_RESERVE));
        buf.resize(keep + wanted.clamp(MIN_READ, MAX_READ), 0);
        Fill { buf, keep }
    }

    fn spare(&mut self) -> &mut [u8] {
        &mut self.buf[self.keep..]
    }

    fn commit(&mut self, n: usize) {
        self.keep += n;
    }
}

impl Drop for Fill<'_> {
    fn drop(&mut self) {
        self.buf.truncate(self.keep);
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_read_size_grows_with_full_reads_and_shrinks_with_small_ones() {
        assert_eq!(next_chunk(2048, 2048, 2048), 4096);
        assert_eq!(next_chunk(MAX_READ, MAX_READ, MAX_READ), MAX_READ);
        assert_eq!(next_chunk(8192, 100, 8192), 4096);
        assert_eq!(next_chunk(MIN_READ, 1, MIN_READ), MIN_READ);
        assert_eq!(next_chunk(8192, 4000, 8192), 8192);
    }

    /// Yields its chunks one per read, then fails.
    struct Chunks(Vec<&'static [u8]>);

    impl Read for Chunks {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Err(io::ErrorKind::ConnectionReset.into());
            }
            let c = self.0.remove(0);
            buf[..c.len()].copy_from_slice(c);
            Ok(c.len())
        }
    }

    #[test]
    fn reads_append_exactly_what_arrived_and_failures_leave_the_buffer_alone() {
        let mut r = Chunks(vec![b"abc", b"", b"de"]);
        let mut buf = BytesMut::from(&b"x"[..]);
        assert_eq!(read_more_blocking(&mut r, &mut buf, 1).unwrap(), 3);
        assert_eq!(read_more_blocking(&mut r, &mut buf, 1 << 30).unwrap(), 0);
        assert_eq!(read_more_blocking(&mut r, &mut buf, 5).unwrap(), 2);
        assert_eq!(&buf[..], b"xabcde");
        assert!(read_more_blocking(&mut r, &mut buf, 5).is_err());
        assert_eq!(&buf[..], b"xabcde");
        assert!(
            buf.capacity() <= MAX_RESERVE + MAX_READ + 16,
            "reservation is bounded"
        );
    }
}
