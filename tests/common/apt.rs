//! Test tools from Debian's packages, installed by the test that needs one
//! when it is missing (as root, non-interactive; the package list is
//! refreshed only if a first install fails), never by hand.

use std::path::Path;
use std::process::{Command, Stdio};

/// Makes sure `program` exists, installing `package` if it does not.
pub fn ensure(program: &str, package: &str) {
    if Path::new(program).exists() {
        return;
    }
    let apt = |args: &[&str]| {
        eprintln!("apt-get {}", args.join(" "));
        Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdin(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !apt(&["install", "-y", package]) {
        apt(&["update"]);
        apt(&["install", "-y", package]);
    }
    assert!(
        Path::new(program).exists(),
        "{program} is missing and could not be installed (apt-get install -y {package}, as root)"
    );
}
