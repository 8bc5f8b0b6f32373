//! The People page and the audit log as an administrator uses them: a member's role
//! changed and the member removed; an invitation made (its one-time link shown once,
//! then only listed as waiting) and withdrawn; an API key made with a subset of
//! permissions (its secret shown once and working with exactly those permissions) and
//! revoked; each refused form says why beside the field with what was typed kept; the
//! audit log filtered by actor, action and days; the pages are an administrator's only
//! and a forged post changes nothing. The API's audit log takes the same filter.

use http::{Method, StatusCode};
use parley_domain::{ApiKeyId, Role};
use parley_testkit::{OWNER_PASSWORD, TestApp};

use crate::web::{
    OWNER, assert_page_headers, cookies_of, csrf_field, form, get, html, poster, sign_in,
};

/// The text between `start` and the next `<` after it.
fn text_after<'a>(page: &'a str, start: &str) -> &'a str {
    let from = page.find(start).map(|i| i + start.len()).expect(start);
    let rest = &page[from..];
    &rest[..rest.find('<').unwrap_or(rest.len())]
}

#[tokio::test]
async fn an_administrator_manages_people_invitations_and_keys_in_the_page() {
    let t = TestApp::new().await;
    let org = t.root.organization;
    let ann = t
        .create_user(
            org,
            "ann@example.test",
            "Ann Agent",
            "ann password 1".into(),
            Role::Agent,
        )
        .await
        .unwrap();
    let owner = cookies_of(&sign_in(&t, OWNER, OWNER_PASSWORD, "").await);
    let path = format!("/app/{org}/people");
    let page = t.send(get(&path, &owner)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_page_headers(&page);
    let text = html(&page).to_owned();
    for link in [
        ">People</a>",
        ">Organizations</a>",
        ">Integrations</a>",
        ">Queues</a>",
    ] {
        assert!(text.contains(link), "the top bar links {link}");
    }
    assert!(text.contains("<strong>Ann Agent</strong>") && text.contains("ann@example.test"));
    assert!(
        text.contains("<span class=\"badge\">You</span>"),
        "the owner is marked"
    );
    let csrf = csrf_field(&text);
    let post = poster(&path, &owner, &csrf);
    let see = || async { html(&t.send(get(&path, &owner)).await).to_owned() };
    let ann_id = ann.id.to_string();

    // A role changed.
    let r = t
        .send(post(&[
            ("action", "role"),
            ("id", &ann_id),
            ("role", "supervisor"),
        ]))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let member = t
        .store()
        .find_membership(ann.id, org)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(member.role, Role::Supervisor);
    let r = t
        .send(post(&[
            ("action", "role"),
            ("id", &ann_id),
            ("role", "emperor"),
        ]))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html(&r).contains("role=\"alert\">role must be one of viewer"),
        "{}",
        html(&r)
    );

    // An invitation: refused with the field named and the email kept, then made.
    let r = t
        .send(post(&[
            ("action", "invite"),
            ("email", "not an email"),
            ("role", "agent"),
        ]))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let refused = html(&r);
    assert!(
        refused.contains("aria-describedby=\"invite-email-problem\""),
        "{refused}"
    );
    assert!(refused.contains("value=\"not an email\""));
    let r = t
        .send(post(&[
            ("action", "invite"),
            ("email", "Bo@Example.test"),
            ("role", "agent"),
        ]))
        .await;
    assert_eq!(
        r.status,
        StatusCode::OK,
        "the link is shown on the answer, once"
    );
    let shown = html(&r).to_owned();
    let link = text_after(&shown, "id=\"once-value\" class=\"mono\">").to_owned();
    assert!(link.contains("/invitation#"), "{link}");
    assert!(shown.contains("data-copy=\"once-value\""));
    let token = link.split('#').nth(1).unwrap();
    let preview = t.app.preview_invitation("test", token).await.unwrap();
    assert_eq!(preview.invitation.email, "bo@example.test");
    assert_eq!(preview.invitation.role, Role::Agent);
    let later = see().await;
    assert!(!later.contains(token), "the link is not shown again");
    assert!(later.contains("<td>bo@example.test</td><td data-label=\"Role\">agent</td>"));
    let inv_id = preview.invitation.id.to_string();
    let r = t
        .send(post(&[("action", "revoke-invitation"), ("id", &inv_id)]))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(!see().await.contains("bo@example.test"));
    assert!(
        t.app.preview_invitation("test", token).await.is_err(),
        "a withdrawn link stops working"
    );

    // An API key with one permission: refused without a name, then made and used.
    let r = t
        .send(post(&[
            ("action", "create-key"),
            ("name", " "),
            ("permissions", "contacts:read"),
        ]))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&r).contains("aria-describedby=\"key-name-problem\""));
    let r = t
        .send(post(&[
            ("action", "create-key"),
            ("name", "CRM <sync>"),
            ("permissions", "contacts:read"),
        ]))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let shown = html(&r).to_owned();
    assert!(shown.contains("CRM &#60;sync&#62;"), "names render inert");
    let secret = text_after(&shown, "id=\"once-value\" class=\"mono\">").to_owned();
    let key_id: ApiKeyId = text_after(&shown, "” (")
        .trim_end_matches(").")
        .parse()
        .unwrap();
    let token = t.app.issue_token(key_id, &secret).await.unwrap().token;
    assert_eq!(
        t.get("/api/v1/contacts", &token).await.status,
        StatusCode::OK
    );
    assert_eq!(
        t.get("/api/v1/audit-log", &token).await.status,
        StatusCode::FORBIDDEN,
        "only what was ticked"
    );
    let later = see().await;
    assert!(!later.contains(&secret), "the secret is not shown again");
    assert!(later.contains("<td class=\"perm-list\" data-label=\"May\">contacts:read</td>"));
    let r = t
        .send(post(&[
            ("action", "revoke-key"),
            ("id", &key_id.to_string()),
        ]))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(see().await.contains("Revoked "));
    assert_eq!(
        t.get("/api/v1/contacts", &token).await.status,
        StatusCode::UNAUTHORIZED
    );

    // A member removed.
    let r = t.send(post(&[("action", "remove"), ("id", &ann_id)])).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(!see().await.contains("Ann Agent"));
    assert!(
        t.store()
            .find_membership(ann.id, org)
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn people_and_the_audit_log_are_for_administrators_only() {
    let t = TestApp::new().await;
    let org = t.root.organization;
    let sue = t
        .create_user(
            org,
            "sue@example.test",
            "Sue Supervisor",
            "sue password 1".into(),
            Role::Supervisor,
        )
        .await
        .unwrap();
    let owner = cookies_of(&sign_in(&t, OWNER, OWNER_PASSWORD, "").await);
    let owner_csrf = csrf_field(html(
        &t.send(get(&format!("/app/{org}/people"), &owner)).await,
    ));
    let signed = sign_in(&t, "sue@example.test", "sue password 1", "").await;
    let sue_cookies = cookies_of(&signed);
    let desk = t
        .send(get(&format!("/app/{org}/conversations"), &sue_cookies))
        .await;
    let text = html(&desk).to_owned();
    assert!(!text.contains(">People</a>") && !text.contains(">Organizations</a>"));
    let csrf = csrf_field(&text);
    for page in ["people", "audit"] {
        let r = t
            .send(get(&format!("/app/{org}/{page}"), &sue_cookies))
            .await;
        assert_eq!(r.status, StatusCode::FORBIDDEN, "{page}");
    }
    let owner_id = t
        .store()
        .find_user_by_email(OWNER)
        .await
        .unwrap()
        .unwrap()
        .user
        .id;
    let forged = form(
        &format!("/app/{org}/people"),
        &sue_cookies,
        &[
            ("csrf", &csrf),
            ("action", "role"),
            ("id", &owner_id.to_string()),
            ("role", "viewer"),
        ],
    );
    assert_eq!(t.send(forged).await.status, StatusCode::FORBIDDEN);
    let stolen = form(
        &format!("/app/{org}/people"),
        &sue_cookies,
        &[
            ("csrf", &owner_csrf),
            ("action", "remove"),
            ("id", &sue.id.to_string()),
        ],
    );
    assert_eq!(
        t.send(stolen).await.status,
        StatusCode::FORBIDDEN,
        "another session's token"
    );
    let owner_role = t
        .store()
        .find_membership(owner_id, org)
        .await
        .unwrap()
        .unwrap()
        .role;
    assert_eq!(owner_role, Role::Owner, "nothing changed");
    assert!(
        t.store()
            .find_membership(sue.id, org)
            .await
            .unwrap()
            .is_some()
    );
}

#[tokio::test]
async fn the_audit_log_is_filtered_by_actor_action_and_days() {
    let t = TestApp::new().await;
    let org = t.root.organization;
    let ann = t
        .create_user(
            org,
            "ann@example.test",
            "Ann Agent",
            "ann password 1".into(),
            Role::Agent,
        )
        .await
        .unwrap();
    assert!(
        sign_in(&t, "ann@example.test", "ann password 1", "")
            .await
            .status
            .is_redirection()
    );
    let owner = cookies_of(&sign_in(&t, OWNER, OWNER_PASSWORD, "").await);
    let people = format!("/app/{org}/people");
    let csrf = csrf_field(html(&t.send(get(&people, &owner)).await));
    let r = t
        .send(form(
            &people,
            &owner,
            &[
                ("csrf", &csrf),
                ("action", "role"),
                ("id", &ann.id.to_string()),
                ("role", "viewer"),
            ],
        ))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let owner_id = t
        .store()
        .find_user_by_email(OWNER)
        .await
        .unwrap()
        .unwrap()
        .user
        .id;
    let audit = |query: &str| {
        let t = &t;
        let owner = owner.clone();
        let path = format!("/app/{org}/audit{query}");
        async move { t.send(get(&path, &owner)).await }
    };
    let all = audit("").await;
    assert_eq!(all.status, StatusCode::OK);
    assert_page_headers(&all);
    let text = html(&all).to_owned();
    assert!(
        text.contains("<td data-label=\"What\">Role changed</td>")
            && text.contains("<td data-label=\"What\">Sign in</td>"),
        "{text}"
    );
    assert!(
        text.contains("aria-current=\"page\">People</a>"),
        "the log belongs to People"
    );

    let by_action = audit("?action=role_changed").await;
    let text = html(&by_action).to_owned();
    assert!(
        text.contains("<td data-label=\"What\">Role changed</td>")
            && !text.contains("<td data-label=\"What\">Sign in</td>")
    );
    let owner_name = t.store().get_user(owner_id).await.unwrap().name;
    assert!(
        text.contains(&format!("<td data-label=\"Who\">{owner_name}</td>")),
        "the actor is named: {text}"
    );
    let by_actor = audit(&format!("?actor={}", ann.id)).await;
    let text = html(&by_actor).to_owned();
    assert!(
        text.contains("<td data-label=\"What\">Sign in</td>")
            && text.contains("<td data-label=\"Who\">Ann Agent</td>"),
        "{text}"
    );
    assert!(
        !text.contains("<td data-label=\"What\">Role changed</td>"),
        "Ann changed no role"
    );
    assert!(
        !text.contains(&format!("<td data-label=\"Who\">{owner_name}</td>")),
        "Ann's entries only"
    );

    let today = t.app.clock.now().date_naive();
    let tomorrow = today.succ_opt().unwrap();
    let this_day = audit(&format!("?from={today}&to={today}&action=role_changed")).await;
    assert!(
        html(&this_day).contains("<td data-label=\"What\">Role changed</td>"),
        "a day's both ends are kept"
    );
    let future = audit(&format!("?from={tomorrow}")).await;
    assert!(html(&future).contains("No entries match."));

    let bad = audit(&format!("?from=yesterday&to={today}&action=nope")).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let text = html(&bad).to_owned();
    assert!(text.contains("role=\"alert\""));
    assert!(
        text.contains("aria-describedby=\"audit-from-problem\""),
        "every bad field at once"
    );
    assert!(text.contains("aria-describedby=\"audit-action-problem\""));
    let backwards = audit(&format!("?from={tomorrow}&to={today}")).await;
    assert_eq!(backwards.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&backwards).contains("aria-describedby=\"audit-to-problem\""));

    // The API takes the same filter.
    let token = t.owner_token().await;
    let r = t.get("/api/v1/audit-log?action=role_changed", &token).await;
    assert_eq!(r.status, StatusCode::OK);
    let items = r.json["data"].as_array().unwrap();
    assert!(items.iter().all(|e| e["action"] == "role_changed"));
    assert!(
        items
            .iter()
            .any(|e| e["actor"] == owner_id.to_string() && e["detail"]["role"] == "viewer"),
        "{items:?}"
    );
    let r = t
        .get(
            &format!("/api/v1/audit-log?actor={owner_id}&action=sign_in"),
            &token,
        )
        .await;
    assert!(
        r.json["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["action"] == "sign_in" && e["actor"] == owner_id.to_string())
    );
    let r = t.get("/api/v1/audit-log?action=nope", &token).await;
    assert_eq!(r.problem_field(), (422, Some("action")));
    let r = t
        .call(
            Method::GET,
            "/api/v1/audit-log?since=2030-01-01T00:00:00Z&until=2029-01-01T00:00:00Z",
            Some(&token),
            None,
            None,
        )
        .await;
    assert_eq!(r.problem_field(), (422, Some("until")));
}
