//! The RawSocket listener on a Unix domain socket, for components on the
//! same machine. Shard 0 serves it (the kernel cannot spread one socket
//! path over shards); its sessions reach every other shard through the
//! mesh like any others. A socket file left by a crashed run is replaced;
//! one a live router still listens on is not. The file gets the configured
//! mode and is removed when the router stops.

use super::connection::{run_connection, ConnectionContext, Incoming};
use super::UnixOptions;
use glommio::net::UnixListener;
use std::io;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::rc::Rc;

/// Binds `u.path`, replacing a stale socket file, and sets its mode.
pub fn bind(u: &UnixOptions) -> io::Result<UnixListener> {
    remove_stale(&u.path)?;
    let listener = UnixListener::bind(&u.path).map_err(|e| io::Error::other(e.to_string()))?;
    std::fs::set_permissions(&u.path, std::fs::Permissions::from_mode(u.mode))?;
    Ok(listener)
}

/// Removes a socket file nobody listens on any more; refuses to touch a
/// live one or a file that is not a socket.
fn remove_stale(path: &Path) -> io::Result<()> {
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(());
    };
    if !meta.file_type().is_socket() {
        return Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "the path exists and is not a socket",
        ));
    }
    if std::os::unix::net::UnixStream::connect(path).is_ok() {
        return Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            "another process listens on this socket",
        ));
    }
    std::fs::remove_file(path)
}

/// Accepts connections forever, each in its own task.
pub async fn run_accept(listener: UnixListener, ctx: Rc<ConnectionContext>) {
    let mut failures = super::fds::AcceptFailures::default();
    loop {
        match listener.accept().await {
            Ok(stream) => {
                let conn = run_connection(ctx.clone(), Incoming::Unix(stream), None);
                glommio::spawn_local(conn).detach();
            }
            Err(e) => failures.failed(&e.into()).await,
        }
    }
}
