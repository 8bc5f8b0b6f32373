//! The Imports page as an operator uses it without the module (the form posted as it
//! is): a messy file (byte-order mark, semicolons, day-first dates, a bad row) imported
//! with the default country and date order chosen; its page shows the counts and the
//! rejected row, and the rejects report downloads with the session; bad options are named
//! beside their boxes; the form's token must come first; an agent has no imports.

use axum::body::Body;
use http::{Request, StatusCode};
use parley_app::imports::ImportJob;
use parley_domain::{JobId, Role};
use parley_jobs::Job;
use parley_testkit::{OWNER_PASSWORD, TestApp};

use crate::web::{
    OWNER, assert_page_headers, cookies_of, csrf_field, get, html, location, person, sign_in,
};

const MESSY: &str = "\u{feff}first_name;phone;balance;due\n\
                     Ann;07911 123456;12,50;31/12/2026\n\
                     Bob;not a phone;5;01/02/2027\n\
                     Cat;07911 123457;7;13/01/2027\n";

/// A multipart form of `fields` then a file part `file` named `name`.
pub(crate) fn multipart(
    path: &str,
    cookies: &str,
    fields: &[(&str, &str)],
    file: Option<(&str, &str)>,
) -> Request<Body> {
    let boundary = "parleyformboundary";
    let mut body = String::new();
    for (name, value) in fields {
        body.push_str(&format!(
            "--{boundary}\r\ncontent-disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    if let Some((name, content)) = file {
        body.push_str(&format!(
            "--{boundary}\r\ncontent-disposition: form-data; name=\"file\"; filename=\"{name}\"\r\ncontent-type: text/csv\r\n\r\n{content}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    Request::builder()
        .method("POST")
        .uri(path)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .header("cookie", cookies)
        .header("sec-fetch-site", "same-origin")
        .body(Body::from(body))
        .unwrap()
}

#[tokio::test]
async fn an_operator_imports_a_messy_file_and_reads_its_counts_and_rejects() {
    let t = TestApp::new().await;
    let org = t.root.organization;
    let token = t.owner_token().await;
    t.define_fields(&token, &[("balance", "money"), ("due", "date")])
        .await;
    let owner = cookies_of(&sign_in(&t, OWNER, OWNER_PASSWORD, "").await);
    let path = format!("/app/{org}/imports");
    let page = t.send(get(&path, &owner)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_page_headers(&page);
    let text = html(&page).to_owned();
    for name in [
        "<label for=\"import-file\">Choose file</label>",
        "Default country</label>",
        "Date order</label>",
        ">Import</button>",
    ] {
        assert!(text.contains(name), "{name}");
    }
    assert!(text.contains("No imports yet."));
    let csrf = csrf_field(&text);

    let r = t
        .send(multipart(
            &path,
            &owner,
            &[
                ("csrf", &csrf),
                ("default_country", "ZZZ"),
                ("date_order", "ymd"),
            ],
            Some(("messy.csv", MESSY)),
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let refused = html(&r).to_owned();
    assert!(
        refused.contains("id=\"import-country-problem\""),
        "{refused}"
    );
    assert!(
        refused.contains("role=\"alert\">default_country must be"),
        "every bad option at once: {refused}"
    );
    assert!(refused.contains("date_order must be dmy or mdy"));
    let r = t
        .send(multipart(&path, &owner, &[("csrf", &csrf)], None))
        .await;
    assert!(html(&r).contains("id=\"import-file-problem\""));
    let r = t
        .send(multipart(
            &path,
            &owner,
            &[("default_country", "GB")],
            Some(("messy.csv", MESSY)),
        ))
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "no token first: nothing read past it, nothing stored"
    );
    assert_eq!(
        t.get("/api/v1/imports", &token).await.json["data"],
        serde_json::json!([])
    );

    let r = t
        .send(multipart(
            &path,
            &owner,
            &[
                ("csrf", &csrf),
                ("default_country", "gb"),
                ("date_order", "dmy"),
            ],
            Some(("messy <1>.csv", MESSY)),
        ))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", html(&r));
    let import_page = location(&r).to_owned();
    let id = import_page.rsplit('/').next().unwrap().to_owned();
    let queued = html(&t.send(get(&import_page, &owner)).await).to_owned();
    assert!(
        queued.contains(">queued</span>") && queued.contains("data-refresh=\"500\""),
        "{queued}"
    );
    ImportJob {
        import_id: id.parse().unwrap(),
    }
    .run(&t.app, JobId::generate())
    .await
    .unwrap();

    let done = html(&t.send(get(&import_page, &owner)).await).to_owned();
    assert!(
        done.contains("<h1>messy &#60;1&#62;.csv</h1>"),
        "file names render inert"
    );
    assert!(
        done.contains(">completed</span>") && !done.contains("data-refresh"),
        "{done}"
    );
    assert!(
        done.contains("<div><dt>Rows read</dt><dd>3</dd></div>"),
        "{done}"
    );
    assert!(done.contains("<div><dt>Imported</dt><dd>2</dd></div>"));
    assert!(done.contains("<div><dt>Rejected</dt><dd>1</dd></div>"));
    assert!(
        done.contains("<td class=\"mono\" data-label=\"Value\">not a phone</td>"),
        "{done}"
    );
    let download = format!("/api/v1/imports/{id}/rejects.csv");
    assert!(done.contains(&format!("href=\"{download}\" download")));
    let csv = t.send(get(&download, &owner)).await;
    assert_eq!(csv.status, StatusCode::OK);
    let contacts = t.get("/api/v1/contacts?limit=10", &token).await.json;
    let ann = contacts["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["fields"]["first_name"] == "Ann")
        .cloned()
        .unwrap();
    assert_eq!(ann["fields"]["balance"], "12.50", "the decimal comma read");
    assert_eq!(ann["fields"]["due"], "2026-12-31", "day first");
    assert_eq!(
        ann["addresses"][0]["address"], "+447911123456",
        "the default country's format"
    );

    let history = html(&t.send(get(&path, &owner)).await).to_owned();
    assert!(history.contains(&format!(
        "<a href=\"{import_page}\">messy &#60;1&#62;.csv</a>"
    )));
    assert!(history.contains("3 read · 2 imported · 1 rejected"));

    let ann_agent = person(&t, org, "ann@example.test", Role::Agent).await;
    assert_eq!(
        t.send(get(&path, &ann_agent)).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        t.send(get(&import_page, &ann_agent)).await.status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn the_history_lists_the_newest_fifty_imports_first() {
    let t = TestApp::new().await;
    let org = t.root.organization;
    let token = t.owner_token().await;
    let mut ids = Vec::new();
    for i in 0..55 {
        let r = t
            .call(
                http::Method::POST,
                "/api/v1/imports",
                Some(&token),
                None,
                Some(serde_json::json!({"rows": [{"phone": format!("+4479111{i:05}")}]})),
            )
            .await;
        assert_eq!(r.status, StatusCode::ACCEPTED, "{}", r.json);
        ids.push(r.json["id"].as_str().unwrap().to_owned());
        t.clock.advance(chrono::Duration::seconds(1));
    }
    let owner = cookies_of(&sign_in(&t, OWNER, OWNER_PASSWORD, "").await);
    let text = html(&t.send(get(&format!("/app/{org}/imports"), &owner)).await).to_owned();
    let listed: Vec<&str> = text
        .split(&format!("<a href=\"/app/{org}/imports/"))
        .skip(1)
        .map(|s| s.split('"').next().unwrap())
        .collect();
    assert_eq!(listed.len(), 50);
    let newest: Vec<&str> = ids.iter().rev().take(50).map(String::as_str).collect();
    assert_eq!(listed, newest, "newest first, the oldest five left out");
}
