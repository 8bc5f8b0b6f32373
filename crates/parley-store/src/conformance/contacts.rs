//! Checks for field definitions, contacts, suppressions and import batches.

use parley_domain::{
    ChannelAddress, ChannelKind, ContactId, FieldDefinition, FieldKey, FieldType, ImportStatus,
    OrgId,
};
use serde_json::json;

use super::fixtures::{at, create_org, new_import, t0};
use crate::{
    ContactFilter, ContactUpdate, FieldPatch, ImportBatch, ImportRow, PageRequest, RejectLine,
    Store, StoreError, Suppression,
};

fn key(k: &str) -> FieldKey {
    k.parse().unwrap()
}

fn sms(address: &str) -> ChannelAddress {
    ChannelAddress {
        kind: ChannelKind::Sms,
        address: address.to_owned(),
    }
}

pub async fn fields_are_defined_per_organization(s: &dyn Store) {
    let org = create_org(s, "Fields", None).await.id;
    let other = create_org(s, "Other", None).await.id;
    let field = FieldDefinition {
        organization_id: org,
        key: key("balance"),
        label: "Balance".into(),
        field_type: FieldType::Money,
        pii: false,
        builtin: false,
        created_at: t0(),
        updated_at: t0(),
    };
    s.create_field(field.clone()).await.unwrap();
    assert!(matches!(
        s.create_field(field.clone()).await,
        Err(StoreError::Conflict {
            constraint: "field_definitions_pkey"
        })
    ));
    s.create_field(FieldDefinition {
        organization_id: other,
        ..field.clone()
    })
    .await
    .unwrap();
    let updated = s
        .update_field(
            org,
            &key("balance"),
            FieldPatch {
                label: Some("Arrears".into()),
                pii: Some(true),
                field_type: None,
            },
            at(5),
        )
        .await
        .unwrap();
    assert_eq!(
        (
            updated.label.as_str(),
            updated.pii,
            updated.field_type,
            updated.updated_at
        ),
        ("Arrears", true, FieldType::Money, at(5))
    );
    assert!(matches!(
        s.update_field(org, &key("nope"), FieldPatch::default(), at(5))
            .await,
        Err(StoreError::NotFound)
    ));
    assert_eq!(s.list_fields(other).await.unwrap().len(), 1);
}

async fn contact_count(s: &dyn Store, org: parley_domain::OrgId) -> usize {
    let all = ContactFilter::default();
    s.list_contacts(org, &all, PageRequest::first(10))
        .await
        .unwrap()
        .items
        .len()
}

pub(super) fn row(
    n: u64,
    customer: Option<&str>,
    address: &str,
    fields: &serde_json::Value,
) -> ImportRow {
    ImportRow {
        row_number: n,
        new_id: ContactId::generate(),
        customer_id: customer.map(str::to_owned),
        address: address.to_owned(),
        fields_json: fields.to_string(),
    }
}

pub(super) fn batch(rows: Vec<ImportRow>) -> ImportBatch {
    let through_row = rows.iter().map(|r| r.row_number).max().unwrap_or(0);
    ImportBatch {
        channel: ChannelKind::Sms,
        rows,
        rejected_rows: 0,
        reject_lines: Vec::new(),
        bytes_read: 50,
        through_row,
        new_fields: Vec::new(),
    }
}

/// One writer applies several batches: the counters always describe the committed
/// contacts, whatever the engine's commit grouping; `finish` commits everything; a writer
/// dropped unfinished loses only what it had not committed, and leaves the store usable.
pub async fn import_writers_commit_on_finish_and_roll_back_when_dropped(s: &dyn Store) {
    let org = create_org(s, "Writer", None).await.id;
    let imp = new_import(org);
    s.create_import(&imp, None).await.unwrap();
    s.start_import(imp.id, &["phone".into()], &[], at(1))
        .await
        .unwrap();
    let none = |_: usize| -> Vec<String> { unreachable!("no conflicts expected") };
    let mut writer = s.import_writer(imp.id, org).await.unwrap();
    let first = batch(vec![row(2, Some("W1"), "+353871000001", &json!({}))]);
    let second = batch(vec![
        row(3, Some("W2"), "+353871000002", &json!({})),
        // A known customer_id with a new address: the contact gains the address.
        row(4, Some("W1"), "+353871000003", &json!({"name": "Wyn"})),
    ]);
    let a = writer.apply(&first, &none, at(2)).await.unwrap();
    let b = writer.apply(&second, &none, at(2)).await.unwrap();
    assert_eq!((a.contacts_created, b.contacts_created), (1, 1));
    assert_eq!(b.contacts_updated, 1);
    // Readers are not blocked while the writer holds its transaction.
    s.get_import(org, imp.id).await.unwrap().unwrap();
    writer.finish().await.unwrap();
    let done = s.get_import(org, imp.id).await.unwrap().unwrap();
    assert_eq!(
        (done.counters.rows_total, done.counters.contacts_created),
        (3, 2)
    );
    assert_eq!(contact_count(s, org).await, 2);
    let w1 = s
        .list_contacts(
            org,
            &ContactFilter {
                customer_id: Some("W1".into()),
                ..ContactFilter::default()
            },
            PageRequest::first(10),
        )
        .await
        .unwrap()
        .items;
    assert_eq!(
        w1[0].addresses,
        [sms("+353871000001"), sms("+353871000003")]
    );

    // Dropped unfinished: whatever survived is counted, nothing more.
    let mut writer = s.import_writer(imp.id, org).await.unwrap();
    let third = batch(vec![row(5, Some("W3"), "+353871000005", &json!({}))]);
    writer.apply(&third, &none, at(3)).await.unwrap();
    drop(writer);
    let after = s.get_import(org, imp.id).await.unwrap().unwrap();
    let kept = contact_count(s, org).await as u64;
    assert_eq!(after.counters.contacts_created, kept);
    assert_eq!(after.counters.rows_total, kept + 1);
    // The store takes writes again (no transaction or lock was left behind).
    let c = s
        .apply_import_batch(imp.id, org, &third, &none, at(4))
        .await
        .unwrap();
    assert_eq!(c.rows_total, 1);
    assert_eq!(contact_count(s, org).await, 3);
}

/// An import's new fields are created with its first imported row, typed as planned and
/// in the same transaction; a batch whose every row is refused creates none, and a field
/// the organization already has keeps its definition.
pub async fn import_batches_create_their_new_fields_with_the_first_imported_row(s: &dyn Store) {
    let org = create_org(s, "New fields", None).await.id;
    let imp = new_import(org);
    s.create_import(&imp, None).await.unwrap();
    s.start_import(imp.id, &["phone".into()], &[], at(1))
        .await
        .unwrap();
    let field = |k: &str, t: FieldType, pii: bool| FieldDefinition {
        organization_id: org,
        key: key(k),
        label: k.replace('_', " "),
        field_type: t,
        pii,
        builtin: false,
        created_at: at(2),
        updated_at: at(2),
    };
    s.create_field(field("balance", FieldType::Text, false))
        .await
        .unwrap();
    let new_fields = vec![
        field("date_of_birth", FieldType::Date, true),
        field("balance", FieldType::Money, false),
    ];
    let none = |_: usize| -> Vec<String> { unreachable!("no conflicts expected") };
    // Every row refused by validation: no field.
    let refused = ImportBatch {
        rejected_rows: 2,
        reject_lines: vec![RejectLine {
            row_number: 2,
            column: "date_of_birth".into(),
            value: "31/02/1980".into(),
            reason: "day 31 does not exist in 1980-02".into(),
            original: vec!["+353871000101".into(), "31/02/1980".into()],
        }],
        new_fields: new_fields.clone(),
        ..batch(Vec::new())
    };
    s.apply_import_batch(imp.id, org, &refused, &none, at(3))
        .await
        .unwrap();
    let keys = |fields: Vec<FieldDefinition>| -> Vec<(String, FieldType, bool)> {
        fields
            .into_iter()
            .map(|f| (f.key.as_str().to_owned(), f.field_type, f.pii))
            .collect()
    };
    assert_eq!(
        keys(s.list_fields(org).await.unwrap()),
        [("balance".to_owned(), FieldType::Text, false)],
        "a batch that imports nothing creates no field"
    );
    let imported = ImportBatch {
        new_fields,
        ..batch(vec![row(
            3,
            None,
            "+353871000102",
            &json!({"date_of_birth": "1980-02-01", "balance": "1.00"}),
        )])
    };
    let c = s
        .apply_import_batch(imp.id, org, &imported, &none, at(4))
        .await
        .unwrap();
    assert_eq!(c.rows_imported, 1);
    let mut listed = keys(s.list_fields(org).await.unwrap());
    listed.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        listed,
        [
            ("balance".to_owned(), FieldType::Text, false),
            ("date_of_birth".to_owned(), FieldType::Date, true)
        ],
        "created with the row, typed and marked as planned; the existing one kept"
    );
    let dob = s
        .list_fields(org)
        .await
        .unwrap()
        .into_iter()
        .find(|f| f.key.as_str() == "date_of_birth")
        .unwrap();
    assert_eq!(
        (dob.label.as_str(), dob.created_at),
        ("date of birth", at(4))
    );
}

pub async fn import_batches_upsert_and_count(s: &dyn Store) {
    let org = create_org(s, "Importer", None).await.id;
    let imp = new_import(org);
    s.create_import(&imp, None).await.unwrap();
    s.set_import_size(imp.id, 100).await.unwrap();
    s.put_import_chunk(imp.id, 0, b"phone\n").await.unwrap();
    s.put_import_chunk(imp.id, 1, b"+353871234567\n")
        .await
        .unwrap();
    assert_eq!(
        s.import_chunk(imp.id, 1).await.unwrap().as_deref(),
        Some(&b"+353871234567\n"[..])
    );
    assert_eq!(s.import_chunk(imp.id, 2).await.unwrap(), None);
    s.start_import(
        imp.id,
        &["phone".into(), "name".into()],
        &["w".into()],
        at(1),
    )
    .await
    .unwrap();
    assert_eq!(s.import_header(imp.id).await.unwrap(), ["phone", "name"]);
    let no_originals = |_: usize| -> Vec<String> { unreachable!("no conflicts expected") };
    let first = batch(vec![
        row(
            2,
            Some("C1"),
            "+353871111111",
            &json!({"name": "Ann", "balance": "10.00"}),
        ),
        row(3, None, "+353872222222", &json!({"name": "Bob"})),
    ]);
    let mut with_reject = first.clone();
    with_reject.rejected_rows = 1;
    with_reject.reject_lines = vec![RejectLine {
        row_number: 4,
        column: "phone".into(),
        value: "12".into(),
        reason: "bad".into(),
        original: vec!["12".into(), "Cy".into()],
    }];
    let c = s
        .apply_import_batch(imp.id, org, &with_reject, &no_originals, at(2))
        .await
        .unwrap();
    assert_eq!(
        (
            c.contacts_created,
            c.rows_imported,
            c.rows_rejected,
            c.rows_total
        ),
        (2, 2, 1, 3)
    );
    // The same rows again: found unchanged, nothing written.
    let c = s
        .apply_import_batch(imp.id, org, &first, &no_originals, at(3))
        .await
        .unwrap();
    assert_eq!(
        (c.contacts_unchanged, c.contacts_created, c.contacts_updated),
        (2, 0, 0)
    );
    let ann = s
        .list_contacts(
            org,
            &ContactFilter {
                customer_id: Some("C1".into()),
                ..ContactFilter::default()
            },
            PageRequest::first(10),
        )
        .await
        .unwrap()
        .items;
    assert_eq!(ann.len(), 1);
    assert_eq!(
        ann[0].updated_at,
        at(2),
        "an unchanged row does not touch the contact"
    );
    // Changed values update by customer_id (a new address is added); by address otherwise;
    // an address held by another contact is refused with the original cells.
    let changed = batch(vec![
        row(2, Some("C1"), "+353873333333", &json!({"balance": "12.50"})),
        row(3, None, "+353872222222", &json!({"name": "Robert"})),
        row(5, Some("C9"), "+353871111111", &json!({"name": "Thief"})),
    ]);
    let originals = |i: usize| vec![format!("original {i}")];
    let c = s
        .apply_import_batch(imp.id, org, &changed, &originals, at(4))
        .await
        .unwrap();
    assert_eq!(
        (
            c.contacts_updated,
            c.contacts_created,
            c.rows_rejected,
            c.rows_total
        ),
        (2, 0, 1, 3)
    );
    let ann = s.get_contact(org, ann[0].id).await.unwrap().unwrap();
    assert_eq!(
        serde_json::Value::Object(ann.fields.clone()),
        json!({"name": "Ann", "balance": "12.50"})
    );
    assert_eq!(ann.addresses, [sms("+353871111111"), sms("+353873333333")]);
    let lines = s.import_reject_lines(imp.id, 0, 10).await.unwrap();
    assert_eq!(lines.len(), 2);
    assert_eq!((lines[0].0, lines[0].1.row_number), (1, 4));
    assert_eq!(
        (
            lines[1].0,
            lines[1].1.row_number,
            lines[1].1.original.clone()
        ),
        (2, 5, vec!["original 2".to_owned()])
    );
    assert!(
        lines[1].1.reason.contains("customer_id C1"),
        "{:?}",
        lines[1].1
    );
    assert_eq!(s.import_reject_lines(imp.id, 1, 10).await.unwrap().len(), 1);
    s.finish_import(imp.id, ImportStatus::Completed, None, at(9))
        .await
        .unwrap();
    let done = s.get_import(org, imp.id).await.unwrap().unwrap();
    assert_eq!(done.status, ImportStatus::Completed);
    assert_eq!(done.counters.rows_total, 8);
    assert_eq!(
        done.counters.rows_total,
        done.counters.rows_imported + done.counters.rows_rejected
    );
    assert_eq!(
        (done.bytes_read, done.warnings.clone(), done.finished_at),
        (100, vec!["w".to_owned()], Some(at(9)))
    );
    assert_eq!(s.find_import(imp.id).await.unwrap().unwrap().id, imp.id);
    let other = create_org(s, "Not the importer", None).await.id;
    assert_eq!(s.get_import(other, imp.id).await.unwrap(), None);
    assert_eq!(
        s.list_imports(org, PageRequest::first(10))
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    // Starting again (a retried job) keeps what was committed: the counters, the report
    // and where to go on from, so nothing moves back and nothing is counted twice.
    let lines_before = s.import_reject_lines(imp.id, 0, 10).await.unwrap();
    assert!(!lines_before.is_empty());
    s.start_import(imp.id, &[], &[], at(10)).await.unwrap();
    let again = s.find_import(imp.id).await.unwrap().unwrap();
    assert_eq!(again.status, ImportStatus::Running);
    assert_eq!(again.counters, done.counters);
    assert_eq!(again.rows_through, done.rows_through);
    assert!(
        again.rows_through > 0,
        "the batches recorded their last row"
    );
    assert_eq!(again.started_at, done.started_at, "the first start is kept");
    assert_eq!(
        s.import_reject_lines(imp.id, 0, 10).await.unwrap(),
        lines_before
    );
    s.delete_import_chunks(imp.id).await.unwrap();
    assert_eq!(s.import_chunk(imp.id, 0).await.unwrap(), None);
    assert_eq!(contact_count(s, org).await, 2);
}

/// One contact is created with its values and addresses, all or nothing: a customer id
/// or an address another contact holds refuses the whole contact.
pub async fn contacts_are_created_whole_or_not_at_all(s: &dyn Store) {
    let org = create_org(s, "Created", None).await.id;
    let update = |customer: &str, addresses: &[&str]| ContactUpdate {
        customer_id: Some(Some(customer.to_owned())),
        fields: json!({"first_name": "Ada", "balance": "12.50"})
            .as_object()
            .unwrap()
            .clone(),
        add_addresses: addresses.iter().map(|a| sms(a)).collect(),
        remove_addresses: Vec::new(),
    };
    let id = ContactId::generate();
    let made = s
        .create_contact(
            org,
            id,
            update("N1", &["+353871000201", "+353871000202"]),
            at(1),
        )
        .await
        .unwrap();
    assert_eq!(made.id, id);
    assert_eq!(made.customer_id.as_deref(), Some("N1"));
    assert_eq!(made.fields["balance"], "12.50");
    assert_eq!(made.addresses, [sms("+353871000201"), sms("+353871000202")]);
    assert_eq!(made.created_at, at(1));
    assert_eq!(s.get_contact(org, id).await.unwrap(), Some(made));

    let taken_address = s
        .create_contact(
            org,
            ContactId::generate(),
            update("N2", &["+353871000299", "+353871000202"]),
            at(2),
        )
        .await;
    assert!(
        matches!(
            taken_address,
            Err(StoreError::Conflict {
                constraint: "contact_addresses_pkey"
            })
        ),
        "{taken_address:?}"
    );
    let taken_customer = s
        .create_contact(
            org,
            ContactId::generate(),
            update("N1", &["+353871000298"]),
            at(2),
        )
        .await;
    assert!(
        matches!(
            taken_customer,
            Err(StoreError::Conflict {
                constraint: "contacts_customer_key"
            })
        ),
        "{taken_customer:?}"
    );
    assert_eq!(
        contact_count(s, org).await,
        1,
        "a refused contact leaves nothing"
    );
    // The refused contacts' other addresses stayed free.
    s.create_contact(
        org,
        ContactId::generate(),
        update("N3", &["+353871000299", "+353871000298"]),
        at(3),
    )
    .await
    .unwrap();
    assert!(matches!(
        s.create_contact(
            OrgId::generate(),
            ContactId::generate(),
            update("N4", &[]),
            at(3)
        )
        .await,
        Err(StoreError::NotFound)
    ));
}

pub async fn contacts_filter_update_and_delete(s: &dyn Store) {
    let org = create_org(s, "Contacts", None).await.id;
    let imp = new_import(org);
    s.create_import(&imp, None).await.unwrap();
    let none = |_: usize| -> Vec<String> { Vec::new() };
    s.apply_import_batch(
        imp.id,
        org,
        &batch(vec![
            row(
                2,
                Some("A"),
                "+353871000001",
                &json!({"vip": true, "balance": "5.00", "n": 10}),
            ),
            row(
                3,
                Some("B"),
                "+353871000002",
                &json!({"vip": false, "balance": "5.00", "n": 10.5}),
            ),
        ]),
        &none,
        at(1),
    )
    .await
    .unwrap();
    let by = |fields: Vec<(&str, serde_json::Value)>| ContactFilter {
        fields: fields.into_iter().map(|(k, v)| (key(k), v)).collect(),
        ..ContactFilter::default()
    };
    let ids = |page: crate::Page<parley_domain::Contact>| {
        page.items
            .into_iter()
            .map(|c| c.customer_id.unwrap())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(s
            .list_contacts(org, &by(vec![("vip", json!(true))]), PageRequest::first(10))
            .await
            .unwrap()),
        ["A"]
    );
    assert_eq!(
        ids(s
            .list_contacts(
                org,
                &by(vec![("balance", json!("5.00")), ("vip", json!(false))]),
                PageRequest::first(10)
            )
            .await
            .unwrap()),
        ["B"]
    );
    assert_eq!(
        ids(s
            .list_contacts(org, &by(vec![("n", json!(10))]), PageRequest::first(10))
            .await
            .unwrap()),
        ["A"]
    );
    assert_eq!(
        ids(s
            .list_contacts(
                org,
                &by(vec![("missing", json!("x"))]),
                PageRequest::first(10)
            )
            .await
            .unwrap()),
        Vec::<String>::new()
    );
    for (filter, n) in [
        (ContactFilter::default(), 2),
        (by(vec![("vip", json!(true))]), 1),
        (by(vec![("balance", json!("5.00"))]), 2),
        (by(vec![("missing", json!("x"))]), 0),
    ] {
        assert_eq!(
            s.count_contacts(org, &filter).await.unwrap(),
            n,
            "{filter:?}"
        );
    }
    let by_address = ContactFilter {
        address: Some("+353871000002".into()),
        ..ContactFilter::default()
    };
    let b = s
        .list_contacts(org, &by_address, PageRequest::first(10))
        .await
        .unwrap()
        .items
        .remove(0);
    let page = s
        .list_contacts(org, &ContactFilter::default(), PageRequest::first(1))
        .await
        .unwrap();
    let next = s
        .list_contacts(
            org,
            &ContactFilter::default(),
            PageRequest::after(page.next_cursor.clone().unwrap(), 1),
        )
        .await
        .unwrap();
    assert_eq!(
        (page.items.len(), next.items.len(), next.next_cursor),
        (1, 1, None)
    );

    let mut update = ContactUpdate {
        customer_id: Some(Some("B2".into())),
        add_addresses: vec![sms("+353871000003")],
        remove_addresses: vec![sms("+353871000002")],
        ..ContactUpdate::default()
    };
    update.fields.insert("vip".into(), serde_json::Value::Null);
    update.fields.insert("note".into(), json!("hi"));
    let b2 = s.update_contact(org, b.id, update, at(2)).await.unwrap();
    assert_eq!(b2.customer_id.as_deref(), Some("B2"));
    assert_eq!(
        serde_json::Value::Object(b2.fields.clone()),
        json!({"balance": "5.00", "n": 10.5, "note": "hi"})
    );
    assert_eq!(
        (b2.addresses.clone(), b2.updated_at),
        (vec![sms("+353871000003")], at(2))
    );
    let steal = ContactUpdate {
        add_addresses: vec![sms("+353871000001")],
        ..ContactUpdate::default()
    };
    assert!(matches!(
        s.update_contact(org, b.id, steal, at(3)).await,
        Err(StoreError::Conflict {
            constraint: "contact_addresses_pkey"
        })
    ));
    let dup = ContactUpdate {
        customer_id: Some(Some("A".into())),
        ..ContactUpdate::default()
    };
    assert!(matches!(
        s.update_contact(org, b.id, dup, at(3)).await,
        Err(StoreError::Conflict {
            constraint: "contacts_customer_key"
        })
    ));
    assert_eq!(
        s.get_contact(org, b.id).await.unwrap().unwrap(),
        b2,
        "failed updates change nothing"
    );
    let other = create_org(s, "Elsewhere", None).await.id;
    assert_eq!(s.get_contact(other, b.id).await.unwrap(), None);
    assert!(matches!(
        s.delete_contact(other, b.id).await,
        Err(StoreError::NotFound)
    ));
    s.delete_contact(org, b.id).await.unwrap();
    assert_eq!(s.get_contact(org, b.id).await.unwrap(), None);
    assert_eq!(contact_count(s, org).await, 1);

    let suppression = Suppression {
        organization_id: org,
        channel_kind: ChannelKind::Sms,
        address_hash: "ab12".into(),
        reason: "stop_keyword".into(),
        created_at: at(4),
    };
    s.add_suppression(suppression.clone()).await.unwrap();
    s.add_suppression(Suppression {
        reason: "manual".into(),
        ..suppression.clone()
    })
    .await
    .unwrap();
    assert_eq!(
        s.find_suppression(org, ChannelKind::Sms, "ab12")
            .await
            .unwrap()
            .map(|x| x.reason),
        Some("stop_keyword".to_owned()),
        "the first entry is kept"
    );
    assert!(
        s.find_suppression(org, ChannelKind::Whatsapp, "ab12")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        s.find_suppression(other, ChannelKind::Sms, "ab12")
            .await
            .unwrap()
            .is_none()
    );
    let among =
        |org, kind| s.suppressed_among(org, kind, vec!["zz99".to_owned(), "ab12".to_owned()]);
    assert_eq!(among(org, ChannelKind::Sms).await.unwrap(), ["ab12"]);
    assert!(among(org, ChannelKind::Whatsapp).await.unwrap().is_empty());
    assert!(among(other, ChannelKind::Sms).await.unwrap().is_empty());
    assert_eq!(
        s.list_suppressions(org, None, PageRequest::first(10))
            .await
            .unwrap()
            .items,
        std::slice::from_ref(&suppression)
    );
    assert!(
        s.list_suppressions(org, Some(ChannelKind::Webchat), PageRequest::first(10))
            .await
            .unwrap()
            .items
            .is_empty()
    );
}
