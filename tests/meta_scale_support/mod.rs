//! The descriptors of the meta API scale test: the router runs in the test
//! process, so each session costs two descriptors there (client and router
//! end). The soft RLIMIT_NOFILE is raised as needed; past the hard limit a
//! helper process (the test binary running `session_holder`, which calls
//! `serve_as_holder`) holds the client ends, opening sessions on request.
#![allow(dead_code)]

use crate::common::*;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use switchyard::wire::{Dict, Message, Serializer, Text};

/// Descriptors kept free for everything but the sessions.
pub const SPARE: libc::rlim_t = 1024;

/// Raises the soft RLIMIT_NOFILE to `need` (the hard limit too, if the
/// process may), else as far as the hard limit; returns the soft limit.
pub fn raise_nofile(need: libc::rlim_t) -> libc::rlim_t {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read or write the struct passed.
    let got = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) };
    assert_eq!(got, 0, "getrlimit(RLIMIT_NOFILE)");
    if lim.rlim_cur >= need {
        return lim.rlim_cur;
    }
    if lim.rlim_max < need {
        let raised = libc::rlimit {
            rlim_cur: need,
            rlim_max: need,
        };
        // SAFETY: as above.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            return need;
        }
    }
    let raised = libc::rlimit {
        rlim_cur: need.min(lim.rlim_max),
        rlim_max: lim.rlim_max,
    };
    // SAFETY: as above.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
        raised.rlim_cur
    } else {
        lim.rlim_cur
    }
}

/// How many sessions to open (of `wanted`) and how many of them this
/// process holds itself. The router's end of every session is in this
/// process (one descriptor each); a session this process holds costs a
/// second one (its client end), so past the limit a helper process holds
/// the client ends. Fewer sessions only when even the router's ends do not fit.
pub fn descriptor_plan(wanted: usize) -> (usize, usize) {
    let soft = raise_nofile(2 * wanted as libc::rlim_t + SPARE);
    let budget = soft.saturating_sub(SPARE) as usize;
    let total = wanted.min(budget);
    if total < wanted {
        eprintln!("RLIMIT_NOFILE is {soft}: running {total} sessions instead of {wanted}");
    }
    (total, budget.saturating_sub(total).min(total))
}

/// The environment variable that makes `session_holder` a helper process.
pub const HOLDER_ENV: &str = "SWITCHYARD_META_SCALE_HOLDER";
/// What starts the holder's line of session IDs on its stdout.
pub const HOLDER_IDS: &str = "HOLDER-IDS:";

/// Sessions held by a helper process (this test binary running
/// `session_holder`), for when this process lacks the descriptors: its
/// sessions cost one descriptor here (the router's) instead of two. On
/// stdin, `open N` opens N sessions, answered by their IDs on one line;
/// EOF drops every connection at once.
pub struct Holder {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl Holder {
    pub fn spawn(url: &str, realm: &str) -> Holder {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "session_holder",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(HOLDER_ENV, format!("{url} {realm}"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the holder process starts");
        let stdin = child.stdin.take();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        Holder {
            child,
            stdin,
            stdout,
        }
    }

    pub fn open(&mut self, n: usize) -> Vec<u64> {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "open {n}").unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        loop {
            line.clear();
            let read = self.stdout.read_line(&mut line).unwrap();
            assert!(read > 0, "the holder process ended");
            if let Some(at) = line.find(HOLDER_IDS) {
                let ids = line[at + HOLDER_IDS.len()..].split_whitespace();
                return ids.map(|id| id.parse().unwrap()).collect();
            }
        }
    }

    /// Ends the process: the router sees every connection close at once.
    pub fn close(mut self) {
        drop(self.stdin.take());
        let status = self.child.wait().unwrap();
        assert!(status.success(), "the holder process failed: {status}");
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        if self.stdin.is_some() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Opens `n` sessions on `url`, pipelined: every HELLO, then every WELCOME.
pub fn open_sessions(url: &str, realm: &str, n: usize) -> Vec<Client> {
    let mut fresh: Vec<Client> = (0..n)
        .map(|_| {
            let mut c = Client::connect(url, Serializer::MsgPack);
            c.send(&hello(realm));
            c
        })
        .collect();
    for c in &mut fresh {
        c.session = welcome(c.recv());
    }
    fresh
}

pub fn hello(realm: &str) -> Message {
    Message::Hello {
        realm: Text::from(realm),
        details: Dict::new().with("roles", roles()),
    }
}

pub fn welcome(m: Message) -> switchyard::wire::SessionId {
    match m {
        Message::Welcome { session, .. } => session,
        other => panic!("expected WELCOME, got {other:?}"),
    }
}

/// The helper process's side: opens sessions as asked on stdin, answers
/// their IDs, and holds them until stdin ends (nothing unless started as
/// the holder).
pub fn serve_as_holder() {
    let Ok(spec) = std::env::var(HOLDER_ENV) else {
        return;
    };
    let (url, realm) = spec.split_once(' ').unwrap();
    raise_nofile(libc::RLIM_INFINITY);
    let mut held = Vec::new();
    for line in std::io::stdin().lock().lines() {
        let line = line.unwrap();
        let n: usize = line.strip_prefix("open ").unwrap().parse().unwrap();
        let fresh = open_sessions(url, realm, n);
        let ids: Vec<String> = fresh.iter().map(|c| c.session.0.to_string()).collect();
        println!("{HOLDER_IDS} {}", ids.join(" "));
        std::io::stdout().flush().unwrap();
        held.extend(fresh);
    }
}
