//! Tenant isolation, walked over every operation of the OpenAPI document: a token of one
//! organization can neither read nor change another's data; a parent's admin reaches its
//! sub-organizations; a sub-organization's admin reaches neither its parent nor its
//! siblings. An operation without a case here fails the test, so new routes must join it.
//! The web chat's socket, outside the API, has its own case in `webchat.rs`
//! (`another_organizations_web_chat_neither_knows_the_visitor_nor_hears_their_thread`).

use http::Method;
use parley_domain::{OrgId, Role};
use parley_store::PageRequest;
use parley_testkit::{TestApp, TestResponse};
use serde_json::{Value, json};

mod cursors;
mod invitations;
mod seed;

use seed::{Ids, NOWHERE, campaign_body, flow_document, seed, sftp_hook, twilio_channel};

/// Every org-scoped operation, `(method, path template)`.
const SCOPED: &[(&str, &str)] = &[
    ("GET", "/api/v1/organizations"),
    ("POST", "/api/v1/organizations"),
    ("GET", "/api/v1/organizations/{id}"),
    ("PATCH", "/api/v1/organizations/{id}"),
    ("GET", "/api/v1/users"),
    ("POST", "/api/v1/users"),
    ("GET", "/api/v1/users/{id}"),
    ("PATCH", "/api/v1/users/{id}"),
    ("DELETE", "/api/v1/users/{id}"),
    ("GET", "/api/v1/invitations"),
    ("DELETE", "/api/v1/invitations/{id}"),
    ("GET", "/api/v1/api-keys"),
    ("POST", "/api/v1/api-keys"),
    ("DELETE", "/api/v1/api-keys/{id}"),
    ("GET", "/api/v1/audit-log"),
    ("GET", "/api/v1/auth/session"),
    ("GET", "/api/v1/fields"),
    ("POST", "/api/v1/fields"),
    ("PATCH", "/api/v1/fields/{key}"),
    ("GET", "/api/v1/contacts"),
    ("POST", "/api/v1/contacts"),
    ("GET", "/api/v1/contacts/suppressions"),
    ("GET", "/api/v1/contacts/{id}"),
    ("PATCH", "/api/v1/contacts/{id}"),
    ("DELETE", "/api/v1/contacts/{id}"),
    ("GET", "/api/v1/imports"),
    ("POST", "/api/v1/imports"),
    ("GET", "/api/v1/imports/{id}"),
    ("GET", "/api/v1/imports/{id}/rejects.csv"),
    ("GET", "/api/v1/flows"),
    ("POST", "/api/v1/flows"),
    ("GET", "/api/v1/flows/{id}"),
    ("PUT", "/api/v1/flows/{id}"),
    ("POST", "/api/v1/flows/{id}/validate"),
    ("GET", "/api/v1/flows/{id}/versions"),
    ("POST", "/api/v1/flows/{id}/versions"),
    ("GET", "/api/v1/flows/{id}/versions/{version}"),
    ("POST", "/api/v1/flows/{id}/archive"),
    ("POST", "/api/v1/flows/{id}/restore"),
    ("POST", "/api/v1/channels/{id}/archive"),
    ("POST", "/api/v1/channels/{id}/restore"),
    ("POST", "/api/v1/campaigns/{id}/archive"),
    ("POST", "/api/v1/campaigns/{id}/restore"),
    ("GET", "/api/v1/webhooks"),
    ("POST", "/api/v1/webhooks"),
    ("GET", "/api/v1/webhooks/{id}"),
    ("PATCH", "/api/v1/webhooks/{id}"),
    ("DELETE", "/api/v1/webhooks/{id}"),
    ("POST", "/api/v1/webhooks/{id}/rotate-secret"),
    ("GET", "/api/v1/webhooks/{id}/messages"),
    ("GET", "/api/v1/webhooks/{id}/messages/{event_id}/attempts"),
    ("GET", "/api/v1/webhooks/{id}/attempts"),
    ("POST", "/api/v1/webhooks/{id}/replay"),
    ("POST", "/api/v1/webhooks/{id}/test"),
    ("GET", "/api/v1/custom-value-endpoint"),
    ("PUT", "/api/v1/custom-value-endpoint"),
    ("DELETE", "/api/v1/custom-value-endpoint"),
    ("GET", "/api/v1/sftp"),
    ("POST", "/api/v1/sftp"),
    ("GET", "/api/v1/sftp/{id}"),
    ("PATCH", "/api/v1/sftp/{id}"),
    ("DELETE", "/api/v1/sftp/{id}"),
    ("GET", "/api/v1/sftp/{id}/inbox"),
    ("PUT", "/api/v1/sftp/{id}/inbox"),
    ("DELETE", "/api/v1/sftp/{id}/inbox"),
    ("POST", "/api/v1/sftp/{id}/inbox/poll"),
    ("GET", "/api/v1/channels"),
    ("POST", "/api/v1/channels"),
    ("GET", "/api/v1/channels/{id}"),
    ("PATCH", "/api/v1/channels/{id}"),
    ("POST", "/api/v1/channels/{id}/sim/inbound"),
    ("GET", "/api/v1/conversations"),
    ("POST", "/api/v1/conversations"),
    ("GET", "/api/v1/conversations/{id}"),
    ("POST", "/api/v1/conversations/{id}/messages"),
    ("POST", "/api/v1/conversations/{id}/assign"),
    ("POST", "/api/v1/conversations/{id}/move"),
    ("POST", "/api/v1/conversations/{id}/hand-back"),
    ("POST", "/api/v1/conversations/{id}/status"),
    ("POST", "/api/v1/conversations/{id}/close"),
    ("POST", "/api/v1/conversations/{id}/notes"),
    ("GET", "/api/v1/stream"),
    ("GET", "/api/v1/outcome-statuses"),
    ("POST", "/api/v1/outcome-statuses"),
    ("PATCH", "/api/v1/outcome-statuses/{key}"),
    ("DELETE", "/api/v1/outcome-statuses/{key}"),
    ("GET", "/api/v1/queues"),
    ("POST", "/api/v1/queues"),
    ("PATCH", "/api/v1/queues/{key}"),
    ("DELETE", "/api/v1/queues/{key}"),
    ("GET", "/api/v1/queues/{key}/members"),
    ("PUT", "/api/v1/queues/{key}/members/{user_id}"),
    ("DELETE", "/api/v1/queues/{key}/members/{user_id}"),
    ("GET", "/api/v1/campaigns"),
    ("POST", "/api/v1/campaigns"),
    ("GET", "/api/v1/campaigns/{id}"),
    ("POST", "/api/v1/campaigns/{id}/schedule"),
    ("POST", "/api/v1/campaigns/{id}/start"),
    ("POST", "/api/v1/campaigns/{id}/pause"),
    ("POST", "/api/v1/campaigns/{id}/resume"),
    ("POST", "/api/v1/campaigns/{id}/cancel"),
    ("GET", "/api/v1/campaigns/{id}/recipients"),
    ("GET", "/api/v1/campaigns/{id}/recipients.csv"),
];

/// Operations that read or change no organization's data (their permission is checked by
/// their own tests).
const NO_ORGANIZATION_DATA: &[(&str, &str)] = &[("GET", "/api/v1/sftp/host-key")];

/// Operations checked by `auth_routes_do_not_cross_organizations` instead.
const AUTH: &[(&str, &str)] = &[
    ("POST", "/api/v1/auth/token"),
    ("POST", "/api/v1/auth/sign-in"),
    ("POST", "/api/v1/auth/sign-out"),
    // The token is the credential; `invitations_never_grant_across_organizations`.
    ("POST", "/api/v1/invitations/preview"),
    ("POST", "/api/v1/invitations/accept"),
];

fn request(method: &str, template: &str, ids: &Ids, n: u32) -> (Method, String, Option<Value>) {
    let path = template
        .replace(
            "/organizations/{id}",
            &format!("/organizations/{}", ids.org),
        )
        .replace("/users/{id}", &format!("/users/{}", ids.user))
        .replace(
            "/invitations/{id}",
            &format!("/invitations/{}", ids.invitation),
        )
        .replace("/api-keys/{id}", &format!("/api-keys/{}", ids.key))
        .replace("/contacts/{id}", &format!("/contacts/{}", ids.contact))
        .replace("/imports/{id}", &format!("/imports/{}", ids.import))
        .replace("/fields/{key}", &format!("/fields/{}", ids.field))
        .replace(
            "/flows/{id}/archive",
            &format!("/flows/{}/archive", ids.spare_flow),
        )
        .replace("/flows/{id}", &format!("/flows/{}", ids.flow))
        .replace("/versions/{version}", "/versions/1")
        .replace("/webhooks/{id}", &format!("/webhooks/{}", ids.webhook))
        .replace("/sftp/{id}", &format!("/sftp/{}", ids.sftp))
        .replace(
            "/channels/{id}/sim",
            &format!("/channels/{}/sim", ids.sim_channel),
        )
        .replace("/channels/{id}", &format!("/channels/{}", ids.channel))
        .replace(
            "/conversations/{id}",
            &format!("/conversations/{}", ids.conversation),
        )
        .replace(
            "/outcome-statuses/{key}",
            &format!("/outcome-statuses/{}", ids.outcome),
        )
        .replace("/queues/{key}", &format!("/queues/{}", ids.queue))
        .replace("/members/{user_id}", &format!("/members/{}", ids.user))
        .replace(
            "/campaigns/{id}/pause",
            &format!("/campaigns/{}/pause", ids.scheduled_campaign),
        )
        .replace(
            "/campaigns/{id}/resume",
            &format!("/campaigns/{}/resume", ids.paused_campaign),
        )
        .replace("/campaigns/{id}", &format!("/campaigns/{}", ids.campaign))
        .replace("/messages/{event_id}", &format!("/messages/{}", ids.event));
    let body = match (method, template) {
        ("POST", "/api/v1/organizations") => Some(json!({"name": format!("made {n}")})),
        ("PATCH", "/api/v1/organizations/{id}") => Some(json!({"name": format!("renamed {n}")})),
        ("POST", "/api/v1/users") => {
            Some(json!({"email": format!("new{n}@example.test"), "role": "viewer"}))
        }
        ("PATCH", "/api/v1/users/{id}") => Some(json!({"role": "supervisor"})),
        ("POST", "/api/v1/api-keys") => Some(json!({"name": format!("key {n}")})),
        ("POST", "/api/v1/fields") => Some(json!({"key": format!("made_{n}"), "type": "money"})),
        ("PATCH", "/api/v1/fields/{key}") => Some(json!({"label": format!("renamed {n}")})),
        ("PATCH", "/api/v1/contacts/{id}") => Some(json!({"fields": {"first_name": "Renamed"}})),
        ("POST", "/api/v1/contacts") => Some(json!({"customer_id": format!("made-{n}"),
                   "addresses": [{"kind": "sms", "address": format!("+44791114{n:04}")}]})),
        ("POST", "/api/v1/conversations") => Some(
            json!({"contact_id": ids.contact.to_string(), "channel_id": ids.sim_channel,
                   "text": "hello"}),
        ),
        ("POST", "/api/v1/imports") => {
            Some(json!({"rows": [{"phone": format!("+3538799{n:05}")}]}))
        }
        ("POST", "/api/v1/flows") => Some(flow_document(&format!("made {n}"))),
        ("PUT", "/api/v1/flows/{id}") => Some(flow_document(&format!("renamed {n}"))),
        ("POST", "/api/v1/webhooks") => {
            Some(json!({"url": NOWHERE, "description": format!("made {n}")}))
        }
        ("PATCH", "/api/v1/webhooks/{id}") => Some(json!({"description": format!("renamed {n}")})),
        ("POST", "/api/v1/webhooks/{id}/replay") => {
            Some(json!({"event_id": ids.event.to_string()}))
        }
        ("POST", "/api/v1/webhooks/{id}/test") => Some(json!({"kind": "ping"})),
        ("POST", "/api/v1/sftp") => Some(sftp_hook(n)),
        ("POST", "/api/v1/channels") => Some(twilio_channel(n)),
        ("POST", "/api/v1/conversations/{id}/messages") => Some(json!({"text": "hello"})),
        ("POST", "/api/v1/conversations/{id}/assign") => Some(json!({"user_id": null})),
        ("POST", "/api/v1/conversations/{id}/move") => Some(json!({"queue": "default"})),
        ("POST", "/api/v1/conversations/{id}/hand-back") => Some(json!({"step": "bye"})),
        ("POST", "/api/v1/conversations/{id}/status") => Some(json!({"status": "opted_out"})),
        ("POST", "/api/v1/conversations/{id}/close") => Some(json!({})),
        ("POST", "/api/v1/conversations/{id}/notes") => Some(json!({"body": "a note"})),
        ("POST", "/api/v1/channels/{id}/sim/inbound") => {
            Some(json!({"from": format!("+44791113{n:04}"), "text": "hi"}))
        }
        ("POST", "/api/v1/outcome-statuses") => {
            Some(json!({"key": format!("made_{n}"), "label": "Made", "category": "positive"}))
        }
        ("PATCH", "/api/v1/outcome-statuses/{key}") => {
            Some(json!({"label": format!("renamed {n}")}))
        }
        ("POST", "/api/v1/queues") => Some(json!({"key": format!("made-{n}"), "name": "Made"})),
        ("PATCH", "/api/v1/queues/{key}") => Some(json!({"name": format!("renamed {n}")})),
        ("PUT", "/api/v1/queues/{key}/members/{user_id}") => Some(json!({"capacity": 2})),
        ("PATCH", "/api/v1/channels/{id}") => Some(
            json!({"name": format!("renamed {n}"), "credentials": {"auth_token": format!("t{n}")}}),
        ),
        ("PATCH", "/api/v1/sftp/{id}") => Some(json!({"description": format!("renamed {n}")})),
        ("PUT", "/api/v1/sftp/{id}/inbox") => Some(json!({"folder": format!("in{n}")})),
        ("PUT", "/api/v1/custom-value-endpoint") => Some(json!({"url": format!("{NOWHERE}/{n}")})),
        ("POST", "/api/v1/campaigns") => Some(campaign_body(
            &ids.import.to_string(),
            &ids.flow.to_string(),
            &ids.sim_channel,
            chrono::Utc::now(),
        )),
        _ => None,
    };
    (method.parse().unwrap(), path, body)
}

async fn attempt(
    t: &TestApp,
    token: &str,
    header: Option<OrgId>,
    op: (&str, &str),
    ids: &Ids,
    n: u32,
) -> TestResponse {
    let (method, path, body) = request(op.0, op.1, ids, n);
    t.call(method, &path, Some(token), header, body).await
}

#[tokio::test]
async fn every_operation_has_an_isolation_case() {
    let document = serde_json::to_value(parley_http::openapi()).unwrap();
    let mut missing = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let op = (method.to_uppercase(), path.clone());
            let known = SCOPED
                .iter()
                .chain(AUTH)
                .chain(NO_ORGANIZATION_DATA)
                .any(|(m, p)| *m == op.0 && *p == op.1);
            if !known {
                missing.push(format!("{} {}", op.0, op.1));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "operations without an isolation case: {missing:?}"
    );
}

#[tokio::test]
async fn organizations_only_reach_down_their_own_tree() {
    let t = TestApp::new().await;
    let (a, token_a) = t.org_with_token("A", None, Role::Admin).await;
    let (a1, token_a1) = t.org_with_token("A1", Some(a), Role::Admin).await;
    let (a2, _) = t.org_with_token("A2", Some(a), Role::Admin).await;
    let (_, token_b) = t.org_with_token("B", None, Role::Admin).await;
    let mut n = 0;
    for &op in SCOPED {
        // The parent's admin reaches the sub-organization.
        let ids = seed(&t, a1, &mut n).await;
        let r = attempt(&t, &token_a, Some(a1), op, &ids, n).await;
        assert!(
            r.status.is_success(),
            "parent admin on child: {op:?} gave {} {}",
            r.status,
            r.json
        );

        // Another tree's admin reaches nothing: neither by header nor by naming ids.
        let ids = seed(&t, a1, &mut n).await;
        let r = attempt(&t, &token_b, Some(a1), op, &ids, n).await;
        assert_eq!(r.status, 404, "outsider via header: {op:?} gave {}", r.json);
        let r = attempt(&t, &token_b, None, op, &ids, n).await;
        assert!(
            r.status == 404 || !op.1.contains('{'),
            "outsider via ids: {op:?} gave {} {}",
            r.status,
            r.json
        );
        assert_no_leak(&r, &ids, Some(a1));

        // A sub-organization's admin reaches neither its parent nor its sibling.
        for (target, label) in [(a, "parent"), (a2, "sibling")] {
            let ids = seed(&t, target, &mut n).await;
            let r = attempt(&t, &token_a1, Some(target), op, &ids, n).await;
            assert_eq!(
                r.status, 404,
                "child admin on {label} via header: {op:?} gave {}",
                r.json
            );
            let r = attempt(&t, &token_a1, None, op, &ids, n).await;
            assert!(
                r.status == 404 || !op.1.contains('{'),
                "child admin on {label} via ids: {op:?} gave {} {}",
                r.status,
                r.json
            );
            // A child's own record names its parent as `parent_id`; nothing else may appear.
            let org_is_secret = label == "sibling";
            assert_no_leak(&r, &ids, org_is_secret.then_some(target));
        }
    }
    // Nothing the outsiders tried changed the first seeded resources.
    let ids = seed(&t, a1, &mut n).await;
    let before = t.store().get_organization(a1).await.unwrap();
    let campaign_ids = [&ids.campaign, &ids.scheduled_campaign, &ids.paused_campaign];
    let mut campaigns_before = Vec::new();
    for id in campaign_ids {
        campaigns_before.push(
            t.store()
                .get_campaign(a1, id.parse().unwrap())
                .await
                .unwrap(),
        );
    }
    for &op in SCOPED.iter().filter(|(m, _)| *m != "GET") {
        attempt(&t, &token_b, Some(a1), op, &ids, n).await;
        attempt(&t, &token_b, None, op, &ids, n).await;
    }
    assert_eq!(
        t.store().get_organization(a1).await.unwrap().name,
        before.name
    );
    assert_eq!(
        t.store()
            .find_membership(ids.user, a1)
            .await
            .unwrap()
            .unwrap()
            .role,
        Role::Agent
    );
    let contact = t
        .store()
        .get_contact(a1, ids.contact)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(contact.fields["first_name"], "Seeded");
    let conversation = t
        .store()
        .get_conversation(a1, ids.conversation.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (conversation.state, conversation.revision),
        (parley_domain::ConversationState::Queued, 1),
        "outsiders acted on the conversation"
    );
    assert!(
        t.store()
            .list_notes(a1, conversation.id)
            .await
            .unwrap()
            .iter()
            .all(|n| n.author == "system"),
        "outsiders added notes (only Parley's note on the hand-over is there)"
    );
    let field = t.store().list_fields(a1).await.unwrap();
    assert!(
        field
            .iter()
            .any(|f| f.key.as_str() == ids.field && f.label == "Seeded")
    );
    assert!(
        t.store()
            .find_api_key(ids.key)
            .await
            .unwrap()
            .unwrap()
            .key
            .revoked_at
            .is_none()
    );
    let flow = t.store().find_flow(a1, ids.flow).await.unwrap().unwrap();
    assert_eq!(
        (flow.name.as_str(), flow.latest_version),
        ("Seeded", Some(1))
    );
    let versions = t
        .store()
        .list_flow_versions(a1, ids.flow, PageRequest::first(10))
        .await
        .unwrap();
    assert_eq!(versions.items.len(), 1);
    let webhook = t
        .store()
        .find_webhook(a1, ids.webhook.parse().unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (webhook.description.as_str(), webhook.enabled),
        ("", true),
        "outsiders changed the endpoint"
    );
    let values = t
        .store()
        .find_custom_value_endpoint(a1)
        .await
        .unwrap()
        .expect("outsiders removed the custom value endpoint");
    assert_eq!((values.url.as_str(), values.timeout_ms), (NOWHERE, 2000));
    let statuses = [
        parley_domain::CampaignStatus::Draft,
        parley_domain::CampaignStatus::Scheduled,
        parley_domain::CampaignStatus::Paused,
    ];
    for ((id, before), status) in campaign_ids.iter().zip(campaigns_before).zip(statuses) {
        let now = t
            .store()
            .get_campaign(a1, id.parse().unwrap())
            .await
            .unwrap();
        assert_eq!(now, before, "outsiders changed a campaign");
        assert_eq!(now.map(|c| c.status), Some(status));
    }
    let inbox = t
        .store()
        .find_sftp_inbox(a1, ids.sftp.parse().unwrap())
        .await
        .unwrap()
        .expect("outsiders removed the SFTP inbox");
    assert_eq!((inbox.folder.as_str(), inbox.enabled), ("inbox", true));
    let invitations = t
        .store()
        .list_invitations(a1, PageRequest::first(PageRequest::MAX_LIMIT))
        .await
        .unwrap();
    let seeded = invitations
        .items
        .iter()
        .find(|i| i.id.to_string() == ids.invitation)
        .expect("outsiders removed the invitation");
    assert_eq!(
        seeded.state(t.app.clock.now()),
        parley_domain::InvitationState::Pending,
        "outsiders withdrew the invitation"
    );
}

/// A list answered to an outsider must not contain any of the target's ids.
fn assert_no_leak(r: &TestResponse, ids: &Ids, org: Option<OrgId>) {
    let text = r.json.to_string();
    for id in org.iter().map(ToString::to_string).chain([
        ids.user.to_string(),
        ids.invitation.clone(),
        ids.key.to_string(),
        ids.contact.to_string(),
        ids.import.to_string(),
        ids.field.clone(),
        ids.flow.to_string(),
        ids.webhook.clone(),
        ids.event.to_string(),
        ids.sftp.clone(),
    ]) {
        assert!(!text.contains(&id), "response leaked {id}: {text}");
    }
    assert!(!r.status.is_server_error(), "{text}");
}

#[tokio::test]
async fn auth_routes_do_not_cross_organizations() {
    let t = TestApp::new().await;
    let (a, _) = t.org_with_token("A", None, Role::Admin).await;
    let (b, token_b) = t.org_with_token("B", None, Role::Admin).await;
    let key_a = t
        .app
        .admin_create_api_key(a, "a", Role::Admin)
        .await
        .unwrap();
    let key_b = t
        .app
        .admin_create_api_key(b, "b", Role::Admin)
        .await
        .unwrap();
    // A key id with another organization's secret is refused.
    let r = t
        .call(
            Method::POST,
            "/api/v1/auth/token",
            None,
            None,
            Some(json!({"key_id": key_a.key.id, "secret": key_b.secret})),
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.json);
    let r = t
        .call(
            Method::POST,
            "/api/v1/auth/token",
            None,
            None,
            Some(json!({"key_id": key_a.key.id, "secret": key_a.secret})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["organization_id"], a.to_string());
    // A user of B cannot sign in to A.
    t.create_user(
        b,
        "bee@example.test",
        "Bee",
        "bee password 12".into(),
        Role::Admin,
    )
    .await
    .unwrap();
    let sign_in =
        json!({"email": "bee@example.test", "password": "bee password 12", "organization_id": a});
    let r = t
        .call(
            Method::POST,
            "/api/v1/auth/sign-in",
            None,
            None,
            Some(sign_in),
        )
        .await;
    assert_eq!(r.status, 401, "{}", r.json);
    // Signing out with B's token ends no one else's session.
    let r = t
        .call(
            Method::POST,
            "/api/v1/auth/sign-out",
            Some(&token_b),
            None,
            None,
        )
        .await;
    assert_eq!(r.status, 204);
}
