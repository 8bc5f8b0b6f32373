//! A real OpenSSH server for SFTP tests: `sshd` on a loopback port with a fresh host key,
//! `internal-sftp`, and a fresh client key authorised for the user running the tests
//! (`.ci/run` installs `openssh-server` when it is missing).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `sshd`; stopped when dropped.
pub struct Sshd {
    /// The port on 127.0.0.1.
    pub port: u16,
    /// The user to log in as (the one running the tests).
    pub user: String,
    /// The server's public host key, OpenSSH form.
    pub host_key: String,
    /// An OpenSSH private key the server accepts for `user`.
    pub client_key: String,
    /// A folder the user can write, for test files (absolute).
    pub files: PathBuf,
    /// Where `sshd` writes its log.
    pub log: PathBuf,
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh ed25519 key pair at `path` (and `path.pub`).
pub fn keygen(path: &Path) -> (String, String) {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "parley-test", "-f"])
        .arg(path)
        .status()
        .expect("ssh-keygen runs (install openssh-client)");
    assert!(status.success(), "ssh-keygen failed");
    let private = std::fs::read_to_string(path).unwrap();
    let public = std::fs::read_to_string(path.with_extension("pub")).unwrap();
    (private, public.trim().to_owned())
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

impl Sshd {
    /// Starts `sshd`, or `None` (printing how to install it) when it is not installed; see
    /// [`crate::tools::available`].
    #[must_use]
    pub fn start_or_skip() -> Option<Self> {
        let present = Path::new("/usr/sbin/sshd").exists();
        crate::tools::available("OpenSSH's sshd", present, "apt-get install openssh-server")
            .then(Self::start)
    }

    /// Starts `sshd` and waits until it accepts connections.
    ///
    /// # Panics
    /// When `/usr/sbin/sshd` is missing or does not start.
    pub fn start() -> Self {
        let binary = Path::new("/usr/sbin/sshd");
        assert!(
            binary.exists(),
            "SFTP tests need OpenSSH's sshd: apt-get install openssh-server (.ci/run does)"
        );
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let (_, host_key) = keygen(&root.join("host_key"));
        let (client_key, client_public) = keygen(&root.join("client_key"));
        std::fs::write(root.join("authorized_keys"), format!("{client_public}\n")).unwrap();
        let files = root.join("files");
        std::fs::create_dir(&files).unwrap();
        let user = String::from_utf8(Command::new("id").arg("-un").output().unwrap().stdout)
            .unwrap()
            .trim()
            .to_owned();
        let port = free_port();
        let config = root.join("sshd_config");
        std::fs::write(
            &config,
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {host}\nPidFile {pid}\n\
                 AuthorizedKeysFile {keys}\nStrictModes no\nUsePAM no\nPubkeyAuthentication yes\n\
                 PasswordAuthentication yes\nKbdInteractiveAuthentication no\n\
                 PermitRootLogin prohibit-password\nSubsystem sftp internal-sftp\nLogLevel VERBOSE\n",
                host = root.join("host_key").display(),
                pid = root.join("sshd.pid").display(),
                keys = root.join("authorized_keys").display(),
            ),
        )
        .unwrap();
        // Privilege separation wants this folder when running as root.
        let _ = std::fs::create_dir_all("/run/sshd");
        let log = root.join("sshd.log");
        let mut child = Command::new(binary)
            .args(["-D", "-e", "-f"])
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("sshd starts");
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!(
                    "sshd exited ({status}): {}",
                    std::fs::read_to_string(&log).unwrap_or_default()
                );
            }
            assert!(Instant::now() < deadline, "sshd did not listen in time");
            std::thread::sleep(Duration::from_millis(20));
        }
        Self {
            port,
            user,
            host_key,
            client_key,
            files,
            log,
            child,
            _dir: dir,
        }
    }

    /// What `sshd` has logged so far.
    #[must_use]
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}
