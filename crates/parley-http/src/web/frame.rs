//! The frame every signed-in page shares: the top bar with the organization switcher (the
//! session's organization and those below it as links, the person's other memberships as
//! switches that move the session there), the sections the person may use
//! (Conversations; Canned replies for supervisors and above; Organizations, People,
//! Integrations, Channels and Queues for administrators; Contacts and Imports for those
//! who see beyond their own queues), and the person's menu (Available / Away,
//! keyboard shortcuts, sign out).

use parley_app::auth::Access;
use parley_domain::{OrgId, Permission};
use parley_store::PageRequest;

use super::pages::PageError;
use super::session::{Session, Viewer, desk_of};
use crate::AppState;

/// A section of the application, for the top bar's navigation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Conversations,
    Replies,
    Organizations,
    People,
    Integrations,
    Channels,
    Contacts,
    Imports,
    Campaigns,
    Flows,
    Queues,
}

impl Section {
    /// The link's name (a contract: tests and screen readers find the link by it).
    const fn name(self) -> &'static str {
        match self {
            Section::Conversations => "Conversations",
            Section::Replies => "Canned replies",
            Section::Organizations => "Organizations",
            Section::People => "People",
            Section::Integrations => "Integrations",
            Section::Channels => "Channels",
            Section::Contacts => "Contacts",
            Section::Imports => "Imports",
            Section::Campaigns => "Campaigns",
            Section::Flows => "Flows",
            Section::Queues => "Queues",
        }
    }

    /// Whether the section is set up once and seldom visited — it sits in the top bar's
    /// Settings menu rather than beside the daily work (the seed's "Settings →
    /// Organizations → … → Integrations").
    const fn in_settings(self) -> bool {
        matches!(
            self,
            Section::Replies
                | Section::Organizations
                | Section::People
                | Section::Integrations
                | Section::Channels
                | Section::Queues
        )
    }

    /// The section's page of `org` (after `/app/{org}/`).
    const fn path(self) -> &'static str {
        match self {
            Section::Conversations => "conversations",
            Section::Replies => "replies",
            Section::Organizations => "organizations",
            Section::People => "people",
            Section::Integrations => "integrations",
            Section::Channels => "channels",
            Section::Contacts => "contacts",
            Section::Imports => "imports",
            Section::Campaigns => "campaigns",
            Section::Flows => "flows",
            Section::Queues => "queues",
        }
    }
}

/// A section's link in the top bar.
pub(crate) struct NavLink {
    pub(crate) name: &'static str,
    pub(crate) href: String,
    pub(crate) current: bool,
}

/// An organization in the switcher.
pub(crate) struct OrgLink {
    pub(crate) name: String,
    pub(crate) href: String,
    pub(crate) depth: usize,
    pub(crate) current: bool,
}

/// What the top bar shows.
pub(crate) struct Frame {
    pub(crate) organization: String,
    pub(crate) user_name: String,
    pub(crate) user_email: String,
    pub(crate) csrf: String,
    pub(crate) organizations: Vec<OrgLink>,
    /// The person's other memberships (outside the session's organization), which a
    /// switch moves the session to: each organization's id and name.
    pub(crate) switches: Vec<(String, String)>,
    /// Where a switch posts.
    pub(crate) switch_href: &'static str,
    /// The desk of this organization.
    pub(crate) desk_href: String,
    /// The daily sections the person may use, in the order the top bar shows them.
    pub(crate) sections: Vec<NavLink>,
    /// The sections in the Settings menu the person may use.
    pub(crate) settings: Vec<NavLink>,
    /// Whether the page is one of the Settings menu's.
    pub(crate) in_settings: bool,
    /// Whether the person takes conversations now (`None`: they are in no queue).
    pub(crate) availability: Option<bool>,
    /// Where the Available / Away switch posts.
    pub(crate) availability_href: String,
    /// This page, for forms that come back to it.
    pub(crate) here: String,
}

impl Frame {
    /// The frame of a page of `org` in `section`; `here` is the page's own address.
    pub(crate) async fn new(
        state: &AppState,
        session: &Session,
        viewer: &Viewer,
        section: Section,
        here: String,
    ) -> Result<Self, PageError> {
        let access = &viewer.access;
        let org = access.org_id();
        let administers = access.require(Permission::Administer).is_ok();
        let manages = access.require(Permission::ConversationsRead).is_ok()
            && access.require(Permission::ConversationsWrite).is_ok();
        let (settings, sections): (Vec<_>, Vec<_>) = [
            (Section::Conversations, true),
            (Section::Contacts, sees_contacts(access)),
            (Section::Imports, sees_contacts(access)),
            (
                Section::Campaigns,
                access.require(Permission::CampaignsRead).is_ok(),
            ),
            (
                Section::Flows,
                access.require(Permission::CampaignsRead).is_ok(),
            ),
            (Section::Replies, manages),
            (Section::Organizations, administers),
            (Section::People, administers),
            (Section::Integrations, administers),
            (Section::Channels, administers),
            (Section::Queues, administers),
        ]
        .into_iter()
        .filter(|(_, allowed)| *allowed)
        .map(|(s, _)| s)
        .partition(|s| s.in_settings());
        let link = |s: Section| NavLink {
            name: s.name(),
            href: format!("/app/{org}/{}", s.path()),
            current: s == section,
        };
        Ok(Self {
            organization: access.organization.name.clone(),
            user_name: viewer
                .user
                .as_ref()
                .map(|u| u.name.clone())
                .unwrap_or_default(),
            user_email: viewer
                .user
                .as_ref()
                .map(|u| u.email.clone())
                .unwrap_or_default(),
            csrf: viewer.csrf.clone(),
            organizations: organizations(state, session, org).await?,
            switches: state
                .app
                .my_memberships(&session.principal)
                .await?
                .into_iter()
                .filter(|o| !o.is_within(session.principal.home))
                .map(|o| (o.id.to_string(), o.name))
                .collect(),
            switch_href: "/app/switch",
            desk_href: desk_of(org),
            sections: sections.into_iter().map(link).collect(),
            settings: settings.into_iter().map(link).collect(),
            in_settings: section.in_settings(),
            availability: state.app.my_availability(access).await?,
            availability_href: format!("/app/{org}/availability"),
            here,
        })
    }
}

/// The organizations the person may switch to: the one their session is for, and those
/// below it, as an indented list.
async fn organizations(
    state: &AppState,
    session: &Session,
    current: OrgId,
) -> Result<Vec<OrgLink>, PageError> {
    let home = state.app.access(session.principal.clone(), None).await?;
    let depth0 = home.organization.ancestors.len();
    let found = state
        .app
        .list_organizations(&home, PageRequest::first(200))
        .await?;
    Ok(found
        .items
        .into_iter()
        .map(|o| OrgLink {
            href: desk_of(o.id),
            depth: o.ancestors.len().saturating_sub(depth0).min(4),
            current: o.id == current,
            name: o.name,
        })
        .collect())
}

/// Whether `access` sees the organization's contacts as a list: it reads contacts and
/// sees beyond its own queues (or changes contacts).
pub(crate) fn sees_contacts(access: &Access) -> bool {
    access.require(Permission::ContactsRead).is_ok()
        && (access.require(Permission::ConversationsRead).is_ok()
            || access.require(Permission::ContactsWrite).is_ok())
}
