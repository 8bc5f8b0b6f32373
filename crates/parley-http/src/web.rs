//! The web application under `/app/` (ADR 0010): pages rendered on the server from askama
//! templates (`templates/app/`), our own stylesheet and modules (`assets/app/`), all
//! compiled into the binary. Every page goes out with a strict `Content-Security-Policy`;
//! every form that changes something carries the session's CSRF token and must come from
//! this origin. Handlers call `parley-app` use cases only, as the API's do.
//!
//! * `pages`: the response every page shares (headers, the error page), a refused form as
//!   a page shows it, posted forms read by name.
//! * `session`: who is signed in, the organization in the URL, form checks, `/`.
//! * `sign_in`: the sign-in form, sign-out, switching to another membership's organization.
//! * `assets`: the stylesheet and modules, by content-hashed URL.
//! * `desk`: the agent desk (the conversation list and the open conversation).
//! * `thread`: the open conversation's messages and notes.
//! * `contact`: the open conversation's contact panel.
//! * `actions`: what the desk's forms do to the open conversation.
//! * `live`: the desk's live notices (server-sent events).
//! * `availability`: the person's Available / Away switch.
//! * `frame`: the top bar every signed-in page shares.
//! * `replies`: the organization's canned replies.
//! * `integrations`: the organization's webhook endpoints (add, test, rotate, delete).
//! * `custom_values`: the custom value endpoint, its test.
//! * `sftp`: SFTP destinations (host key pinned from a fetch), their import inboxes.
//! * `deliveries`: one webhook endpoint's messages and attempts, and replays.
//! * `campaigns`: the campaigns and the form that makes one, with the audience counted
//!   live; `campaign_page` follows one live and starts, pauses, resumes or cancels it.
//! * `flows`: the flows and their editor — the flow drawn, its findings as typed, save,
//!   publish, versions; `flow_trial` is its Try it, the draft talked to as a customer.
//! * `imports`: contact files uploaded with progress, each import followed, its rejects;
//!   `import_form` reads the upload form (token, options, mapping, then the file) and
//!   `import_preview` shows a chosen file as the import will read it, mapping included.
//! * `contacts`: the contact list (search, filter by a field) and each contact's page.
//! * `fields`: field definitions and the suppression list.
//! * `channels`: the organization's channels, what to paste into each provider's console.
//! * `queues`: the organization's queues with their members, and its outcome statuses.
//! * `organizations`: the tree of organizations, their settings, new sub-organizations.
//! * `people`: members and their roles, invitations, API keys.
//! * `audit`: the audit log, filtered by actor, action and period.

mod actions;
mod assets;
mod audit;
mod availability;
mod campaign_page;
mod campaigns;
mod channels;
mod contact;
mod contacts;
mod counter;
mod custom_values;
mod deliveries;
mod desk;
mod fields;
mod flow_trial;
mod flows;
mod frame;
mod import_form;
mod import_preview;
mod imports;
mod integrations;
mod live;
mod organizations;
mod pages;
mod people;
mod queues;
mod replies;
mod session;
mod sftp;
mod sign_in;
mod thread;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

pub(crate) use assets::CSP;

use crate::AppState;

/// The web application's routes.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(session::root))
        .route("/app", get(session::root))
        .route("/app/sign-in", get(sign_in::form).post(sign_in::submit))
        .route("/app/sign-out", post(sign_in::sign_out))
        .route("/app/switch", post(sign_in::switch))
        .route("/app/assets/{name}", get(assets::serve))
        .route("/app/{org}/conversations", get(desk::conversations))
        .route("/app/{org}/live", get(live::live))
        .route("/app/{org}/conversations/{id}", get(desk::conversation))
        .route("/app/{org}/conversations/{id}/act", post(actions::act))
        .route("/app/{org}/counter", post(actions::counter))
        .route("/app/{org}/availability", post(availability::set))
        .route("/app/{org}/replies", get(replies::page).post(replies::save))
        .route(
            "/app/{org}/integrations",
            get(integrations::page).post(integrations::act),
        )
        .route("/app/{org}/queues", get(queues::page).post(queues::act))
        .route(
            "/app/{org}/integrations/sftp",
            get(sftp::page).post(sftp::act),
        )
        .route(
            "/app/{org}/integrations/values",
            get(custom_values::page).post(custom_values::act),
        )
        .route(
            "/app/{org}/integrations/{id}",
            get(deliveries::page).post(deliveries::replay),
        )
        .route("/app/{org}/people", get(people::page).post(people::act))
        .route(
            "/app/{org}/channels",
            get(channels::page).post(channels::act),
        )
        // Files stream: an upload is limited by the application as the API's is, a
        // preview to what it reads plus the form around it.
        .route(
            "/app/{org}/imports",
            get(imports::list)
                .post(imports::upload)
                .layer(DefaultBodyLimit::max(crate::v1::MAX_UPLOAD_CEILING)),
        )
        .route(
            "/app/{org}/imports/preview",
            post(import_preview::preview).layer(DefaultBodyLimit::max(
                parley_app::imports::PREVIEW_BYTES + 8 * 1024 * 1024,
            )),
        )
        .route("/app/{org}/imports/{id}", get(imports::one))
        .route(
            "/app/{org}/campaigns",
            get(campaigns::list).post(campaigns::create),
        )
        .route("/app/{org}/campaigns/audience", get(campaigns::count))
        .route(
            "/app/{org}/campaigns/{id}",
            get(campaign_page::page).post(campaign_page::act),
        )
        .route("/app/{org}/campaigns/{id}/live", get(campaign_page::live))
        .route("/app/{org}/flows", get(flows::list).post(flows::create))
        .route("/app/{org}/flows/{id}", get(flows::page).post(flows::act))
        .route("/app/{org}/flows/{id}/check", post(flows::check))
        .route("/app/{org}/flows/{id}/try", post(flow_trial::trial))
        .route("/app/{org}/flows/{id}/script", post(flow_trial::script))
        .route("/app/{org}/flows/{id}/step", post(flows::step::step))
        .route(
            "/app/{org}/flows/{id}/versions/{version}",
            get(flows::version),
        )
        .route("/app/{org}/contacts", get(contacts::list))
        .route(
            "/app/{org}/contacts/fields",
            get(fields::page).post(fields::act),
        )
        .route(
            "/app/{org}/contacts/{id}",
            get(contacts::one).post(contacts::act),
        )
        .route(
            "/app/{org}/organizations",
            get(organizations::page).post(organizations::act),
        )
        .route("/app/{org}/audit", get(audit::page))
}
