//! The import preview as our module asks for it: a file (or a CSV file's head) with the
//! form's options is read as the import would read it — dialect, each column's target and
//! type, the first rows with each cell's stored value or problem — the mapping changed in
//! the preview's boxes is what Import then uses, bad choices are named, and only those who
//! may import get a preview.

use http::StatusCode;
use parley_app::imports::ImportJob;
use parley_domain::{JobId, Role};
use parley_jobs::Job;
use parley_testkit::{OWNER_PASSWORD, TestApp};

use crate::web::{OWNER, cookies_of, csrf_field, get, html, location, person, sign_in};
use crate::web_imports::multipart;

const FILE: &str = "Customer Ref;Mobile;Saldo;Due\n\
                    A1;07911 123457;1.234,50;31/12/2026\n\
                    A2;not a phone;12;1/1/2027\n";

fn selected(page: &str, column: usize) -> String {
    let start = page
        .find(&format!("<select name=\"column.{column}\""))
        .unwrap_or_else(|| panic!("no select for column {column}: {page}"));
    let select = &page[start..start + page[start..].find("</select>").unwrap()];
    let at = select.find(" selected>").expect("one choice is selected");
    let value = &select[..at];
    value[value.rfind("value=\"").unwrap() + 7..value.len() - 1].to_owned()
}

#[tokio::test]
async fn a_file_is_previewed_and_imported_with_the_mapping_chosen() {
    let t = TestApp::new().await;
    let org = t.root.organization;
    let token = t.owner_token().await;
    t.define_fields(&token, &[("due", "date")]).await;
    let owner = cookies_of(&sign_in(&t, OWNER, OWNER_PASSWORD, "").await);
    let imports = format!("/app/{org}/imports");
    let page = html(&t.send(get(&imports, &owner)).await).to_owned();
    assert!(page.contains(&format!("data-preview=\"{imports}/preview\"")));
    let csrf = csrf_field(&page);
    let path = format!("{imports}/preview");

    // As the header says.
    let r = t
        .send(multipart(
            &path,
            &owner,
            &[
                ("csrf", &csrf),
                ("default_country", "GB"),
                ("date_order", "dmy"),
            ],
            Some(("arrears.csv", FILE)),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", html(&r));
    let shown = html(&r).to_owned();
    assert!(
        shown.starts_with("<section id=\"preview\""),
        "a region, not a page"
    );
    assert!(
        shown.contains("CSV in UTF-8, values separated by semicolons, Unix line endings."),
        "{shown}"
    );
    assert!(shown.contains("<input type=\"hidden\" name=\"header.0\" value=\"Customer Ref\">"));
    assert_eq!(
        selected(&shown, 0),
        "customer_ref",
        "a new field by its header"
    );
    assert!(shown.contains("New field “customer_ref”"));
    assert_eq!(selected(&shown, 1), "@address", "found by its name");
    assert_eq!(selected(&shown, 3), "due");
    assert!(
        shown.contains("<span class=\"cell-read\">→ +447911123457</span>"),
        "{shown}"
    );
    assert!(shown.contains("<span class=\"cell-read\">→ 2026-12-31</span>"));
    assert!(
        shown.contains(
            "<span class=\"cell-text\">not a phone</span> <span class=\"field-problem\">"
        ),
        "the refused cell says why: {shown}"
    );
    assert!(shown.contains("The first 2 rows were read"));

    // The mapping changed in the preview's boxes.
    let mapping: Vec<(&str, &str)> = vec![
        ("csrf", &csrf),
        ("default_country", "GB"),
        ("date_order", "dmy"),
        ("header.0", "Customer Ref"),
        ("column.0", "customer_id"),
        ("header.1", "Mobile"),
        ("column.1", "@address"),
        ("header.2", "Saldo"),
        ("column.2", "@ignore"),
        ("header.3", "Due"),
        ("column.3", "due"),
    ];
    let r = t
        .send(multipart(
            &path,
            &owner,
            &mapping,
            Some(("arrears.csv", FILE)),
        ))
        .await;
    let shown = html(&r).to_owned();
    assert_eq!(selected(&shown, 0), "customer_id");
    assert_eq!(selected(&shown, 2), "@ignore");
    assert!(
        shown.contains("<td data-label=\"Read as\">not imported</td>"),
        "{shown}"
    );

    // The head of a bigger file: the row it cuts is left out.
    let head = format!("{FILE}A3;07911 1");
    let mut partial = mapping.clone();
    partial.push(("partial", "1"));
    let shown = html(
        &t.send(multipart(
            &path,
            &owner,
            &partial,
            Some(("arrears.csv", &head)),
        ))
        .await,
    )
    .to_owned();
    assert!(
        shown.contains("<th scope=\"row\">3</th>") && !shown.contains("<th scope=\"row\">4</th>")
    );

    // Bad choices and unreadable files are said in the region.
    let mut two = mapping.clone();
    two[10] = ("column.3", "@address");
    let r = t
        .send(multipart(&path, &owner, &two, Some(("arrears.csv", FILE))))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&r).contains("role=\"alert\""));
    assert!(
        html(&r).contains("another column is already the channel address"),
        "{}",
        html(&r)
    );
    let r = t
        .send(multipart(
            &path,
            &owner,
            &[("csrf", &csrf)],
            Some(("book.xlsx", "not a zip")),
        ))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html(&r).contains("not a readable XLSX workbook"),
        "{}",
        html(&r)
    );
    let r = t
        .send(multipart(
            &path,
            &owner,
            &[("csrf", &csrf)],
            Some(("names.csv", "name,city\nAda,Cork\n")),
        ))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(
        html(&r).contains("This file cannot be imported as it is: "),
        "{}",
        html(&r)
    );

    // Nothing is read without the form's token, or for those who may not import.
    let r = t
        .send(multipart(
            &path,
            &owner,
            &[("default_country", "GB")],
            Some(("arrears.csv", FILE)),
        ))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let viewer = person(&t, org, "vic@example.test", Role::Viewer).await;
    let viewer_csrf = csrf_field(html(
        &t.send(get(&format!("/app/{org}/contacts"), &viewer)).await,
    ));
    let r = t
        .send(multipart(
            &path,
            &viewer,
            &[("csrf", &viewer_csrf)],
            Some(("arrears.csv", FILE)),
        ))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);

    // Import sends the same boxes: the mapping seen is the mapping used.
    let r = t
        .send(multipart(
            &imports,
            &owner,
            &mapping,
            Some(("arrears.csv", FILE)),
        ))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", html(&r));
    let id = location(&r).rsplit('/').next().unwrap().to_owned();
    ImportJob {
        import_id: id.parse().unwrap(),
    }
    .run(&t.app, JobId::generate())
    .await
    .unwrap();
    let contacts = t.get("/api/v1/contacts?limit=10", &token).await.json;
    let a1 = contacts["data"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["customer_id"] == "A1")
        .cloned()
        .unwrap_or_else(|| panic!("A1 imported as the customer id: {contacts}"));
    assert_eq!(a1["fields"]["due"], "2026-12-31");
    assert!(
        a1["fields"].get("saldo").is_none(),
        "the ignored column: {a1}"
    );
    assert!(a1["fields"].get("customer_ref").is_none());
    let fields = t.get("/api/v1/fields", &token).await.json.to_string();
    assert!(
        !fields.contains("saldo") && !fields.contains("customer_ref"),
        "{fields}"
    );
}
