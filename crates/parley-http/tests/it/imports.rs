//! Imports end to end: upload (multipart) and rows (JSON) through the API, the background
//! job, counters and progress, the rejects report, re-import, contacts and suppressions.

use http::{Method, Request};
use parley_app::imports::ImportJob;
use parley_domain::{ChannelAddress, ChannelKind, JobId, Role};
use parley_jobs::Job;
use parley_testkit::{TestApp, TestResponse};
use serde_json::{Value, json};

const UTF8_FIXTURE: &[u8] = include_bytes!("../../../parley-import/tests/fixtures/utf8.csv");
const UNTERMINATED_FIXTURE: &[u8] =
    include_bytes!("../../../parley-import/tests/fixtures/unterminated.csv");

async fn upload(
    t: &TestApp,
    token: &str,
    name: &str,
    options: &Value,
    file: &[u8],
) -> TestResponse {
    let boundary = "parley-test-boundary";
    let mut body = Vec::new();
    body.extend(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"options\"\r\n\r\n{options}\r\n"
        )
        .as_bytes(),
    );
    body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: text/csv\r\n\r\n").as_bytes());
    body.extend_from_slice(file);
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    let request = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/imports")
        .header("authorization", format!("Bearer {token}"))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(axum::body::Body::from(body))
        .unwrap();
    t.send(request).await
}

/// Runs the queued import's job as the worker would.
async fn run_job(t: &TestApp, import: &Value) -> Value {
    let id = import["id"].as_str().unwrap().parse().unwrap();
    ImportJob { import_id: id }
        .run(&t.app, JobId::generate())
        .await
        .unwrap();
    let record = t.store().find_import(id).await.unwrap().unwrap();
    assert_eq!(
        record.counters.rows_total,
        record.counters.rows_imported + record.counters.rows_rejected,
        "rows_total == imported + rejected"
    );
    assert_eq!(
        t.store().import_chunk(id, 0).await.unwrap(),
        None,
        "the source is dropped once done"
    );
    serde_json::to_value(record.counters).unwrap()
}

#[tokio::test]
async fn an_uploaded_file_imports_reports_rejects_and_reimports_as_a_no_op() {
    let t = TestApp::new().await;
    let (_, token) = t.org_with_token("Importer", None, Role::Supervisor).await;
    t.define_fields(
        &token,
        &[
            ("date_of_birth", "date"),
            ("balance", "money"),
            ("postcode", "postcode"),
        ],
    )
    .await;
    let options = json!({"mapping": {"Customer Ref": "customer_id"}, "default_country": "IE"});
    let r = upload(&t, &token, "contacts.csv", &options, UTF8_FIXTURE).await;
    assert_eq!(r.status, 202, "{}", r.json);
    assert_eq!(
        (r.json["status"].as_str(), r.json["format"].as_str()),
        (Some("queued"), Some("csv"))
    );
    assert_eq!(r.json["bytes_total"], UTF8_FIXTURE.len());
    let counters = run_job(&t, &r.json).await;
    assert_eq!(counters["rows_total"], 6);
    assert_eq!(counters["contacts_created"], 3);
    assert_eq!(counters["rows_rejected"], 3);

    let path = format!("/api/v1/imports/{}", r.json["id"].as_str().unwrap());
    let got = t.get(&path, &token).await;
    assert_eq!(
        (got.json["status"].as_str(), got.json["progress"].as_f64()),
        (Some("completed"), Some(1.0)),
        "{}",
        got.json
    );
    assert!(got.json["duration_seconds"].as_f64().is_some());
    let report = t.get(&format!("{path}/rejects.csv"), &token).await;
    assert_eq!(report.status, 200);
    assert!(
        report.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let text = report.json.as_str().unwrap().to_owned();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "row,column,value,reason,Customer Ref,Mobile,First Name,Last Name,Date of Birth,Balance,Postcode,Email"
    );
    // Row 7 has three bad values (e-mail is an ordinary text field here).
    assert_eq!(lines.len(), 1 + 5, "{text}");
    assert!(lines[1].starts_with("5,Mobile,12345,"), "{}", lines[1]);
    assert!(
        lines[2].starts_with("6,(channel address),+353871234567,duplicate: row 2"),
        "{}",
        lines[2]
    );
    assert!(
        lines[3].starts_with("7,Date of Birth,31/02/1990,\"day 31 does not exist"),
        "{}",
        lines[3]
    );

    // Contacts: filter by typed value and by address in local form.
    let found = t
        .get("/api/v1/contacts?field.balance=%E2%82%AC1.234%2C56", &token)
        .await;
    assert_eq!(
        found.json["data"].as_array().unwrap().len(),
        1,
        "{}",
        found.json
    );
    let c001 = found.json["data"][0].clone();
    assert_eq!(c001["customer_id"], "C001");
    assert_eq!(c001["fields"]["date_of_birth"], "1980-01-31");
    assert_eq!(
        c001["addresses"],
        json!([{"kind": "sms", "address": "+353871234567"}])
    );
    let by_address = t
        .get("/api/v1/contacts?address=%2B353%2087%20123%204567", &token)
        .await;
    assert_eq!(by_address.json["data"][0]["id"], c001["id"]);
    let fields = t.get("/api/v1/fields", &token).await;
    let keys: Vec<&str> = fields.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "customer_id",
            "first_name",
            "last_name",
            "timezone",
            "balance",
            "date_of_birth",
            "email",
            "postcode"
        ]
    );

    // The same file again changes nothing.
    let again = upload(&t, &token, "contacts.csv", &options, UTF8_FIXTURE).await;
    let counters = run_job(&t, &again.json).await;
    assert_eq!(
        (
            counters["contacts_unchanged"].as_u64(),
            counters["contacts_created"].as_u64(),
            counters["contacts_updated"].as_u64()
        ),
        (Some(3), Some(0), Some(0))
    );
    let after = t
        .get(
            &format!("/api/v1/contacts/{}", c001["id"].as_str().unwrap()),
            &token,
        )
        .await;
    assert_eq!(after.json, c001);
    let list = t.get("/api/v1/imports", &token).await;
    assert_eq!(list.json["data"].as_array().unwrap().len(), 2);
}

/// The organization's field definitions: key → (type, pii, label).
async fn fields_of(
    t: &TestApp,
    token: &str,
) -> std::collections::BTreeMap<String, (String, bool, String)> {
    let fields = t.get("/api/v1/fields", token).await;
    fields.json["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["builtin"] == false)
        .map(|f| {
            (
                f["key"].as_str().unwrap().to_owned(),
                (
                    f["type"].as_str().unwrap().to_owned(),
                    f["pii"].as_bool().unwrap(),
                    f["label"].as_str().unwrap().to_owned(),
                ),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_first_import_types_its_new_columns_and_refuses_impossible_dates() {
    let t = TestApp::new().await;
    let (_, token) = t
        .org_with_token("First import", None, Role::Supervisor)
        .await;
    // No field definitions: every column but the phone is new.
    let file = "Mobile,Date of Birth,Balance,Email,Postcode,Opted In,Notes,Account\n\
                087 123 4567,31/01/1980,\"1,204.50\",zoe@example.ie,A65 F4E2,yes,called twice,00123\n\
                086 765 4321,31/02/1980,99.5,sean@example.ie,D6W 1234,no,,00456\n\
                085 111 2222,1990-13-45,10,ann@example.ie,A65 F4E2,no,ok,00789\n\
                083 999 8888,05/12/1990,£0.10,bob@example.ie,D02 X285,yes,,01000\n";
    let r = upload(
        &t,
        &token,
        "first.csv",
        &json!({"default_country": "IE"}),
        file.as_bytes(),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.json);
    let counters = run_job(&t, &r.json).await;
    assert_eq!(
        (
            counters["rows_imported"].as_u64(),
            counters["rows_rejected"].as_u64()
        ),
        (Some(2), Some(2)),
        "{counters}"
    );
    let fields = fields_of(&t, &token).await;
    let typed: Vec<(&str, &str, bool)> = fields
        .iter()
        .map(|(k, (ty, pii, _))| (k.as_str(), ty.as_str(), *pii))
        .collect();
    assert_eq!(
        typed,
        [
            ("account", "text", false),
            ("balance", "money", false),
            ("date_of_birth", "date", true),
            ("email", "email", true),
            ("notes", "text", false),
            ("opted_in", "boolean", false),
            ("postcode", "postcode", true),
        ]
    );
    assert_eq!(
        fields["date_of_birth"].2, "Date of Birth",
        "the header is the label"
    );

    // The impossible dates are refused with the reason, in the same import.
    let path = format!("/api/v1/imports/{}", r.json["id"].as_str().unwrap());
    let report = t.get(&format!("{path}/rejects.csv"), &token).await;
    let text = report.json.as_str().unwrap().to_owned();
    assert!(
        text.contains("3,Date of Birth,31/02/1980,\"day 31 does not exist in 1980-02"),
        "{text}"
    );
    assert!(
        text.contains("4,Date of Birth,1990-13-45,\"month 13 is out of range"),
        "{text}"
    );
    // The operator is told what was made.
    let got = t.get(&path, &token).await;
    let warnings = got.json["warnings"].to_string();
    assert!(
        warnings.contains("date_of_birth (date, personal data)")
            && warnings.contains("balance (money)"),
        "{warnings}"
    );
    // Values are stored in their type's canonical form.
    let zoe = t
        .get("/api/v1/contacts?field.email=zoe%40example.ie", &token)
        .await;
    let fields = &zoe.json["data"][0]["fields"];
    assert_eq!(
        (
            &fields["date_of_birth"],
            &fields["balance"],
            &fields["opted_in"],
            &fields["account"]
        ),
        (
            &json!("1980-01-31"),
            &json!("1204.50"),
            &json!(true),
            &json!("00123")
        ),
        "{}",
        zoe.json
    );
}

#[tokio::test]
async fn an_import_whose_every_row_is_refused_makes_no_fields() {
    let t = TestApp::new().await;
    let (_, token) = t
        .org_with_token("All refused", None, Role::Supervisor)
        .await;
    let file = "Mobile,Date of Birth,Balance\n12,01/01/1980,10\nnope,02/01/1980,11\n";
    let r = upload(
        &t,
        &token,
        "bad.csv",
        &json!({"default_country": "IE"}),
        file.as_bytes(),
    )
    .await;
    let counters = run_job(&t, &r.json).await;
    assert_eq!(
        (
            counters["rows_imported"].as_u64(),
            counters["rows_rejected"].as_u64()
        ),
        (Some(0), Some(2))
    );
    assert!(fields_of(&t, &token).await.is_empty(), "no field was made");
    // A later import with a good row makes them, typed.
    let file = "Mobile,Date of Birth,Balance\n087 123 4567,01/01/1980,10\n";
    let r = upload(
        &t,
        &token,
        "good.csv",
        &json!({"default_country": "IE"}),
        file.as_bytes(),
    )
    .await;
    run_job(&t, &r.json).await;
    let fields = fields_of(&t, &token).await;
    assert_eq!(
        fields.keys().map(String::as_str).collect::<Vec<_>>(),
        ["balance", "date_of_birth"]
    );
    assert_eq!(fields["date_of_birth"].0, "date");
}

#[tokio::test]
async fn one_contact_is_added_whole_with_every_bad_value_named_at_once() {
    let t = TestApp::new().await;
    let (_, token) = t.org_with_token("One by one", None, Role::Supervisor).await;
    t.define_fields(&token, &[("balance", "money"), ("date_of_birth", "date")])
        .await;
    let add = |body: Value| {
        let (t, token) = (&t, token.clone());
        async move {
            t.call(
                Method::POST,
                "/api/v1/contacts",
                Some(&token),
                None,
                Some(body),
            )
            .await
        }
    };
    let r = add(
        json!({"customer_id": "AC-9", "fields": {"first_name": "Ada", "balance": "£12.5"},
                       "addresses": [{"kind": "sms", "address": "07911 123456"}]}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["customer_id"], "AC-9");
    assert_eq!(
        r.json["fields"],
        json!({"first_name": "Ada", "balance": "12.50"})
    );
    assert_eq!(
        r.json["addresses"],
        json!([{"kind": "sms", "address": "+447911123456"}]),
        "a local number is read with the organization's country"
    );
    let got = t
        .get(
            &format!("/api/v1/contacts/{}", r.json["id"].as_str().unwrap()),
            &token,
        )
        .await;
    assert_eq!(got.json, r.json);

    // Every bad part at once, named as the request names it.
    let bad = add(json!({"customer_id": "", "fields": {"balance": "lots", "date_of_birth": "31/02/1980", "nope": 1},
                         "addresses": [{"kind": "sms", "address": "12"}]}))
    .await;
    assert_eq!(bad.status, 422, "{}", bad.json);
    let named = parley_testkit::problem_fields(&bad.json);
    assert_eq!(
        named,
        [
            "addresses[0].address",
            "customer_id",
            "fields.balance",
            "fields.date_of_birth",
            "fields.nope"
        ],
        "{}",
        bad.json
    );
    let none = add(json!({"addresses": []})).await;
    assert_eq!(none.status, 422);
    assert_eq!(
        none.json["errors"][0]["field"], "addresses",
        "{}",
        none.json
    );

    // Held by another contact: a conflict, and nothing written.
    let taken = add(json!({"customer_id": "AC-10", "addresses": [
        {"kind": "sms", "address": "+447911123457"}, {"kind": "sms", "address": "+447911123456"}]}))
    .await;
    assert_eq!(taken.status, 409, "{}", taken.json);
    assert!(
        taken.json["detail"]
            .as_str()
            .unwrap()
            .contains("channel address"),
        "{}",
        taken.json
    );
    let again = add(
        json!({"customer_id": "AC-9", "addresses": [{"kind": "sms", "address": "+447911123458"}]}),
    )
    .await;
    assert_eq!(again.status, 409, "{}", again.json);
    let all = t.get("/api/v1/contacts", &token).await;
    assert_eq!(
        all.json["data"].as_array().unwrap().len(),
        1,
        "{}",
        all.json
    );
    let free = t
        .get("/api/v1/contacts?address=%2B447911123457", &token)
        .await;
    assert!(free.json["data"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn rows_malformed_files_contact_edits_and_suppressions() {
    let t = TestApp::new().await;
    let (org, token) = t.org_with_token("Rows", None, Role::Admin).await;
    let rows = json!({"rows": [
        {"phone": "07911 123456", "customer_id": "R1", "first_name": "Ann"},
        {"phone": 7_911_123_457_i64, "customer_id": "R2"},
        {"phone": "nope", "customer_id": "R3"}
    ]});
    let r = t
        .call(
            Method::POST,
            "/api/v1/imports",
            Some(&token),
            None,
            Some(rows),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), r.json["format"].as_str()),
        (202, Some("rows")),
        "{}",
        r.json
    );
    let counters = run_job(&t, &r.json).await;
    assert_eq!(
        (
            counters["rows_imported"].as_u64(),
            counters["rows_rejected"].as_u64()
        ),
        (Some(2), Some(1))
    );
    let r2 = t.get("/api/v1/contacts?customer_id=R2", &token).await;
    assert_eq!(
        r2.json["data"][0]["addresses"][0]["address"], "+447911123457",
        "a number that lost its zero"
    );

    // A broken file fails naming the line; the row before the break is counted.
    let r = upload(
        &t,
        &token,
        "broken.csv",
        &json!({"default_country": "IE"}),
        UNTERMINATED_FIXTURE,
    )
    .await;
    run_job(&t, &r.json).await;
    let got = t
        .get(
            &format!("/api/v1/imports/{}", r.json["id"].as_str().unwrap()),
            &token,
        )
        .await;
    assert_eq!(got.json["status"], "failed");
    assert!(
        got.json["error"].as_str().unwrap().contains("line 3"),
        "{}",
        got.json
    );
    assert_eq!(
        (
            got.json["rows_total"].as_u64(),
            got.json["rows_imported"].as_u64()
        ),
        (Some(1), Some(1))
    );

    // Refusals before anything is stored.
    let r = upload(&t, &token, "contacts.pdf", &json!({}), b"%PDF").await;
    assert_eq!(r.problem_field(), (422, Some("file")));
    let r = upload(&t, &token, "c.csv", &json!({"mapping": 5}), b"phone\n1").await;
    assert_eq!(r.problem_field(), (422, Some("options.mapping")));
    let r = t
        .call(
            Method::POST,
            "/api/v1/imports",
            Some(&token),
            None,
            Some(json!({"rows": []})),
        )
        .await;
    assert_eq!(r.problem_field(), (422, Some("rows")));

    // Contact edits are read by field type and refused naming the field.
    let id = r2.json["data"][0]["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/contacts/{id}");
    t.call(
        Method::POST,
        "/api/v1/fields",
        Some(&token),
        None,
        Some(json!({"key": "balance", "type": "money"})),
    )
    .await;
    let r = t
        .call(
            Method::PATCH,
            &path,
            Some(&token),
            None,
            Some(json!({"fields": {"balance": "lots"}})),
        )
        .await;
    assert_eq!(r.problem_field(), (422, Some("fields.balance")));
    let r = t.call(Method::PATCH, &path, Some(&token), None, Some(json!({"fields": {"balance": "£1,250.5"}, "add_addresses": [{"kind": "whatsapp", "address": "07911 123457"}]}))).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["fields"]["balance"], "1250.50");
    assert_eq!(
        r.json["addresses"][1],
        json!({"kind": "whatsapp", "address": "+447911123457"})
    );
    let r = t
        .call(
            Method::PATCH,
            &path,
            Some(&token),
            None,
            Some(json!({"customer_id": "R1"})),
        )
        .await;
    assert_eq!(r.status, 409, "{}", r.json);

    // Suppressions: stored as keyed hashes, checked by address in any local form.
    let access = t
        .app
        .access(
            parley_app::auth::Principal {
                subject: parley_app::auth::Subject::ApiKey(parley_domain::ApiKeyId::generate()),
                home: org,
                permissions: Role::Admin.permissions(),
            },
            None,
        )
        .await
        .unwrap();
    t.app
        .suppress(
            &access,
            &ChannelAddress {
                kind: ChannelKind::Sms,
                address: "+447911123456".into(),
            },
            "stop_keyword",
        )
        .await
        .unwrap();
    let r = t
        .get(
            "/api/v1/contacts/suppressions?address=07911%20123456",
            &token,
        )
        .await;
    assert_eq!(r.json["data"].as_array().unwrap().len(), 1, "{}", r.json);
    assert!(
        !r.json.to_string().contains("7911123456"),
        "only the hash is shown"
    );
    let r = t
        .get(
            "/api/v1/contacts/suppressions?address=07911%20123457",
            &token,
        )
        .await;
    assert!(r.json["data"].as_array().unwrap().is_empty());

    let r = t
        .call(Method::DELETE, &path, Some(&token), None, None)
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(t.get(&path, &token).await.status, 404);
}

/// An upload over the configured size (`imports.max_file_mib`, here 200 bytes) is refused
/// with a problem naming the file and the limit; the import is recorded as failed with
/// that reason, none of its bytes are kept, and no contact is created.
#[tokio::test]
async fn an_upload_over_the_size_limit_is_refused_and_nothing_is_kept() {
    let t = TestApp::with_settings(|s| s.max_import_bytes = 200).await;
    let (org, token) = t.org_with_token("Limited", None, Role::Admin).await;
    let mut file = b"phone,first_name\n".to_vec();
    for i in 0..20 {
        file.extend(format!("+35387100{i:04},Name{i}\n").as_bytes());
    }
    assert!(file.len() > 200);
    let r = upload(&t, &token, "big.csv", &json!({}), &file).await;
    assert_eq!(r.problem_field(), (422, Some("file")), "{}", r.json);
    let detail = r.json["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(detail.contains("larger than 200 bytes"), "{}", r.json);

    let imports = t.get("/api/v1/imports", &token).await;
    let items = imports.json["data"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", imports.json);
    assert_eq!(items[0]["status"], "failed");
    assert!(
        items[0]["error"]
            .as_str()
            .unwrap_or_default()
            .contains("larger than 200 bytes"),
        "{}",
        imports.json
    );
    let id = items[0]["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(t.store().import_chunk(id, 0).await.unwrap(), None);
    let contacts = t.get("/api/v1/contacts", &token).await;
    assert_eq!(contacts.json["data"], json!([]), "{org}");
}

/// The window a crash can leave: every row committed, the import's status not. The job's
/// retry settles nothing twice: the counters (created, rejected, report lines) stay what
/// the first attempt committed and the import completes. (Before, the retry started the
/// import over and reported every contact `unchanged`, none created.)
#[tokio::test]
async fn a_retry_after_the_last_commit_keeps_the_counters() {
    let t = TestApp::new().await;
    let token = t.owner_token().await;
    let mut csv = String::from("phone,first_name\n");
    for i in 0..500 {
        csv.push_str(&format!("+447911{i:06},Person {i}\n"));
    }
    csv.push_str("not a phone,Nobody\n");
    let import = upload(&t, &token, "window.csv", &json!({}), csv.as_bytes()).await;
    assert_eq!(import.status, 202, "{}", import.json);
    let id: parley_domain::ImportId = import.json["id"].as_str().unwrap().parse().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("window.csv");
    std::fs::write(&file, &csv).unwrap();
    let outcome = t
        .app
        .run_import(
            id,
            parley_app::imports::ImportRun::File(file),
            std::sync::Arc::default(),
        )
        .await
        .unwrap();
    assert_eq!(outcome, parley_app::imports::RunOutcome::Completed);
    let first = t.store().find_import(id).await.unwrap().unwrap();
    // The crash: rows committed, status not.
    let out = std::process::Command::new("sqlite3")
        .arg(t.db.dir().join("parley.db"))
        .arg("UPDATE imports SET status = 'running', finished_at = NULL")
        .output()
        .expect("the sqlite3 shell (.ci/run installs it)");
    assert!(out.status.success());
    let counters = run_job(&t, &import.json).await;
    let again = t.store().find_import(id).await.unwrap().unwrap();
    assert_eq!(again.status, parley_domain::ImportStatus::Completed);
    assert_eq!(again.counters, first.counters);
    assert_eq!(counters["contacts_created"], 500);
    assert_eq!(counters["rows_rejected"], 1);
    let rejects = t
        .get(&format!("/api/v1/imports/{id}/rejects.csv"), &token)
        .await;
    let lines = rejects.json.as_str().unwrap().lines().count();
    assert_eq!(
        lines, 2,
        "the header and one line, not two: {}",
        rejects.json
    );
}

/// A job that fails on something other than the store (here the import's organization
/// cannot be read: the row was tampered with) fails its import with a message naming the
/// import, and gives up, rather than leaving the import queued while the job retries.
#[tokio::test]
async fn an_import_whose_job_breaks_ends_failed_with_a_message() {
    let t = TestApp::new().await;
    let token = t.owner_token().await;
    let import = upload(
        &t,
        &token,
        "broken.csv",
        &json!({}),
        b"phone\n+447911000001\n",
    )
    .await;
    assert_eq!(import.status, 202, "{}", import.json);
    let id: parley_domain::ImportId = import.json["id"].as_str().unwrap().parse().unwrap();
    // The sqlite3 shell does not enforce foreign keys: the row now names no organization.
    let out = std::process::Command::new("sqlite3")
        .arg(t.db.dir().join("parley.db"))
        .arg("UPDATE imports SET organization_id = 'org_01hzzzzzzzzzzzzzzzzzzzzzzz'")
        .output()
        .expect("the sqlite3 shell (.ci/run installs it)");
    assert!(out.status.success());
    let outcome = ImportJob { import_id: id }
        .run(&t.app, JobId::generate())
        .await;
    assert!(
        matches!(outcome, Err(parley_jobs::JobError::Permanent(_))),
        "the job gives up: {outcome:?}"
    );
    let record = t.store().find_import(id).await.unwrap().unwrap();
    assert_eq!(record.status, parley_domain::ImportStatus::Failed);
    let error = record.error.unwrap_or_default();
    assert!(
        error.contains("unexpected error") && error.contains(&id.to_string()),
        "{error}"
    );
}
