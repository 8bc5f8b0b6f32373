//! HTTP integration tests, one binary (HOUSE_STYLE B.9).
#![allow(clippy::unwrap_used)] // test code: a failed unwrap is a failed test

// Tenant isolation across every /api/v1 route (extend it with every new route).
mod isolation;
// Bad input and bad credentials: problem documents, never 500s.
mod bad_input;
// Idempotency-Key, sessions and CSRF, pagination.
mod behaviour;
// Imports end to end: upload, job, report, re-import, contacts, suppressions.
mod imports;
// Flows: drafts in JSON and YAML, validation, versions.
mod flows;
// Webhooks: endpoints, the delivery engine against a real receiver, tests, rotation.
mod webhooks;
// The custom value endpoint and fetches from it.
mod custom_values;
// SFTP hooks against a real sshd.
mod sftp;
// The SFTP import inbox against a real sshd.
mod sftp_inbox;
// Messaging channels: settings and sealed credentials.
mod channels;
// Provider callbacks: signatures, status reports.
mod channel_hooks;
// Outcome statuses: agents read, administrators manage.
mod outcomes;
// Conversations on the sim channel: the runtime, the send queue, keywords.
mod conversations;
// Twilio and WhatsApp end to end against the stand-ins, over loopback HTTP.
mod providers;
// People's actions on conversations: reply, assign, move, hand back, status, close.
mod agents;
// A person starts a conversation with one contact.
mod conversation_start;
// A turn's replies leave in the flow's order on every channel, whatever fails.
mod send_order;
// Web chat over a real WebSocket: visitors, tokens, origins, the thread.
mod webchat;
// The web-chat widget in a real browser (chromium driven by playwright-core).
mod webchat_browser;
// Archiving flows, channels and campaigns instead of deleting them.
mod archive;
// Campaigns: import to first messages, counters, pause, resume, cancel.
mod campaigns;
// Campaign send windows under a fake clock.
mod campaign_windows;
// An organization's help text and contact hours as defaults for channels and campaigns.
mod organization_settings;
// Two processes on one PostgreSQL database share a campaign's pace and recipients.
mod campaign_processes;
// Credential guessing and floods: the bounded password pool, throttles, lockouts.
mod sign_in_limits;
// Idempotency-Key after a disconnect, a crash, a token refresh, and on a large upload.
mod idempotency;
// The web application's pages in process: sign-in, sign-out, headers, the desk.
mod web;
mod web_campaigns;
mod web_channels;
mod web_contacts;
mod web_custom_values;
mod web_deliveries;
mod web_flows;
mod web_import_preview;
mod web_imports;
mod web_integrations;
mod web_lists;
mod web_organizations;
mod web_people;
mod web_queues;
mod web_replies;
mod web_sftp;
// The agent desk in Chromium: sign in, read a waiting conversation, sign out; axe-core.
mod desk_browser;
// A master-key rotation: every stored secret kept, the opt-out list kept, old tokens ended.
mod key_rotation;
// The seed's webhook path in Chromium, verified by the Standard Webhooks library.
mod integrations_browser;
// Running the browser scripts (chromium, playwright-core, axe-core).
mod browser;
mod campaign_browser;
mod flow_browser;
// The invitation page in a real browser, with axe-core.
mod invitation_browser;
