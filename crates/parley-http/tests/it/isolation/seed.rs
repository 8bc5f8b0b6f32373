//! The resources every isolation case starts from: one organization's user, key,
//! contact, import, field, flow, webhook, SFTP hook, channels, conversation, outcome,
//! queue and campaigns, made fresh for each case so destructive cases never interfere.

use http::Method;
use parley_domain::{
    ApiKeyId, AuditAction, AuditId, ChannelKind, ContactId, EventId, EventType, FieldDefinition,
    FieldType, FlowId, FlowRecord, ImportCounters, ImportFormat, ImportId, ImportOptions,
    ImportRecord, ImportStatus, NewAuditEntry, NewEvent, OrgId, Role, UserId,
};
use parley_store::{ImportBatch, ImportRow, NewFlowVersion, RejectLine};
use parley_testkit::TestApp;
use serde_json::{Value, json};

/// The resources of one organization a request can name.
pub(super) struct Ids {
    pub(super) org: OrgId,
    pub(super) user: UserId,
    /// A pending invitation.
    pub(super) invitation: String,
    pub(super) key: ApiKeyId,
    pub(super) contact: ContactId,
    pub(super) import: ImportId,
    pub(super) field: String,
    pub(super) flow: FlowId,
    /// A flow nothing uses (so it can be archived).
    pub(super) spare_flow: FlowId,
    pub(super) webhook: String,
    pub(super) event: EventId,
    pub(super) sftp: String,
    pub(super) channel: String,
    pub(super) sim_channel: String,
    pub(super) conversation: String,
    pub(super) outcome: String,
    pub(super) queue: String,
    /// A draft campaign, a scheduled one and a paused one.
    pub(super) campaign: String,
    pub(super) scheduled_campaign: String,
    pub(super) paused_campaign: String,
}

/// A flow any organization can publish.
pub(super) fn flow_document(name: &str) -> Value {
    json!({"schema": 1, "name": name, "start": "bye",
        "steps": {"bye": {"type": "close", "status": "done", "text": "Goodbye <<first_name>>"}}})
}

/// An SFTP hook any organization can save (its host never resolves).
pub(super) fn twilio_channel(n: u32) -> Value {
    json!({"provider": "twilio", "name": format!("SMS {n}"), "sender": "+447700900001",
           "settings": {"account_sid": "AC0123456789abcdef0123456789abcdef"},
           "credentials": {"auth_token": format!("token {n}")}})
}

pub(super) fn sftp_hook(n: u32) -> Value {
    json!({"host": "sftp.example.invalid", "user": "parley", "password": format!("pw {n}"),
        "host_key": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJdD7y3aLq454yWBdwLWbieU1ebz9/cu7/QEXn9OIeZJ",
        "folder": "outbox"})
}

/// A webhook target that never resolves (`.invalid` is reserved), so saving accepts it
/// and sending fails without leaving the machine.
pub(super) const NOWHERE: &str = "https://receiver.example.invalid/hook";

/// A campaign of an organization's seeded import, flow and simulator, a day ahead.
pub(super) fn campaign_body(
    import: &str,
    flow: &str,
    channel: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Value {
    json!({"name": "Seeded", "audience": {"import_id": import}, "flow_id": flow,
           "channel_id": channel, "start_at": now + chrono::Duration::days(1)})
}

/// Fresh resources in `org` (so destructive cases never interfere).
pub(super) async fn seed(t: &TestApp, org: OrgId, n: &mut u32) -> Ids {
    *n += 1;
    let user = t
        .create_user(
            org,
            &format!("member{n}@example.test"),
            "Member",
            "member password 1".into(),
            Role::Agent,
        )
        .await
        .unwrap();
    let invitation = t
        .app
        .admin_invite(org, &format!("invited{n}@example.test"), Role::Viewer)
        .await
        .unwrap()
        .invitation
        .id
        .to_string();
    let key = t
        .app
        .admin_create_api_key(org, "seeded", Role::Viewer)
        .await
        .unwrap();
    let now = t.app.clock.now();
    let field = format!("seeded_{n}");
    t.store()
        .create_field(FieldDefinition {
            organization_id: org,
            key: field.parse().unwrap(),
            label: "Seeded".into(),
            field_type: FieldType::Text,
            pii: false,
            builtin: false,
            created_at: now,
            updated_at: now,
        })
        .await
        .unwrap();
    let import = ImportRecord {
        id: ImportId::generate(),
        organization_id: org,
        status: ImportStatus::Queued,
        format: ImportFormat::Csv,
        file_name: Some("seed.csv".into()),
        options: ImportOptions::default(),
        counters: ImportCounters::default(),
        bytes_total: 10,
        bytes_read: 0,
        rows_through: 0,
        error: None,
        warnings: Vec::new(),
        created_at: now,
        started_at: None,
        finished_at: None,
    };
    t.store().create_import(&import, None).await.unwrap();
    t.store()
        .start_import(import.id, &["phone".into()], &[], now)
        .await
        .unwrap();
    let contact = ContactId::generate();
    let batch = ImportBatch {
        channel: ChannelKind::Sms,
        rows: vec![ImportRow {
            row_number: 2,
            new_id: contact,
            customer_id: Some(format!("seed-{n}")),
            address: format!("+3538712{n:05}"),
            fields_json: json!({"first_name": "Seeded"}).to_string(),
        }],
        rejected_rows: 1,
        reject_lines: vec![RejectLine {
            row_number: 3,
            column: "phone".into(),
            value: "12".into(),
            reason: "not a phone number".into(),
            original: vec!["12".into()],
        }],
        bytes_read: 10,
        through_row: 0,
        new_fields: Vec::new(),
    };
    t.store()
        .apply_import_batch(import.id, org, &batch, &|_| Vec::new(), now)
        .await
        .unwrap();
    t.store()
        .finish_import(import.id, ImportStatus::Completed, None, now)
        .await
        .unwrap();
    let flow = FlowId::generate();
    let audit = |action| NewAuditEntry {
        id: AuditId::generate(),
        organization_id: Some(org),
        actor: "seed".into(),
        action,
        subject: flow.to_string(),
        detail: json!({}),
        at: now,
    };
    let draft = flow_document("Seeded").to_string();
    t.store()
        .create_flow(
            FlowRecord {
                id: flow,
                organization_id: org,
                name: "Seeded".into(),
                draft: draft.clone(),
                latest_version: None,
                created_by: None,
                created_at: now,
                updated_at: now,
                archived_at: None,
            },
            audit(AuditAction::FlowSaved),
        )
        .await
        .unwrap();
    t.store()
        .publish_flow_version(
            NewFlowVersion {
                flow_id: flow,
                organization_id: org,
                name: "Seeded".into(),
                document: draft,
                published_by: None,
                published_at: now,
            },
            audit(AuditAction::FlowPublished),
        )
        .await
        .unwrap();
    let spare_flow = FlowId::generate();
    t.store()
        .create_flow(
            FlowRecord {
                id: spare_flow,
                organization_id: org,
                name: "Spare".into(),
                draft: flow_document("Spare").to_string(),
                latest_version: None,
                created_by: None,
                created_at: now,
                updated_at: now,
                archived_at: None,
            },
            audit(AuditAction::FlowSaved),
        )
        .await
        .unwrap();
    // A webhook endpoint with one message, made through the API as its admin would.
    let admin = t.token_in(org, Role::Admin).await;
    let r = t
        .call(
            Method::POST,
            "/api/v1/webhooks",
            Some(&admin),
            None,
            Some(json!({"url": NOWHERE, "events": ["setStatus"]})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let webhook = r.json["id"].as_str().unwrap().to_owned();
    let r = t
        .call(
            Method::POST,
            "/api/v1/sftp",
            Some(&admin),
            None,
            Some(sftp_hook(*n)),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let sftp = r.json["id"].as_str().unwrap().to_owned();
    let r = t
        .call(
            Method::PUT,
            &format!("/api/v1/sftp/{sftp}/inbox"),
            Some(&admin),
            None,
            Some(json!({"folder": "inbox", "options": {"default_country": "IE"}})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let r = t
        .call(
            Method::PUT,
            "/api/v1/custom-value-endpoint",
            Some(&admin),
            None,
            Some(json!({"url": NOWHERE, "timeout_ms": 2000})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let r = t
        .call(
            Method::POST,
            "/api/v1/channels",
            Some(&admin),
            None,
            Some(twilio_channel(*n)),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let channel = r.json["id"].as_str().unwrap().to_owned();
    let r = t
        .call(
            Method::POST,
            "/api/v1/channels",
            Some(&admin),
            None,
            Some(json!({"provider": "sim", "name": "Simulator", "sender": "demo"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let sim_channel = r.json["id"].as_str().unwrap().to_owned();
    let r = t
        .call(
            Method::POST,
            &format!("/api/v1/channels/{sim_channel}/sim/inbound"),
            Some(&admin),
            None,
            Some(json!({"from": format!("+44791112{n:04}"), "text": "hello"})),
        )
        .await;
    assert_eq!(r.status, 202, "{}", r.json);
    let conversation = r.json["conversation"]["id"].as_str().unwrap().to_owned();
    // The statuses the seeded flow names, as an administrator defines them before publishing.
    t.define_flow_names(&admin, &flow_document("seeded")).await;
    let outcome = format!("seeded_{n}");
    let r = t
        .call(
            Method::POST,
            "/api/v1/outcome-statuses",
            Some(&admin),
            None,
            Some(json!({"key": outcome, "label": "Seeded", "category": "neutral"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let queue = format!("seeded-{n}");
    let r = t
        .call(
            Method::POST,
            "/api/v1/queues",
            Some(&admin),
            None,
            Some(json!({"key": queue, "name": "Seeded"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let r = t
        .call(
            Method::PUT,
            &format!("/api/v1/queues/{queue}/members/{}", user.id),
            Some(&admin),
            None,
            Some(json!({"capacity": 3})),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let mut campaigns = Vec::new();
    for moves in [&[][..], &["schedule"], &["schedule", "pause"]] {
        let r = t
            .call(
                Method::POST,
                "/api/v1/campaigns",
                Some(&admin),
                None,
                Some(campaign_body(
                    &import.id.to_string(),
                    &flow.to_string(),
                    &sim_channel,
                    now,
                )),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.json);
        let id = r.json["id"].as_str().unwrap().to_owned();
        for how in moves {
            let r = t
                .call(
                    Method::POST,
                    &format!("/api/v1/campaigns/{id}/{how}"),
                    Some(&admin),
                    None,
                    None,
                )
                .await;
            assert_eq!(r.status, 200, "{}", r.json);
        }
        campaigns.push(id);
    }
    let [campaign, scheduled_campaign, paused_campaign] =
        <[String; 3]>::try_from(campaigns).unwrap();
    let event = EventId::generate();
    t.store()
        .append_events(&[NewEvent {
            id: event,
            organization_id: org,
            event_type: EventType::SetStatus,
            timestamp: now,
            data: json!({"seeded": n.to_string()}),
        }])
        .await
        .unwrap();
    t.store().fan_out_events(100, now).await.unwrap();
    Ids {
        org,
        flow,
        spare_flow,
        webhook,
        event,
        sftp,
        channel,
        sim_channel,
        conversation,
        outcome,
        queue,
        campaign,
        scheduled_campaign,
        paused_campaign,
        user: user.id,
        invitation,
        key: key.key.id,
        contact,
        import: import.id,
        field,
    }
}
