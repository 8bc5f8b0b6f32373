//! Conformance: idempotency keys.

use chrono::Duration;

use super::fixtures::{at, t0};
use crate::{IdempotencyBegin, NewIdempotencyRecord, Store, StoredResponse};

fn record(scope: &str, key: &str, fingerprint: &str, secs: i64) -> NewIdempotencyRecord {
    NewIdempotencyRecord {
        scope: scope.to_owned(),
        key: key.to_owned(),
        fingerprint: fingerprint.to_owned(),
        at: at(secs),
        expires_at: at(secs) + Duration::hours(24),
        stale_before: at(secs) - Duration::minutes(2),
    }
}

fn response() -> StoredResponse {
    StoredResponse {
        status: 201,
        content_type: "application/json".to_owned(),
        body: br#"{"id":"org_1"}"#.to_vec(),
    }
}

pub async fn idempotency_keys_start_replay_and_mismatch(s: &dyn Store) {
    assert_eq!(
        s.begin_idempotent(record("key_a", "k1", "f1", 0))
            .await
            .unwrap(),
        IdempotencyBegin::Started
    );
    assert_eq!(
        s.begin_idempotent(record("key_a", "k1", "f1", 1))
            .await
            .unwrap(),
        IdempotencyBegin::InProgress
    );
    s.finish_idempotent("key_a", "k1", response())
        .await
        .unwrap();
    assert_eq!(
        s.begin_idempotent(record("key_a", "k1", "f1", 2))
            .await
            .unwrap(),
        IdempotencyBegin::Replay(response())
    );
    assert_eq!(
        s.begin_idempotent(record("key_a", "k1", "other body", 3))
            .await
            .unwrap(),
        IdempotencyBegin::Mismatch
    );
    assert_eq!(
        s.begin_idempotent(record("key_b", "k1", "f1", 3))
            .await
            .unwrap(),
        IdempotencyBegin::Started,
        "scopes never share keys"
    );
}

pub async fn idempotency_keys_expire_and_abandon(s: &dyn Store) {
    assert_eq!(
        s.begin_idempotent(record("scope", "k", "f", 0))
            .await
            .unwrap(),
        IdempotencyBegin::Started
    );
    s.abandon_idempotent("scope", "k").await.unwrap();
    assert_eq!(
        s.begin_idempotent(record("scope", "k", "f", 1))
            .await
            .unwrap(),
        IdempotencyBegin::Started,
        "abandoned keys are free"
    );
    s.finish_idempotent("scope", "k", response()).await.unwrap();
    s.abandon_idempotent("scope", "k").await.unwrap();
    assert!(
        matches!(
            s.begin_idempotent(record("scope", "k", "f", 2))
                .await
                .unwrap(),
            IdempotencyBegin::Replay(_)
        ),
        "finished keys are not abandoned"
    );
    let after_expiry = t0() + Duration::hours(25);
    let fresh = NewIdempotencyRecord {
        at: after_expiry,
        expires_at: after_expiry + Duration::hours(24),
        ..record("scope", "k", "new", 0)
    };
    assert_eq!(
        s.begin_idempotent(fresh).await.unwrap(),
        IdempotencyBegin::Started,
        "expired keys are reusable"
    );
    // A claim left running by a process that stopped is taken over once it is stale,
    // and not before.
    s.begin_idempotent(record("scope", "crashed", "f", 0))
        .await
        .unwrap();
    assert_eq!(
        s.begin_idempotent(record("scope", "crashed", "f", 60))
            .await
            .unwrap(),
        IdempotencyBegin::InProgress
    );
    assert_eq!(
        s.begin_idempotent(record("scope", "crashed", "f", 121))
            .await
            .unwrap(),
        IdempotencyBegin::Started,
        "a stale claim is released"
    );
    s.finish_idempotent("scope", "crashed", response())
        .await
        .unwrap();
    assert!(
        matches!(
            s.begin_idempotent(record("scope", "crashed", "f", 50_000))
                .await
                .unwrap(),
            IdempotencyBegin::Replay(_)
        ),
        "a finished key is never stale"
    );
    s.begin_idempotent(record("scope", "old", "f", 0))
        .await
        .unwrap();
    assert_eq!(
        s.purge_idempotency(t0() + Duration::hours(30))
            .await
            .unwrap(),
        2,
        "only the expired records are purged (`old` and `crashed`)"
    );
}
