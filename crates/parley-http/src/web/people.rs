//! `/app/{org}/people`: who works in the organization and what may act for it, for
//! administrators. Members with their roles (change a role, remove a member); invitations
//! (**Invite** an email with a role: the one-time link is shown once, with a copy button,
//! to pass on; pending ones can be withdrawn); API keys (create one with a subset of the
//! creator's own permissions: the secret is shown once with a copy button; revoke).
//!
//! People join by invitation rather than by an administrator creating an account with a
//! password: the invited person chooses their own password when they accept (or proves
//! the one of the account they already have), so no administrator ever knows anyone's
//! password, and inviting answers the same whether or not the email has an account. The
//! link is the "one-time password shown once" of other tools, without its risks.
//!
//! A member whose role is above the viewer's own is listed without controls, and the role
//! choices are the roles the viewer may grant; the use cases refuse anything else anyway.

use askama::Template;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::HeaderMap;
use parley_app::AppError;
use parley_app::tenancy::CreateApiKey;
use parley_domain::{
    ApiKeyId, InvitationId, InvitationState, OrgId, Permission, PermissionSet, Role, UserId,
};
use parley_store::PageRequest;

use super::assets::{self, Assets};
use super::frame::{Frame, Section};
use super::pages::{PageError, Posted, Refusal, render};
use super::session::{Session, Viewer, check_form};
use crate::AppState;

/// A form of the page as posted: `action` is `role`, `remove`, `invite`,
/// `revoke-invitation`, `create-key` or `revoke-key`; `permissions` repeats.
#[derive(Debug, Default)]
pub(crate) struct PeopleForm {
    csrf: String,
    action: String,
    id: String,
    role: String,
    email: String,
    name: String,
    permissions: Vec<String>,
}

impl PeopleForm {
    fn from_posted(p: &Posted) -> Self {
        Self {
            csrf: p.text("csrf"),
            action: p.text("action"),
            id: p.text("id"),
            role: p.text("role"),
            email: p.text("email"),
            name: p.text("name"),
            permissions: p.all("permissions"),
        }
    }
}

/// A permission as people read it, with its API name.
pub(crate) fn permission_words(p: Permission) -> (&'static str, &'static str) {
    match p {
        Permission::ConversationsRead => ("conversations:read", "Read every conversation"),
        Permission::ConversationsReadOwnQueues => (
            "conversations:read_own_queues",
            "Read conversations of their queues",
        ),
        Permission::ConversationsWrite => ("conversations:write", "Work conversations"),
        Permission::ContactsRead => ("contacts:read", "Read contacts"),
        Permission::ContactsWrite => ("contacts:write", "Change contacts and import"),
        Permission::CampaignsRead => ("campaigns:read", "Read campaigns"),
        Permission::CampaignsWrite => ("campaigns:write", "Run campaigns"),
        Permission::Administer => ("admin", "Administer the organization"),
        Permission::Retention => ("retention", "Erase and set retention"),
    }
}

struct MemberRow {
    id: String,
    name: String,
    email: String,
    role: &'static str,
    me: bool,
    /// The roles the viewer may set for them, and whether each is theirs; empty when
    /// their role is above the viewer's.
    choices: Vec<(&'static str, bool)>,
}

struct InvitationRow {
    id: String,
    email: String,
    role: &'static str,
    expires: String,
}

struct KeyRow {
    id: String,
    name: String,
    permissions: String,
    created: String,
    revoked: Option<String>,
}

struct PermissionBox {
    wire: &'static str,
    words: &'static str,
    checked: bool,
}

/// Something shown once: its heading, what it is for, the value, and how to use it.
struct Once {
    title: &'static str,
    about: String,
    value: String,
    hint: &'static str,
}

/// The page.
#[derive(Template)]
#[template(path = "app/people.html")]
struct PeoplePage {
    asset: Assets,
    frame: Frame,
    action_href: String,
    audit_href: String,
    members: Vec<MemberRow>,
    invitations: Vec<InvitationRow>,
    keys: Vec<KeyRow>,
    grantable: Vec<&'static str>,
    boxes: Vec<PermissionBox>,
    once: Option<Once>,
    /// The refused form and why, by the panel it came from (`members`, `invite`, `keys`).
    draft: PeopleForm,
    refused: Option<(&'static str, Refusal)>,
}

enum Outcome {
    None,
    Shown(Once),
    Refused(PeopleForm, Refusal),
}

/// `GET /app/{org}/people`.
pub(crate) async fn page(
    State(state): State<AppState>,
    session: Session,
    Path(org): Path<OrgId>,
) -> Result<Response, PageError> {
    show(&state, &session, org, Outcome::None).await
}

/// `POST /app/{org}/people`.
pub(crate) async fn act(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path(org): Path<OrgId>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let form = PeopleForm::from_posted(&Posted::new(pairs));
    check_form(&state, &headers, Some(&session), &form.csrf)?;
    let viewer = Viewer::on(&state, &session, org).await?;
    let (app, access) = (&state.app, &viewer.access);
    let role = || {
        form.role
            .parse::<Role>()
            .map_err(|e| AppError::invalid("role", format!("must be {}", e.expected)))
    };
    let done: Result<Option<Once>, AppError> = async {
        match form.action.as_str() {
            "role" => {
                let user: UserId = form.id.parse().map_err(|_| AppError::NotFound("member"))?;
                app.change_role(access, user, role()?).await?;
            }
            "remove" => {
                let user: UserId = form.id.parse().map_err(|_| AppError::NotFound("member"))?;
                app.remove_member(access, user).await?;
            }
            "invite" => {
                let created = app.invite(access, &form.email, role()?).await?;
                return Ok(Some(Once {
                    title: "Invitation link",
                    about: format!(
                        "For {} as {}. It works once, for seven days.",
                        created.invitation.email,
                        created.invitation.role.as_str()
                    ),
                    value: created.accept_url,
                    hint: "Send it to them yourself: with it they choose their own password, or sign in with the one they have if they already use Parley.",
                }));
            }
            "revoke-invitation" => {
                let id: InvitationId =
                    form.id.parse().map_err(|_| AppError::NotFound("invitation"))?;
                app.revoke_invitation(access, id).await?;
            }
            "create-key" => {
                let mut permissions = Vec::new();
                for wire in &form.permissions {
                    let p = Permission::ALL
                        .into_iter()
                        .find(|p| permission_words(*p).0 == wire)
                        .ok_or_else(|| {
                            AppError::invalid("permissions", "names a permission Parley has not")
                        })?;
                    permissions.push(p);
                }
                if permissions.is_empty() {
                    return Err(AppError::invalid("permissions", "tick at least one"));
                }
                let created = app
                    .create_api_key(
                        access,
                        CreateApiKey {
                            name: form.name.clone(),
                            permissions: Some(PermissionSet::from_slice(&permissions)),
                        },
                    )
                    .await?;
                return Ok(Some(Once {
                    title: "API key secret",
                    about: format!("For the key “{}” ({}).", created.key.name, created.key.id),
                    value: created.secret,
                    hint: "Parley keeps only a hash of it: copy it now. Exchange the key's id and this secret for a token at POST /api/v1/auth/token.",
                }));
            }
            "revoke-key" => {
                let id: ApiKeyId = form.id.parse().map_err(|_| AppError::NotFound("API key"))?;
                app.revoke_api_key(access, id).await?;
            }
            _ => return Err(AppError::invalid("action", "is not one this page knows")),
        }
        Ok(None)
    }
    .await;
    match done {
        Ok(None) => Ok(Redirect::to(&format!("/app/{org}/people")).into_response()),
        Ok(Some(once)) => show(&state, &session, org, Outcome::Shown(once)).await,
        Err(e) => {
            let refusal = Refusal::of(&e.into());
            show(&state, &session, org, Outcome::Refused(form, refusal)).await
        }
    }
}

async fn show(
    state: &AppState,
    session: &Session,
    org: OrgId,
    outcome: Outcome,
) -> Result<Response, PageError> {
    let viewer = Viewer::on(state, session, org).await?;
    let (app, access) = (&state.app, &viewer.access);
    let mine = access.principal.permissions;
    let grantable: Vec<Role> = Role::ALL
        .into_iter()
        .rev()
        .filter(|r| r.permissions().is_subset_of(mine))
        .collect();
    let me = access.principal.user();
    let zone = &access.organization.timezone;
    let day = |at: chrono::DateTime<chrono::Utc>| zone.local(at).format("%-d %b %Y").to_string();
    let members = app
        .list_members(access, PageRequest::first(500))
        .await?
        .items
        .into_iter()
        .map(|m| {
            let role = m.membership.role;
            let choices = if grantable.contains(&role) {
                grantable.iter().map(|r| (r.as_str(), *r == role)).collect()
            } else {
                Vec::new()
            };
            MemberRow {
                id: m.user.id.to_string(),
                me: Some(m.user.id) == me,
                name: m.user.name,
                email: m.user.email,
                role: role.as_str(),
                choices,
            }
        })
        .collect();
    let now = app.clock.now();
    let invitations = app
        .list_invitations(access, PageRequest::first(200))
        .await?
        .items
        .into_iter()
        .filter(|i| i.state(now) == InvitationState::Pending)
        .map(|i| InvitationRow {
            id: i.id.to_string(),
            email: i.email,
            role: i.role.as_str(),
            expires: day(i.expires_at),
        })
        .collect();
    let keys = app
        .list_api_keys(access, PageRequest::first(200))
        .await?
        .items
        .into_iter()
        .map(|k| KeyRow {
            id: k.id.to_string(),
            name: k.name,
            permissions: k
                .permissions
                .iter()
                .map(|p| permission_words(p).0)
                .collect::<Vec<_>>()
                .join(", "),
            created: day(k.created_at),
            revoked: k.revoked_at.map(day),
        })
        .collect();
    let (once, draft, refused) = match outcome {
        Outcome::None => (None, PeopleForm::default(), None),
        Outcome::Shown(once) => (Some(once), PeopleForm::default(), None),
        Outcome::Refused(form, refusal) => {
            let panel = match form.action.as_str() {
                "invite" => "invite",
                "create-key" | "revoke-key" => "keys",
                _ => "members",
            };
            (None, form, Some((panel, refusal)))
        }
    };
    let ticked = |wire: &str| {
        if draft.action == "create-key" {
            draft.permissions.iter().any(|p| p == wire)
        } else {
            true
        }
    };
    let boxes = mine
        .iter()
        .map(|p| {
            let (wire, words) = permission_words(p);
            PermissionBox {
                wire,
                words,
                checked: ticked(wire),
            }
        })
        .collect();
    let status = refused
        .as_ref()
        .map_or(http::StatusCode::OK, |(_, r)| r.status);
    let page = PeoplePage {
        asset: assets::urls(),
        frame: Frame::new(
            state,
            session,
            &viewer,
            Section::People,
            format!("/app/{org}/people"),
        )
        .await?,
        action_href: format!("/app/{org}/people"),
        audit_href: format!("/app/{org}/audit"),
        members,
        invitations,
        keys,
        grantable: grantable.iter().map(|r| r.as_str()).collect(),
        boxes,
        once,
        draft,
        refused,
    };
    Ok(render(status, &page))
}
