//! The Organizations page as an administrator uses it: the tree of organizations with
//! which settings are still their parent's, a sub-organization added (blank fields taking
//! the parent's settings) under the page's organization and under one below it, settings
//! edited, every bad field of a refused form shown at once beside its field with what was
//! typed kept; an administrator of a sub-organization sees and changes only its subtree;
//! hostile names render inert; the page is an administrator's only.

use http::StatusCode;
use parley_domain::{OrgId, Role};
use parley_testkit::{OWNER_PASSWORD, TestApp};

use crate::web::{
    OWNER, assert_page_headers, cookies_of, csrf_field, form, get, html, poster, sign_in,
};

async fn organization_named(t: &TestApp, name: &str) -> parley_domain::Organization {
    let all = t.app.admin_list_organizations().await.unwrap();
    all.into_iter().find(|o| o.name == name).expect(name)
}

#[tokio::test]
async fn an_administrator_adds_and_edits_organizations_in_the_tree() {
    let t = TestApp::new().await;
    let root = t.root.organization;
    let owner = cookies_of(&sign_in(&t, OWNER, OWNER_PASSWORD, "").await);
    let path = format!("/app/{root}/organizations");
    let page = t.send(get(&path, &owner)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_page_headers(&page);
    let text = html(&page).to_owned();
    assert!(text.contains("aria-current=\"page\">Organizations</a>"));
    assert!(text.contains("<label for=\"new-country\">Default country</label>"));
    assert!(text.contains("<label for=\"new-locale\">Date order</label>"));
    assert!(
        text.contains("<option value=\"Europe/London\">"),
        "time zones to choose from"
    );
    let csrf = csrf_field(&text);
    let post = poster(&path, &owner, &csrf);
    let see = || async { html(&t.send(get(&path, &owner)).await).to_owned() };
    let root_id = root.to_string();

    // Every bad field at once, each beside its field, what was typed kept.
    let r = t
        .send(post(&[
            ("action", "create"),
            ("id", &root_id),
            ("name", ""),
            ("default_country", "GBR"),
            ("timezone", "Mars/Olympus"),
        ]))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let refused = html(&r).to_owned();
    assert!(
        refused.contains("role=\"alert\">name is required; default_country must be"),
        "{refused}"
    );
    for id in [
        "new-name-problem",
        "new-country-problem",
        "new-timezone-problem",
    ] {
        assert!(refused.contains(&format!("id=\"{id}\"")), "{id}");
    }
    assert!(refused.contains("value=\"GBR\"") && refused.contains("value=\"Mars/Olympus\""));
    assert_eq!(
        t.app.admin_list_organizations().await.unwrap().len(),
        1,
        "nothing written"
    );

    // Blank fields take the parent's settings, and the tree says so.
    let r = t
        .send(post(&[
            ("action", "create"),
            ("id", &root_id),
            ("name", "North"),
        ]))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let north = organization_named(&t, "North").await;
    let top = t.store().get_organization(root).await.unwrap();
    assert_eq!(north.parent_id, Some(root));
    assert_eq!(
        (north.timezone.as_str(), north.default_country, north.locale),
        (top.timezone.as_str(), top.default_country, top.locale)
    );
    let text = see().await;
    assert!(
        text.contains(&format!("Time zone: {} (as Root)", top.timezone.as_str())),
        "{text}"
    );

    // Edited settings are its own.
    let north_id = north.id.to_string();
    let r = t
        .send(post(&[
            ("action", "update"),
            ("id", &north_id),
            ("name", "North"),
            ("region", "us-east-1"),
            ("default_country", "us"),
            ("timezone", "America/New_York"),
            ("locale", "mdy"),
            ("help_text", "North team: call 0800 111 222."),
            ("days", "mon"),
            ("days", "tue"),
            ("days", "wed"),
            ("days", "thu"),
            ("days", "fri"),
            ("opens", "09:00"),
            ("closes", "17:30"),
        ]))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let north = organization_named(&t, "North").await;
    assert_eq!(north.timezone.as_str(), "America/New_York");
    assert_eq!(north.default_country.to_string(), "US");
    assert_eq!(north.locale.as_str(), "mdy");
    let text = see().await;
    assert!(
        text.contains("<span>Time zone: America/New_York</span>"),
        "{text}"
    );
    assert!(text.contains("<span>Contact hours: Mon–Fri 09:00–17:30</span>"));
    assert!(text.contains("<span>Help text: North team: call 0800 111 222.</span>"));
    assert_eq!(
        north.help_text.as_deref(),
        Some("North team: call 0800 111 222.")
    );
    assert_eq!(
        north.contact_hours.days,
        ["mon", "tue", "wed", "thu", "fri"]
    );
    assert!(
        text.contains("<span>Contact hours: Every day 08:00–21:00</span>"),
        "the root keeps Parley's standard hours"
    );
    assert_eq!(
        t.store().get_organization(root).await.unwrap().timezone,
        top.timezone,
        "the parent is unchanged"
    );

    // A refused edit shows its problem in that organization's open form.
    let r = t
        .send(post(&[
            ("action", "update"),
            ("id", &north_id),
            ("name", "North"),
            ("default_country", "ZZZ"),
            ("locale", "ymd"),
            ("opens", "25:00"),
            ("closes", "17:30"),
        ]))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let refused = html(&r).to_owned();
    assert!(refused.contains(&format!("id=\"org-{north_id}-country-problem\"")));
    assert!(refused.contains(&format!("id=\"org-{north_id}-locale-problem\"")));
    assert!(
        refused.contains(&format!("id=\"org-{north_id}-days-problem\"")),
        "no day ticked"
    );
    assert!(refused.contains(&format!("id=\"org-{north_id}-opens-problem\"")));
    assert!(
        refused.contains("value=\"25:00\""),
        "what was typed is kept"
    );
    assert!(refused.contains("<details class=\"edit\" open>"));

    // A sub-organization below a sub-organization, with a hostile name.
    let r = t
        .send(post(&[
            ("action", "create"),
            ("id", &north_id),
            ("name", "<img src=x onerror=alert(1)>"),
        ]))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let deep = organization_named(&t, "<img src=x onerror=alert(1)>").await;
    assert_eq!(deep.parent_id, Some(north.id));
    assert_eq!(
        deep.timezone.as_str(),
        "America/New_York",
        "its parent's, not the root's"
    );
    let text = see().await;
    assert!(text.contains("&#60;img src=x onerror=alert(1)&#62;") && !text.contains("<img src=x"));
    assert!(text.contains(&format!("<li class=\"depth-2\" id=\"org-{}\">", deep.id)));
    assert!(text.contains("(as North)"));
    assert!(
        text.contains("Contact hours: Mon–Fri 09:00–17:30 (as North)"),
        "copied at creation"
    );
}

#[tokio::test]
async fn a_sub_organizations_administrator_sees_only_its_subtree() {
    let t = TestApp::new().await;
    let root = t.root.organization;
    let north = t
        .app
        .admin_create_organization("North", Some(root))
        .await
        .unwrap();
    t.create_user(
        north.id,
        "nia@example.test",
        "Nia Admin",
        "nia password 1".into(),
        Role::Admin,
    )
    .await
    .unwrap();
    t.create_user(
        root,
        "sue@example.test",
        "Sue",
        "sue password 1".into(),
        Role::Supervisor,
    )
    .await
    .unwrap();
    let nia = cookies_of(&sign_in(&t, "nia@example.test", "nia password 1", "").await);
    let path = format!("/app/{}/organizations", north.id);
    let page = t.send(get(&path, &nia)).await;
    assert_eq!(page.status, StatusCode::OK);
    let text = html(&page).to_owned();
    assert!(text.contains("<strong>North</strong>") && !text.contains("<strong>Root</strong>"));
    assert_eq!(
        t.send(get(&format!("/app/{root}/organizations"), &nia))
            .await
            .status,
        StatusCode::NOT_FOUND,
        "an organization out of reach is not there"
    );
    let csrf = csrf_field(&text);
    let r = t
        .send(form(
            &path,
            &nia,
            &[
                ("csrf", &csrf),
                ("action", "update"),
                ("id", &root.to_string()),
                ("name", "Mine now"),
            ],
        ))
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "the root is out of reach");
    assert_eq!(t.store().get_organization(root).await.unwrap().name, "Root");

    let sue = cookies_of(&sign_in(&t, "sue@example.test", "sue password 1", "").await);
    let r = t
        .send(get(&format!("/app/{root}/organizations"), &sue))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let desk = html(
        &t.send(get(&format!("/app/{root}/conversations"), &sue))
            .await,
    )
    .to_owned();
    let forged = form(
        &format!("/app/{root}/organizations"),
        &sue,
        &[
            ("csrf", &csrf_field(&desk)),
            ("action", "create"),
            ("id", &root.to_string()),
            ("name", "Sneaky"),
        ],
    );
    assert_eq!(t.send(forged).await.status, StatusCode::FORBIDDEN);
    let names: Vec<OrgId> = t
        .app
        .admin_list_organizations()
        .await
        .unwrap()
        .iter()
        .map(|o| o.id)
        .collect();
    assert_eq!(names.len(), 2, "nothing was added");
}
