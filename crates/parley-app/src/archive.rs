//! Archiving flows, channels and campaigns: what is no longer used leaves the lists and
//! cannot be chosen again, while everything that refers to it (conversations, messages,
//! recipients, published flow versions) stays as it was. Nothing of the kind is deleted.
//!
//! Decisions:
//! * a **flow** is archived only when no channel answers with it and no campaign under
//!   way (scheduled, running or paused) runs it; its conversations carry on with the
//!   version they started with;
//! * a **channel** is archived only when no campaign under way sends through it, and is
//!   disabled with it (nothing is sent or received on it); restoring it leaves it
//!   disabled until someone enables it;
//! * a **campaign** is archived only when it is a draft, completed or cancelled;
//! * archived ones are read by id as before (`archived_at` says when), listed with
//!   `archived=true`, and refused where a new use would name them (a new campaign's flow
//!   or channel, a channel's inbound flow); both moves are audited.

use parley_domain::{AuditAction, CampaignStatus, Permission};
use parley_store::{Archivable, PageRequest};

use crate::auth::Access;
use crate::{App, AppError, Conflict};

/// The campaign statuses that count as under way.
const UNDER_WAY: [CampaignStatus; 3] = [
    CampaignStatus::Scheduled,
    CampaignStatus::Running,
    CampaignStatus::Paused,
];

impl App {
    /// Archives (`archive`) or restores `what`, as the caller (see the module's decisions).
    pub async fn set_archived(
        &self,
        access: &Access,
        what: Archivable,
        archive: bool,
    ) -> Result<(), AppError> {
        let org = access.org_id();
        match what {
            Archivable::Channel(_) => access.require(Permission::Administer)?,
            Archivable::Flow(_) | Archivable::Campaign(_) => {
                access.require(Permission::CampaignsWrite)?;
            }
        }
        let exists = match what {
            Archivable::Flow(id) => self.store.find_flow(org, id).await?.is_some(),
            Archivable::Channel(id) => self.store.find_channel(org, id).await?.is_some(),
            Archivable::Campaign(id) => self.store.get_campaign(org, id).await?.is_some(),
        };
        if !exists {
            return Err(AppError::NotFound(what.kind()));
        }
        if archive {
            self.check_unused(access, what).await?;
        }
        let now = self.clock.now();
        let changed = self
            .store
            .set_archived(org, what, archive.then_some(now))
            .await?;
        if !changed {
            // It exists (checked above): only a campaign under way is refused here.
            return Err(AppError::Conflict(Conflict::CAMPAIGN_UNDER_WAY));
        }
        let action = if archive {
            AuditAction::Archived
        } else {
            AuditAction::Unarchived
        };
        let entry = self.audit(
            Some(org),
            &access.principal.actor(),
            action,
            &what.id(),
            serde_json::json!({ "kind": what.kind() }),
        );
        self.store.append_audit(entry).await?;
        Ok(())
    }

    /// Refuses to archive a flow or channel something under way still uses. (A campaign
    /// under way is refused by the store's own update, in the same statement.)
    async fn check_unused(&self, access: &Access, what: Archivable) -> Result<(), AppError> {
        if let Archivable::Campaign(_) = what {
            return Ok(());
        }
        let org = access.org_id();
        let campaigns = self.all_campaigns(access).await?;
        let running = |uses: &dyn Fn(&parley_domain::Campaign) -> bool| {
            campaigns
                .iter()
                .any(|c| UNDER_WAY.contains(&c.status) && uses(c))
        };
        match what {
            Archivable::Campaign(_) => {}
            Archivable::Channel(id) => {
                if running(&|c| c.channel_id == id) {
                    return Err(AppError::Conflict(Conflict::CHANNEL_IN_USE));
                }
            }
            Archivable::Flow(id) => {
                if running(&|c| c.flow_id == id) {
                    return Err(AppError::Conflict(Conflict::FLOW_IN_USE));
                }
                let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
                loop {
                    let channels = self.store.list_channels(org, false, page).await?;
                    if channels.items.iter().any(|c| c.inbound_flow == Some(id)) {
                        return Err(AppError::Conflict(Conflict::FLOW_IN_USE));
                    }
                    match channels.next_cursor {
                        Some(after) => page = PageRequest::after(after, PageRequest::MAX_LIMIT),
                        None => break,
                    }
                }
            }
        }
        Ok(())
    }

    /// Every campaign of the caller's organization that is not archived.
    async fn all_campaigns(
        &self,
        access: &Access,
    ) -> Result<Vec<parley_domain::Campaign>, AppError> {
        let mut all = Vec::new();
        let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
        loop {
            let found = self
                .store
                .list_campaigns(access.org_id(), false, page)
                .await?;
            all.extend(found.items);
            match found.next_cursor {
                Some(after) => page = PageRequest::after(after, PageRequest::MAX_LIMIT),
                None => return Ok(all),
            }
        }
    }
}
