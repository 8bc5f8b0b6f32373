//! SFTP import inboxes: one per SFTP endpoint of the organization, kept when changed,
//! claimed by one poller at a time, and a poll's outcome recorded.

use parley_domain::{
    AuditAction, ImportId, ImportOptions, OrgId, SftpAccess, SftpInbox, Subscription, WebhookId,
};

use super::fixtures::{at, audit, create_org};
use super::webhooks::{create, endpoint};
use crate::{InboxPoll, Store, StoreError};

async fn sftp_endpoint(s: &dyn Store, org: OrgId) -> WebhookId {
    let mut e = endpoint(org, Subscription::Nothing, true);
    e.url = "sftp://acme@files.example.com:22/~/outbox".to_owned();
    e.sftp = Some(SftpAccess {
        host_key: "ssh-ed25519 AAAA".to_owned(),
        credential_sealed: "sealed".to_owned(),
    });
    create(s, e).await.id
}

fn inbox(org: OrgId, endpoint: WebhookId, folder: &str, enabled: bool, secs: i64) -> SftpInbox {
    let options = ImportOptions {
        ignore_unknown: true,
        ..ImportOptions::default()
    };
    SftpInbox::new(endpoint, org, folder.to_owned(), options, enabled, at(secs))
}

async fn put(s: &dyn Store, i: SftpInbox) -> Result<SftpInbox, StoreError> {
    let org = i.organization_id;
    s.put_sftp_inbox(i, audit(Some(org), AuditAction::SftpInboxSet, 0))
        .await
}

pub async fn sftp_inboxes_belong_to_sftp_endpoints_of_their_organization(s: &dyn Store) {
    let a = create_org(s, "A", None).await.id;
    let b = create_org(s, "B", None).await.id;
    let http = create(s, endpoint(a, Subscription::All, true)).await.id;
    let sftp = sftp_endpoint(s, a).await;

    assert!(matches!(
        put(s, inbox(a, http, "in", true, 0)).await,
        Err(StoreError::NotFound)
    ));
    assert!(
        matches!(
            put(s, inbox(b, sftp, "in", true, 0)).await,
            Err(StoreError::NotFound)
        ),
        "another organization's endpoint"
    );
    assert_eq!(s.find_sftp_inbox(b, sftp).await.unwrap(), None);

    let created = put(s, inbox(a, sftp, "in", true, 1)).await.unwrap();
    assert_eq!(created.folder, "in");
    assert!(created.options.ignore_unknown);
    assert_eq!(s.find_sftp_inbox(a, sftp).await.unwrap(), Some(created));
    assert_eq!(s.find_sftp_inbox(b, sftp).await.unwrap(), None);

    // A change keeps the creation time and what polls recorded.
    let claimed = s.claim_sftp_inboxes(at(2), at(60), None).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let poll = InboxPoll {
        processed: 2,
        ..InboxPoll::default()
    };
    s.finish_sftp_inbox_poll(sftp, at(3), &poll).await.unwrap();
    let changed = put(s, inbox(a, sftp, "/srv/in", false, 4)).await.unwrap();
    assert_eq!(changed.folder, "/srv/in");
    assert!(!changed.enabled);
    assert_eq!(changed.created_at, at(1));
    assert_eq!(changed.updated_at, at(4));
    assert_eq!(changed.files_processed, 2);
    assert_eq!(changed.last_polled_at, Some(at(3)));

    let delete = |org| {
        s.delete_sftp_inbox(
            org,
            sftp,
            audit(Some(org), AuditAction::SftpInboxDeleted, 5),
        )
    };
    assert!(matches!(delete(b).await, Err(StoreError::NotFound)));
    delete(a).await.unwrap();
    assert!(matches!(delete(a).await, Err(StoreError::NotFound)));
    assert_eq!(s.find_sftp_inbox(a, sftp).await.unwrap(), None);

    // An inbox goes with its endpoint.
    put(s, inbox(a, sftp, "in", true, 6)).await.unwrap();
    s.delete_webhook(a, sftp, audit(Some(a), AuditAction::WebhookDeleted, 7))
        .await
        .unwrap();
    assert_eq!(s.find_sftp_inbox(a, sftp).await.unwrap(), None);
}

pub async fn sftp_inbox_claims_are_leased_and_polls_recorded(s: &dyn Store) {
    let a = create_org(s, "A", None).await.id;
    let first = sftp_endpoint(s, a).await;
    let second = sftp_endpoint(s, a).await;
    let off = sftp_endpoint(s, a).await;
    put(s, inbox(a, first, "in", true, 0)).await.unwrap();
    put(s, inbox(a, second, "in", true, 0)).await.unwrap();
    put(s, inbox(a, off, "in", false, 0)).await.unwrap();

    let only = s
        .claim_sftp_inboxes(at(10), at(70), Some(second))
        .await
        .unwrap();
    assert_eq!(
        only.iter().map(|i| i.endpoint_id).collect::<Vec<_>>(),
        [second]
    );
    let rest = s.claim_sftp_inboxes(at(11), at(71), None).await.unwrap();
    assert_eq!(
        rest.iter().map(|i| i.endpoint_id).collect::<Vec<_>>(),
        [first],
        "a claimed inbox and a disabled one are not taken"
    );
    assert!(
        s.claim_sftp_inboxes(at(12), at(72), None)
            .await
            .unwrap()
            .is_empty()
    );

    // A poll names its import; if it dies, the lease ends and the next claim sees it.
    let import = ImportId::generate();
    s.extend_sftp_inbox(first, at(100), Some(import))
        .await
        .unwrap();
    assert!(
        s.claim_sftp_inboxes(at(80), at(140), None)
            .await
            .unwrap()
            .iter()
            .all(|i| i.endpoint_id == second),
        "an extended lease holds"
    );
    let again = s
        .claim_sftp_inboxes(at(100), at(160), Some(first))
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].current_import_id, Some(import));

    let poll = InboxPoll {
        error: None,
        processed: 3,
        failed: 1,
        last_import: Some(import),
    };
    s.finish_sftp_inbox_poll(first, at(110), &poll)
        .await
        .unwrap();
    let failed_poll = InboxPoll {
        error: Some("connection refused".to_owned()),
        ..InboxPoll::default()
    };
    s.finish_sftp_inbox_poll(first, at(120), &failed_poll)
        .await
        .unwrap();
    let recorded = s.find_sftp_inbox(a, first).await.unwrap().unwrap();
    assert_eq!(recorded.last_polled_at, Some(at(120)));
    assert_eq!(recorded.last_error.as_deref(), Some("connection refused"));
    assert_eq!((recorded.files_processed, recorded.files_failed), (3, 1));
    assert_eq!(
        recorded.last_import_id,
        Some(import),
        "kept by a poll taking no file"
    );
    assert_eq!(recorded.current_import_id, None);
    assert_eq!(
        s.claim_sftp_inboxes(at(121), at(181), Some(first))
            .await
            .unwrap()
            .len(),
        1,
        "a finished poll frees the inbox"
    );
}
