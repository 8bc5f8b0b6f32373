//! Canned replies in the web application: supervisors and above save, change and remove
//! them on their page (every bad field named at once, what was typed kept); the desk
//! offers them in the reply box filled for the open conversation's contact; agents read
//! them but cannot change them, viewers do not get the page, and every post needs the
//! session's CSRF token.

use http::StatusCode;
use parley_domain::Role;

use crate::web::{
    assert_page_headers, cookies_of, csrf_field, first_row, form, get, html, location, maria_waits,
    poster, sign_in,
};

#[tokio::test]
async fn canned_replies_are_managed_by_supervisors_and_offered_filled_in_the_desk() {
    let (t, owner) = maria_waits().await;
    let org = t.root.organization;
    let path = format!("/app/{org}/replies");
    let page = t.send(get(&path, &owner)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_page_headers(&page);
    assert!(html(&page).contains("No canned replies yet."));
    assert!(
        html(&page).contains(">Canned replies</a>"),
        "the top bar links the page for a supervisor and above"
    );
    let csrf = csrf_field(html(&page));
    let post = poster(&path, &owner, &csrf);

    // Every bad field at once, and what was typed stays in the form.
    let refused = t
        .send(post(&[
            ("action", "create"),
            ("key", "Promise!"),
            ("title", " "),
            ("body", "Thanks <<first_name"),
        ]))
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let text = html(&refused);
    for shown in [
        "key must be 1 to 64 lower-case letters, digits, &#39;_&#39; or &#39;-&#39;",
        "title must be 1 to 100 characters",
        "body column 8: `&#60;&#60;` is not closed by `&#62;&#62;`",
        "value=\"Promise!\"",
        ">Thanks &#60;&#60;first_name</textarea>",
    ] {
        assert!(text.contains(shown), "{shown}: {text}");
    }

    let saved = t
        .send(post(&[
            ("action", "create"),
            ("key", "promise"),
            ("title", "Promise to pay"),
            (
                "body",
                "Thank you <<first_name>>, we noted your promise.<<nothing>>",
            ),
        ]))
        .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&saved), path);
    let again = t
        .send(post(&[
            ("action", "create"),
            ("key", "promise"),
            ("title", "Again"),
            ("body", "x"),
        ]))
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert!(html(&again).contains("a saved reply with this key exists"));
    let changed = t
        .send(post(&[
            ("action", "update"),
            ("key", "promise"),
            ("title", "Promise to pay"),
            (
                "body",
                "Thank you, <<first_name>>: we noted your promise.<<nothing>>",
            ),
        ]))
        .await;
    assert_eq!(changed.status, StatusCode::SEE_OTHER);
    t.send(post(&[
        ("action", "create"),
        ("key", "bank"),
        ("title", "Bank details"),
        (
            "body",
            "Pay to IBAN GB33BUKB20201555555555, reference <<customer_id>>.",
        ),
    ]))
    .await;
    let refused = t
        .send(post(&[
            ("action", "update"),
            ("key", "bank"),
            ("title", "Bank details"),
            ("body", ""),
        ]))
        .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html(&refused).contains("<details class=\"edit\" open>"),
        "the refused change's form is open with its problem"
    );
    let page = html(&t.send(get(&path, &owner)).await).to_owned();
    assert!(page.contains("Thank you, &#60;&#60;first_name&#62;&#62;: we noted"));

    // The desk offers them filled for the contact, as a flow fills its messages.
    let list = t
        .send(get(
            &format!("/app/{org}/conversations?view=unassigned"),
            &owner,
        ))
        .await;
    let thread = html(&t.send(get(&first_row(html(&list)), &owner)).await).to_owned();
    for shown in [
        "role=\"listbox\" aria-label=\"Canned replies\"",
        "<span class=\"canned-text\">Thank you, Maria: we noted your promise.</span>",
        "<span class=\"canned-text\">Pay to IBAN GB33BUKB20201555555555, reference AC-7.</span>",
        "data-match=\"promise promise to pay\"",
        "aria-controls=\"canned-list\"",
    ] {
        assert!(thread.contains(shown), "{shown}");
    }

    // An agent reads the list but has no forms, and a post of theirs is refused.
    t.create_user(
        org,
        "avery@example.test",
        "Avery Agent",
        "avery password 1".into(),
        Role::Agent,
    )
    .await
    .unwrap();
    let agent = cookies_of(&sign_in(&t, "avery@example.test", "avery password 1", "").await);
    let seen = t.send(get(&path, &agent)).await;
    assert_eq!(seen.status, StatusCode::OK);
    let seen = html(&seen).to_owned();
    assert!(seen.contains("Promise to pay"));
    assert!(!seen.contains("Save reply") && !seen.contains(">Canned replies</a>"));
    let forged = t
        .send(form(
            &path,
            &agent,
            &[
                ("csrf", &csrf_field(&seen)),
                ("action", "delete"),
                ("key", "promise"),
            ],
        ))
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    // A viewer does not get the page; a post without the token changes nothing.
    t.create_user(
        org,
        "viewer@example.test",
        "Vera Viewer",
        "viewer password 1".into(),
        Role::Viewer,
    )
    .await
    .unwrap();
    let viewer = cookies_of(&sign_in(&t, "viewer@example.test", "viewer password 1", "").await);
    assert_eq!(
        t.send(get(&path, &viewer)).await.status,
        StatusCode::FORBIDDEN
    );
    let no_token = t
        .send(form(
            &path,
            &owner,
            &[("action", "delete"), ("key", "promise")],
        ))
        .await;
    assert_eq!(no_token.status, StatusCode::FORBIDDEN);

    let removed = t
        .send(post(&[("action", "delete"), ("key", "promise")]))
        .await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER);
    let page = html(&t.send(get(&path, &owner)).await).to_owned();
    assert!(!page.contains("Promise to pay") && page.contains("Bank details"));
}
