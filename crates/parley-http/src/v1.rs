//! `/api/v1`: every route visible in [`router`], one module per resource.

mod api_keys;
mod archive;
mod audit;
mod auth;
mod campaigns;
mod channel_schemas;
mod channels;
mod contacts;
mod conversations;
mod custom_values;
mod dto;
mod flows;
mod imports;
mod organizations;
mod outcomes;
mod queues;
mod sftp;
mod stream;
mod users;
mod vocab;
mod webhooks;

use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Components, InfoBuilder, OpenApi, OpenApiBuilder};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

pub(crate) use imports::{MAX_ROWS_BODY, MAX_UPLOAD_CEILING, receive_file};

/// The document's header: title, version, security schemes.
pub(crate) fn base_document() -> OpenApi {
    let mut components = Components::new();
    components.add_security_scheme(
        "bearer",
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .bearer_format("JWT")
                .build(),
        ),
    );
    components.add_security_scheme(
        "session",
        SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new("parley_session"))),
    );
    // The problem document every operation's 4XX answer refers to (`ProblemResponses`).
    let mut schemas = Vec::new();
    <crate::problem::Problem as utoipa::ToSchema>::schemas(&mut schemas);
    schemas.push((
        <crate::problem::Problem as utoipa::ToSchema>::name().into_owned(),
        <crate::problem::Problem as utoipa::PartialSchema>::schema(),
    ));
    components.schemas.extend(schemas);
    OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("Parley API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some(
                    "Parley's REST API. Authenticate with `Authorization: Bearer <JWT>` (from `POST /api/v1/auth/token`) \
                     or a browser session; act on a sub-organization with `Parley-Organization: org_…`. \
                     Errors are application/problem+json (RFC 9457).",
                ))
                .build(),
        )
        .components(Some(components))
        .build()
}

/// Gives every response a description (OpenAPI 3.1 requires one; route macros leave it
/// out when the docs do not name one): the status's reason phrase, or "Problem document"
/// for error ranges.
pub(crate) fn describe_responses(document: &mut OpenApi) {
    use utoipa::openapi::RefOr;
    for item in document.paths.paths.values_mut() {
        let operations = [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.patch,
        ];
        for operation in operations.into_iter().flatten() {
            for (status, response) in &mut operation.responses.responses {
                let RefOr::T(response) = response else {
                    continue;
                };
                if response.description.is_empty() {
                    response.description = status
                        .parse::<u16>()
                        .ok()
                        .and_then(|code| http::StatusCode::from_u16(code).ok())
                        .and_then(|code| code.canonical_reason())
                        .unwrap_or("Problem document")
                        .to_owned();
                }
            }
        }
    }
}

/// Every `/api/v1` route.
pub(crate) fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(auth::issue_token))
        .routes(routes!(auth::sign_in))
        .routes(routes!(auth::sign_out))
        .routes(routes!(auth::whoami))
        .routes(routes!(organizations::list, organizations::create))
        .routes(routes!(organizations::get, organizations::update))
        .routes(routes!(users::list, users::add))
        .routes(routes!(users::get, users::change_role, users::remove))
        .routes(routes!(users::list_invitations))
        .routes(routes!(users::revoke_invitation))
        .routes(routes!(users::preview_invitation))
        .routes(routes!(users::accept_invitation))
        .routes(routes!(api_keys::list, api_keys::create))
        .routes(routes!(api_keys::revoke))
        .routes(routes!(audit::list))
        .routes(routes!(contacts::list_fields, contacts::create_field))
        .routes(routes!(contacts::update_field))
        .routes(routes!(contacts::list_contacts, contacts::create_contact))
        .routes(routes!(contacts::list_suppressions))
        .routes(routes!(
            contacts::get_contact,
            contacts::update_contact,
            contacts::delete_contact
        ))
        .routes(routes!(imports::list))
        .routes(routes!(imports::get))
        .routes(routes!(imports::rejects))
        .routes(routes!(flows::list, flows::create))
        .routes(routes!(flows::get, flows::update))
        .routes(routes!(flows::validate))
        .routes(routes!(flows::list_versions, flows::publish))
        .routes(routes!(flows::get_version))
        .routes(routes!(archive::archive_flow))
        .routes(routes!(archive::restore_flow))
        .routes(routes!(archive::archive_channel))
        .routes(routes!(archive::restore_channel))
        .routes(routes!(archive::archive_campaign))
        .routes(routes!(archive::restore_campaign))
        .routes(routes!(webhooks::list, webhooks::create))
        .routes(routes!(webhooks::get, webhooks::update, webhooks::delete))
        .routes(routes!(webhooks::rotate_secret))
        .routes(routes!(webhooks::messages))
        .routes(routes!(webhooks::message_attempts))
        .routes(routes!(webhooks::attempts))
        .routes(routes!(webhooks::replay))
        .routes(routes!(webhooks::test))
        .routes(routes!(
            custom_values::get,
            custom_values::put,
            custom_values::delete
        ))
        .routes(routes!(sftp::list, sftp::create))
        .routes(routes!(sftp::host_key))
        .routes(routes!(sftp::get, sftp::update, sftp::delete))
        .routes(routes!(
            sftp::get_inbox,
            sftp::put_inbox,
            sftp::delete_inbox
        ))
        .routes(routes!(sftp::poll_inbox))
        .routes(routes!(campaigns::list, campaigns::create))
        .routes(routes!(campaigns::get))
        .routes(routes!(campaigns::schedule))
        .routes(routes!(campaigns::start))
        .routes(routes!(campaigns::pause))
        .routes(routes!(campaigns::resume))
        .routes(routes!(campaigns::cancel))
        .routes(routes!(campaigns::recipients))
        .routes(routes!(campaigns::export))
        .routes(routes!(channels::list, channels::create))
        .routes(routes!(channels::get, channels::update))
        .routes(routes!(conversations::sim_inbound))
        .routes(routes!(conversations::list, conversations::start))
        .routes(routes!(conversations::get))
        .routes(routes!(conversations::reply))
        .routes(routes!(conversations::assign))
        .routes(routes!(conversations::move_to_queue))
        .routes(routes!(conversations::hand_back))
        .routes(routes!(conversations::set_status))
        .routes(routes!(conversations::close))
        .routes(routes!(conversations::add_note))
        .routes(routes!(stream::stream))
        .routes(routes!(outcomes::list, outcomes::create))
        .routes(routes!(outcomes::update, outcomes::delete))
        .routes(routes!(queues::list, queues::create))
        .routes(routes!(queues::rename, queues::delete))
        .routes(routes!(queues::list_members))
        .routes(routes!(queues::put_member, queues::delete_member))
        .merge(
            // Uploads stream, limited by the application (`Settings::max_import_bytes`)
            // under this ceiling; JSON rows are limited to `MAX_ROWS_BODY` by the handler.
            OpenApiRouter::new().routes(routes!(imports::create)).layer(
                axum::extract::DefaultBodyLimit::max(imports::MAX_UPLOAD_CEILING),
            ),
        )
}
