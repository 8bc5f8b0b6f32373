//! `/app/{org}/channels`: the organization's messaging channels, for administrators.
//! Each channel shows what to paste into its provider's console — Twilio's "A message
//! comes in" URL (status callbacks Parley names on each message it sends), Meta's
//! callback URL, the web chat's embed snippet — each with a copy button, and can be
//! edited in place. A channel is added by choosing its provider (`?provider=`), which
//! gives that provider's own fields.
//!
//! Form fields are named as the API names them (`settings.account_sid`,
//! `credentials.auth_token`), so each problem the use case reports lands beside its
//! field. Credentials are never shown, not even after a refused save: their boxes are
//! empty, and an empty box keeps what is stored (a channel's credentials are replaced,
//! never read back). An emptied setting is removed.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::HeaderMap;
use parley_app::AppError;
use parley_app::channels::{ChannelPatch, ChannelView, NewChannel, credential_keys, setting_keys};
use parley_domain::{ChannelId, OrgId, Provider};
use parley_store::PageRequest;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::assets::{self, Assets};
use super::frame::{Frame, Section};
use super::pages::{PageError, Posted, Refusal, render};
use super::session::{Session, Viewer, check_form};
use crate::AppState;

/// Channels the page lists.
const MOST: u32 = 200;

/// `?provider=` chooses the add form's provider.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ChannelsQuery {
    #[serde(default)]
    provider: String,
}

/// A form as posted: `action` is `create` (with `provider`) or `update` (of `id`); every
/// other field by its API name (`settings.<key>`, `credentials.<key>`).
#[derive(Debug, Default)]
pub(crate) struct ChannelForm {
    csrf: String,
    action: String,
    id: String,
    provider: String,
    fields: Posted,
}

impl ChannelForm {
    fn from_posted(posted: Posted) -> Self {
        Self {
            csrf: posted.text("csrf"),
            action: posted.text("action"),
            id: posted.text("id"),
            provider: posted.text("provider"),
            fields: posted,
        }
    }

    fn get(&self, name: &str) -> &str {
        self.fields.get(name)
    }

    fn given(&self, name: &str) -> Option<String> {
        Some(self.get(name).trim().to_owned()).filter(|v| !v.is_empty())
    }

    /// A whole number as typed; what is not one is passed on for the use case to name.
    fn rate(&self) -> Result<Option<u32>, AppError> {
        self.given("rate_per_second")
            .map(|r| {
                r.parse()
                    .map_err(|_| AppError::invalid("rate_per_second", "must be a whole number"))
            })
            .transpose()
    }

    /// The provider's settings as typed: a blank one left out (`None`) or, on a channel
    /// that had it, removed (`Some(Null)`).
    fn settings(
        &self,
        provider: Provider,
        stored: Option<&Map<String, Value>>,
    ) -> Map<String, Value> {
        let mut out = Map::new();
        for (key, _) in setting_keys(provider) {
            let raw = self.get(&format!("settings.{key}")).trim();
            let had = stored.is_some_and(|s| s.contains_key(*key));
            let value = if raw.is_empty() {
                if !had {
                    continue;
                }
                Value::Null
            } else {
                setting_value(key, raw)
            };
            if stored.and_then(|s| s.get(*key)) != Some(&value) {
                out.insert((*key).to_owned(), value);
            }
        }
        out
    }

    /// The credentials typed (blank ones keep what is stored).
    fn credentials(&self, provider: Provider) -> Map<String, Value> {
        credential_keys(provider)
            .iter()
            .filter_map(|(key, _)| {
                let raw = self.get(&format!("credentials.{key}")).trim();
                (!raw.is_empty()).then(|| ((*key).to_owned(), Value::String(raw.to_owned())))
            })
            .collect()
    }
}

/// A setting's typed text as the API takes it: numbers as numbers, origins as a list.
fn setting_value(key: &str, raw: &str) -> Value {
    match key {
        "delivery_delay_ms" | "failure_rate" => serde_json::from_str::<serde_json::Number>(raw)
            .map_or_else(|_| Value::String(raw.to_owned()), Value::Number),
        "allowed_origins" => Value::Array(
            raw.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(|l| Value::String(l.to_owned()))
                .collect(),
        ),
        _ => Value::String(raw.to_owned()),
    }
}

/// A stored setting as its box shows it.
fn setting_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(list) => list
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join("\n"),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// What a key is called on the page, and whether its box is several lines.
fn key_words(key: &str) -> (&'static str, bool) {
    match key {
        "account_sid" => ("Account SID", false),
        "base_url" => ("API base URL (for Twilio-compatible providers)", false),
        "template_name" => ("Template sent outside the 24-hour window", false),
        "template_language" => ("Template language", false),
        "delivery_delay_ms" => ("Delivery delay (milliseconds)", false),
        "failure_rate" => ("Failure rate (0 to 1)", false),
        "allowed_origins" => ("Allowed sites (one origin per line)", true),
        "opt_out_text" => ("Answer to STOP", true),
        "opt_in_text" => ("Answer to START", true),
        "help_text" => ("Answer to HELP (empty: the organization's)", true),
        "auth_token" => ("Auth token", false),
        "access_token" => ("Access token", false),
        "app_secret" => ("App secret", false),
        "verify_token" => ("Verify token", false),
        "identity_secret" => (
            "Identity secret (verifies your site's sign-in tokens)",
            false,
        ),
        _ => ("Setting", false),
    }
}

fn provider_words(p: Provider) -> (&'static str, &'static str) {
    match p {
        Provider::Sim => ("Simulator", "Sender"),
        Provider::Twilio => ("Twilio SMS", "From (number, sender id or MG… service)"),
        Provider::Whatsapp => ("WhatsApp", "Phone number id"),
        Provider::Webchat => ("Web chat", "Site name"),
    }
}

/// One box of a form.
struct Field {
    name: String,
    label: &'static str,
    value: String,
    lines: bool,
    required: bool,
    secret: bool,
    /// For a credential: whether one is stored.
    stored: bool,
}

/// A form's values: the basics, then the provider's own boxes.
struct Values {
    name: String,
    sender: String,
    rate: String,
    flow: String,
    queue: String,
    enabled: bool,
    fields: Vec<Field>,
}

struct Row {
    id: String,
    name: String,
    provider: &'static str,
    sender_label: &'static str,
    sender: String,
    enabled: bool,
    rate: u32,
    inbound: String,
    credentials: String,
    /// (what it is for, the text to paste, the id of its element).
    paste: Vec<(&'static str, String, String)>,
    form: Values,
    refused: Option<Refusal>,
}

/// The page.
#[derive(Template)]
#[template(path = "app/channels.html")]
struct ChannelsPage {
    asset: Assets,
    frame: Frame,
    action_href: String,
    rows: Vec<Row>,
    /// Each provider's add link: (value, words, chosen).
    providers: Vec<(&'static str, &'static str, bool)>,
    provider: &'static str,
    sender_label: &'static str,
    new: Values,
    new_refused: Option<Refusal>,
    /// Published flows (id, name) and queues (key, name) to start or wait in.
    flows: Vec<(String, String)>,
    queues: Vec<(String, String)>,
}

/// `GET /app/{org}/channels`.
pub(crate) async fn page(
    State(state): State<AppState>,
    session: Session,
    Path(org): Path<OrgId>,
    Query(q): Query<ChannelsQuery>,
) -> Result<Response, PageError> {
    let provider = Provider::from_name(&q.provider).unwrap_or(Provider::Twilio);
    show(&state, &session, org, provider, None).await
}

/// `POST /app/{org}/channels`.
pub(crate) async fn act(
    State(state): State<AppState>,
    headers: HeaderMap,
    session: Session,
    Path(org): Path<OrgId>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let form = ChannelForm::from_posted(Posted::new(pairs));
    check_form(&state, &headers, Some(&session), &form.csrf)?;
    let viewer = Viewer::on(&state, &session, org).await?;
    let (app, access) = (&state.app, &viewer.access);
    let flow = || {
        form.given("inbound_flow")
            .map(|f| {
                f.parse()
                    .map_err(|_| AppError::invalid("inbound_flow", "choose a flow"))
            })
            .transpose()
    };
    let done: Result<(), AppError> = async {
        match form.action.as_str() {
            "create" => {
                let provider = Provider::from_name(&form.provider)
                    .ok_or_else(|| AppError::invalid("provider", "choose one of the providers"))?;
                app.create_channel(
                    access,
                    NewChannel {
                        provider: form.provider.clone(),
                        name: form.get("name").to_owned(),
                        sender: form.get("sender").trim().to_owned(),
                        inbound_flow: flow()?,
                        inbound_queue: form.given("inbound_queue"),
                        rate_per_second: form.rate()?,
                        settings: form.settings(provider, None),
                        credentials: form.credentials(provider),
                        enabled: Some(true),
                    },
                )
                .await
                .map(drop)
            }
            "update" => {
                let id: ChannelId = form.id.parse().map_err(|_| AppError::NotFound("channel"))?;
                let stored = app.get_channel(access, id).await?.channel;
                app.update_channel(
                    access,
                    id,
                    ChannelPatch {
                        name: Some(form.get("name").to_owned()),
                        sender: Some(form.get("sender").trim().to_owned()),
                        inbound_flow: Some(flow()?),
                        inbound_queue: form.given("inbound_queue"),
                        rate_per_second: form.rate()?,
                        settings: form.settings(stored.provider, Some(&stored.settings)),
                        credentials: form.credentials(stored.provider),
                        enabled: Some(form.get("enabled") == "1"),
                    },
                )
                .await
                .map(drop)
            }
            _ => Err(AppError::invalid("action", "is not one this page knows")),
        }
    }
    .await;
    let provider = Provider::from_name(&form.provider).unwrap_or(Provider::Twilio);
    match done {
        Ok(()) => Ok(Redirect::to(&format!("/app/{org}/channels")).into_response()),
        Err(e) => {
            let refusal = Refusal::of(&e.into());
            show(&state, &session, org, provider, Some((form, refusal))).await
        }
    }
}

/// The boxes of `provider`'s own settings and credentials, from what is stored and, for a
/// refused form, what was typed (never a credential).
fn provider_fields(
    provider: Provider,
    stored: Option<&ChannelView>,
    typed: Option<&ChannelForm>,
) -> Vec<Field> {
    let mut fields = Vec::new();
    for (key, required) in setting_keys(provider) {
        let name = format!("settings.{key}");
        let value = match (typed, stored) {
            (Some(f), _) => f.get(&name).to_owned(),
            (None, Some(v)) => v
                .channel
                .settings
                .get(*key)
                .map(setting_text)
                .unwrap_or_default(),
            (None, None) => String::new(),
        };
        let (label, lines) = key_words(key);
        fields.push(Field {
            name,
            label,
            value,
            lines,
            required: *required,
            secret: false,
            stored: false,
        });
    }
    for (key, required) in credential_keys(provider) {
        let (label, _) = key_words(key);
        let stored = stored.is_some_and(|v| v.credentials.iter().any(|c| c == key));
        fields.push(Field {
            name: format!("credentials.{key}"),
            label,
            value: String::new(),
            lines: false,
            required: *required && !stored,
            secret: true,
            stored,
        });
    }
    fields
}

/// What to paste into the provider's console for channel `id`.
fn paste(public: &str, provider: Provider, id: &str) -> Vec<(&'static str, String, String)> {
    match provider {
        Provider::Twilio => vec![(
            "Twilio console → your number → Messaging → “A message comes in” (HTTP POST)",
            format!("{public}/hooks/twilio/{id}/inbound"),
            format!("paste-{id}-inbound"),
        )],
        Provider::Whatsapp => vec![(
            "Meta app dashboard → WhatsApp → Configuration → Callback URL (with this channel's verify token), subscribed to messages",
            format!("{public}/hooks/whatsapp/{id}"),
            format!("paste-{id}-callback"),
        )],
        Provider::Webchat => vec![(
            "Your site's pages, before </body>",
            format!("<script src=\"{public}/widget.js\" data-channel=\"{id}\" async></script>"),
            format!("paste-{id}-snippet"),
        )],
        Provider::Sim => Vec::new(),
    }
}

async fn show(
    state: &AppState,
    session: &Session,
    org: OrgId,
    provider: Provider,
    refused: Option<(ChannelForm, Refusal)>,
) -> Result<Response, PageError> {
    let viewer = Viewer::on(state, session, org).await?;
    let (app, access) = (&state.app, &viewer.access);
    let listed = app
        .list_channels(access, false, PageRequest::first(MOST))
        .await?
        .items;
    let flows: Vec<(String, String)> = app
        .list_flows(access, false, PageRequest::first(500))
        .await?
        .items
        .into_iter()
        .filter(|f| f.latest_version.is_some())
        .map(|f| (f.id.to_string(), f.name))
        .collect();
    let queues: Vec<(String, String)> = app
        .list_queues(access)
        .await?
        .into_iter()
        .map(|q| (q.key, q.name))
        .collect();
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
    let public = &app.settings.public_url;
    let mut rows = Vec::new();
    for view in &listed {
        let c = &view.channel;
        let id = c.id.to_string();
        let mine = edit_refused.as_ref().is_some_and(|(f, _)| f.id == id);
        let typed = if mine {
            edit_refused.as_ref().map(|(f, _)| f)
        } else {
            None
        };
        let form = Values {
            name: typed.map_or_else(|| c.name.clone(), |f| f.get("name").to_owned()),
            sender: typed.map_or_else(|| c.sender.clone(), |f| f.get("sender").to_owned()),
            rate: typed.map_or_else(
                || c.rate_per_second.to_string(),
                |f| f.get("rate_per_second").to_owned(),
            ),
            flow: typed.map_or_else(
                || c.inbound_flow.map(|f| f.to_string()).unwrap_or_default(),
                |f| f.get("inbound_flow").to_owned(),
            ),
            queue: typed.map_or_else(
                || c.inbound_queue.clone(),
                |f| f.get("inbound_queue").to_owned(),
            ),
            enabled: typed.map_or(c.enabled, |f| f.get("enabled") == "1"),
            fields: provider_fields(c.provider, Some(view), typed),
        };
        let flow_name = c.inbound_flow.and_then(|f| {
            flows
                .iter()
                .find(|(id, _)| *id == f.to_string())
                .map(|(_, n)| n.clone())
        });
        let (provider_name, sender_label) = provider_words(c.provider);
        rows.push(Row {
            name: c.name.clone(),
            provider: provider_name,
            sender_label,
            sender: c.sender.clone(),
            enabled: c.enabled,
            rate: c.rate_per_second,
            inbound: match flow_name {
                Some(flow) => format!("Customers who write first start the flow “{flow}”"),
                None => format!(
                    "Customers who write first wait in the queue “{}”",
                    c.inbound_queue
                ),
            },
            credentials: if view.credentials.is_empty() {
                "No credentials".to_owned()
            } else {
                format!("Credentials set: {}", view.credentials.join(", "))
            },
            paste: paste(public, c.provider, &id),
            form,
            refused: if mine {
                edit_refused.take().map(|(_, r)| r)
            } else {
                None
            },
            id,
        });
    }
    let typed = new_refused.as_ref().map(|(f, _)| f);
    let new = Values {
        name: typed.map(|f| f.get("name").to_owned()).unwrap_or_default(),
        sender: typed
            .map(|f| f.get("sender").to_owned())
            .unwrap_or_default(),
        rate: typed
            .map(|f| f.get("rate_per_second").to_owned())
            .unwrap_or_default(),
        flow: typed
            .map(|f| f.get("inbound_flow").to_owned())
            .unwrap_or_default(),
        queue: typed
            .map(|f| f.get("inbound_queue").to_owned())
            .unwrap_or_default(),
        enabled: true,
        fields: provider_fields(provider, None, typed),
    };
    let (_, sender_label) = provider_words(provider);
    let page = ChannelsPage {
        asset: assets::urls(),
        frame: Frame::new(
            state,
            session,
            &viewer,
            Section::Channels,
            format!("/app/{org}/channels"),
        )
        .await?,
        action_href: format!("/app/{org}/channels"),
        rows,
        providers: [
            Provider::Twilio,
            Provider::Whatsapp,
            Provider::Webchat,
            Provider::Sim,
        ]
        .into_iter()
        .map(|p| (p.as_str(), provider_words(p).0, p == provider))
        .collect(),
        provider: provider.as_str(),
        sender_label,
        new,
        new_refused: new_refused.map(|(_, r)| r),
        flows,
        queues,
    };
    Ok(render(status, &page))
}
