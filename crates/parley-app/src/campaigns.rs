//! Campaigns as people manage them (SPEC §6; permissions `campaigns:read` and
//! `campaigns:write`): create, schedule, start, pause, resume, cancel, read with live
//! counters, list recipients. Sending is the dispatcher's ([`dispatch`], ADR 0008).
//!
//! Decisions:
//! * **Audience**: `{"import_id": …}` (a completed import of the organization: every
//!   contact its rows created, updated or found unchanged) or `{"filter": {"fields":
//!   {key: value}}}` (contacts whose fields equal these values, read by each field's type
//!   as the contact list reads them; an empty filter is every contact). The recipients
//!   are written when the campaign first runs, in the audience's order.
//! * **Flow**: a flow of the organization; its latest published version unless
//!   `flow_version` names another published one. The version is fixed at creation.
//! * **Channel**: an enabled channel of the organization that sends first messages
//!   (not web chat: a visitor cannot be written to before they open the page).
//! * **Window**: days and hours in each contact's local time, default every day
//!   08:00–21:00; `start_at` (default: when started) and an optional `end_at`, after
//!   which recipients still waiting are skipped with `window_expired`.
//! * **Rate**: first messages per second, 1 to 10,000, default the channel's rate; the
//!   channel's own rate still paces every send.
//! * **Moves**: `schedule` (draft → scheduled; needs a `start_at`), `start` (draft or
//!   scheduled → running now), `pause` (scheduled or running → paused), `resume` (paused
//!   → running, or scheduled while its `start_at` is ahead), `cancel` (→ cancelled: the
//!   pending recipients are skipped with `cancelled`). A move the status does not allow
//!   is a 409 naming `campaign_status`.
//! * **Counters** are read from the recipients and their messages and conversations in two
//!   reads kept apart (`recent`): the state counters at most a tenth of a second old, the
//!   others at most about two seconds, both exact once the campaign changes; so many
//!   people watching a big campaign cost a few cheap counts a second and what they see
//!   is well within a second behind (the page re-reads every fifth of a second).

pub mod dispatch;
mod recent;

use chrono::{DateTime, Utc};
use parley_campaign::SendWindow;
use parley_domain::{
    AuditAction, Campaign, CampaignId, CampaignStatus, ChannelId, FlowId, ImportId, ImportStatus,
    Permission, Provider, Recipient, RecipientState,
};
use parley_store::{CampaignCounts, Page, PageRequest};
use serde_json::{Map, Value, json};

use crate::auth::Access;
use crate::contacts::{canonical_filter, value_context};
use crate::error::StoreResultExt;
use crate::{App, AppError, Conflict, FieldError};

const CAMPAIGN: &str = "campaign";
/// The highest rate a campaign may be given.
pub const MAX_RATE_PER_SECOND: u32 = 10_000;

/// Who a campaign is for, as the API gives it.
#[derive(Debug, Clone, PartialEq)]
pub enum AudienceInput {
    /// The contacts of an import.
    Import(ImportId),
    /// Contacts whose fields equal these values (as text, read by each field's type).
    Filter(Vec<(String, String)>),
}

/// When a campaign sends, as the API gives it; a part left out is the organization's
/// contact hours'.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WindowInput {
    /// Weekday names.
    pub days: Option<Vec<String>>,
    /// `HH:MM`.
    pub opens: Option<String>,
    /// `HH:MM` (or `24:00`).
    pub closes: Option<String>,
}

/// A campaign to create.
#[derive(Debug, Clone)]
pub struct NewCampaign {
    /// A name people recognise.
    pub name: String,
    /// Who it is for.
    pub audience: AudienceInput,
    /// The flow.
    pub flow_id: FlowId,
    /// Its version (default: the latest published).
    pub flow_version: Option<u32>,
    /// The channel.
    pub channel_id: ChannelId,
    /// When it may start.
    pub start_at: Option<DateTime<Utc>>,
    /// When it stops.
    pub end_at: Option<DateTime<Utc>>,
    /// When it sends.
    pub window: WindowInput,
    /// First messages a second (default: the channel's rate).
    pub rate_per_second: Option<u32>,
}

/// A campaign with its counters.
#[derive(Debug, Clone)]
pub struct CampaignView {
    /// The campaign.
    pub campaign: Campaign,
    /// Its counters as they stand (see `recent` for how old each may be).
    pub counts: CampaignCounts,
}

/// How a person moves a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    /// draft → scheduled.
    Schedule,
    /// draft or scheduled → running.
    Start,
    /// scheduled or running → paused.
    Pause,
    /// paused → running (or scheduled before its start).
    Resume,
    /// → cancelled.
    Cancel,
}

pub(crate) use recent::RecentCounts;

/// The contact filter a stored filter audience (`{"filter": {"fields": {…}}}`) holds.
pub(crate) fn audience_filter(audience: &Value) -> Result<parley_store::ContactFilter, AppError> {
    let mut filter = parley_store::ContactFilter::default();
    if let Some(fields) = audience["filter"]["fields"].as_object() {
        for (key, value) in fields {
            let key = key
                .parse()
                .map_err(|_| AppError::Internal("a campaign's filter key".into()))?;
            filter.fields.push((key, value.clone()));
        }
    }
    Ok(filter)
}

/// The window a stored campaign holds.
pub(crate) fn stored_window(campaign: &Campaign) -> Result<SendWindow, AppError> {
    let w = &campaign.window;
    let days: Vec<&str> = w["days"]
        .as_array()
        .map(|d| d.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    SendWindow::parse(
        &days,
        w["opens"].as_str().unwrap_or_default(),
        w["closes"].as_str().unwrap_or_default(),
    )
    .map_err(|e| AppError::Internal(format!("a stored campaign window: {e}").into()))
}

/// The window a campaign asks for; each part it leaves out is the organization's contact
/// hours'.
fn check_window(
    input: &WindowInput,
    hours: &parley_domain::ContactHours,
) -> Result<Value, Vec<FieldError>> {
    let days: Vec<String> = input.days.clone().unwrap_or_else(|| hours.days.clone());
    let opens = input.opens.clone().unwrap_or_else(|| hours.opens.clone());
    let closes = input.closes.clone().unwrap_or_else(|| hours.closes.clone());
    let refs: Vec<&str> = days.iter().map(String::as_str).collect();
    SendWindow::check(&refs, &opens, &closes).map_err(|errors| {
        errors
            .into_iter()
            .map(|e| FieldError::new(format!("window.{}", e.field), e.reason))
            .collect::<Vec<_>>()
    })?;
    Ok(json!({"days": days, "opens": opens, "closes": closes}))
}

impl App {
    /// Checks the audience and gives its stored form.
    async fn check_audience(
        &self,
        access: &Access,
        audience: &AudienceInput,
    ) -> Result<Value, Vec<FieldError>> {
        let one = |field: &str, why: &str| vec![FieldError::new(field, why)];
        match audience {
            AudienceInput::Import(id) => {
                let import = self
                    .store
                    .get_import(access.org_id(), *id)
                    .await
                    .map_err(|_| one("audience.import_id", "could not be read"))?;
                match import {
                    Some(i) if i.status == ImportStatus::Completed => {
                        Ok(json!({"import_id": id.to_string()}))
                    }
                    Some(_) => Err(one("audience.import_id", "the import has not completed")),
                    None => Err(one(
                        "audience.import_id",
                        "no import of this organization has this id",
                    )),
                }
            }
            AudienceInput::Filter(fields) => {
                let mut known = parley_domain::FieldDefinition::builtins(access.org_id());
                known.extend(
                    self.store
                        .list_fields(access.org_id())
                        .await
                        .map_err(|_| one("audience.filter", "could not be read"))?,
                );
                let mut ctx = value_context(&access.organization);
                let values = canonical_filter(&known, &mut ctx, fields, "audience.filter.fields.")?;
                let out: Map<String, Value> = values
                    .into_iter()
                    .map(|(key, value)| (key.as_str().to_owned(), value))
                    .collect();
                Ok(json!({"filter": {"fields": out}}))
            }
        }
    }

    /// How many contacts `audience` holds now, as it is being chosen: an import's
    /// contacts (those its rows created, updated or found unchanged) or the contacts whose
    /// fields equal the filter's values. A bad audience is refused as creating the
    /// campaign would refuse it.
    pub async fn count_audience(
        &self,
        access: &Access,
        audience: &AudienceInput,
    ) -> Result<u64, AppError> {
        access.require(Permission::CampaignsWrite)?;
        let stored = self
            .check_audience(access, audience)
            .await
            .map_err(AppError::Invalid)?;
        match audience {
            AudienceInput::Import(id) => Ok(self
                .store
                .get_import(access.org_id(), *id)
                .await?
                .map_or(0, |i| i.counters.rows_imported)),
            AudienceInput::Filter(_) => Ok(self
                .store
                .count_contacts(access.org_id(), &audience_filter(&stored)?)
                .await?),
        }
    }

    /// The channels a new campaign may send on: the organization's enabled ones that
    /// write to people first (not web chat), for those who create campaigns.
    pub async fn campaign_channels(
        &self,
        access: &Access,
    ) -> Result<Vec<parley_domain::Channel>, AppError> {
        access.require(Permission::CampaignsWrite)?;
        let mut out = Vec::new();
        let mut page = PageRequest::first(PageRequest::MAX_LIMIT);
        loop {
            let found = self
                .store
                .list_channels(access.org_id(), false, page)
                .await?;
            out.extend(
                found
                    .items
                    .into_iter()
                    .filter(|c| c.enabled && c.provider != Provider::Webchat),
            );
            match found.next_cursor {
                Some(after) => page = PageRequest::after(after, PageRequest::MAX_LIMIT),
                None => return Ok(out),
            }
        }
    }

    /// Creates a campaign, as a draft.
    pub async fn create_campaign(
        &self,
        access: &Access,
        new: NewCampaign,
    ) -> Result<CampaignView, AppError> {
        access.require(Permission::CampaignsWrite)?;
        let org = access.org_id();
        let mut errors = Vec::new();
        let name = new.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 200 {
            errors.push(FieldError::new("name", "must be 1 to 200 characters"));
        }
        let audience = self
            .check_audience(access, &new.audience)
            .await
            .map_err(|list| errors.extend(list))
            .ok();
        let flow = self.store.find_flow(org, new.flow_id).await?;
        let version = match (&flow, new.flow_version) {
            (None, _) => {
                errors.push(FieldError::new(
                    "flow_id",
                    "no flow of this organization has this id",
                ));
                None
            }
            (Some(f), _) if f.archived_at.is_some() => {
                errors.push(FieldError::new(
                    "flow_id",
                    "the flow is archived; restore it or choose another",
                ));
                None
            }
            (Some(f), None) => f.latest_version.or_else(|| {
                errors.push(FieldError::new(
                    "flow_id",
                    "the flow has no published version",
                ));
                None
            }),
            (Some(f), Some(v)) => {
                let published = self.store.find_flow_version(org, f.id, v).await?.is_some();
                if !published {
                    errors.push(FieldError::new(
                        "flow_version",
                        "the flow has no such published version",
                    ));
                }
                published.then_some(v)
            }
        };
        let channel = self.store.find_channel(org, new.channel_id).await?;
        match &channel {
            None => errors.push(FieldError::new(
                "channel_id",
                "no channel of this organization has this id",
            )),
            Some(c) if c.provider == Provider::Webchat => errors.push(FieldError::new(
                "channel_id",
                "a web chat channel cannot write to people first",
            )),
            Some(c) if c.archived_at.is_some() => errors.push(FieldError::new(
                "channel_id",
                "the channel is archived; restore and enable it, or choose another",
            )),
            Some(c) if !c.enabled => {
                errors.push(FieldError::new("channel_id", "the channel is disabled"));
            }
            Some(_) => {}
        }
        let window = check_window(&new.window, &access.organization.contact_hours)
            .map_err(|list| errors.extend(list))
            .ok();
        let rate = new
            .rate_per_second
            .or(channel.as_ref().map(|c| c.rate_per_second))
            .unwrap_or(1);
        if !(1..=MAX_RATE_PER_SECOND).contains(&rate) {
            errors.push(FieldError::new(
                "rate_per_second",
                format!("must be from 1 to {MAX_RATE_PER_SECOND}"),
            ));
        }
        if let (Some(start), Some(end)) = (new.start_at, new.end_at)
            && end <= start
        {
            errors.push(FieldError::new("end_at", "must be after start_at"));
        }
        let now = self.clock.now();
        if new.end_at.is_some_and(|end| end <= now) {
            errors.push(FieldError::new("end_at", "must be in the future"));
        }
        if !errors.is_empty() {
            return Err(AppError::Invalid(errors));
        }
        let (Some(audience), Some(version), Some(window)) = (audience, version, window) else {
            return Err(AppError::Internal("a checked campaign lost a part".into()));
        };
        let id = CampaignId::generate();
        let campaign = Campaign {
            id,
            organization_id: org,
            name,
            audience,
            flow_id: new.flow_id,
            flow_version: version,
            channel_id: new.channel_id,
            start_at: new.start_at,
            end_at: new.end_at,
            window,
            rate_per_second: rate,
            status: CampaignStatus::Draft,
            recipients_total: 0,
            audience_done: false,
            audience_cursor: None,
            created_at: now,
            updated_at: now,
            revision: 1,
            archived_at: None,
        };
        let entry = self.audit(
            Some(org),
            &access.principal.actor(),
            AuditAction::CampaignCreated,
            &id.to_string(),
            json!({"name": campaign.name, "audience": campaign.audience,
                   "flow_id": campaign.flow_id.to_string(), "flow_version": version,
                   "channel_id": campaign.channel_id.to_string()}),
        );
        let stored = self.store.create_campaign(campaign, entry).await?;
        Ok(CampaignView {
            campaign: stored,
            counts: CampaignCounts::default(),
        })
    }

    /// A campaign of the acting organization, without counters.
    async fn campaign_of(&self, access: &Access, id: CampaignId) -> Result<Campaign, AppError> {
        self.store
            .get_campaign(access.org_id(), id)
            .await?
            .ok_or(AppError::NotFound(CAMPAIGN))
    }

    /// A campaign's counters as pages follow it (see [`recent`]).
    async fn counts_of(&self, campaign: &Campaign) -> Result<CampaignCounts, AppError> {
        self.campaign_counts.of(&self.store, campaign).await
    }

    /// One campaign with its counters.
    pub async fn get_campaign(
        &self,
        access: &Access,
        id: CampaignId,
    ) -> Result<CampaignView, AppError> {
        access.require(Permission::CampaignsRead)?;
        let campaign = self.campaign_of(access, id).await?;
        let counts = self.counts_of(&campaign).await?;
        Ok(CampaignView { campaign, counts })
    }

    /// The organization's campaigns (without counters).
    pub async fn list_campaigns(
        &self,
        access: &Access,
        archived: bool,
        page: PageRequest,
    ) -> Result<Page<Campaign>, AppError> {
        access.require(Permission::CampaignsRead)?;
        Ok(self
            .store
            .list_campaigns(access.org_id(), archived, page)
            .await?)
    }

    /// A campaign's recipients in order, optionally in one state. The cursor is a
    /// recipient's place (`seq`).
    pub async fn list_recipients(
        &self,
        access: &Access,
        id: CampaignId,
        state: Option<RecipientState>,
        page: PageRequest,
    ) -> Result<Page<Recipient>, AppError> {
        access.require(Permission::CampaignsRead)?;
        if page
            .after
            .as_deref()
            .is_some_and(|a| a.parse::<u64>().is_err())
        {
            return Err(AppError::invalid("cursor", "is not a cursor of this list"));
        }
        self.store
            .list_recipients(access.org_id(), id, state, page)
            .await
            .or_not_found(CAMPAIGN)
    }

    /// Moves a campaign as a person asked (see the module's documentation).
    pub async fn move_campaign(
        &self,
        access: &Access,
        id: CampaignId,
        how: Move,
    ) -> Result<CampaignView, AppError> {
        access.require(Permission::CampaignsWrite)?;
        let current = self.campaign_of(access, id).await?;
        let now = self.clock.now();
        let ahead = current.start_at.is_some_and(|s| s > now);
        let next = match how {
            Move::Schedule if current.start_at.is_none() => {
                return Err(AppError::invalid(
                    "start_at",
                    "a campaign is scheduled for its start_at, and this one has none",
                ));
            }
            Move::Schedule => CampaignStatus::Scheduled,
            Move::Start => {
                if current.status == CampaignStatus::Paused {
                    return Err(AppError::Conflict(Conflict::CAMPAIGN_STATUS));
                }
                CampaignStatus::Running
            }
            Move::Pause => CampaignStatus::Paused,
            Move::Resume => {
                if current.status != CampaignStatus::Paused {
                    return Err(AppError::Conflict(Conflict::CAMPAIGN_STATUS));
                }
                if ahead {
                    CampaignStatus::Scheduled
                } else {
                    CampaignStatus::Running
                }
            }
            Move::Cancel => CampaignStatus::Cancelled,
        };
        let entry = self.audit(
            Some(access.org_id()),
            &access.principal.actor(),
            AuditAction::CampaignStatusChanged,
            &id.to_string(),
            json!({"from": current.status.as_str(), "to": next.as_str()}),
        );
        let moved = self
            .store
            .move_campaign(access.org_id(), id, next, now, entry)
            .await
            .or_not_found(CAMPAIGN)?;
        if next == CampaignStatus::Cancelled {
            self.skip_cancelled(&moved).await?;
        }
        self.wake_dispatcher();
        let counts = self
            .store
            .campaign_counts(moved.organization_id, moved.id)
            .await?;
        Ok(CampaignView {
            campaign: moved,
            counts,
        })
    }
}
