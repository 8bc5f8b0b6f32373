//! The Contacts pages as people use them: the list found by customer id, by a phone
//! number in local form and by a field's value read by its type (a bad value named
//! beside its box); a contact's page with its fields as people read them, edited (a bad
//! value named, what was typed kept) and deleted only once the box is ticked; field
//! definitions added and changed; the suppression list checked and added to; a viewer
//! reads without controls and a forged change is refused; an agent has none of it.

use http::StatusCode;
use parley_domain::Role;
use parley_testkit::{OWNER_PASSWORD, TestApp};
use serde_json::json;

use crate::web::{
    OWNER, assert_page_headers, cookies_of, csrf_field, form, get, html, person, poster, sign_in,
};

#[tokio::test]
async fn people_find_read_edit_and_delete_contacts_and_keep_the_fields_and_suppressions() {
    let t = TestApp::new().await;
    let org = t.root.organization;
    let token = t.owner_token().await;
    t.define_fields(&token, &[("balance", "money")]).await;
    let ada = t
        .post_ok(
            &token,
            "/api/v1/contacts",
            json!({"customer_id": "C1", "fields": {"first_name": "Ada", "last_name": "<b>Byron</b>", "balance": "12.5"},
                   "addresses": [{"kind": "sms", "address": "+447911123456"}]}),
        )
        .await;
    let ada_id = ada["id"].as_str().unwrap().to_owned();
    t.post_ok(
        &token,
        "/api/v1/contacts",
        json!({"customer_id": "C2", "fields": {"first_name": "Bob", "balance": "99"},
               "addresses": [{"kind": "sms", "address": "+447911000222"}]}),
    )
    .await;
    let owner = cookies_of(&sign_in(&t, OWNER, OWNER_PASSWORD, "").await);
    let list = format!("/app/{org}/contacts");
    let page = t.send(get(&list, &owner)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_page_headers(&page);
    let text = html(&page).to_owned();
    assert!(text.contains("aria-current=\"page\">Contacts</a>"));
    assert!(
        text.contains("Ada &#60;b&#62;Byron&#60;/b&#62;</a>") && text.contains(">Bob</a>"),
        "{text}"
    );
    let found = |query: &str| {
        let t = &t;
        let path = format!("{list}?{query}");
        let owner = owner.clone();
        async move { t.send(get(&path, &owner)).await }
    };
    for query in [
        "customer_id=C1",
        "address=07911+123456",
        "field=balance&value=12.50",
    ] {
        let text = html(&found(query).await).to_owned();
        assert!(
            text.contains(">Ada ") && !text.contains(">Bob</a>"),
            "{query}: {text}"
        );
    }
    let bad = found("field=balance&value=lots").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html(&bad).contains("id=\"find-value-problem\""),
        "{}",
        html(&bad)
    );

    // The contact's page, edited.
    let path = format!("{list}/{ada_id}");
    let text = html(&t.send(get(&path, &owner)).await).to_owned();
    assert!(text.contains("<dt>balance</dt><dd>£12.50</dd>"), "{text}");
    assert!(text.contains("+447911123456"));
    let csrf = csrf_field(&text);
    let post = poster(&path, &owner, &csrf);
    let r = t
        .send(post(&[
            ("action", "update"),
            ("customer_id", "C1"),
            ("fields.first_name", "Ada"),
            ("fields.balance", "lots"),
        ]))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let text = html(&r).to_owned();
    assert!(
        text.contains("id=\"edit-balance-problem\"") && text.contains("value=\"lots\""),
        "{text}"
    );
    let r = t
        .send(post(&[
            ("action", "update"),
            ("customer_id", "C1-A"),
            ("fields.first_name", "Ada"),
            ("fields.last_name", "Lovelace"),
            ("fields.balance", "20"),
        ]))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", html(&r));
    let stored = t
        .get(&format!("/api/v1/contacts/{ada_id}"), &token)
        .await
        .json;
    assert_eq!(
        (
            stored["customer_id"].clone(),
            stored["fields"]["balance"].clone()
        ),
        (json!("C1-A"), json!("20.00"))
    );
    assert_eq!(stored["fields"]["last_name"], "Lovelace");

    // Deleted only when meant.
    let r = t.send(post(&[("action", "delete")])).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html(&r).contains("role=\"alert\">confirm tick the box"),
        "{}",
        html(&r)
    );
    assert_eq!(
        t.get(&format!("/api/v1/contacts/{ada_id}"), &token)
            .await
            .status,
        StatusCode::OK
    );
    let r = t
        .send(post(&[("action", "delete"), ("confirm", "1")]))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        t.send(get(&path, &owner)).await.status,
        StatusCode::NOT_FOUND
    );

    // Fields and the suppression list.
    let fields = format!("{list}/fields");
    let text = html(&t.send(get(&fields, &owner)).await).to_owned();
    assert!(text.contains("Customer ID · text") && text.contains("(built in)"));
    let csrf = csrf_field(&text);
    let post = poster(&fields, &owner, &csrf);
    let r = t
        .send(post(&[
            ("action", "create-field"),
            ("key", "Bad Key"),
            ("type", "text"),
        ]))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html(&r).contains("id=\"field-key-problem\"") && html(&r).contains("value=\"Bad Key\"")
    );
    let r = t
        .send(post(&[
            ("action", "create-field"),
            ("key", "region"),
            ("label", "Region"),
            ("type", "text"),
            ("pii", "1"),
        ]))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = t
        .send(post(&[
            ("action", "update-field"),
            ("key", "region"),
            ("label", "Sales region"),
            ("type", "text"),
        ]))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let r = t
        .send(post(&[
            ("action", "create-field"),
            ("key", "note"),
            ("label", "<img src=x onerror=alert(1)>"),
            ("type", "text"),
        ]))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let text = html(&t.send(get(&fields, &owner)).await).to_owned();
    assert!(
        text.contains("value=\"&#60;img src=x onerror=alert(1)&#62;\"")
            && !text.contains("<img src=x"),
        "labels render inert"
    );
    let defined = t.get("/api/v1/fields", &token).await.json;
    let region = defined["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == "region")
        .cloned()
        .unwrap();
    assert_eq!(
        (region["label"].clone(), region["pii"].clone()),
        (json!("Sales region"), json!(false))
    );

    let r = t
        .send(post(&[
            ("action", "suppress"),
            ("kind", "sms"),
            ("address", "07911 000111"),
            ("reason", "asked by phone"),
        ]))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", html(&r));
    let on = html(
        &t.send(get(
            &format!("{fields}?kind=sms&address=%2B447911000111"),
            &owner,
        ))
        .await,
    )
    .to_owned();
    assert!(
        on.contains("<td data-label=\"Why\">asked by phone</td>"),
        "{on}"
    );
    let off = html(
        &t.send(get(
            &format!("{fields}?kind=sms&address=07911000999"),
            &owner,
        ))
        .await,
    )
    .to_owned();
    assert!(off.contains("That address is not on the list."));
}

#[tokio::test]
async fn a_viewer_reads_contacts_without_controls_and_an_agent_has_no_contact_pages() {
    let t = TestApp::new().await;
    let org = t.root.organization;
    let token = t.owner_token().await;
    let c = t
        .post_ok(
            &token,
            "/api/v1/contacts",
            json!({"customer_id": "C9", "fields": {"first_name": "Cy"}, "addresses": [{"kind": "sms", "address": "+447911000333"}]}),
        )
        .await;
    let path = format!("/app/{org}/contacts/{}", c["id"].as_str().unwrap());
    let vic = person(&t, org, "vic@example.test", Role::Viewer).await;
    let text = html(&t.send(get(&path, &vic)).await).to_owned();
    assert!(
        text.contains("<h1>Cy</h1>")
            && !text.contains("id=\"edit-title\"")
            && !text.contains("Delete contact")
    );
    assert!(
        !html(
            &t.send(get(&format!("/app/{org}/contacts/fields"), &vic))
                .await
        )
        .contains("Add field")
    );
    let forged = form(
        &path,
        &vic,
        &[
            ("csrf", &csrf_field(&text)),
            ("action", "delete"),
            ("confirm", "1"),
        ],
    );
    assert_eq!(t.send(forged).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        t.get(
            &format!("/api/v1/contacts/{}", c["id"].as_str().unwrap()),
            &token
        )
        .await
        .status,
        StatusCode::OK
    );

    let forged = form(
        &format!("/app/{org}/contacts/fields"),
        &vic,
        &[
            ("csrf", &csrf_field(&text)),
            ("action", "suppress"),
            ("kind", "sms"),
            ("address", "+447911000333"),
        ],
    );
    assert_eq!(
        t.send(forged).await.status,
        StatusCode::FORBIDDEN,
        "a viewer suppresses nothing"
    );
    let listed = t.get("/api/v1/contacts/suppressions", &token).await;
    assert_eq!(listed.json["data"], json!([]), "{}", listed.json);

    let ann = person(&t, org, "ann@example.test", Role::Agent).await;
    let desk = html(
        &t.send(get(&format!("/app/{org}/conversations"), &ann))
            .await,
    )
    .to_owned();
    assert!(!desk.contains(">Contacts</a>"));
    for page in [
        format!("/app/{org}/contacts"),
        path,
        format!("/app/{org}/contacts/fields"),
    ] {
        assert_eq!(
            t.send(get(&page, &ann)).await.status,
            StatusCode::FORBIDDEN,
            "{page}"
        );
    }
}
