//! `/api/v1/sftp/{id}/inbox`: the SFTP import inbox against OpenSSH's `sshd` on a loopback
//! port. Finished files are imported and moved to `processed/` with the rejects report, or
//! to `failed/` with the reason; files still being written are left alone; a wrong host
//! key stops the poll and says so; a crashed poll's import is marked failed.

use std::path::Path;
use std::time::Duration;

use http::Method;
use parley_app::imports::inbox::SftpInboxJob;
use parley_domain::{Clock, ImportOptions, ImportStatus, JobId};
use parley_jobs::Job;
use parley_testkit::{Sshd, TestApp, keygen};
use serde_json::{Value, json};

const GOOD_CSV: &str = "Name,Mobile,Balance\n\
                        Ann,+353871234567,10.00\n\
                        Bob,not a phone,5\n\
                        Cat,+353871234568,7.50\n";

async fn app(settle: Duration) -> TestApp {
    TestApp::with_settings(|s| {
        s.allow_private_targets = true;
        s.webhooks.timeout = Duration::from_secs(10);
        s.webhooks.inbox_settle = settle;
        s.max_import_bytes = 64 * 1024;
    })
    .await
}

/// Names in `folder`, sorted.
fn names(folder: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// An SFTP hook on `sshd` writing `setStatus` events into `outbox`.
async fn hook(t: &TestApp, token: &str, sshd: &Sshd, outbox: &Path) -> String {
    let r = t
        .request(
            token,
            Method::POST,
            "/api/v1/sftp",
            Some(
                json!({"host": "127.0.0.1", "port": sshd.port, "user": sshd.user,
            "private_key": sshd.client_key, "host_key": sshd.host_key,
            "folder": outbox.display().to_string(), "events": ["setStatus"]}),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    r.json["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn finished_files_are_imported_and_moved_with_their_reports() {
    let Some(sshd) = Sshd::start_or_skip() else {
        return;
    };
    let t = app(Duration::ZERO).await;
    let token = t.owner_token().await;
    let outbox = sshd.files.join("outbox");
    let inbox = sshd.files.join("inbox");
    std::fs::create_dir(&outbox).unwrap();
    std::fs::create_dir(&inbox).unwrap();
    let id = hook(&t, &token, &sshd, &outbox).await;
    let path = format!("/api/v1/sftp/{id}/inbox");

    // None yet; the folder is required, and may not be where events are written.
    assert_eq!(
        t.request(&token, Method::GET, &path, None).await.status,
        404
    );
    let r = t
        .request(&token, Method::PUT, &path, Some(json!({"enabled": true})))
        .await;
    assert_eq!(r.problem_field(), (422, Some("folder")));
    let r = t
        .request(
            &token,
            Method::PUT,
            &path,
            Some(json!({"folder": outbox.display().to_string()})),
        )
        .await;
    assert_eq!(r.problem_field(), (422, Some("folder")), "{}", r.json);
    let r = t
        .request(
            &token,
            Method::PUT,
            &path,
            Some(json!({"folder": inbox.display().to_string(), "options": {"bogus": 1}})),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.json);
    assert!(r.json.to_string().contains("bogus"), "{}", r.json);

    let r = t
        .request(
            &token,
            Method::PUT,
            &path,
            Some(json!({"folder": inbox.display().to_string(),
            "options": {"mapping": {"Name": "first_name"}, "default_country": "IE"}})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["enabled"], true);
    assert_eq!(r.json["files_processed"], 0);

    std::fs::write(inbox.join("2026-11-a.csv"), GOOD_CSV).unwrap();
    std::fs::write(inbox.join("b.xlsx"), b"this is not a workbook").unwrap();
    std::fs::write(inbox.join("notes.pdf"), b"hello").unwrap();
    std::fs::write(inbox.join("big.csv"), "x".repeat(64 * 1024 + 1)).unwrap();
    // Being written: a dot name and a .part name are never taken.
    std::fs::write(inbox.join(".c.csv"), GOOD_CSV).unwrap();
    std::fs::write(inbox.join("d.csv.part"), GOOD_CSV).unwrap();

    let polls = t.app.poll_sftp_inboxes(None).await.unwrap();
    assert_eq!(polls.len(), 1);
    let poll = &polls[0].1;
    assert_eq!(poll.error, None);
    assert_eq!((poll.processed, poll.failed), (1, 3));

    let stamp = t.clock.now().format("%Y%m%dT%H%M%SZ").to_string();
    assert_eq!(
        names(&inbox),
        [".c.csv", "d.csv.part", "failed", "processed"],
        "taken files leave the inbox, others stay"
    );
    assert_eq!(
        names(&inbox.join("processed")),
        [
            format!("{stamp}_2026-11-a.csv"),
            format!("{stamp}_2026-11-a.rejects.csv")
        ]
    );
    assert_eq!(
        std::fs::read_to_string(
            inbox
                .join("processed")
                .join(format!("{stamp}_2026-11-a.csv"))
        )
        .unwrap(),
        GOOD_CSV,
        "moved unchanged"
    );
    let rejects = std::fs::read_to_string(
        inbox
            .join("processed")
            .join(format!("{stamp}_2026-11-a.rejects.csv")),
    )
    .unwrap();
    let lines: Vec<&str> = rejects.lines().collect();
    assert_eq!(lines.len(), 2, "{rejects}");
    assert!(lines[0].ends_with("Name,Mobile,Balance"), "{rejects}");
    assert!(
        lines[1].contains("Bob") && lines[1].contains("not a phone"),
        "{rejects}"
    );
    assert_eq!(
        names(&inbox.join("failed")),
        [
            format!("{stamp}_b.error.txt"),
            format!("{stamp}_b.xlsx"),
            format!("{stamp}_big.csv"),
            format!("{stamp}_big.error.txt"),
            format!("{stamp}_notes.error.txt"),
            format!("{stamp}_notes.pdf"),
        ]
    );
    let why = std::fs::read_to_string(
        inbox
            .join("failed")
            .join(format!("{stamp}_notes.error.txt")),
    )
    .unwrap();
    assert!(why.contains("notes.pdf") && why.contains(".xlsx"), "{why}");
    let why =
        std::fs::read_to_string(inbox.join("failed").join(format!("{stamp}_b.error.txt"))).unwrap();
    assert!(why.starts_with("b.xlsx was not imported: "), "{why}");
    assert!(why.contains("imp_"), "names the import: {why}");
    let why = std::fs::read_to_string(inbox.join("failed").join(format!("{stamp}_big.error.txt")))
        .unwrap();
    assert!(why.contains("larger than 65536 bytes"), "{why}");

    // The contacts are there, as any import's.
    let r = t
        .request(&token, Method::GET, "/api/v1/contacts?limit=10", None)
        .await;
    let mut first_names: Vec<&str> = r.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["fields"]["first_name"].as_str().unwrap())
        .collect();
    first_names.sort_unstable();
    assert_eq!(first_names, ["Ann", "Cat"]);
    let r = t.request(&token, Method::GET, &path, None).await;
    assert_eq!(r.status, 200);
    assert_eq!(
        (
            r.json["files_processed"].as_u64(),
            r.json["files_failed"].as_u64()
        ),
        (Some(1), Some(3))
    );
    assert_eq!(r.json["last_error"], Value::Null);
    assert!(r.json["last_polled_at"].is_string());
    let imports = t
        .request(&token, Method::GET, "/api/v1/imports", None)
        .await;
    let imports = imports.json["data"].as_array().unwrap().clone();
    assert_eq!(imports.len(), 2, "the .csv and the .xlsx: {imports:?}");
    let csv = imports
        .iter()
        .find(|i| i["file_name"] == "2026-11-a.csv")
        .unwrap();
    assert_eq!(
        (
            csv["status"].as_str(),
            csv["rows_imported"].as_u64(),
            csv["rows_rejected"].as_u64()
        ),
        (Some("completed"), Some(2), Some(1))
    );
    let xlsx = imports.iter().find(|i| i["file_name"] == "b.xlsx").unwrap();
    assert_eq!(xlsx["status"], "failed");
    assert_eq!(r.json["last_import_id"], xlsx["id"]);

    // Nothing new: a poll takes nothing and changes nothing.
    let polls = t.app.poll_sftp_inboxes(None).await.unwrap();
    assert_eq!((polls[0].1.processed, polls[0].1.failed), (0, 0));
    assert_eq!(
        names(&inbox),
        [".c.csv", "d.csv.part", "failed", "processed"]
    );

    // The same name again later lands beside the first, not over it.
    std::fs::write(inbox.join("2026-11-a.csv"), GOOD_CSV).unwrap();
    t.clock.advance(chrono::Duration::hours(24));
    let polls = t.app.poll_sftp_inboxes(None).await.unwrap();
    assert_eq!(polls[0].1.processed, 1);
    assert_eq!(names(&inbox.join("processed")).len(), 4);
    let csv_again = t
        .store()
        .find_import(polls[0].1.last_import.unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            csv_again.counters.contacts_created,
            csv_again.counters.contacts_unchanged
        ),
        (0, 2),
        "re-importing a file changes nothing"
    );
}

#[tokio::test]
async fn files_still_changing_wait_for_the_next_poll() {
    let Some(sshd) = Sshd::start_or_skip() else {
        return;
    };
    let t = app(Duration::from_millis(400)).await;
    let token = t.owner_token().await;
    let inbox = sshd.files.join("drop");
    std::fs::create_dir(&inbox).unwrap();
    let outbox = sshd.files.join("outbox");
    let id = hook(&t, &token, &sshd, &outbox).await;
    let r = t
        .request(
            &token,
            Method::PUT,
            &format!("/api/v1/sftp/{id}/inbox"),
            Some(json!({"folder": inbox.display().to_string()})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);

    // An uploader still appending: the size changes between the two looks of a poll.
    let growing = inbox.join("growing.csv");
    std::fs::write(&growing, "Name,Mobile\n").unwrap();
    let writer = {
        let growing = growing.clone();
        std::thread::spawn(move || {
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new()
                .append(true)
                .open(&growing)
                .unwrap();
            for n in 0..60 {
                writeln!(f, "P{n},+3538712{n:05}").unwrap();
                f.flush().unwrap();
                std::thread::sleep(Duration::from_millis(50));
            }
        })
    };
    std::thread::sleep(Duration::from_millis(100));
    let polls = t.app.poll_sftp_inboxes(None).await.unwrap();
    assert_eq!(
        (polls[0].1.processed, polls[0].1.failed),
        (0, 0),
        "{polls:?}"
    );
    assert_eq!(names(&inbox), ["growing.csv"]);
    writer.join().unwrap();

    // Finished: the next poll takes it whole.
    let polls = t.app.poll_sftp_inboxes(None).await.unwrap();
    assert_eq!(polls[0].1.processed, 1, "{polls:?}");
    let record = t
        .store()
        .find_import(polls[0].1.last_import.unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(record.counters.rows_imported, 60);
}

#[tokio::test]
async fn a_wrong_host_key_stops_the_poll_and_a_crashed_polls_import_is_failed() {
    let Some(sshd) = Sshd::start_or_skip() else {
        return;
    };
    let t = app(Duration::ZERO).await;
    let token = t.owner_token().await;
    let org = t.root.organization;
    let inbox = sshd.files.join("in");
    std::fs::create_dir(&inbox).unwrap();
    // A destination used only as an inbox subscribes to nothing, so its folder may be the
    // inbox itself.
    let r = t
        .request(
            &token,
            Method::POST,
            "/api/v1/sftp",
            Some(
                json!({"host": "127.0.0.1", "port": sshd.port, "user": sshd.user,
            "password": "never used", "private_key": null, "host_key": sshd.host_key,
            "folder": inbox.display().to_string(), "events": []}),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["events"], json!([]));
    let id = r.json["id"].as_str().unwrap().to_owned();
    let r = t
        .request(
            &token,
            Method::PATCH,
            &format!("/api/v1/sftp/{id}"),
            Some(json!({"private_key": sshd.client_key, "password": null})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let path = format!("/api/v1/sftp/{id}/inbox");
    let r = t
        .request(
            &token,
            Method::PUT,
            &path,
            Some(json!({"folder": inbox.display().to_string(), "enabled": false})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    std::fs::write(inbox.join("a.csv"), GOOD_CSV).unwrap();

    // Disabled: not polled, and polling now is refused.
    assert!(t.app.poll_sftp_inboxes(None).await.unwrap().is_empty());
    let r = t
        .request(&token, Method::POST, &format!("{path}/poll"), None)
        .await;
    assert_eq!(r.status, 409, "{}", r.json);
    let r = t
        .request(&token, Method::PUT, &path, Some(json!({"enabled": true})))
        .await;
    assert_eq!(r.json["folder"], inbox.display().to_string(), "kept");

    // A server showing another key: nothing is read or moved, and the inbox says why.
    let dir = tempfile::tempdir().unwrap();
    let (_, other) = keygen(&dir.path().join("other"));
    let r = t
        .request(
            &token,
            Method::PATCH,
            &format!("/api/v1/sftp/{id}"),
            Some(json!({"host_key": other})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let polls = t.app.poll_sftp_inboxes(None).await.unwrap();
    assert!(
        polls[0].1.error.as_deref().unwrap().contains("host key"),
        "{polls:?}"
    );
    assert_eq!(names(&inbox), ["a.csv"]);
    let r = t.request(&token, Method::GET, &path, None).await;
    assert!(
        r.json["last_error"].as_str().unwrap().contains("host key"),
        "{}",
        r.json
    );

    // A poll that died while importing left its import named; the next poll fails that
    // import, then imports the file again.
    let r = t
        .request(
            &token,
            Method::PATCH,
            &format!("/api/v1/sftp/{id}"),
            Some(json!({"host_key": sshd.host_key})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let local = dir.path().join("a.csv");
    std::fs::write(&local, GOOD_CSV).unwrap();
    let orphan = t
        .app
        .admin_start_file_import(org, &local, ImportOptions::default())
        .await
        .unwrap();
    let now = t.clock.now();
    let webhook = id.parse().unwrap();
    assert_eq!(
        t.store()
            .claim_sftp_inboxes(now, now, Some(webhook))
            .await
            .unwrap()
            .len(),
        1
    );
    t.store()
        .extend_sftp_inbox(webhook, now, Some(orphan.id))
        .await
        .unwrap();

    // Polling now queues a job; the job polls this inbox.
    let r = t
        .request(&token, Method::POST, &format!("{path}/poll"), None)
        .await;
    assert_eq!(r.status, 202, "{}", r.json);
    let effects = SftpInboxJob {
        only: Some(webhook),
    }
    .run(&t.app, JobId::generate())
    .await
    .unwrap();
    assert!(effects.jobs.is_empty(), "a one-off poll schedules nothing");
    let orphan = t.store().find_import(orphan.id).await.unwrap().unwrap();
    assert_eq!(orphan.status, ImportStatus::Failed);
    assert!(orphan.error.unwrap().contains("interrupted"));
    assert_eq!(names(&inbox), ["processed"]);
    let r = t.request(&token, Method::GET, &path, None).await;
    assert_eq!(
        (
            r.json["files_processed"].as_u64(),
            r.json["last_error"].clone()
        ),
        (Some(1), Value::Null)
    );

    // The recurring poll schedules its next run; scheduling it again adds no second.
    let effects = SftpInboxJob { only: None }
        .run(&t.app, JobId::generate())
        .await
        .unwrap();
    assert_eq!(effects.jobs.len(), 1);
    assert_eq!(
        effects.jobs[0].run_at,
        t.clock.now() + chrono::Duration::minutes(1)
    );
    assert_eq!(effects.jobs[0].dedup_key.as_deref(), Some("sftp-inbox"));
    t.app.schedule_sftp_inboxes().await.unwrap();
    t.app.schedule_sftp_inboxes().await.unwrap();
    let pending: u64 = t
        .store()
        .job_stats()
        .await
        .unwrap()
        .iter()
        .filter(|s| s.queue == "imports")
        .map(|s| s.pending)
        .sum();
    assert_eq!(pending, 2, "the poll queued above and one recurring poll");

    // Removing the inbox keeps the hook; removing the hook removes the inbox.
    assert_eq!(
        t.request(&token, Method::DELETE, &path, None).await.status,
        204
    );
    assert_eq!(
        t.request(&token, Method::GET, &path, None).await.status,
        404
    );
    assert_eq!(
        t.request(&token, Method::GET, &format!("/api/v1/sftp/{id}"), None)
            .await
            .status,
        200
    );
}
