//! The master key on disk and in the store: reading the configured key or the key file
//! (generating one only for a store that never had a key), refusing a key the store was
//! not set up with, and `parley admin key rotate`.
//!
//! A rotation writes the new key to `parley.key.next` beside the key file *before* it
//! commits the re-sealed store, then renames the files: the old key becomes
//! `parley.key.retired` (backups taken before the rotation need it) and the new one
//! `parley.key`. A process stopped between the commit and the renames leaves the store
//! sealed with the key in `parley.key.next`; the next start sees that and finishes the
//! renames, so no crash point loses the key the store needs.

use std::path::{Path, PathBuf};

use anyhow::Context;
use parley_app::sealing::KEY_CHECK;
use parley_app::{App, MasterKey};
use parley_store::{SealedKind, Store};

use crate::config::Config;

/// Where the key lives when it is not configured, and its companions during a rotation.
struct KeyFiles {
    current: PathBuf,
    next: PathBuf,
    retired: PathBuf,
}

impl KeyFiles {
    fn of(config: &Config) -> Self {
        let dir = &config.data_dir;
        Self {
            current: dir.join("parley.key"),
            next: dir.join("parley.key.next"),
            retired: dir.join("parley.key.retired"),
        }
    }

    /// Finishes a rotation whose store was committed with the key in `next`: renames the
    /// current key to `retired` and `next` to the current key. Nothing happens when `next`
    /// is absent or holds a key the store was not rotated to (an uncommitted attempt).
    fn finish_rotation(&self, recorded: &str) -> anyhow::Result<bool> {
        if !self.next.exists() || read_key(&self.next)?.check_value() != recorded {
            return Ok(false);
        }
        if self.current.exists() {
            std::fs::rename(&self.current, &self.retired).with_context(|| {
                format!(
                    "renaming {} to {}",
                    self.current.display(),
                    self.retired.display()
                )
            })?;
        }
        std::fs::rename(&self.next, &self.current).with_context(|| {
            format!(
                "renaming {} to {}",
                self.next.display(),
                self.current.display()
            )
        })?;
        sync_dir(&self.current);
        Ok(true)
    }
}

/// The master key for `store`: the configured one, or the key file in the data directory.
/// A key is generated (with a warning) only for a store that never had one. A store set up
/// with another key refuses to start, saying what to restore: a new key would leave its
/// sealed credentials and webhook secrets unreadable, every token invalid, and its opt-out
/// list (kept as keyed hashes) matching no one.
pub async fn load(config: &Config, store: &dyn Store) -> anyhow::Result<MasterKey> {
    let files = KeyFiles::of(config);
    let path = &files.current;
    let recorded = store
        .installation_fact(KEY_CHECK)
        .await
        .context("reading the store's key check")?;
    if let (None, Some(recorded)) = (&config.master_key, &recorded)
        && files.finish_rotation(recorded)?
    {
        tracing::warn!(
            key = %path.display(),
            retired = %files.retired.display(),
            "finished an interrupted master-key rotation: the key file now holds the new key"
        );
    }
    let (key, source) = if let Some(text) = &config.master_key {
        let key = MasterKey::from_base64(text).context("configuration key `secrets.master_key`")?;
        (key, "the configured `secrets.master_key`".to_owned())
    } else if path.exists() {
        (read_key(path)?, format!("the key file {}", path.display()))
    } else if recorded.is_some() {
        anyhow::bail!(
            "this store was set up with a master key that is not here: `secrets.master_key` is not set and {} does not exist. \
             Restore the key file from your backup (or set `secrets.master_key`, or PARLEY_SECRETS__MASTER_KEY, to that key). \
             Parley will not make a new key for this store: its sealed credentials and webhook secrets could not be read, \
             every token would fail, and its opt-out list would match no one",
            path.display()
        );
    } else {
        let key = MasterKey::generate()?;
        write_key(path, &key)?;
        tracing::warn!(
            path = %path.display(),
            "no master key was configured: generated one. Back this file up; without it sealed secrets cannot be read and tokens become invalid"
        );
        (key, format!("the key file {}", path.display()))
    };
    let mine = key.check_value();
    let claimed = store
        .claim_installation_fact(KEY_CHECK, &mine)
        .await
        .context("recording the store's key check")?;
    if claimed != mine {
        let rotated = files.next.exists() && read_key(&files.next)?.check_value() == claimed;
        if rotated {
            anyhow::bail!(
                "the store's master key was rotated to the key in {}: set `secrets.master_key` (or PARLEY_SECRETS__MASTER_KEY) \
                 to that key, then delete the file",
                files.next.display()
            );
        }
        anyhow::bail!(
            "{source} is not the master key this store was set up with (the store's key check is {claimed}, this key's is {mine}). \
             Restore the key this store was set up with from your backup; starting with another key would leave its sealed \
             credentials and webhook secrets unreadable, every token invalid, and its opt-out list matching no one"
        );
    }
    Ok(key)
}

/// `parley admin key rotate`: re-seals the store under a new key (read from `new_key`, or
/// generated) and puts the new key where the next start finds it, or says where to put it
/// when the key is configured rather than kept in a file.
pub async fn rotate(config: &Config, app: &App, new_key: Option<&Path>) -> anyhow::Result<()> {
    let files = KeyFiles::of(config);
    let given = new_key.map(read_key).transpose()?;
    if given
        .as_ref()
        .is_some_and(|k| k.check_value() == app.master_key_check())
    {
        anyhow::bail!(
            "{} holds the master key in use; a rotation needs a different key",
            new_key
                .map(Path::display)
                .map(|d| d.to_string())
                .unwrap_or_default()
        );
    }
    let in_file = config.master_key.is_none();
    // The new key is on disk before the store is sealed with it: a key file setup always
    // goes through `next` (so a start after a crash can finish), a configured one only
    // when the key is generated here.
    let (new, written) = match (given, in_file) {
        (Some(key), false) => (key, None),
        (given, _) => {
            let key = match given {
                Some(key) => key,
                None => MasterKey::generate()?,
            };
            replace_key(&files.next, &key)?;
            (key, Some(files.next.clone()))
        }
    };
    let done = app
        .rotate_master_key(&new)
        .await
        .context("re-sealing the store under the new key")?;
    if done.replaced.iter().chain(&done.kept).all(|n| *n == 0) {
        println!("re-sealed nothing: no secrets are stored yet");
    }
    for kind in SealedKind::ALL {
        let (n, kept) = (done.replaced[kind as usize], done.kept[kind as usize]);
        if n > 0 || kept > 0 {
            let kept = if kept > 0 {
                format!(" ({kept} unreadable, left as they were)")
            } else {
                String::new()
            };
            println!("re-sealed {n} × {}{kept}", kind.describe());
        }
    }
    if in_file {
        files.finish_rotation(&new.check_value())?;
        println!(
            "The new master key is in {}. The old one is now {}: backups taken before this rotation need it, \
             so keep it with them, then remove it from this machine.",
            files.current.display(),
            files.retired.display()
        );
    } else {
        let place = written.as_deref().or(new_key).unwrap_or(&files.next);
        println!(
            "Set `secrets.master_key` (or PARLEY_SECRETS__MASTER_KEY) to the key in {} before Parley starts again, \
             then delete that file. Backups taken before this rotation need the old key.",
            place.display()
        );
    }
    println!(
        "Restart every Parley process with the new key (a server still running with the old one stops by itself within {} s). \
         API tokens, the CSRF tokens of open pages and web chat visitors' tokens were signed with the old key and are no longer valid.",
        parley_app::telemetry::SAMPLE_EVERY.as_secs()
    );
    Ok(())
}

fn read_key(path: &Path) -> anyhow::Result<MasterKey> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the key file {}", path.display()))?;
    MasterKey::from_base64(&text).with_context(|| format!("the key file {}", path.display()))
}

/// Writes a new key file readable by its owner only; never over an existing file.
fn write_key(path: &Path, key: &MasterKey) -> anyhow::Result<()> {
    use std::io::Write;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(path)
        .with_context(|| format!("creating the key file {}", path.display()))?;
    writeln!(file, "{}", key.to_base64())?;
    file.sync_all()?;
    sync_dir(path);
    Ok(())
}

/// Writes `key` to `path` whole, replacing what is there (a temporary file renamed).
fn replace_key(path: &Path, key: &MasterKey) -> anyhow::Result<()> {
    let temporary = path.with_extension("writing");
    let _ = std::fs::remove_file(&temporary);
    write_key(&temporary, key)?;
    std::fs::rename(&temporary, path)
        .with_context(|| format!("renaming {} to {}", temporary.display(), path.display()))?;
    sync_dir(path);
    Ok(())
}

/// Makes a rename or creation in `path`'s directory durable (best effort: not every
/// platform can open a directory).
fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent()
        && let Ok(d) = std::fs::File::open(dir)
    {
        let _ = d.sync_all();
    }
}
