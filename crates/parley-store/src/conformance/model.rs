//! Model-based property test: random sequences of operations on organizations, users,
//! memberships, API keys and jobs are applied to an engine and to the plain in-memory
//! model below; every operation's outcome and the final listings must be equal.
//!
//! Cases share one store, so each case works in its own namespace (fresh ids, emails and
//! queue names carrying a per-case token) and reads only its own rows back.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use parley_domain::{ApiKeyId, AuditAction, JobId, Membership, OrgId, Role, UserId};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use super::fixtures::job;
use super::fixtures::{audit, new_key, new_org, new_user, t0};
use crate::{JobEffects, JobLease, PageRequest, Store, StoreError};

/// One operation; indices pick among what the case created so far (modulo its length),
/// and an index into an empty list names something that does not exist.
#[derive(Debug, Clone)]
enum Op {
    CreateOrg { parent: Option<usize> },
    CreateUser { email: u8 },
    SetMembership { user: usize, org: usize, role: Role },
    RemoveMembership { user: usize, org: usize },
    CreateKey { org: usize },
    RevokeKey { org: usize, key: usize },
    Enqueue { queue: u8, dedup: Option<u8> },
    Claim { queue: u8, limit: u8 },
    Complete { claim: usize },
}

fn op() -> impl Strategy<Value = Op> {
    let role = proptest::sample::select(Role::ALL.to_vec());
    prop_oneof![
        proptest::option::of(any::<usize>()).prop_map(|parent| Op::CreateOrg { parent }),
        (0u8..6).prop_map(|email| Op::CreateUser { email }),
        (any::<usize>(), any::<usize>(), role).prop_map(|(user, org, role)| Op::SetMembership {
            user,
            org,
            role
        }),
        (any::<usize>(), any::<usize>()).prop_map(|(user, org)| Op::RemoveMembership { user, org }),
        any::<usize>().prop_map(|org| Op::CreateKey { org }),
        (any::<usize>(), any::<usize>()).prop_map(|(org, key)| Op::RevokeKey { org, key }),
        (0u8..2, proptest::option::of(0u8..3))
            .prop_map(|(queue, dedup)| Op::Enqueue { queue, dedup }),
        (0u8..2, 1u8..4).prop_map(|(queue, limit)| Op::Claim { queue, limit }),
        any::<usize>().prop_map(|claim| Op::Complete { claim }),
    ]
}

/// What an operation did, comparable across engine and model.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Ok,
    NotFound,
    Conflict(&'static str),
    Jobs(Vec<JobId>),
    Job(JobId, bool),
}

fn outcome<T>(r: Result<T, StoreError>) -> Result<Outcome, TestCaseError> {
    match r {
        Ok(_) => Ok(Outcome::Ok),
        Err(StoreError::NotFound) => Ok(Outcome::NotFound),
        Err(StoreError::Conflict { constraint }) => Ok(Outcome::Conflict(constraint)),
        Err(e) => Err(TestCaseError::fail(format!(
            "unexpected store error: {e:?}"
        ))),
    }
}

fn pick<T: Copy>(list: &[T], i: usize) -> Option<T> {
    if list.is_empty() {
        None
    } else {
        Some(list[i % list.len()])
    }
}

#[derive(Default)]
struct Model {
    orgs: Vec<OrgId>,
    roots: Vec<OrgId>,
    parents: BTreeMap<OrgId, OrgId>,
    users: Vec<UserId>,
    emails: BTreeSet<String>,
    members: BTreeMap<(OrgId, UserId), Role>,
    keys: Vec<(ApiKeyId, OrgId)>,
    revoked: BTreeSet<ApiKeyId>,
    jobs: BTreeMap<JobId, (String, Option<String>, &'static str)>,
    claims: Vec<JobLease>,
}

impl Model {
    fn subtree(&self, root: OrgId) -> Vec<OrgId> {
        let mut out: Vec<OrgId> = self
            .orgs
            .iter()
            .copied()
            .filter(|o| {
                let mut cur = Some(*o);
                while let Some(c) = cur {
                    if c == root {
                        return true;
                    }
                    cur = self.parents.get(&c).copied();
                }
                false
            })
            .collect();
        out.sort();
        out
    }
}

async fn run_case(s: &dyn Store, ops: &[Op]) -> Result<(), TestCaseError> {
    let token = OrgId::generate().uuid().simple().to_string();
    let queue = |q: u8| format!("model-{token}-{q}");
    let missing_org = OrgId::generate();
    let missing_user = UserId::generate();
    let mut m = Model::default();
    let lease = Duration::from_secs(3600);
    for op in ops {
        let (engine, model) = match op {
            Op::CreateOrg { parent } => {
                let parent = parent.map(|p| pick(&m.orgs, p).unwrap_or(missing_org));
                let new = new_org("model", parent);
                let engine = outcome(
                    s.create_organization(
                        new.clone(),
                        audit(None, AuditAction::OrganizationCreated, 0),
                    )
                    .await,
                )?;
                let model = match parent {
                    Some(p) if !m.orgs.contains(&p) => Outcome::NotFound,
                    _ => {
                        m.orgs.push(new.id);
                        match parent {
                            Some(p) => {
                                m.parents.insert(new.id, p);
                            }
                            None => m.roots.push(new.id),
                        }
                        Outcome::Ok
                    }
                };
                (engine, model)
            }
            Op::CreateUser { email } => {
                let mut user = new_user("model");
                user.email = format!("u{email}.{token}@model.test");
                let engine = outcome(s.create_user(user.clone()).await)?;
                let model = if m.emails.insert(user.email.clone()) {
                    m.users.push(user.id);
                    Outcome::Ok
                } else {
                    Outcome::Conflict("users_email_key")
                };
                (engine, model)
            }
            Op::SetMembership { user, org, role } => {
                let (u, o) = (
                    pick(&m.users, *user).unwrap_or(missing_user),
                    pick(&m.orgs, *org).unwrap_or(missing_org),
                );
                let membership = Membership {
                    user_id: u,
                    organization_id: o,
                    role: *role,
                    created_at: t0(),
                    updated_at: t0(),
                };
                let engine = outcome(
                    s.set_membership(membership, audit(Some(o), AuditAction::RoleChanged, 0))
                        .await,
                )?;
                let model = if m.users.contains(&u) && m.orgs.contains(&o) {
                    m.members.insert((o, u), *role);
                    Outcome::Ok
                } else {
                    Outcome::NotFound
                };
                (engine, model)
            }
            Op::RemoveMembership { user, org } => {
                let (u, o) = (
                    pick(&m.users, *user).unwrap_or(missing_user),
                    pick(&m.orgs, *org).unwrap_or(missing_org),
                );
                let engine = outcome(
                    s.remove_membership(u, o, audit(Some(o), AuditAction::MemberRemoved, 0))
                        .await,
                )?;
                let model = if m.members.remove(&(o, u)).is_some() {
                    Outcome::Ok
                } else {
                    Outcome::NotFound
                };
                (engine, model)
            }
            Op::CreateKey { org } => {
                let o = pick(&m.orgs, *org).unwrap_or(missing_org);
                let key = new_key(o, Role::Viewer.permissions());
                let engine = outcome(
                    s.create_api_key(key.clone(), audit(Some(o), AuditAction::ApiKeyCreated, 0))
                        .await,
                )?;
                let model = if m.orgs.contains(&o) {
                    m.keys.push((key.key.id, o));
                    Outcome::Ok
                } else {
                    Outcome::NotFound
                };
                (engine, model)
            }
            Op::RevokeKey { org, key } => {
                let o = pick(&m.orgs, *org).unwrap_or(missing_org);
                let (k, owner) = pick(&m.keys, *key).unwrap_or((ApiKeyId::generate(), missing_org));
                let engine = outcome(
                    s.revoke_api_key(o, k, t0(), audit(Some(o), AuditAction::ApiKeyRevoked, 0))
                        .await,
                )?;
                let model = if owner == o && m.keys.iter().any(|(id, _)| *id == k) {
                    m.revoked.insert(k);
                    Outcome::Ok
                } else {
                    Outcome::NotFound
                };
                (engine, model)
            }
            Op::Enqueue { queue: q, dedup } => {
                let dedup = dedup.map(|d| format!("d{d}"));
                let new = job(&queue(*q), dedup.as_deref(), 0);
                let engine = match s.enqueue_job(new.clone()).await {
                    Ok(e) => Outcome::Job(e.id, e.is_new),
                    Err(e) => outcome::<()>(Err(e))?,
                };
                let existing = m.jobs.iter().find(|(_, (jq, jd, st))| {
                    *jq == new.queue
                        && jd.is_some()
                        && *jd == dedup
                        && matches!(*st, "pending" | "running")
                });
                let model = match existing {
                    Some((id, _)) => Outcome::Job(*id, false),
                    None => {
                        m.jobs.insert(new.id, (new.queue.clone(), dedup, "pending"));
                        Outcome::Job(new.id, true)
                    }
                };
                (engine, model)
            }
            Op::Claim { queue: q, limit } => {
                let engine = match s
                    .claim_jobs(&queue(*q), t0(), lease, u32::from(*limit))
                    .await
                {
                    Ok(claimed) => {
                        m.claims.extend(claimed.iter().map(|c| c.lease));
                        Outcome::Jobs(claimed.iter().map(|c| c.lease.id).collect())
                    }
                    Err(e) => outcome::<()>(Err(e))?,
                };
                let due: Vec<JobId> = m
                    .jobs
                    .iter()
                    .filter(|(_, (jq, _, st))| *jq == queue(*q) && *st == "pending")
                    .map(|(id, _)| *id)
                    .take(usize::from(*limit))
                    .collect();
                for id in &due {
                    if let Some(j) = m.jobs.get_mut(id) {
                        j.2 = "running";
                    }
                }
                (engine, Outcome::Jobs(due))
            }
            Op::Complete { claim } => {
                let Some(l) = pick(&m.claims, *claim) else {
                    continue;
                };
                let engine = outcome(s.complete_job(l, t0(), JobEffects::default()).await)?;
                let model = match m.jobs.get_mut(&l.id) {
                    Some(j) if j.2 == "running" => {
                        j.2 = "done";
                        Outcome::Ok
                    }
                    _ => Outcome::Conflict("job_lease"),
                };
                (engine, model)
            }
        };
        prop_assert_eq!(engine, model, "after {:?}", op);
    }
    // Final listings.
    for root in &m.roots {
        let listed: Vec<OrgId> = s
            .list_organizations(*root, PageRequest::first(500))
            .await
            .map_err(fail)?
            .items
            .iter()
            .map(|o| o.id)
            .collect();
        prop_assert_eq!(listed, m.subtree(*root));
    }
    for org in &m.orgs {
        let members: Vec<(UserId, Role)> = s
            .list_members(*org, PageRequest::first(500))
            .await
            .map_err(fail)?
            .items
            .iter()
            .map(|x| (x.user.id, x.membership.role))
            .collect();
        let expected: Vec<(UserId, Role)> = m
            .members
            .iter()
            .filter(|((o, _), _)| o == org)
            .map(|((_, u), r)| (*u, *r))
            .collect();
        prop_assert_eq!(members, expected);
        let keys: Vec<(ApiKeyId, bool)> = s
            .list_api_keys(*org, PageRequest::first(500))
            .await
            .map_err(fail)?
            .items
            .iter()
            .map(|k| (k.id, k.revoked_at.is_some()))
            .collect();
        let mut expected: Vec<(ApiKeyId, bool)> = m
            .keys
            .iter()
            .filter(|(_, o)| o == org)
            .map(|(k, _)| (*k, m.revoked.contains(k)))
            .collect();
        expected.sort();
        prop_assert_eq!(keys, expected);
    }
    for (id, (_, _, state)) in &m.jobs {
        prop_assert_eq!(s.get_job(*id).await.map_err(fail)?.state.as_str(), *state);
    }
    Ok(())
}

#[allow(clippy::needless_pass_by_value)] // used as `map_err(fail)`
fn fail(e: StoreError) -> TestCaseError {
    TestCaseError::fail(format!("{e:?}"))
}

/// Runs `cases` random operation sequences against `store` and the model. Call from a
/// plain `#[test]` that owns `runtime` (proptest drives the cases synchronously).
pub fn check_against_model(runtime: &tokio::runtime::Runtime, store: &dyn Store, cases: u32) {
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    let mut runner = TestRunner::new(config);
    let result = runner.run(&proptest::collection::vec(op(), 1..40), |ops| {
        runtime.block_on(run_case(store, &ops))
    });
    if let Err(e) = result {
        panic!("engine and model disagree: {e}");
    }
}
