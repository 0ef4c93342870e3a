//! Binding the `--listen` addresses: TCP (host names resolved) and Unix sockets.

use std::{
    os::unix::fs::{FileTypeExt, PermissionsExt},
    path::{Path, PathBuf},
};

use tokio::net::{TcpListener, UnixListener};

use crate::config::Listen;

/// A bound listener, ready for [`super::App::serve`].
#[derive(Debug)]
pub enum Bound {
    Tcp(TcpListener),
    Unix(UnixListener, SocketFile),
}

impl Bound {
    /// Binds `listen`; a Unix socket gets `socket_mode` as its permissions.
    pub async fn bind(listen: &Listen, socket_mode: u32) -> Result<Self, String> {
        match listen {
            Listen::Tcp(address) => TcpListener::bind(address.as_str())
                .await
                .map(Self::Tcp)
                .map_err(|e| format!("cannot listen on {address}: {e}")),
            Listen::Unix(path) => bind_unix(path, socket_mode)
                .await
                .map(|(listener, file)| Self::Unix(listener, file)),
        }
    }

    /// What to call it in logs: the bound address, or `unix:PATH`.
    pub fn describe(&self) -> String {
        match self {
            Self::Tcp(listener) => listener
                .local_addr()
                .map_or_else(|_| "tcp".into(), |a| a.to_string()),
            Self::Unix(_, file) => format!("unix:{}", file.0.display()),
        }
    }
}

/// A socket file this process created; removed when dropped.
#[derive(Debug)]
pub struct SocketFile(PathBuf);

impl Drop for SocketFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

async fn bind_unix(path: &Path, mode: u32) -> Result<(UnixListener, SocketFile), String> {
    let shown = path.display();
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.file_type().is_socket() => {
            if tokio::net::UnixStream::connect(path).await.is_ok() {
                return Err(format!(
                    "cannot listen on unix:{shown}: another process is serving on it"
                ));
            }
            // Left behind by a process that did not exit cleanly.
            std::fs::remove_file(path)
                .map_err(|e| format!("cannot remove the stale socket unix:{shown}: {e}"))?;
        }
        Ok(_) => {
            return Err(format!(
                "cannot listen on unix:{shown}: the path exists and is not a socket; \
                 it was left as it is (remove it or choose another path)"
            ));
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("cannot listen on unix:{shown}: {e}")),
    }
    let listener =
        UnixListener::bind(path).map_err(|e| format!("cannot listen on unix:{shown}: {e}"))?;
    let file = SocketFile(path.to_owned());
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| format!("cannot set mode {mode:o} on unix:{shown}: {e}"))?;
    Ok((listener, file))
}
