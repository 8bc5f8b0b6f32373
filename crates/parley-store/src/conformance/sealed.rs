//! Sealed values at rest: a master-key rotation rewrites every one of them and records the
//! new key's facts in one transaction, or, when any value is refused, writes nothing.

use chrono::Duration;
use parley_domain::{AuditAction, CustomValueEndpoint, Provider, SftpAccess};

use super::channels::new_channel;
use super::fixtures::{at, audit, create_org};
use super::webhooks::{create, endpoint};
use crate::{
    BoxError, IdempotencyBegin, NewIdempotencyRecord, Resealing, SealedKind, SealedRef, Store,
    StoredResponse,
};

fn record(scope: &str, key: &str) -> NewIdempotencyRecord {
    NewIdempotencyRecord {
        scope: scope.to_owned(),
        key: key.to_owned(),
        fingerprint: "f".to_owned(),
        at: at(0),
        expires_at: at(0) + Duration::hours(24),
        stale_before: at(0) - Duration::minutes(2),
    }
}

async fn keep_answer(s: &dyn Store, scope: &str, key: &str) {
    s.begin_idempotent(record(scope, key)).await.unwrap();
    s.finish_idempotent(
        scope,
        key,
        StoredResponse {
            status: 201,
            content_type: "application/json".to_owned(),
            body: format!("a:{key}").into_bytes(),
        },
    )
    .await
    .unwrap();
}

async fn answer(s: &dyn Store, scope: &str, key: &str) -> Option<String> {
    match s.begin_idempotent(record(scope, key)).await.unwrap() {
        IdempotencyBegin::Replay(r) => Some(String::from_utf8(r.body).unwrap()),
        _ => None,
    }
}

/// What the test's rotation writes: the old value marked with where it was found.
fn marked(r: SealedRef<'_>, old: &str) -> String {
    format!("new[{:?}:{}:{}]{old}", r.kind, r.key, r.sub_key)
}

pub async fn sealed_values_are_resealed_wholly_or_not_at_all(s: &dyn Store) {
    let org = create_org(s, "sealed", None).await.id;
    let mut hook = endpoint(org, parley_domain::Subscription::All, true);
    hook.secret_sealed = "s1".to_owned();
    hook.previous_secret = Some(("p1".to_owned(), at(3600)));
    hook.sftp = Some(SftpAccess {
        host_key:
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ"
                .to_owned(),
        credential_sealed: "c1".to_owned(),
    });
    let hook = create(s, hook).await;
    let mut plain = endpoint(org, parley_domain::Subscription::All, true);
    plain.secret_sealed = "s2".to_owned();
    let plain = create(s, plain).await;
    let channel = s
        .create_channel(
            new_channel(org, Provider::Twilio, "SMS"),
            audit(Some(org), AuditAction::ChannelCreated, 0),
        )
        .await
        .unwrap();
    let mut bare = new_channel(org, Provider::Sim, "Sim");
    bare.secret_sealed = None;
    let bare = s
        .create_channel(bare, audit(Some(org), AuditAction::ChannelCreated, 0))
        .await
        .unwrap();
    s.put_custom_value_endpoint(
        CustomValueEndpoint {
            organization_id: org,
            url: "https://crm.example.com/values".to_owned(),
            secret_sealed: "v1".to_owned(),
            timeout_ms: 5000,
            created_at: at(1),
            updated_at: at(1),
        },
        audit(Some(org), AuditAction::CustomValueEndpointSet, 1),
    )
    .await
    .unwrap();
    // More kept answers than one page holds, in two scopes, and one still running.
    let page = usize::try_from(crate::RESEAL_PAGE).unwrap();
    for n in 0..=page {
        keep_answer(s, "key_a", &format!("k{n:04}")).await;
    }
    keep_answer(s, "key_b", "keep").await;
    s.begin_idempotent(record("key_b", "running"))
        .await
        .unwrap();
    s.claim_installation_fact("key_check", "old").await.unwrap();

    // A refusal anywhere writes nothing, not even the facts.
    let refuse = |r: SealedRef<'_>, old: &str| -> Result<Resealing, BoxError> {
        if r.kind == SealedKind::IdempotencyAnswer && r.sub_key == "keep" {
            return Err("refused".into());
        }
        Ok(Resealing::Replace(marked(r, old)))
    };
    assert!(
        s.reseal_secrets(&refuse, &[("key_check", "new")])
            .await
            .is_err()
    );
    let found = s.find_webhook(org, hook.id).await.unwrap().unwrap();
    assert_eq!(found.secret_sealed, "s1");
    assert_eq!(found.sftp.unwrap().credential_sealed, "c1");
    assert_eq!(
        answer(s, "key_a", "k0000").await.as_deref(),
        Some("a:k0000")
    );
    assert_eq!(
        s.installation_fact("key_check").await.unwrap().as_deref(),
        Some("old")
    );

    // Every value is rewritten in place; a value the rotation keeps stays as it was.
    let rotate = |r: SealedRef<'_>, old: &str| -> Result<Resealing, BoxError> {
        if r.sub_key == "keep" {
            return Ok(Resealing::Keep);
        }
        Ok(Resealing::Replace(marked(r, old)))
    };
    let done = s
        .reseal_secrets(&rotate, &[("key_check", "new"), ("carried", "x")])
        .await
        .unwrap();
    assert_eq!(done.replaced, [2, 1, 1, 1, 1, page as u64 + 1]);
    assert_eq!(done.kept, [0, 0, 0, 0, 0, 1]);
    let found = s.find_webhook(org, hook.id).await.unwrap().unwrap();
    let id = hook.id;
    assert_eq!(found.secret_sealed, format!("new[WebhookSecret:{id}:]s1"));
    assert_eq!(
        found.previous_secret,
        Some((format!("new[WebhookPreviousSecret:{id}:]p1"), at(3600)))
    );
    assert_eq!(
        found.sftp.unwrap().credential_sealed,
        format!("new[SftpCredential:{id}:]c1")
    );
    let found = s.find_webhook(org, plain.id).await.unwrap().unwrap();
    assert_eq!(
        (found.secret_sealed, found.previous_secret, found.sftp),
        (format!("new[WebhookSecret:{}:]s2", plain.id), None, None)
    );
    let found = s.find_channel(org, channel.id).await.unwrap().unwrap();
    assert_eq!(
        found.secret_sealed,
        Some(format!(
            "new[ChannelCredentials:{}:]sealed:credentials",
            channel.id
        ))
    );
    let found = s.find_channel(org, bare.id).await.unwrap().unwrap();
    assert_eq!(found.secret_sealed, None);
    let found = s.find_custom_value_endpoint(org).await.unwrap().unwrap();
    assert_eq!(
        found.secret_sealed,
        format!("new[CustomValueSecret:{org}:]v1")
    );
    for n in [0, page] {
        let key = format!("k{n:04}");
        assert_eq!(
            answer(s, "key_a", &key).await,
            Some(format!("new[IdempotencyAnswer:key_a:{key}]a:{key}"))
        );
    }
    assert_eq!(answer(s, "key_b", "keep").await.as_deref(), Some("a:keep"));
    assert_eq!(
        s.begin_idempotent(record("key_b", "running"))
            .await
            .unwrap(),
        IdempotencyBegin::InProgress
    );
    assert_eq!(
        s.installation_fact("key_check").await.unwrap().as_deref(),
        Some("new")
    );
    assert_eq!(
        s.installation_fact("carried").await.unwrap().as_deref(),
        Some("x")
    );
}
