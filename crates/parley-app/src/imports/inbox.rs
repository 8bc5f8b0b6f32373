//! SFTP import inboxes (SPEC §7.4): a folder on an SFTP destination that Parley polls,
//! importing each finished file through the import path (SPEC §3) and moving it to
//! `processed/` or `failed/` with its report beside it (ADR 0004 §6).
//!
//! Decisions:
//! * an inbox belongs to an SFTP destination (`/api/v1/sftp/{id}/inbox`, one per
//!   destination, deleted with it) and logs in as it does; a destination used only as an
//!   inbox subscribes to no events (`events: []`). The inbox folder may not be the folder
//!   the destination writes events into, or events would be taken for imports;
//! * a file is *finished* when it is a regular file whose name does not start with `.` or
//!   end in `.part`, `.filepart` or `.tmp` (the temporary names of common uploaders), and
//!   whose size and modification time stay the same for `webhooks.inbox_settle`;
//! * files are taken in name order, one at a time: copied to a private temporary file,
//!   imported as the organization's import with the inbox's options, then moved, as
//!   `<UTC time>_<name>` (a daily `contacts.csv` never collides):
//!   - to `processed/` when the import finished (refused rows included), with
//!     `<UTC time>_<stem>.rejects.csv` beside it — the header line alone when no row was
//!     refused, so a reader always finds one;
//!   - to `failed/` with `<UTC time>_<stem>.error.txt` saying why, when the file cannot be
//!     read, is not a format imports read (by its extension, as uploads), or is larger
//!     than `max_import_bytes`;
//! * the move comes last: a crash re-imports the file (imports are idempotent upserts),
//!   and a report written before the crash stays, with an earlier time;
//! * a poll claims its inbox with a lease renewed before each file, so several nodes never
//!   work one inbox at once, and it names the import it runs before running it, so the
//!   next poll marks a crashed poll's import failed instead of leaving it `running`;
//! * a trouble with the whole poll (no connection, a refused host key, a folder that does
//!   not exist) is the inbox's `last_error`; the files stay and the next poll tries again;
//! * [`SftpInboxJob`] on the `imports` queue (one import at a time per node) polls every
//!   enabled inbox every `webhooks.inbox_every` and schedules its next run with its own
//!   completion; `POST /api/v1/sftp/{id}/inbox/poll` queues a poll of one inbox now.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use parley_domain::{
    AuditAction, ImportId, ImportOptions, ImportStatus, JobId, Permission, SftpInbox, Subscription,
    WebhookId,
};
use parley_jobs::{Job, JobError, enqueue, new_job};
use parley_sftp::{Connection, Entry, SftpError};
use parley_store::{InboxPoll, JobEffects};
use serde::{Deserialize, Serialize};

use crate::auth::Access;
use crate::error::StoreResultExt;
use crate::imports::{ImportRun, RunOutcome};
use crate::webhooks::sftp::check_folder;
use crate::{App, AppError, Conflict};

const WHAT: &str = "SFTP inbox";

/// How long a poll holds its inbox before another may take it; renewed before each file.
const LEASE: chrono::Duration = chrono::Duration::minutes(15);

/// The de-duplication key of the recurring poll.
const RECURRING_KEY: &str = "sftp-inbox";

/// Name endings of files still being uploaded.
const TEMPORARY_ENDINGS: [&str; 3] = [".part", ".filepart", ".tmp"];

/// An inbox to set up, or the fields to change (`None` keeps a field).
#[derive(Debug, Clone, Default)]
pub struct InboxInput {
    /// The folder to poll (required when set up).
    pub folder: Option<String>,
    /// How its files are read (defaults when set up without).
    pub options: Option<ImportOptions>,
    /// Polled or not (true when set up without it).
    pub enabled: Option<bool>,
}

/// Is `entry` a file an uploader has finished writing, by its kind and name?
fn is_candidate(entry: &Entry) -> bool {
    let lower = entry.name.to_ascii_lowercase();
    entry.is_file
        && !entry.name.starts_with('.')
        && !TEMPORARY_ENDINGS.iter().any(|end| lower.ends_with(end))
}

/// The names a processed or failed file and its report get.
struct Moved {
    /// `<UTC time>_<name>`.
    file: String,
    /// `<UTC time>_<stem>`, for `.rejects.csv` and `.error.txt`.
    stem: String,
}

impl Moved {
    fn new(at: chrono::DateTime<chrono::Utc>, name: &str) -> Self {
        let stamp = at.format("%Y%m%dT%H%M%SZ");
        let stem = Path::new(name)
            .file_stem()
            .map_or_else(|| name.to_owned(), |s| s.to_string_lossy().into_owned());
        Self {
            file: format!("{stamp}_{name}"),
            stem: format!("{stamp}_{stem}"),
        }
    }
}

/// The candidate files of `folder`, by name.
async fn candidates(connection: &Connection, folder: &str) -> Result<Vec<Entry>, String> {
    let entries = connection
        .list(folder)
        .await
        .map_err(said("listing the inbox"))?;
    Ok(entries.into_iter().filter(is_candidate).collect())
}

fn said(what: &str) -> impl Fn(SftpError) -> String + '_ {
    move |e| format!("{what}: {e}")
}

impl App {
    /// The inbox of an SFTP hook of the acting organization.
    pub async fn get_sftp_inbox(
        &self,
        access: &Access,
        endpoint: WebhookId,
    ) -> Result<SftpInbox, AppError> {
        self.get_sftp_hook(access, endpoint).await?;
        self.store
            .find_sftp_inbox(access.org_id(), endpoint)
            .await?
            .ok_or(AppError::NotFound(WHAT))
    }

    /// Sets up or changes the inbox of an SFTP hook.
    pub async fn put_sftp_inbox(
        &self,
        access: &Access,
        endpoint: WebhookId,
        input: InboxInput,
    ) -> Result<SftpInbox, AppError> {
        access.require(Permission::Administer)?;
        let hook = self.get_sftp_hook(access, endpoint).await?;
        let current = self
            .store
            .find_sftp_inbox(access.org_id(), endpoint)
            .await?;
        let folder = match (&input.folder, &current) {
            (Some(f), _) => check_folder(f).map_err(|e| AppError::Invalid(vec![e]))?,
            (None, Some(c)) => c.folder.clone(),
            (None, None) => return Err(AppError::invalid("folder", "is required")),
        };
        if folder == hook.target.folder && hook.endpoint.events != Subscription::Nothing {
            return Err(AppError::invalid(
                "folder",
                "is the folder this destination writes events into; poll another one, or \
                 subscribe the destination to no events",
            ));
        }
        let now = self.clock.now();
        let mut inbox = SftpInbox::new(
            endpoint,
            access.org_id(),
            folder,
            input
                .options
                .or_else(|| current.as_ref().map(|c| c.options.clone()))
                .unwrap_or_default(),
            input
                .enabled
                .or(current.as_ref().map(|c| c.enabled))
                .unwrap_or(true),
            now,
        );
        // The store keeps the creation time and poll record of an inbox it replaces.
        inbox.created_at = current.as_ref().map_or(now, |c| c.created_at);
        let entry = self.audit(
            Some(access.org_id()),
            &access.principal.actor(),
            AuditAction::SftpInboxSet,
            &endpoint.to_string(),
            serde_json::json!({"folder": inbox.folder, "enabled": inbox.enabled}),
        );
        self.store
            .put_sftp_inbox(inbox, entry)
            .await
            .or_not_found("SFTP hook")
    }

    /// Removes the inbox of an SFTP hook (the hook stays).
    pub async fn delete_sftp_inbox(
        &self,
        access: &Access,
        endpoint: WebhookId,
    ) -> Result<(), AppError> {
        access.require(Permission::Administer)?;
        self.get_sftp_hook(access, endpoint).await?;
        let entry = self.audit(
            Some(access.org_id()),
            &access.principal.actor(),
            AuditAction::SftpInboxDeleted,
            &endpoint.to_string(),
            serde_json::json!({}),
        );
        self.store
            .delete_sftp_inbox(access.org_id(), endpoint, entry)
            .await
            .or_not_found(WHAT)
    }

    /// Queues a poll of one inbox now (a poll already queued for it is reused).
    pub async fn poll_sftp_inbox_now(
        &self,
        access: &Access,
        endpoint: WebhookId,
    ) -> Result<SftpInbox, AppError> {
        access.require(Permission::Administer)?;
        let inbox = self.get_sftp_inbox(access, endpoint).await?;
        if !inbox.enabled {
            return Err(AppError::Conflict(Conflict::SFTP_INBOX_DISABLED));
        }
        let now = self.clock.now();
        let job = SftpInboxJob {
            only: Some(endpoint),
        };
        enqueue(
            &*self.store,
            &job,
            now,
            now,
            Some(format!("sftp-inbox:{endpoint}")),
        )
        .await?;
        Ok(inbox)
    }

    /// Schedules the recurring poll of every inbox now, unless it is already scheduled.
    pub async fn schedule_sftp_inboxes(&self) -> Result<(), AppError> {
        let now = self.clock.now();
        let job = SftpInboxJob { only: None };
        enqueue(&*self.store, &job, now, now, Some(RECURRING_KEY.to_owned())).await?;
        Ok(())
    }

    /// Polls every enabled inbox not being polled elsewhere (or only `only`), one after
    /// the other, and records each poll. Returns what each did.
    pub async fn poll_sftp_inboxes(
        &self,
        only: Option<WebhookId>,
    ) -> Result<Vec<(WebhookId, InboxPoll)>, AppError> {
        let now = self.clock.now();
        let inboxes = self
            .store
            .claim_sftp_inboxes(now, now + LEASE, only)
            .await?;
        let mut polls = Vec::with_capacity(inboxes.len());
        for inbox in inboxes {
            if let Some(stale) = inbox.current_import_id {
                self.fail_interrupted_import(stale).await?;
            }
            let mut poll = InboxPoll::default();
            if let Err(message) = self.poll_inbox(&inbox, &mut poll).await {
                tracing::warn!(inbox = %inbox.endpoint_id, %message, "an SFTP inbox poll stopped");
                poll.error = Some(message);
            }
            self.store
                .finish_sftp_inbox_poll(inbox.endpoint_id, self.clock.now(), &poll)
                .await?;
            polls.push((inbox.endpoint_id, poll));
        }
        Ok(polls)
    }

    /// Marks the import a crashed poll was running failed, unless it finished.
    async fn fail_interrupted_import(&self, id: ImportId) -> Result<(), AppError> {
        if let Some(record) = self.store.find_import(id).await?
            && !record.status.is_final()
        {
            self.store
                .finish_import(
                    id,
                    ImportStatus::Failed,
                    Some("interrupted: the poll importing this file stopped; the file stayed in the inbox and is imported again"),
                    self.clock.now(),
                )
                .await?;
        }
        Ok(())
    }

    /// Connects, lists and takes each finished file. An error stops the poll; the files
    /// not moved yet stay for the next one.
    async fn poll_inbox(&self, inbox: &SftpInbox, poll: &mut InboxPoll) -> Result<(), String> {
        let endpoint = self
            .store
            .find_webhook(inbox.organization_id, inbox.endpoint_id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| "the SFTP destination no longer exists".to_owned())?;
        let (_, destination) = self
            .sftp_destination(&endpoint)
            .await
            .map_err(|e| e.to_string())?;
        let connection = Connection::open(&destination, self.settings.webhooks.timeout)
            .await
            .map_err(|e| e.to_string())?;
        let folder = if inbox.folder.is_empty() {
            "."
        } else {
            inbox.folder.as_str()
        };
        let result = async {
            for entry in self.finished_files(&connection, folder).await? {
                let until = self.clock.now() + LEASE;
                self.store
                    .extend_sftp_inbox(inbox.endpoint_id, until, None)
                    .await
                    .map_err(|e| e.to_string())?;
                self.take_file(&connection, inbox, folder, &entry, poll)
                    .await?;
            }
            Ok(())
        }
        .await;
        connection.close().await;
        result
    }

    /// The finished files of `folder`, by name.
    async fn finished_files(
        &self,
        connection: &Connection,
        folder: &str,
    ) -> Result<Vec<Entry>, String> {
        let first = candidates(connection, folder).await?;
        let settle = self.settings.webhooks.inbox_settle;
        if first.is_empty() || settle.is_zero() {
            return Ok(first);
        }
        tokio::time::sleep(settle).await;
        let second = candidates(connection, folder).await?;
        Ok(first
            .into_iter()
            .filter(|a| {
                second
                    .iter()
                    .any(|b| b.name == a.name && b.size == a.size && b.modified == a.modified)
            })
            .collect())
    }

    /// Imports one file and moves it; errors that stop the poll are returned, a file that
    /// cannot be imported is moved to `failed/`.
    async fn take_file(
        &self,
        connection: &Connection,
        inbox: &SftpInbox,
        folder: &str,
        entry: &Entry,
        poll: &mut InboxPoll,
    ) -> Result<(), String> {
        let moved = Moved::new(self.clock.now(), &entry.name);
        let remote = format!("{folder}/{}", entry.name);
        let max = self.settings.max_import_bytes;
        let too_large =
            format!("it is larger than {max} bytes, the largest import this installation accepts");
        if crate::imports::format_of(&entry.name).is_err() {
            let reason = "its name does not end in .csv, .tsv, .txt, .xls, .xlsx or .xlsm";
            return self
                .move_failed(connection, folder, entry, &moved, reason, poll)
                .await;
        }
        if entry.size > max {
            return self
                .move_failed(connection, folder, entry, &moved, &too_large, poll)
                .await;
        }
        let work = tempfile::Builder::new()
            .prefix("parley-inbox-")
            .tempdir()
            .map_err(|e| format!("making a temporary folder: {e}"))?;
        let local = work.path().join(&entry.name);
        match connection.download(&remote, &local, max).await {
            Ok(_) => {}
            Err(SftpError::TooLarge { .. }) => {
                return self
                    .move_failed(connection, folder, entry, &moved, &too_large, poll)
                    .await;
            }
            Err(e) => return Err(said("copying the file")(e)),
        }
        let record = self
            .admin_start_file_import(inbox.organization_id, &local, inbox.options.clone())
            .await
            .map_err(|e| format!("starting the import of {}: {e}", entry.name))?;
        poll.last_import = Some(record.id);
        self.store
            .extend_sftp_inbox(inbox.endpoint_id, self.clock.now() + LEASE, Some(record.id))
            .await
            .map_err(|e| e.to_string())?;
        let outcome = self
            .run_import(
                record.id,
                ImportRun::File(local),
                Arc::new(AtomicU64::new(0)),
            )
            .await;
        match outcome {
            Ok(RunOutcome::Completed) => {
                let report = work.path().join("rejects.csv");
                let mut file = std::io::BufWriter::new(
                    std::fs::File::create(&report)
                        .map_err(|e| format!("writing the rejects report: {e}"))?,
                );
                self.write_rejects_csv(record.id, &mut file)
                    .await
                    .map_err(|e| format!("writing the rejects report: {e}"))?;
                drop(file);
                let processed = format!("{folder}/processed");
                connection
                    .ensure_folder(&processed)
                    .await
                    .map_err(said("making processed/"))?;
                connection
                    .upload_atomic(&processed, &format!("{}.rejects.csv", moved.stem), &report)
                    .await
                    .map_err(said("writing the rejects report"))?;
                connection
                    .rename(&remote, &format!("{processed}/{}", moved.file))
                    .await
                    .map_err(said("moving the file to processed/"))?;
                poll.processed += 1;
                Ok(())
            }
            Ok(RunOutcome::Failed(message)) => {
                let reason = format!("{message} (import {})", record.id);
                self.move_failed(connection, folder, entry, &moved, &reason, poll)
                    .await
            }
            Err(e) => {
                self.fail_interrupted_import(record.id)
                    .await
                    .map_err(|e| e.to_string())?;
                Err(format!("importing {}: {e}", entry.name))
            }
        }
    }

    /// Writes `<stem>.error.txt` into `failed/`, then moves the file there.
    async fn move_failed(
        &self,
        connection: &Connection,
        folder: &str,
        entry: &Entry,
        moved: &Moved,
        reason: &str,
        poll: &mut InboxPoll,
    ) -> Result<(), String> {
        let failed = format!("{folder}/failed");
        connection
            .ensure_folder(&failed)
            .await
            .map_err(said("making failed/"))?;
        let text = format!("{} was not imported: {reason}\n", entry.name);
        connection
            .put_atomic(
                &failed,
                &format!("{}.error.txt", moved.stem),
                text.as_bytes(),
            )
            .await
            .map_err(said("writing the error report"))?;
        connection
            .rename(
                &format!("{folder}/{}", entry.name),
                &format!("{failed}/{}", moved.file),
            )
            .await
            .map_err(said("moving the file to failed/"))?;
        poll.failed += 1;
        Ok(())
    }
}

/// Polls SFTP inboxes: every enabled one (recurring, scheduling its next run), or one.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SftpInboxJob {
    /// Only this inbox, once; `None` for the recurring poll of all.
    #[serde(default)]
    pub only: Option<WebhookId>,
}

impl Job for SftpInboxJob {
    const NAME: &'static str = "sftp_inbox";
    // Imports keep a core busy; inbox imports take their turn with the others.
    const QUEUE: &'static str = "imports";
    type Context = App;

    async fn run(&self, app: &App, _job: JobId) -> Result<JobEffects, JobError> {
        let polls = match app.poll_sftp_inboxes(self.only).await {
            Ok(polls) => polls,
            // The recurring poll never breaks its chain: the next run tries again.
            Err(e) if self.only.is_none() => {
                tracing::warn!(error = %e, "polling SFTP inboxes failed");
                Vec::new()
            }
            Err(e) => return Err(e.into()),
        };
        for (inbox, poll) in &polls {
            tracing::info!(
                %inbox,
                processed = poll.processed,
                failed = poll.failed,
                error = poll.error.as_deref().unwrap_or(""),
                "polled an SFTP inbox"
            );
        }
        let mut effects = JobEffects::default();
        if self.only.is_none() {
            let now = app.clock.now();
            let every = chrono::Duration::from_std(app.settings.webhooks.inbox_every)
                .unwrap_or(chrono::Duration::minutes(1));
            effects.jobs.push(new_job(
                self,
                now,
                now + every,
                Some(RECURRING_KEY.to_owned()),
            )?);
        }
        Ok(effects)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(name: &str, is_file: bool) -> Entry {
        Entry {
            name: name.to_owned(),
            size: 10,
            is_file,
            modified: Some(1),
        }
    }

    #[test]
    fn only_finished_files_are_candidates() {
        for name in ["contacts.csv", "Book1.XLSX", "notes.txt", "partial.csv.bak"] {
            assert!(is_candidate(&entry(name, true)), "{name}");
        }
        for name in [
            ".contacts.csv",
            "contacts.csv.part",
            "contacts.csv.filepart",
            "CONTACTS.CSV.TMP",
        ] {
            assert!(!is_candidate(&entry(name, true)), "{name}");
        }
        assert!(!is_candidate(&entry("processed", false)));
    }

    #[test]
    fn moved_names_carry_the_time_and_keep_the_name() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-11-21T10:00:05.9Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let m = Moved::new(at, "daily contacts.csv");
        assert_eq!(m.file, "20261121T100005Z_daily contacts.csv");
        assert_eq!(m.stem, "20261121T100005Z_daily contacts");
        assert_eq!(Moved::new(at, "README").stem, "20261121T100005Z_README");
    }
}
