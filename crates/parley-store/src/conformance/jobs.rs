//! Conformance: the job queue (de-duplication, claims, lanes, leases, retries, stats,
//! canaries).

use std::time::Duration;

use parley_domain::JobId;

use super::fixtures::{at, job};
use crate::{JobState, NewJob, Store, StoreError};

const LEASE: Duration = Duration::from_secs(30);

pub async fn jobs_deduplicate_while_pending_or_running(s: &dyn Store) {
    let first = s.enqueue_job(job("q", Some("k"), 0)).await.unwrap();
    assert!(first.is_new);
    let dup = s.enqueue_job(job("q", Some("k"), 0)).await.unwrap();
    assert_eq!(
        (dup.id, dup.is_new),
        (first.id, false),
        "pending duplicate folds onto the first"
    );
    let other_queue = s.enqueue_job(job("q2", Some("k"), 0)).await.unwrap();
    assert!(other_queue.is_new, "keys are per queue");
    let claimed = s.claim_jobs("q", at(0), LEASE, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let while_running = s.enqueue_job(job("q", Some("k"), 0)).await.unwrap();
    assert_eq!((while_running.id, while_running.is_new), (first.id, false));
    s.complete_job(claimed[0].lease, at(1), crate::JobEffects::default())
        .await
        .unwrap();
    let after_done = s.enqueue_job(job("q", Some("k"), 0)).await.unwrap();
    assert!(
        after_done.is_new && after_done.id != first.id,
        "a finished job frees its key"
    );
    let plain = job("q", None, 0);
    assert!(s.enqueue_job(plain.clone()).await.unwrap().is_new);
    let same_id = s.enqueue_job(plain).await;
    assert!(
        matches!(
            same_id,
            Err(StoreError::Conflict {
                constraint: "jobs_pkey"
            })
        ),
        "{same_id:?}"
    );
}

pub async fn jobs_claim_due_jobs_only_once(s: &dyn Store) {
    // A lease long enough that nothing expires during this check.
    let hour = Duration::from_secs(3600);
    let due: Vec<_> = (0..3).map(|_| job("claims", None, 0)).collect();
    for j in &due {
        s.enqueue_job(j.clone()).await.unwrap();
    }
    let later = job("claims", None, 100);
    s.enqueue_job(later.clone()).await.unwrap();
    let first = s.claim_jobs("claims", at(10), hour, 2).await.unwrap();
    let second = s.claim_jobs("claims", at(10), hour, 10).await.unwrap();
    assert_eq!(
        (first.len(), second.len()),
        (2, 1),
        "the limit holds and nothing is claimed twice"
    );
    let mut got: Vec<_> = first.iter().chain(&second).map(|c| c.lease.id).collect();
    got.sort();
    let mut want: Vec<_> = due.iter().map(|j| j.id).collect();
    want.sort();
    assert_eq!(got, want, "the future job is not due yet");
    let c = &first[0];
    assert_eq!(
        (c.lease.attempt, c.max_attempts, c.kind.as_str()),
        (1, 3, "conformance")
    );
    assert_eq!(c.payload, serde_json::json!({"n": 0}));
    assert!(
        s.claim_jobs("claims", at(11), hour, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.claim_jobs("elsewhere", at(200), hour, 10)
            .await
            .unwrap()
            .is_empty()
    );
    let record = s.get_job(c.lease.id).await.unwrap();
    assert_eq!(
        (record.state, record.attempts, record.run_at),
        (JobState::Running, 1, at(3610))
    );
    let future = s.claim_jobs("claims", at(100), hour, 10).await.unwrap();
    assert_eq!(future.len(), 1);
    assert_eq!(future[0].lease.id, later.id);
}

/// A job on `queue` in `lane`, due `secs` after `t0`.
fn in_lane(queue: &str, lane: &str, secs: i64) -> NewJob {
    NewJob {
        lane: Some(lane.to_owned()),
        ..job(queue, None, secs)
    }
}

pub async fn job_lanes_run_one_job_at_a_time_in_order(s: &dyn Store) {
    let hour = Duration::from_secs(3600);
    // Queued in this order; the second is due before the first, and still waits for it.
    let a: Vec<NewJob> = [5, 0, 0].map(|secs| in_lane("lanes", "a", secs)).into();
    let b = in_lane("lanes", "b", 0);
    let free = job("lanes", None, 0);
    let elsewhere = in_lane("other", "a", 0);
    for j in a.iter().chain([&b, &free, &elsewhere]) {
        s.enqueue_job(j.clone()).await.unwrap();
    }
    assert_eq!(s.first_in_lane("lanes", "a").await.unwrap(), Some(a[0].id));
    assert_eq!(s.first_in_lane("lanes", "idle").await.unwrap(), None);
    let ids = |claimed: &[crate::ClaimedJob]| {
        let mut ids: Vec<JobId> = claimed.iter().map(|c| c.lease.id).collect();
        ids.sort();
        ids
    };
    let mut want = vec![b.id, free.id];
    want.sort();
    let first = s.claim_jobs("lanes", at(1), hour, 10).await.unwrap();
    assert_eq!(ids(&first), want, "lane a's head is not due; the rest wait");
    assert_eq!(
        ids(&s.claim_jobs("other", at(1), hour, 10).await.unwrap()),
        [elsewhere.id],
        "lanes are per queue"
    );
    let head = s.claim_jobs("lanes", at(5), hour, 10).await.unwrap();
    assert_eq!(ids(&head), [a[0].id]);
    assert!(
        s.claim_jobs("lanes", at(6), hour, 10)
            .await
            .unwrap()
            .is_empty(),
        "nothing after a running job of its lane"
    );
    // A retry keeps its place: the jobs after it wait for it.
    s.fail_job(head[0].lease, at(6), "try again", Some(at(50)))
        .await
        .unwrap();
    assert!(
        s.claim_jobs("lanes", at(7), hour, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(s.first_in_lane("lanes", "a").await.unwrap(), Some(a[0].id));
    let again = s.claim_jobs("lanes", at(50), hour, 10).await.unwrap();
    assert_eq!(ids(&again), [a[0].id]);
    s.complete_job(again[0].lease, at(51), crate::JobEffects::default())
        .await
        .unwrap();
    let second = s.claim_jobs("lanes", at(51), hour, 10).await.unwrap();
    assert_eq!(ids(&second), [a[1].id], "then the next, one at a time");
    // A job failed for good frees its lane too.
    s.fail_job(second[0].lease, at(52), "gone", None)
        .await
        .unwrap();
    assert_eq!(s.first_in_lane("lanes", "a").await.unwrap(), Some(a[2].id));
    let third = s.claim_jobs("lanes", at(52), hour, 10).await.unwrap();
    assert_eq!(ids(&third), [a[2].id]);
    s.complete_job(third[0].lease, at(53), crate::JobEffects::default())
        .await
        .unwrap();
    assert_eq!(s.first_in_lane("lanes", "a").await.unwrap(), None);
}

pub async fn expired_leases_are_reclaimed_and_fence_the_old_worker(s: &dyn Store) {
    let j = job("leases", None, 0);
    s.enqueue_job(j.clone()).await.unwrap();
    let old = s.claim_jobs("leases", at(0), LEASE, 1).await.unwrap()[0].lease;
    s.extend_job_lease(old, at(60)).await.unwrap();
    assert!(
        s.claim_jobs("leases", at(45), LEASE, 1)
            .await
            .unwrap()
            .is_empty(),
        "an extended lease holds"
    );
    let new = s.claim_jobs("leases", at(61), LEASE, 1).await.unwrap()[0].lease;
    assert_eq!((new.id, new.attempt), (j.id, 2));
    for result in [
        s.complete_job(old, at(62), crate::JobEffects::default())
            .await,
        s.fail_job(old, at(62), "late", None).await,
        s.extend_job_lease(old, at(500)).await,
    ] {
        assert!(
            matches!(
                result,
                Err(StoreError::Conflict {
                    constraint: "job_lease"
                })
            ),
            "{result:?}"
        );
    }
    s.complete_job(new, at(63), crate::JobEffects::default())
        .await
        .unwrap();
    let record = s.get_job(j.id).await.unwrap();
    assert_eq!(
        (record.state, record.attempts, record.finished_at),
        (JobState::Done, 2, Some(at(63)))
    );
}

pub async fn failed_jobs_retry_or_give_up(s: &dyn Store) {
    let j = job("retry", None, 0);
    s.enqueue_job(j.clone()).await.unwrap();
    let lease = s.claim_jobs("retry", at(0), LEASE, 1).await.unwrap()[0].lease;
    s.fail_job(lease, at(1), "receiver said 503", Some(at(5)))
        .await
        .unwrap();
    let record = s.get_job(j.id).await.unwrap();
    assert_eq!(
        (record.state, record.run_at, record.finished_at),
        (JobState::Pending, at(5), None)
    );
    assert_eq!(record.last_error.as_deref(), Some("receiver said 503"));
    assert!(
        s.claim_jobs("retry", at(4), LEASE, 1)
            .await
            .unwrap()
            .is_empty(),
        "not before its retry time"
    );
    let lease = s.claim_jobs("retry", at(5), LEASE, 1).await.unwrap()[0].lease;
    assert_eq!(lease.attempt, 2);
    s.fail_job(lease, at(6), "gone for good", None)
        .await
        .unwrap();
    let record = s.get_job(j.id).await.unwrap();
    assert_eq!(
        (record.state, record.finished_at),
        (JobState::Failed, Some(at(6)))
    );
    assert!(
        s.claim_jobs("retry", at(1000), LEASE, 1)
            .await
            .unwrap()
            .is_empty(),
        "failed jobs never run again"
    );
}

pub async fn job_stats_and_purge(s: &dyn Store) {
    for q in ["a", "a", "a", "b"] {
        s.enqueue_job(job(q, None, 0)).await.unwrap();
    }
    let claimed = s.claim_jobs("a", at(0), LEASE, 2).await.unwrap();
    s.complete_job(claimed[0].lease, at(1), crate::JobEffects::default())
        .await
        .unwrap();
    s.fail_job(claimed[1].lease, at(2), "boom", None)
        .await
        .unwrap();
    s.claim_jobs("a", at(0), LEASE, 1).await.unwrap();
    let stats = s.job_stats().await.unwrap();
    assert_eq!(stats.len(), 2);
    assert_eq!(
        (
            stats[0].queue.as_str(),
            stats[0].pending,
            stats[0].running,
            stats[0].done,
            stats[0].failed
        ),
        ("a", 0, 1, 1, 1)
    );
    assert_eq!((stats[1].queue.as_str(), stats[1].pending), ("b", 1));
    assert_eq!(
        s.purge_finished_jobs(at(2)).await.unwrap(),
        1,
        "only jobs finished before the cut-off"
    );
    assert_eq!(s.purge_finished_jobs(at(3)).await.unwrap(), 1);
    assert!(matches!(
        s.get_job(claimed[0].lease.id).await,
        Err(StoreError::NotFound)
    ));
    let stats = s.job_stats().await.unwrap();
    assert_eq!(
        (stats[0].done, stats[0].failed, stats[0].running),
        (0, 0, 1)
    );
}

pub async fn canaries_count_runs_per_key(s: &dyn Store) {
    assert_eq!(s.record_canary("c-1", at(0)).await.unwrap(), 1);
    assert_eq!(s.record_canary("c-2", at(0)).await.unwrap(), 1);
    assert_eq!(s.record_canary("c-1", at(1)).await.unwrap(), 2);
    let all = s.list_canaries().await.unwrap();
    assert_eq!(
        all.iter()
            .map(|c| (c.key.as_str(), c.runs))
            .collect::<Vec<_>>(),
        vec![("c-1", 2), ("c-2", 1)]
    );
}
