//! `/app/{org}/organizations`: the organization and every sub-organization below it, as
//! a tree, for administrators. Each can be edited in place (name, region, **Default
//! country**, time zone, **Date order**, the help text that answers `HELP` on channels
//! without their own, and the contact hours a campaign sends in when it names no window);
//! a sub-organization is added under any of them.
//!
//! A new sub-organization starts with its parent's settings for every field left blank,
//! and the tree says which of each organization's settings are the same as its parent's
//! ("as Parent"), so an operator sees at a glance where a team differs. The settings are
//! copied, not linked: changing a parent later does not change its sub-organizations,
//! as the API has always done. A refused save shows each problem next to its field and in
//! an alert, with what was typed kept, in the form it came from.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::HeaderMap;
use parley_app::AppError;
use parley_app::tenancy::{ContactHoursInput, OrganizationSettings};
use parley_domain::{ContactHours, DateOrder, OrgId, Organization, Permission, TimeZoneName};
use parley_store::PageRequest;

use super::assets::{self, Assets};
use super::frame::{Frame, Section};
use super::pages::{PageError, Posted, Refusal, render};
use super::session::{Session, Viewer, check_form};
use crate::AppState;

/// How many organizations the tree lists.
const MOST: u32 = 500;

/// A form of the page as posted: `action` is `create` (under `id`) or `update` (of `id`);
/// `days` repeats, one per ticked weekday.
#[derive(Debug, Default)]
pub(crate) struct OrganizationForm {
    csrf: String,
    action: String,
    id: String,
    name: String,
    region: String,
    default_country: String,
    timezone: String,
    locale: String,
    help_text: String,
    days: Vec<String>,
    opens: String,
    closes: String,
}

impl OrganizationForm {
    fn from_posted(p: &Posted) -> Self {
        Self {
            csrf: p.text("csrf"),
            action: p.text("action"),
            id: p.text("id"),
            name: p.text("name"),
            region: p.text("region"),
            default_country: p.text("default_country"),
            timezone: p.text("timezone"),
            locale: p.text("locale"),
            help_text: p.text("help_text"),
            days: p.all("days"),
            opens: p.text("opens"),
            closes: p.text("closes"),
        }
    }

    /// The settings it writes. On a new organization a blank field is its parent's, and
    /// so are the contact hours when no day is ticked and no time given; on an edit the
    /// form holds every setting (an emptied help text removes it).
    fn settings(&self) -> OrganizationSettings {
        let given = |v: &str| Some(v.trim().to_owned()).filter(|v| !v.is_empty());
        let creating = self.action == "create";
        let hours_given = !creating
            || !self.days.is_empty()
            || given(&self.opens).or(given(&self.closes)).is_some();
        OrganizationSettings {
            name: if creating {
                given(&self.name)
            } else {
                Some(self.name.clone())
            },
            region: given(&self.region),
            default_country: given(&self.default_country).map(|c| c.to_ascii_uppercase()),
            timezone: given(&self.timezone),
            locale: given(&self.locale),
            help_text: if creating {
                given(&self.help_text)
            } else {
                Some(self.help_text.clone())
            },
            contact_hours: hours_given.then(|| ContactHoursInput {
                days: Some(self.days.clone()),
                opens: given(&self.opens),
                closes: given(&self.closes),
            }),
        }
    }
}

/// The weekdays as the contact-hours boxes show them: (value, label).
const WEEKDAYS: [(&str, &str); 7] = [
    ("mon", "Mon"),
    ("tue", "Tue"),
    ("wed", "Wed"),
    ("thu", "Thu"),
    ("fri", "Fri"),
    ("sat", "Sat"),
    ("sun", "Sun"),
];

/// A setting as the tree shows it.
struct Setting {
    label: &'static str,
    value: String,
    /// Whether it is the same as the parent's.
    inherited: bool,
}

/// One organization in the tree, with its edit form's values.
struct Node {
    id: String,
    name: String,
    depth: usize,
    parent: Option<String>,
    settings: Vec<Setting>,
    form: Values,
    /// The refusal of the form that came from this organization's edit.
    refused: Option<Refusal>,
}

/// A form's values (the stored ones, or what was typed when it was refused).
#[derive(Default)]
struct Values {
    name: String,
    region: String,
    default_country: String,
    timezone: String,
    locale: String,
    help_text: String,
    /// Each weekday: (value, label, ticked).
    days: Vec<(&'static str, &'static str, bool)>,
    opens: String,
    closes: String,
}

pub(crate) fn day_boxes(ticked: &[String]) -> Vec<(&'static str, &'static str, bool)> {
    WEEKDAYS
        .iter()
        .map(|(value, label)| (*value, *label, ticked.iter().any(|t| t == value)))
        .collect()
}

impl Values {
    fn of(o: &Organization) -> Self {
        Self {
            name: o.name.clone(),
            region: o.region.clone(),
            default_country: o.default_country.to_string(),
            timezone: o.timezone.as_str().to_owned(),
            locale: o.locale.as_str().to_owned(),
            help_text: o.help_text.clone().unwrap_or_default(),
            days: day_boxes(&o.contact_hours.days),
            opens: o.contact_hours.opens.clone(),
            closes: o.contact_hours.closes.clone(),
        }
    }

    fn typed(f: &OrganizationForm) -> Self {
        Self {
            name: f.name.clone(),
            region: f.region.clone(),
            default_country: f.default_country.clone(),
            timezone: f.timezone.clone(),
            locale: f.locale.clone(),
            help_text: f.help_text.clone(),
            days: day_boxes(&f.days),
            opens: f.opens.clone(),
            closes: f.closes.clone(),
        }
    }
}

/// The page.
#[derive(Template)]
#[template(path = "app/organizations.html")]
struct OrganizationsPage {
    asset: Assets,
    frame: Frame,
    action_href: String,
    nodes: Vec<Node>,
    zones: Vec<&'static str>,
    orders: Vec<(&'static str, &'static str)>,
    /// The add form: its parent, values and refusal.
    new_parent: String,
    new: Values,
    new_refused: Option<Refusal>,
}

/// `GET /app/{org}/organizations`.
pub(crate) async fn page(
    State(state): State<AppState>,
    session: Session,
    Path(org): Path<OrgId>,
) -> Result<Response, PageError> {
    show(&state, &session, org, None).await
}

/// `POST /app/{org}/organizations`.
pub(crate) async fn act(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path(org): Path<OrgId>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let form = OrganizationForm::from_posted(&Posted::new(pairs));
    check_form(&state, &headers, Some(&session), &form.csrf)?;
    let viewer = Viewer::on(&state, &session, org).await?;
    let app = &state.app;
    let done: Result<(), AppError> = async {
        let id: OrgId = form
            .id
            .parse()
            .map_err(|_| AppError::NotFound("organization"))?;
        // The organization acted on must be this page's or one below it.
        app.get_organization(&viewer.access, id).await?;
        match form.action.as_str() {
            "create" => {
                let under = Viewer::on(&state, &session, id)
                    .await
                    .map_err(|_| AppError::NotFound("organization"))?;
                app.create_organization(&under.access, &form.settings())
                    .await
                    .map(drop)
            }
            "update" => app
                .update_organization(&viewer.access, id, &form.settings())
                .await
                .map(drop),
            _ => Err(AppError::invalid("action", "is not one this page knows")),
        }
    }
    .await;
    match done {
        Ok(()) => Ok(Redirect::to(&format!("/app/{org}/organizations")).into_response()),
        Err(e) => {
            let refusal = Refusal::of(&e.into());
            show(&state, &session, org, Some((form, refusal))).await
        }
    }
}

async fn show(
    state: &AppState,
    session: &Session,
    org: OrgId,
    refused: Option<(OrganizationForm, Refusal)>,
) -> Result<Response, PageError> {
    let viewer = Viewer::on(state, session, org).await?;
    let access = &viewer.access;
    // Anyone may list the organizations they belong to (the switcher does); this page
    // and its settings are an administrator's.
    access.require(Permission::Administer)?;
    let found = state
        .app
        .list_organizations(access, PageRequest::first(MOST))
        .await?
        .items;
    let status = refused
        .as_ref()
        .map_or(http::StatusCode::OK, |(_, r)| r.status);
    let (mut edit_refused, mut new_refused) = (None, None);
    if let Some((form, refusal)) = refused {
        if form.action == "update" {
            edit_refused = Some((form, refusal));
        } else {
            new_refused = Some((form, refusal));
        }
    }
    let mut nodes = Vec::new();
    for o in tree_order(&found, org) {
        let parent = o.parent_id.and_then(|p| found.iter().find(|f| f.id == p));
        let mut node = Node {
            id: o.id.to_string(),
            name: o.name.clone(),
            depth: o
                .ancestors
                .len()
                .saturating_sub(access.organization.ancestors.len())
                .min(4),
            parent: parent.map(|p| p.name.clone()),
            settings: settings(o, parent),
            form: Values::of(o),
            refused: None,
        };
        if let Some((form, _)) = &edit_refused
            && form.id == node.id
            && let Some((form, refusal)) = edit_refused.take()
        {
            node.form = Values::typed(&form);
            node.refused = Some(refusal);
        }
        nodes.push(node);
    }
    let (new_parent, new, new_refused) = match new_refused {
        Some((form, refusal)) => (form.id.clone(), Values::typed(&form), Some(refusal)),
        None => (
            org.to_string(),
            Values {
                days: day_boxes(&[]),
                ..Values::default()
            },
            None,
        ),
    };
    let page = OrganizationsPage {
        asset: assets::urls(),
        frame: Frame::new(
            state,
            session,
            &viewer,
            Section::Organizations,
            format!("/app/{org}/organizations"),
        )
        .await?,
        action_href: format!("/app/{org}/organizations"),
        nodes,
        zones: TimeZoneName::offered().collect(),
        orders: vec![
            (DateOrder::Dmy.as_str(), "Day first (31/12/2026)"),
            (DateOrder::Mdy.as_str(), "Month first (12/31/2026)"),
        ],
        new_parent,
        new,
        new_refused,
    };
    Ok(render(status, &page))
}

/// `found` in tree order from `top`: each organization followed by those below it, by
/// name at each level.
fn tree_order(found: &[Organization], top: OrgId) -> Vec<&Organization> {
    fn visit<'a>(found: &'a [Organization], id: OrgId, out: &mut Vec<&'a Organization>) {
        let Some(me) = found.iter().find(|o| o.id == id) else {
            return;
        };
        out.push(me);
        let mut children: Vec<&Organization> =
            found.iter().filter(|o| o.parent_id == Some(id)).collect();
        children.sort_by_key(|o| o.name.to_lowercase());
        for c in children {
            visit(found, c.id, out);
        }
    }
    let mut out = Vec::with_capacity(found.len());
    visit(found, top, &mut out);
    out
}

/// An organization's settings for the tree, each marked when its parent's is the same.
fn settings(o: &Organization, parent: Option<&Organization>) -> Vec<Setting> {
    let date_order = |d: DateOrder| match d {
        DateOrder::Dmy => "day first",
        DateOrder::Mdy => "month first",
    };
    let same = |f: &dyn Fn(&Organization) -> String| parent.is_some_and(|p| f(p) == f(o));
    vec![
        Setting {
            label: "Country",
            value: o.default_country.to_string(),
            inherited: same(&|x| x.default_country.to_string()),
        },
        Setting {
            label: "Time zone",
            value: o.timezone.as_str().to_owned(),
            inherited: same(&|x| x.timezone.as_str().to_owned()),
        },
        Setting {
            label: "Dates",
            value: date_order(o.locale).to_owned(),
            inherited: same(&|x| x.locale.as_str().to_owned()),
        },
        Setting {
            label: "Region",
            value: o.region.clone(),
            inherited: same(&|x| x.region.clone()),
        },
        Setting {
            label: "Contact hours",
            value: hours_words(&o.contact_hours),
            inherited: same(&|x| hours_words(&x.contact_hours)),
        },
        Setting {
            label: "Help text",
            value: o
                .help_text
                .clone()
                .unwrap_or_else(|| "Parley's own".to_owned()),
            inherited: same(&|x| x.help_text.clone().unwrap_or_default()),
        },
    ]
}

/// Contact hours in a few words: "Mon–Fri 09:00–17:30", "Every day 08:00–21:00".
pub(crate) fn hours_words(h: &ContactHours) -> String {
    let every = WEEKDAYS.iter().all(|(d, _)| h.days.iter().any(|x| x == d));
    let weekdays = WEEKDAYS[..5]
        .iter()
        .all(|(d, _)| h.days.iter().any(|x| x == d))
        && h.days.len() == 5;
    let days = if every {
        "Every day".to_owned()
    } else if weekdays {
        "Mon–Fri".to_owned()
    } else {
        WEEKDAYS
            .iter()
            .filter(|(d, _)| h.days.iter().any(|x| x == d))
            .map(|(_, label)| *label)
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!("{days} {}–{}", h.opens, h.closes)
}
