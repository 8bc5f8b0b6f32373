//! Queue members and automatic assignment (SPEC §5): a queue's conversations go,
//! round-robin, to its available members, each up to their capacity.
//!
//! Decisions:
//! * **who is next**: among available members with fewer open assigned conversations (in
//!   the whole organization) than their capacity, the one given a conversation from this
//!   queue longest ago (never first; then by id);
//! * **when**: as soon as a conversation waits in a queue with no one (a flow's hand-over,
//!   a customer writing without an inbound flow, a person moving or unassigning it), when
//!   a member is added, changed or made available, and when a person's conversation
//!   leaves them (closed, moved, unassigned, handed back), which frees capacity in the
//!   queue it was handled from. Waiting conversations go oldest first;
//! * each assignment is a turn that gives the conversation only if it still waits in the
//!   queue with no one (`conversationAssignment`, by `system`); one pass runs at a time
//!   per process. Processes sharing a store may each assign at the same moment, so a
//!   member's capacity can be passed by one conversation per process at worst;
//! * members are managed by administrators (`admin`); whoever reads conversations lists
//!   them. A member must belong to the organization (or one above it). A queue's key may
//!   be Parley's own `default`.

use std::collections::HashMap;

use parley_domain::{OrgId, Permission, QueueMember, UserId};

use crate::auth::Access;
use crate::{App, AppError};

/// The most conversations a member may be given at once.
pub const MAX_CAPACITY: u32 = 100;
/// Waiting conversations one pass looks at.
const PASS: u32 = 200;

impl App {
    /// Whether `queue` is one of the organization's queues (Parley's own `default`
    /// included).
    pub(crate) async fn queue_exists(&self, org: OrgId, queue: &str) -> Result<bool, AppError> {
        Ok(queue == super::queues::DEFAULT_QUEUE
            || self
                .store
                .list_queues(org)
                .await?
                .iter()
                .any(|q| q.key == queue))
    }

    async fn check_queue_exists(&self, org: OrgId, queue: &str) -> Result<(), AppError> {
        if self.queue_exists(org, queue).await? {
            Ok(())
        } else {
            Err(AppError::NotFound("queue"))
        }
    }

    /// A queue's members.
    pub async fn list_queue_members(
        &self,
        access: &Access,
        queue: &str,
    ) -> Result<Vec<QueueMember>, AppError> {
        access.require(Permission::ConversationsRead)?;
        self.check_queue_exists(access.org_id(), queue).await?;
        Ok(self
            .store
            .list_queue_members(access.org_id(), queue)
            .await?)
    }

    /// Adds a member to a queue or changes one, then assigns what waits there.
    pub async fn put_queue_member(
        &self,
        access: &Access,
        queue: &str,
        user: UserId,
        capacity: u32,
        available: bool,
    ) -> Result<QueueMember, AppError> {
        access.require(Permission::Administer)?;
        let org = access.org_id();
        self.check_queue_exists(org, queue).await?;
        if !(1..=MAX_CAPACITY).contains(&capacity) {
            return Err(AppError::invalid(
                "capacity",
                format!("must be from 1 to {MAX_CAPACITY}"),
            ));
        }
        if !self.is_member_of(org, user).await? {
            return Err(AppError::invalid(
                "user",
                "must be a member of the organization",
            ));
        }
        let member = self
            .store
            .put_queue_member(QueueMember {
                organization_id: org,
                queue: queue.to_owned(),
                user_id: user,
                capacity,
                available,
                last_assigned_at: None,
                updated_at: self.clock.now(),
            })
            .await?;
        self.auto_assign(org, queue).await?;
        Ok(member)
    }

    /// The people a conversation the caller may see can be given to: the members of its
    /// queue (`default` when it has none), as `(id, name)` by name. Anyone who may act on
    /// it may hand it to one of them.
    pub async fn assignable_people(
        &self,
        access: &Access,
        id: parley_domain::ConversationId,
    ) -> Result<Vec<(UserId, String)>, AppError> {
        access.require(Permission::ConversationsWrite)?;
        let conversation = self.get_conversation(access, id).await?;
        let queue = conversation
            .queue
            .unwrap_or_else(|| super::queues::DEFAULT_QUEUE.to_owned());
        let members: Vec<UserId> = self
            .store
            .list_queue_members(access.org_id(), &queue)
            .await?
            .into_iter()
            .map(|m| m.user_id)
            .collect();
        let names = self.names_of_people(access, members).await?;
        let mut people: Vec<(UserId, String)> = names.into_iter().collect();
        people.sort_by_key(|(_, name)| name.to_lowercase());
        Ok(people)
    }

    /// Where a conversation the caller may see can be handed back to its bot: its flow's
    /// name and steps, the start step first; `None` when no flow ever talked in it (a
    /// hand-back resumes the conversation's own flow version at the chosen step).
    pub async fn hand_back_steps(
        &self,
        access: &Access,
        id: parley_domain::ConversationId,
    ) -> Result<Option<(String, Vec<String>)>, AppError> {
        access.require(Permission::ConversationsWrite)?;
        let conversation = self.get_conversation(access, id).await?;
        let Some((flow, version)) = conversation.flow_id.zip(conversation.flow_version) else {
            return Ok(None);
        };
        let Some(found) = self
            .store
            .find_flow_version(access.org_id(), flow, version)
            .await?
        else {
            return Ok(None);
        };
        let document = parley_flow::FlowDocument::parse(&found.document).map_err(|e| {
            AppError::Internal(format!("a published flow does not read: {e}").into())
        })?;
        let mut steps: Vec<String> = vec![document.start.clone()];
        steps.extend(
            document
                .steps
                .keys()
                .filter(|k| **k != document.start)
                .cloned(),
        );
        Ok(Some((found.name, steps)))
    }

    /// Whether the caller takes conversations now: `Some(true)` when available in any of
    /// the organization's queues they are a member of, `None` when they are in none.
    pub async fn my_availability(&self, access: &Access) -> Result<Option<bool>, AppError> {
        let Some(user) = access.principal.user() else {
            return Ok(None);
        };
        let mut seen = None;
        for queue in self.list_queues(access).await? {
            let members = self
                .store
                .list_queue_members(access.org_id(), &queue.key)
                .await?;
            if let Some(me) = members.iter().find(|m| m.user_id == user) {
                seen = Some(seen.unwrap_or(false) || me.available);
            }
        }
        Ok(seen)
    }

    /// Sets whether the caller takes conversations now, in every queue of the organization
    /// they are a member of (auto-assignment gives work only to those available), and
    /// assigns what waits in those queues when they become available. A person sets this
    /// for themselves; it needs no more than reading their own queues. How many queues
    /// it changed.
    pub async fn set_my_availability(
        &self,
        access: &Access,
        available: bool,
    ) -> Result<usize, AppError> {
        access.require(Permission::ConversationsReadOwnQueues)?;
        let Some(user) = access.principal.user() else {
            return Err(AppError::Forbidden("availability is a person's"));
        };
        let org = access.org_id();
        let mut changed = Vec::new();
        for queue in self.list_queues(access).await? {
            let members = self.store.list_queue_members(org, &queue.key).await?;
            if let Some(me) = members.into_iter().find(|m| m.user_id == user) {
                self.store
                    .put_queue_member(QueueMember {
                        available,
                        updated_at: self.clock.now(),
                        ..me
                    })
                    .await?;
                changed.push(queue.key);
            }
        }
        if available {
            for queue in &changed {
                self.auto_assign(org, queue).await?;
            }
        }
        Ok(changed.len())
    }

    /// Removes a member from a queue (conversations they have stay theirs).
    pub async fn delete_queue_member(
        &self,
        access: &Access,
        queue: &str,
        user: UserId,
    ) -> Result<(), AppError> {
        access.require(Permission::Administer)?;
        self.store
            .delete_queue_member(access.org_id(), queue, user)
            .await
            .map_err(|e| match e {
                parley_store::StoreError::NotFound => AppError::NotFound("queue member"),
                other => other.into(),
            })
    }

    /// Whether `user` belongs to `org` or an organization above it.
    pub(crate) async fn is_member_of(&self, org: OrgId, user: UserId) -> Result<bool, AppError> {
        let organization = self.store.get_organization(org).await?;
        for o in std::iter::once(org).chain(organization.ancestors.iter().copied()) {
            if self.store.find_membership(user, o).await?.is_some() {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// Runs [`App::auto_assign`] in the background (a turn's follow-up).
    pub(crate) fn auto_assign_later(&self, org: OrgId, queue: String) {
        let app = self.clone();
        tokio::spawn(async move {
            if let Err(e) = app.auto_assign(org, &queue).await {
                tracing::warn!(queue = %queue, error = %e, "automatic assignment failed");
            }
        });
    }

    /// Gives `queue`'s waiting conversations to its members (see the module's decisions);
    /// how many it gave.
    pub(crate) async fn auto_assign(&self, org: OrgId, queue: &str) -> Result<u32, AppError> {
        let _one_pass = self.runtime.assigning.lock().await;
        let mut members: Vec<QueueMember> = self
            .store
            .list_queue_members(org, queue)
            .await?
            .into_iter()
            .filter(|m| m.available)
            .collect();
        if members.is_empty() {
            return Ok(0);
        }
        let waiting = self.store.waiting_conversations(org, queue, PASS).await?;
        if waiting.is_empty() {
            return Ok(0);
        }
        let mut loads: HashMap<UserId, u32> =
            self.store.assigned_loads(org).await?.into_iter().collect();
        let mut given = 0;
        for conversation in waiting {
            let Some(next) = members
                .iter_mut()
                .filter(|m| loads.get(&m.user_id).copied().unwrap_or(0) < m.capacity)
                .min_by_key(|m| (m.last_assigned_at, m.user_id))
            else {
                break;
            };
            let user = next.user_id;
            if self
                .auto_assign_turn(org, conversation, queue.to_owned(), user)
                .await?
            {
                let now = self.clock.now();
                next.last_assigned_at = Some(now);
                *loads.entry(user).or_insert(0) += 1;
                self.store
                    .mark_member_assigned(org, queue, user, now)
                    .await?;
                given += 1;
            }
        }
        Ok(given)
    }
}
