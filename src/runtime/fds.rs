//! File descriptors: the router raises its soft `RLIMIT_NOFILE` to the hard
//! limit at start (every session costs one), and an accept loop that fails
//! (out of descriptors, say) backs off and logs once a second how many
//! accepts failed, instead of spinning or flooding the log.

use std::io;
use std::time::{Duration, Instant};

/// Raises the soft limit on open files to the hard one; returns the limit now in force.
pub fn raise_nofile_limit() -> io::Result<u64> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit read and write the one struct passed.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(io::Error::last_os_error());
    }
    if lim.rlim_cur < lim.rlim_max {
        let raised = libc::rlimit {
            rlim_cur: lim.rlim_max,
            rlim_max: lim.rlim_max,
        };
        // SAFETY: as above.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            return Ok(raised.rlim_cur);
        }
    }
    Ok(lim.rlim_cur)
}

/// How often a failing accept loop logs.
const LOG_EVERY: Duration = Duration::from_secs(1);

/// The failed accepts of one listener since it last logged.
#[derive(Debug, Default)]
pub struct AcceptFailures {
    since_log: u64,
    logged: Option<Instant>,
}

impl AcceptFailures {
    /// Counts a failed accept, logs at most once a second, and waits a
    /// little (longer when out of descriptors) before the next try.
    pub async fn failed(&mut self, e: &io::Error) {
        self.since_log += 1;
        let now = Instant::now();
        if self
            .logged
            .is_none_or(|t| now.duration_since(t) >= LOG_EVERY)
        {
            tracing::warn!(error = %e, failures = self.since_log, "accept failed");
            self.since_log = 0;
            self.logged = Some(now);
        }
        let out_of_fds = matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE));
        let pause = if out_of_fds { 100 } else { 10 };
        glommio::timer::sleep(Duration::from_millis(pause)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_soft_limit_is_raised_to_the_hard_one() {
        let now = raise_nofile_limit().unwrap();
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: reads the struct passed.
        assert_eq!(unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) }, 0);
        assert_eq!(lim.rlim_cur, now);
        assert_eq!(lim.rlim_cur, lim.rlim_max);
    }
}
