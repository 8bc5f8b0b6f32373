//! Builders for conformance checks: valid domain values with fresh ids and unique names.

use chrono::{DateTime, Duration, TimeZone, Utc};
use parley_domain::{
    ApiKey, ApiKeyId, AuditAction, AuditId, JobId, NewApiKey, NewAuditEntry, NewOrganization,
    NewUser, OrgId, PermissionSet, Role, UserId,
};

use crate::NewJob;

/// A fixed, round instant so stored and returned times compare exactly.
#[must_use]
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 10, 0, 0)
        .single()
        .unwrap()
}

/// `t0` plus `secs` seconds.
#[must_use]
pub fn at(secs: i64) -> DateTime<Utc> {
    t0() + Duration::seconds(secs)
}

/// A new organization under `parent`.
#[must_use]
pub fn new_org(name: &str, parent: Option<OrgId>) -> NewOrganization {
    NewOrganization {
        id: OrgId::generate(),
        name: name.to_owned(),
        parent_id: parent,
        region: "eu-west-1".to_owned(),
        default_country: "IE".parse().unwrap(),
        timezone: "Europe/Dublin".parse().unwrap(),
        locale: parley_domain::DateOrder::Dmy,
        help_text: None,
        contact_hours: parley_domain::ContactHours::default(),
        created_at: t0(),
    }
}

/// Creates an organization named `name` under `parent` in `s`, with its audit entry.
pub async fn create_org(
    s: &dyn crate::Store,
    name: &str,
    parent: Option<OrgId>,
) -> parley_domain::Organization {
    s.create_organization(
        new_org(name, parent),
        audit(None, AuditAction::OrganizationCreated, 0),
    )
    .await
    .unwrap()
}

/// A new user with a unique email.
#[must_use]
pub fn new_user(name: &str) -> NewUser {
    let id = UserId::generate();
    NewUser {
        id,
        email: format!(
            "{}.{}@example.test",
            name.to_lowercase(),
            id.uuid().simple()
        ),
        name: name.to_owned(),
        password_hash: "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaGhhc2g".to_owned(),
        created_at: t0(),
    }
}

/// A new API key for `org` with the given permissions.
#[must_use]
pub fn new_key(org: OrgId, permissions: PermissionSet) -> NewApiKey {
    NewApiKey {
        key: ApiKey {
            id: ApiKeyId::generate(),
            organization_id: org,
            name: "integration".to_owned(),
            permissions,
            created_by: None,
            created_at: t0(),
            revoked_at: None,
        },
        secret_hash: format!("{:064x}", ApiKeyId::generate().uuid().as_u128()),
    }
}

/// An audit entry about `org`.
#[must_use]
pub fn audit(org: Option<OrgId>, action: AuditAction, secs: i64) -> NewAuditEntry {
    NewAuditEntry {
        id: AuditId::generate(),
        organization_id: org,
        actor: "cli".to_owned(),
        action,
        subject: "conformance".to_owned(),
        detail: serde_json::json!({"role": Role::Admin.as_str()}),
        at: at(secs),
    }
}

/// A queued CSV import record for `org`, not yet stored.
#[must_use]
pub fn new_import(org: OrgId) -> parley_domain::ImportRecord {
    parley_domain::ImportRecord {
        id: parley_domain::ImportId::generate(),
        organization_id: org,
        status: parley_domain::ImportStatus::Queued,
        format: parley_domain::ImportFormat::Csv,
        file_name: Some("c.csv".into()),
        options: parley_domain::ImportOptions::default(),
        counters: parley_domain::ImportCounters::default(),
        bytes_total: 100,
        bytes_read: 0,
        rows_through: 0,
        error: None,
        warnings: Vec::new(),
        created_at: t0(),
        started_at: None,
        finished_at: None,
    }
}

/// Writes `events` to the outbox the way use cases do: with a change they announce (here
/// the end of a job).
pub async fn emit(s: &dyn crate::Store, events: Vec<parley_domain::NewEvent>) {
    s.enqueue_job(job("emit", None, 0)).await.unwrap();
    let lease = s
        .claim_jobs("emit", at(0), std::time::Duration::from_secs(30), 1)
        .await
        .unwrap()[0]
        .lease;
    s.complete_job(
        lease,
        at(1),
        crate::JobEffects {
            events,
            jobs: vec![],
        },
    )
    .await
    .unwrap();
}

/// A job on `queue`, due `secs` after `t0`.
#[must_use]
pub fn job(queue: &str, dedup: Option<&str>, secs: i64) -> NewJob {
    NewJob {
        id: JobId::generate(),
        queue: queue.to_owned(),
        kind: "conformance".to_owned(),
        payload: serde_json::json!({"n": secs}),
        dedup_key: dedup.map(str::to_owned),
        lane: None,
        run_at: at(secs),
        max_attempts: 3,
        created_at: t0(),
    }
}
