//! Every list route refuses a `cursor` it did not give with a 422 naming `cursor` (not a
//! quiet first page, not a 404), found by walking the OpenAPI document.

use parley_domain::Role;
use parley_testkit::TestApp;

use super::seed::seed;
use super::{SCOPED, attempt};

#[tokio::test]
async fn every_list_refuses_a_cursor_it_did_not_give() {
    let t = TestApp::new().await;
    let (org, token) = t.org_with_token("Lists", None, Role::Admin).await;
    let document = serde_json::to_value(parley_http::openapi()).unwrap();
    let mut n = 0;
    let ids = seed(&t, org, &mut n).await;
    let mut checked = Vec::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        let Some(get) = item.get("get") else { continue };
        let takes_cursor = get["parameters"]
            .as_array()
            .is_some_and(|ps| ps.iter().any(|p| p["name"] == "cursor"));
        if !takes_cursor {
            continue;
        }
        let op = SCOPED
            .iter()
            .find(|(m, p)| *m == "GET" && p == path)
            .copied()
            .unwrap_or_else(|| panic!("{path} is not in SCOPED"));
        for garbage in [
            "garbage",
            "usr_01hzzzzzzzzzzzzzzzzzzzzzzz",
            "AQ",
            "%00",
            "12",
        ] {
            let template = format!("{}?cursor={garbage}", op.1);
            let r = attempt(&t, &token, None, ("GET", &template), &ids, n).await;
            assert_eq!(
                (r.status.as_u16(), r.json["errors"][0]["field"].as_str()),
                (422, Some("cursor")),
                "{path} with cursor {garbage}: {}",
                r.json
            );
        }
        checked.push(path.clone());
    }
    assert!(checked.len() >= 15, "only {checked:?}");
}
