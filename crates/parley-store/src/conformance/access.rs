//! Conformance: API keys, sessions, and the store's liveness.

use parley_domain::{AuditAction, Permission, PermissionSet, Role, SessionId};

use super::fixtures::{at, audit, create_org, new_key, new_user};
use crate::{NewSession, PageRequest, Store, StoreError};

pub async fn api_keys_store_hash_and_revoke_once(s: &dyn Store) {
    let org = create_org(s, "Org", None).await;
    let perms = PermissionSet::from_slice(&[Permission::ContactsRead, Permission::CampaignsRead]);
    let new = new_key(org.id, perms);
    let created = s
        .create_api_key(
            new.clone(),
            audit(Some(org.id), AuditAction::ApiKeyCreated, 0),
        )
        .await
        .unwrap();
    assert_eq!(created, new.key);
    let stored = s.find_api_key(new.key.id).await.unwrap().unwrap();
    assert_eq!(stored.secret_hash, new.secret_hash);
    assert_eq!(stored.key.permissions, perms);
    assert!(stored.key.revoked_at.is_none());
    let revoked = s
        .revoke_api_key(
            org.id,
            new.key.id,
            at(10),
            audit(Some(org.id), AuditAction::ApiKeyRevoked, 10),
        )
        .await
        .unwrap();
    assert_eq!(revoked.revoked_at, Some(at(10)));
    let twice = s
        .revoke_api_key(
            org.id,
            new.key.id,
            at(20),
            audit(Some(org.id), AuditAction::ApiKeyRevoked, 20),
        )
        .await
        .unwrap();
    assert_eq!(
        twice.revoked_at,
        Some(at(10)),
        "the first revocation time is kept"
    );
    assert!(
        s.find_api_key(new_key(org.id, perms).key.id)
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn api_keys_are_scoped_to_their_organization(s: &dyn Store) {
    let a = create_org(s, "A", None).await;
    let b = create_org(s, "B", None).await;
    let mut keys = Vec::new();
    for _ in 0..3 {
        let k = new_key(a.id, Role::Admin.permissions());
        keys.push(k.key.id);
        s.create_api_key(k, audit(Some(a.id), AuditAction::ApiKeyCreated, 0))
            .await
            .unwrap();
    }
    let kb = new_key(b.id, Role::Viewer.permissions());
    s.create_api_key(kb.clone(), audit(Some(b.id), AuditAction::ApiKeyCreated, 0))
        .await
        .unwrap();
    let first = s.list_api_keys(a.id, PageRequest::first(2)).await.unwrap();
    let second = s
        .list_api_keys(
            a.id,
            PageRequest::after(first.next_cursor.clone().unwrap(), 2),
        )
        .await
        .unwrap();
    assert!(second.next_cursor.is_none());
    let listed: Vec<_> = first
        .items
        .iter()
        .chain(&second.items)
        .map(|k| k.id)
        .collect();
    keys.sort();
    assert_eq!(listed, keys);
    let cross = s
        .revoke_api_key(
            a.id,
            kb.key.id,
            at(1),
            audit(Some(a.id), AuditAction::ApiKeyRevoked, 1),
        )
        .await;
    assert!(
        matches!(cross, Err(StoreError::NotFound)),
        "organization A cannot revoke B's key"
    );
    assert!(
        s.find_api_key(kb.key.id)
            .await
            .unwrap()
            .unwrap()
            .key
            .revoked_at
            .is_none()
    );
}

pub async fn sessions_expire_and_end(s: &dyn Store) {
    let org = create_org(s, "Org", None).await;
    let user = new_user("Ann");
    s.create_user(user.clone()).await.unwrap();
    let session = |hash: &str, expires| NewSession {
        id: SessionId::generate(),
        token_hash: hash.to_owned(),
        user_id: user.id,
        organization_id: org.id,
        created_at: at(0),
        expires_at: at(expires),
    };
    let live = s
        .create_session(
            session("aa", 3600),
            audit(Some(org.id), AuditAction::SignIn, 0),
        )
        .await
        .unwrap();
    s.create_session(
        session("bb", 60),
        audit(Some(org.id), AuditAction::SignIn, 0),
    )
    .await
    .unwrap();
    assert_eq!(s.find_session("aa", at(10)).await.unwrap(), Some(live));
    assert!(
        s.find_session("bb", at(61)).await.unwrap().is_none(),
        "expired sessions are not found"
    );
    assert!(s.find_session("zz", at(1)).await.unwrap().is_none());
    assert_eq!(s.delete_expired_sessions(at(61)).await.unwrap(), 1);
    s.delete_session("aa", audit(Some(org.id), AuditAction::SignOut, 20))
        .await
        .unwrap();
    assert!(s.find_session("aa", at(21)).await.unwrap().is_none());
    s.delete_session("aa", audit(Some(org.id), AuditAction::SignOut, 21))
        .await
        .unwrap();
    let signs = s
        .list_audit(
            org.id,
            &crate::AuditFilter::default(),
            PageRequest::first(10),
        )
        .await
        .unwrap()
        .items;
    assert_eq!(
        signs
            .iter()
            .filter(|e| e.action == AuditAction::SignIn)
            .count(),
        2
    );
}

pub async fn ping_answers(s: &dyn Store) {
    s.ping().await.unwrap();
    assert!(matches!(s.engine_name(), "sqlite" | "postgres"));
}

pub async fn close_refuses_later_calls(s: &dyn Store) {
    s.close().await;
    assert!(s.ping().await.is_err(), "a closed store answers nothing");
}
