//! How a channel's body is described to clients: one schema per provider, chosen by
//! `provider`, with that provider's `settings` and `credentials` typed. These types exist
//! for the OpenAPI document only; `POST /api/v1/channels` reads the body itself so that it
//! can report every bad key at once (`parley-app`'s `channels::rules` is the check, and the
//! constraints here mirror it).

#![allow(dead_code)]

use serde::Deserialize;
use utoipa::ToSchema;

/// A channel to create: the fields every provider shares, then `settings` and
/// `credentials` as its provider defines them.
#[derive(Deserialize, ToSchema)]
#[serde(untagged)]
#[schema(as = CreateChannelRequest)]
pub enum CreateChannelSchema {
    /// The built-in simulator: messages go nowhere and are reported delivered.
    Sim(SimChannel),
    /// SMS through Twilio's Messages API.
    Twilio(TwilioChannel),
    /// WhatsApp through Meta's Cloud API.
    Whatsapp(WhatsappChannel),
    /// The web-chat widget on your site.
    Webchat(WebchatChannel),
}

/// What every channel has.
#[derive(Deserialize, ToSchema)]
pub struct ChannelCommon {
    /// A name people recognise (1 to 200 characters).
    #[schema(min_length = 1, max_length = 200)]
    name: String,
    /// Our address at the provider (see each provider's form).
    #[schema(min_length = 1, max_length = 200)]
    sender: String,
    /// `flow_…` with a published version: the flow a customer who writes first talks to.
    #[schema(pattern = "^flow_[0-9a-z]{26}$")]
    inbound_flow: Option<String>,
    /// The queue conversations join when no flow runs or a flow hands over without naming
    /// one (default `default`).
    #[schema(pattern = "^[a-z0-9_-]{1,64}$", default = "default")]
    inbound_queue: Option<String>,
    /// First messages a second (default: what the provider allows a new sender).
    #[schema(minimum = 1, maximum = 10000)]
    rate_per_second: Option<u32>,
    /// Whether it sends and receives (default true).
    enabled: Option<bool>,
}

/// Keyword answers every provider takes in `settings`.
#[derive(Deserialize, ToSchema)]
pub struct KeywordTexts {
    /// The answer to STOP and its synonyms (1 to 1,530 characters).
    #[schema(min_length = 1, max_length = 1530)]
    opt_out_text: Option<String>,
    /// The answer to START and its synonyms (1 to 1,530 characters).
    #[schema(min_length = 1, max_length = 1530)]
    opt_in_text: Option<String>,
    /// The answer to HELP (1 to 1,530 characters).
    #[schema(min_length = 1, max_length = 1530)]
    help_text: Option<String>,
}

/// A `sim` channel.
#[derive(Deserialize, ToSchema)]
pub struct SimChannel {
    provider: SimProvider,
    #[serde(flatten)]
    common: ChannelCommon,
    settings: Option<SimSettings>,
}

/// A `sim` channel's settings.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SimSettings {
    /// Milliseconds before a message is reported delivered (0 to 60,000; default 200).
    #[schema(minimum = 0, maximum = 60000)]
    delivery_delay_ms: Option<u32>,
    /// The share of messages reported failed (0 to 1; default 0).
    #[schema(minimum = 0.0, maximum = 1.0)]
    failure_rate: Option<f64>,
    #[serde(flatten)]
    keywords: KeywordTexts,
}

/// A `twilio` channel: `sender` is an E.164 number, an alphanumeric sender id (1 to 11
/// characters) or a Messaging Service sid (`MG…`).
#[derive(Deserialize, ToSchema)]
pub struct TwilioChannel {
    provider: TwilioProvider,
    #[serde(flatten)]
    common: ChannelCommon,
    settings: TwilioSettings,
    credentials: TwilioCredentials,
}

/// A `twilio` channel's settings.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TwilioSettings {
    /// The account sid: `AC` and 32 hexadecimal digits.
    #[schema(pattern = "^AC[0-9a-fA-F]{32}$")]
    account_sid: String,
    /// Where Twilio's API is (default `https://api.twilio.com`); point it at
    /// `parley dev stand-in twilio` to try Parley without an account.
    #[schema(pattern = "^https?://[^?#]+$")]
    base_url: Option<String>,
    #[serde(flatten)]
    keywords: KeywordTexts,
}

/// A `twilio` channel's credentials.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TwilioCredentials {
    /// The account's auth token (sealed at rest, never shown again).
    #[schema(min_length = 1, max_length = 4096)]
    auth_token: String,
}

/// A `whatsapp` channel: `sender` is the phone number id (5 to 20 digits) Meta's
/// dashboard shows.
#[derive(Deserialize, ToSchema)]
pub struct WhatsappChannel {
    provider: WhatsappProvider,
    #[serde(flatten)]
    common: ChannelCommon,
    settings: Option<WhatsappSettings>,
    credentials: WhatsappCredentials,
}

/// A `whatsapp` channel's settings.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WhatsappSettings {
    /// Where the Graph API is (default `https://graph.facebook.com`).
    #[schema(pattern = "^https?://[^?#]+$")]
    base_url: Option<String>,
    /// The approved template sent when the 24-hour customer-service window is closed.
    #[schema(pattern = "^[a-z0-9_]{1,512}$")]
    template_name: Option<String>,
    /// The template's language, such as `en` or `en_US`.
    #[schema(pattern = "^[A-Za-z_]{2,10}$")]
    template_language: Option<String>,
    #[serde(flatten)]
    keywords: KeywordTexts,
}

/// A `whatsapp` channel's credentials (sealed at rest, never shown again).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WhatsappCredentials {
    /// The system user's access token.
    #[schema(min_length = 1, max_length = 4096)]
    access_token: String,
    /// The app secret that signs Meta's callbacks.
    #[schema(min_length = 1, max_length = 4096)]
    app_secret: String,
    /// The token Meta echoes when it verifies the callback URL.
    #[schema(min_length = 1, max_length = 4096)]
    verify_token: String,
}

/// A `webchat` channel: `sender` is the site's name as visitors see it.
#[derive(Deserialize, ToSchema)]
pub struct WebchatChannel {
    provider: WebchatProvider,
    #[serde(flatten)]
    common: ChannelCommon,
    settings: WebchatSettings,
    credentials: Option<WebchatCredentials>,
}

/// A `webchat` channel's settings.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebchatSettings {
    /// The sites that may open the widget: `https://host[:port]`, or `http://localhost[:port]`
    /// (1 to 50).
    #[schema(min_items = 1, max_items = 50)]
    allowed_origins: Vec<String>,
    #[serde(flatten)]
    keywords: KeywordTexts,
}

/// A `webchat` channel's credentials.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebchatCredentials {
    /// Verifies the JWTs your site signs for its signed-in users (at least 32 characters).
    #[schema(min_length = 32, max_length = 4096)]
    identity_secret: Option<String>,
}

/// `sim`.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SimProvider {
    Sim,
}

/// `twilio`.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TwilioProvider {
    Twilio,
}

/// `whatsapp`.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WhatsappProvider {
    Whatsapp,
}

/// `webchat`.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WebchatProvider {
    Webchat,
}
