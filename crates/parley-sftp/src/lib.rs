//! SFTP for Parley's hooks and import inbox: a connection to a destination whose host key is
//! pinned, files written under a temporary name and then renamed (a reader never sees half
//! a file), and the listing, reading and moving the import inbox needs.
//!
//! Decisions:
//! * the host key is **pinned**: the destination names the server's public key in
//!   OpenSSH form (`ssh-ed25519 AAAA…`, as `ssh-keyscan` prints it), and a server showing
//!   any other key is refused before credentials are sent. [`fetch_host_key`] reads the
//!   key a server shows, for an administrator to confirm and pin;
//! * credentials are a password or an OpenSSH private key (unencrypted; Parley seals it at
//!   rest);
//! * every exchange runs under one timeout (a transfer, under one per 64 KiB chunk, so
//!   large files move as long as they keep moving); errors name what failed (connect,
//!   host key, authentication, the SFTP operation and its path);
//! * transfers stream between a local file and the server: an imported file or a
//!   rejects report is never held in memory whole.
//!
//! russh is 0.x with frequent breaking releases, so this crate is the only place that
//! names it.

use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::client;
use russh::keys::{PrivateKeyWithHashAlg, PublicKey, PublicKeyOrCertificate};
use russh_sftp::client::SftpSession;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

/// How a destination authenticates.
#[derive(Clone)]
pub enum Auth {
    /// A password.
    Password(String),
    /// An unencrypted OpenSSH private key (`-----BEGIN OPENSSH PRIVATE KEY-----…`).
    PrivateKey(String),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Auth::Password(_) => "Password(<redacted>)",
            Auth::PrivateKey(_) => "PrivateKey(<redacted>)",
        })
    }
}

/// Where to connect.
#[derive(Debug, Clone)]
pub struct Destination {
    /// Host name or address, as configured (named in errors).
    pub host: String,
    /// Where to connect instead of resolving `host` (an address the caller has checked).
    pub address: Option<IpAddr>,
    /// Port (22 by default in the API).
    pub port: u16,
    /// User name.
    pub user: String,
    /// Credentials.
    pub auth: Auth,
    /// The server's public key, OpenSSH form.
    pub host_key: String,
}

/// What went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SftpError {
    /// The pinned key is not an OpenSSH public key.
    #[error("host_key is not an OpenSSH public key ({0})")]
    BadHostKey(String),
    /// The private key cannot be read.
    #[error("private_key is not an unencrypted OpenSSH private key ({0})")]
    BadPrivateKey(String),
    /// The server showed another key than the pinned one.
    #[error("the server's host key {shown} is not the pinned one {pinned}")]
    HostKeyMismatch {
        /// SHA-256 fingerprint of the pinned key.
        pinned: String,
        /// SHA-256 fingerprint of the key shown.
        shown: String,
    },
    /// The TCP or SSH connection failed.
    #[error("cannot connect to {0}")]
    Connect(String),
    /// The server refused the credentials.
    #[error("the server refused the credentials for user {0}")]
    Auth(String),
    /// No answer in time.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// An SFTP operation failed.
    #[error("{operation} {path}: {reason}")]
    Operation {
        /// What was being done.
        operation: &'static str,
        /// On which path.
        path: String,
        /// What the server said.
        reason: String,
    },
    /// A file is larger than the caller accepts.
    #[error("{path} is larger than {limit} bytes")]
    TooLarge {
        /// The remote path.
        path: String,
        /// The limit.
        limit: u64,
    },
    /// A local file could not be read or written.
    #[error("{path}: {reason}")]
    Local {
        /// The local path.
        path: String,
        /// What failed.
        reason: String,
    },
}

/// Reads a pinned host key.
pub fn parse_host_key(text: &str) -> Result<PublicKey, SftpError> {
    PublicKey::from_openssh(text.trim()).map_err(|e| SftpError::BadHostKey(e.to_string()))
}

/// Checks a private key can be used (at save time).
pub fn check_private_key(text: &str) -> Result<(), SftpError> {
    russh::keys::decode_secret_key(text.trim(), None)
        .map(|_| ())
        .map_err(|e| SftpError::BadPrivateKey(e.to_string()))
}

/// The SHA-256 fingerprint of a public key in OpenSSH form (`SHA256:…`, as `ssh-keygen
/// -lf` prints it), for people comparing it with what the server's owner says.
pub fn host_key_fingerprint(text: &str) -> Result<String, SftpError> {
    parse_host_key(text).map(|key| fingerprint(&key))
}

fn fingerprint(key: &PublicKey) -> String {
    key.fingerprint(russh::keys::HashAlg::Sha256).to_string()
}

/// The client side of the SSH connection: checks the host key, remembers what was shown.
struct Pinned {
    pinned: Option<PublicKey>,
    shown: Arc<Mutex<Option<PublicKey>>>,
}

impl client::Handler for Pinned {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        server_public_key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let PublicKeyOrCertificate::PublicKey { key, .. } = server_public_key else {
            return Ok(false);
        };
        if let Ok(mut shown) = self.shown.lock() {
            *shown = Some(key.clone());
        }
        Ok(self
            .pinned
            .as_ref()
            .is_some_and(|p| p.key_data() == key.key_data()))
    }
}

fn config(timeout: Duration) -> Arc<client::Config> {
    Arc::new(client::Config {
        inactivity_timeout: Some(timeout),
        nodelay: true,
        ..client::Config::default()
    })
}

async fn within<T>(
    timeout: Duration,
    work: impl Future<Output = Result<T, SftpError>>,
) -> Result<T, SftpError> {
    tokio::time::timeout(timeout, work)
        .await
        .map_err(|_| SftpError::Timeout(timeout))?
}

/// Opens the SSH connection to `address` (when given) or `host`, on `port`.
async fn connect(
    host: &str,
    address: Option<IpAddr>,
    port: u16,
    timeout: Duration,
    handler: Pinned,
) -> Result<client::Handle<Pinned>, russh::Error> {
    match address {
        Some(ip) => client::connect(config(timeout), SocketAddr::new(ip, port), handler).await,
        None => client::connect(config(timeout), (host, port), handler).await,
    }
}

/// The public key `host:port` shows, OpenSSH form (for an administrator to confirm and
/// pin; nothing is authenticated). `address`, when given, is connected to instead of
/// resolving `host`.
pub async fn fetch_host_key(
    host: &str,
    address: Option<IpAddr>,
    port: u16,
    timeout: Duration,
) -> Result<String, SftpError> {
    let shown = Arc::new(Mutex::new(None));
    let handler = Pinned {
        pinned: None,
        shown: shown.clone(),
    };
    // The handshake stops at the host key check, refused on purpose.
    let _ = within(timeout, async {
        connect(host, address, port, timeout, handler)
            .await
            .map_err(|e| SftpError::Connect(format!("{host}:{port}: {e}")))
    })
    .await;
    let key = shown.lock().ok().and_then(|k| k.clone());
    key.ok_or_else(|| SftpError::Connect(format!("{host}:{port} showed no host key")))?
        .to_openssh()
        .map_err(|e| SftpError::BadHostKey(e.to_string()))
}

fn local_error(path: &Path, e: &std::io::Error) -> SftpError {
    SftpError::Local {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

/// One entry of a folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The name (no folder).
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// A regular file (not a folder or link).
    pub is_file: bool,
    /// Last modified, in seconds since the Unix epoch, when the server says.
    pub modified: Option<u64>,
}

/// An open SFTP session.
pub struct Connection {
    sftp: SftpSession,
    _ssh: client::Handle<Pinned>,
    timeout: Duration,
}

fn op(
    operation: &'static str,
    path: &str,
) -> impl FnOnce(russh_sftp::client::error::Error) -> SftpError {
    let path = path.to_owned();
    move |e| SftpError::Operation {
        operation,
        path,
        reason: e.to_string(),
    }
}

impl Connection {
    /// Connects, checks the host key, authenticates and starts SFTP.
    pub async fn open(destination: &Destination, timeout: Duration) -> Result<Self, SftpError> {
        let pinned = parse_host_key(&destination.host_key)?;
        // Read the key before connecting: a bad key is the caller's error, not the server's.
        enum Credential {
            Password(String),
            Key(Arc<russh::keys::PrivateKey>),
        }
        let credential = match &destination.auth {
            Auth::PrivateKey(text) => Credential::Key(Arc::new(
                russh::keys::decode_secret_key(text.trim(), None)
                    .map_err(|e| SftpError::BadPrivateKey(e.to_string()))?,
            )),
            Auth::Password(password) => Credential::Password(password.clone()),
        };
        let shown = Arc::new(Mutex::new(None));
        let handler = Pinned {
            pinned: Some(pinned.clone()),
            shown: shown.clone(),
        };
        let (host, port) = (destination.host.as_str(), destination.port);
        within(timeout, async move {
            let connected = connect(host, destination.address, port, timeout, handler).await;
            let mut ssh = match connected {
                Ok(h) => h,
                Err(e) => {
                    let seen = shown.lock().ok().and_then(|k| k.clone());
                    return Err(match seen {
                        Some(key) if key.key_data() != pinned.key_data() => {
                            SftpError::HostKeyMismatch {
                                pinned: fingerprint(&pinned),
                                shown: fingerprint(&key),
                            }
                        }
                        _ => SftpError::Connect(format!("{host}:{port}: {e}")),
                    });
                }
            };
            let user = destination.user.clone();
            let result = match credential {
                Credential::Password(password) => {
                    ssh.authenticate_password(user.clone(), password).await
                }
                Credential::Key(key) => {
                    let hash = ssh.best_supported_rsa_hash().await.ok().flatten().flatten();
                    ssh.authenticate_publickey(user.clone(), PrivateKeyWithHashAlg::new(key, hash))
                        .await
                }
            }
            .map_err(|e| SftpError::Connect(format!("{host}:{port}: {e}")))?;
            if !result.success() {
                return Err(SftpError::Auth(user));
            }
            let channel = ssh
                .channel_open_session()
                .await
                .map_err(|e| SftpError::Connect(format!("{host}:{port}: {e}")))?;
            channel
                .request_subsystem(true, "sftp")
                .await
                .map_err(|e| SftpError::Connect(format!("{host}:{port}: {e}")))?;
            let sftp = SftpSession::new(channel.into_stream())
                .await
                .map_err(op("start SFTP on", host))?;
            Ok(Self {
                sftp,
                _ssh: ssh,
                timeout,
            })
        })
        .await
    }

    /// Writes `bytes` to `folder/name` under the temporary name `folder/.name.part`, then
    /// renames it, so readers never see a partial file.
    pub async fn put_atomic(
        &self,
        folder: &str,
        name: &str,
        bytes: &[u8],
    ) -> Result<(), SftpError> {
        self.write_atomic(folder, name, bytes).await
    }

    /// Writes the local file `local` to `folder/name` as [`Connection::put_atomic`] does,
    /// streaming it.
    pub async fn upload_atomic(
        &self,
        folder: &str,
        name: &str,
        local: &Path,
    ) -> Result<(), SftpError> {
        let file = tokio::fs::File::open(local)
            .await
            .map_err(|e| local_error(local, &e))?;
        self.write_atomic(folder, name, file).await
    }

    async fn write_atomic(
        &self,
        folder: &str,
        name: &str,
        source: impl AsyncRead + Unpin,
    ) -> Result<(), SftpError> {
        let folder = folder.trim_end_matches('/');
        let temporary = format!("{folder}/.{name}.part");
        let target = format!("{folder}/{name}");
        let mut file = within(self.timeout, async {
            self.sftp
                .create(temporary.clone())
                .await
                .map_err(op("create", &temporary))
        })
        .await?;
        self.copy(source, &mut file, &temporary, "write", u64::MAX)
            .await?;
        within(self.timeout, async {
            file.shutdown().await.map_err(|e| SftpError::Operation {
                operation: "close",
                path: temporary.clone(),
                reason: e.to_string(),
            })?;
            self.sftp
                .rename(temporary.clone(), target.clone())
                .await
                .map_err(op("rename to its final name", &temporary))
        })
        .await
    }

    /// Copies `from` into `to` in 64 KiB chunks, each under the timeout; refuses more than
    /// `limit` bytes. `path` and `operation` name the remote side in errors.
    async fn copy(
        &self,
        mut from: impl AsyncRead + Unpin,
        to: &mut (impl AsyncWrite + Unpin),
        path: &str,
        operation: &'static str,
        limit: u64,
    ) -> Result<u64, SftpError> {
        let failed = |e: std::io::Error| SftpError::Operation {
            operation,
            path: path.to_owned(),
            reason: e.to_string(),
        };
        let mut buffer = vec![0u8; 64 * 1024];
        let mut total = 0u64;
        loop {
            let n = tokio::time::timeout(self.timeout, from.read(&mut buffer))
                .await
                .map_err(|_| SftpError::Timeout(self.timeout))?
                .map_err(failed)?;
            if n == 0 {
                return Ok(total);
            }
            total += n as u64;
            if total > limit {
                return Err(SftpError::TooLarge {
                    path: path.to_owned(),
                    limit,
                });
            }
            tokio::time::timeout(self.timeout, to.write_all(&buffer[..n]))
                .await
                .map_err(|_| SftpError::Timeout(self.timeout))?
                .map_err(failed)?;
        }
    }

    /// Copies the remote file `path` to the local file `local` (created or truncated),
    /// refusing one larger than `limit` bytes. Returns the bytes copied.
    pub async fn download(&self, path: &str, local: &Path, limit: u64) -> Result<u64, SftpError> {
        let remote = within(self.timeout, async {
            self.sftp
                .open(path.to_owned())
                .await
                .map_err(op("open", path))
        })
        .await?;
        let mut file = tokio::fs::File::create(local)
            .await
            .map_err(|e| local_error(local, &e))?;
        let copied = self.copy(remote, &mut file, path, "read", limit).await?;
        file.flush().await.map_err(|e| local_error(local, &e))?;
        Ok(copied)
    }

    /// The entries of `folder` (without `.` and `..`), by name.
    pub async fn list(&self, folder: &str) -> Result<Vec<Entry>, SftpError> {
        within(self.timeout, async {
            let dir = self
                .sftp
                .read_dir(folder.to_owned())
                .await
                .map_err(op("list", folder))?;
            let mut entries: Vec<Entry> = dir
                .filter(|e| e.file_name() != "." && e.file_name() != "..")
                .map(|e| {
                    let metadata = e.metadata();
                    Entry {
                        name: e.file_name(),
                        size: metadata.size.unwrap_or(0),
                        is_file: e.file_type().is_file(),
                        modified: metadata.mtime.map(u64::from),
                    }
                })
                .collect();
            entries.sort_by(|a, b| a.name.cmp(&b.name));
            Ok(entries)
        })
        .await
    }

    /// Reads a whole file.
    pub async fn read(&self, path: &str) -> Result<Vec<u8>, SftpError> {
        within(self.timeout, async {
            self.sftp
                .read(path.to_owned())
                .await
                .map_err(op("read", path))
        })
        .await
    }

    /// Renames (moves) a file.
    pub async fn rename(&self, from: &str, to: &str) -> Result<(), SftpError> {
        within(self.timeout, async {
            self.sftp
                .rename(from.to_owned(), to.to_owned())
                .await
                .map_err(op("move", from))
        })
        .await
    }

    /// Creates `folder` unless it exists.
    pub async fn ensure_folder(&self, folder: &str) -> Result<(), SftpError> {
        within(self.timeout, async {
            if self
                .sftp
                .try_exists(folder.to_owned())
                .await
                .map_err(op("look for", folder))?
            {
                return Ok(());
            }
            self.sftp
                .create_dir(folder.to_owned())
                .await
                .map_err(op("create folder", folder))
        })
        .await
    }

    /// Ends the session.
    pub async fn close(self) {
        let _ = tokio::time::timeout(self.timeout, self.sftp.close()).await;
    }
}
