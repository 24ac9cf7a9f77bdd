//! Running the third-party clients of the interop tests: a child process
//! with a time limit (killed past it), and the check every client script
//! passes (exit 0 and `INTEROP OK` on stdout).

use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Runs `cmd` to its end, failing the test if it cannot start or takes longer than `limit`.
pub fn run(cmd: &mut Command, what: &str, limit: Duration) -> Output {
    let child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn();
    let child = child.unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    let id = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => out.unwrap_or_else(|e| panic!("{what} failed: {e}")),
        Err(_) => {
            let _ = Command::new("kill").arg("-9").arg(id.to_string()).status();
            panic!("{what} did not finish within {limit:?}");
        }
    }
}

/// Asserts a client script exited 0 and printed `INTEROP OK`.
pub fn assert_interop_ok(out: &Output, what: &str) {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("INTEROP OK"),
        "{what} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
