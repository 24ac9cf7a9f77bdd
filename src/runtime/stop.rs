//! `Stop`: the request to shut the router down, from any thread (a signal
//! handler's thread, a shard that panicked, an embedding program). It
//! raises a flag and rings each shard's bell, one end of a socket pair
//! whose other end the shard awaits, so an idle shard sleeps until told
//! instead of waking on a timer to look at the flag.

use std::io::{self, Write};
use std::os::fd::IntoRawFd;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// A router-wide stop request.
pub struct Stop {
    flag: Arc<AtomicBool>,
    bells: Mutex<Vec<UnixStream>>,
}

/// A shard's end of its bell.
pub struct Bell(UnixStream);

impl Stop {
    /// A stop request with one bell per shard.
    pub fn new(shards: usize) -> io::Result<(Arc<Stop>, Vec<Bell>)> {
        let mut rings = Vec::with_capacity(shards);
        let mut bells = Vec::with_capacity(shards);
        for _ in 0..shards {
            let (ring, bell) = UnixStream::pair()?;
            ring.set_nonblocking(true)?;
            rings.push(ring);
            bells.push(Bell(bell));
        }
        let stop = Stop {
            flag: Arc::new(AtomicBool::new(false)),
            bells: Mutex::new(rings),
        };
        Ok((Arc::new(stop), bells))
    }

    /// The flag (raised once a stop was asked).
    pub fn flag(&self) -> Arc<AtomicBool> {
        self.flag.clone()
    }

    /// True once a stop was asked.
    pub fn is_set(&self) -> bool {
        self.flag.load(Ordering::Acquire)
    }

    /// Asks every shard to stop (idempotent).
    pub fn stop(&self) {
        self.flag.store(true, Ordering::Release);
        let bells = self.bells.lock().unwrap_or_else(|p| p.into_inner());
        for mut ring in bells.iter() {
            // A full or closed bell was rung already, or its shard is gone.
            let _ = ring.write(&[1]);
        }
    }
}

impl Bell {
    /// Waits on the shard's executor until the bell rings (or its other end
    /// is gone).
    pub async fn rung(self) {
        use futures_lite::AsyncReadExt;
        use std::os::fd::FromRawFd;
        let fd = self.0.into_raw_fd();
        // SAFETY: `fd` is a connected Unix stream socket that `into_raw_fd`
        // gave up; the glommio stream owns and closes it from now on.
        let mut bell = unsafe { glommio::net::UnixStream::from_raw_fd(fd) };
        let mut byte = [0u8; 1];
        let _ = bell.read(&mut byte).await;
    }
}
