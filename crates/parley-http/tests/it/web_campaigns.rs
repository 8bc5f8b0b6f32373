//! The Campaigns pages as a supervisor uses them: the audience counted as it is chosen;
//! a refused form names every bad box at once and keeps what was typed; a campaign made
//! and started from the form, followed on its page (counters, recipients filtered by
//! state, the CSV), paused, resumed and cancelled; viewers read without controls and
//! agents have no campaigns.

use http::StatusCode;
use parley_domain::Role;
use parley_testkit::TestApp;
use serde_json::json;

use crate::campaigns::{fast_sim, flow, import};
use crate::web::{csrf_field, get, html, location, person, poster};

fn count_of(page: &str) -> &str {
    let start = page
        .find("<output id=\"audience-count\"")
        .expect("the count");
    let text = &page[start..];
    &text[text.find('>').unwrap() + 1..text.find("</output>").unwrap()]
}

#[tokio::test]
async fn a_supervisor_makes_follows_and_moves_a_campaign_in_the_pages() {
    let t = TestApp::new().await;
    let org = t.root.organization;
    let token = t.owner_token().await;
    t.define_fields(&token, &[("due", "date"), ("region", "text")])
        .await;
    let rows = json!([
        {"phone": "+447911100001", "first_name": "Ann", "region": "north", "due": "2026-12-31"},
        {"phone": "+447911100002", "first_name": "Bob", "region": "north"},
        {"phone": "+447911100003", "first_name": "Cat", "region": "south"},
    ]);
    let import_id = import(&t, &token, rows).await;
    let flow_id = flow(&t, &token).await;
    let channel = fast_sim(&t, &token).await;
    let sam = person(&t, org, "sam@example.test", Role::Supervisor).await;
    let list = format!("/app/{org}/campaigns");
    let page = t.send(get(&list, &sam)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", html(&page));
    let text = html(&page).to_owned();
    assert!(text.contains(">Campaigns</a>"), "the section's link");
    assert!(
        text.contains(&format!(
            "<option value=\"{flow_id}\">arrears (version 1)</option>"
        )),
        "{text}"
    );
    assert!(text.contains("Fast (sim)"));
    assert!(
        text.contains("— 3 contacts, "),
        "the import offered with its size"
    );
    let csrf = csrf_field(&text);

    // The audience counted as it is chosen.
    let audience = |q: &str| get(&format!("{list}/audience?{q}"), &sam);
    let counted = html(
        &t.send(audience(&format!("audience=import&import_id={import_id}")))
            .await,
    )
    .to_owned();
    assert_eq!(count_of(&counted), "3 contacts");
    let counted = html(
        &t.send(audience("audience=filter&field.1=region&value.1=north"))
            .await,
    )
    .to_owned();
    assert_eq!(count_of(&counted), "2 contacts");
    let counted = html(
        &t.send(audience(
            "audience=filter&field.1=region&value.1=north&field.2=due&value.2=31/12/2026",
        ))
        .await,
    )
    .to_owned();
    assert_eq!(
        count_of(&counted),
        "1 contact",
        "the date read as the organization writes dates"
    );
    let counted = html(
        &t.send(audience("audience=filter&field.1=due&value.1=someday"))
            .await,
    )
    .to_owned();
    assert!(counted.contains("class=\"field-problem\""), "{counted}");

    // Every bad box at once, what was typed kept.
    let post = poster(&list, &sam, &csrf);
    let r = t
        .send(post(&[
            ("name", ""),
            ("audience", "import"),
            ("import_id", ""),
            ("flow_id", &flow_id),
            ("channel_id", &channel),
            ("opens", "25:00"),
            ("rate_per_second", "lots"),
            ("when", "at"),
        ]))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let refused = html(&r).to_owned();
    for id in ["c-name", "audience-import", "c-opens", "c-rate", "c-start"] {
        assert!(
            refused.contains(&format!("id=\"{id}-problem\"")),
            "{id}: {refused}"
        );
    }
    assert!(refused.contains("role=\"alert\""));
    assert!(refused.contains("value=\"25:00\""), "typed values kept");
    assert_eq!(
        t.get("/api/v1/campaigns", &token).await.json["data"],
        json!([]),
        "nothing made"
    );

    // Made and started.
    let r = t
        .send(post(&[
            ("name", "December <arrears>"),
            ("audience", "filter"),
            ("field.1", "region"),
            ("value.1", "north"),
            ("flow_id", &flow_id),
            ("channel_id", &channel),
            ("when", "now"),
        ]))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", html(&r));
    let page_path = location(&r).to_owned();
    let id = page_path.rsplit('/').next().unwrap().to_owned();
    let shown = html(&t.send(get(&page_path, &sam)).await).to_owned();
    assert!(
        shown.contains("<h1>December &#60;arrears&#62;</h1>"),
        "names render inert"
    );
    assert!(
        shown.contains("id=\"campaign-status\">running</span>"),
        "{shown}"
    );
    assert!(
        shown.contains(&format!(
            "data-refresh=\"200\" data-refresh-from=\"{page_path}/live\""
        )),
        "followed live while it runs, the progress alone: {shown}"
    );
    let live = html(&t.send(get(&format!("{page_path}/live"), &sam)).await).to_owned();
    assert!(
        live.starts_with("<div id=\"campaign-live\"")
            && live.contains("id=\"campaign-status\">running</span>")
            && live.contains(">Pause</button>")
            && live.contains(&format!("name=\"csrf\" value=\"{csrf}\"")),
        "the region alone, its moves posting with the session's token: {live}"
    );
    assert!(shown.contains("Contacts whose region is north"));
    assert!(shown.contains(">Pause</button>") && shown.contains(">Cancel campaign</button>"));
    assert!(!shown.contains(">Resume</button>"));

    // Pause and resume; a move the status does not allow is said, not done.
    let act = poster(&page_path, &sam, &csrf);
    let r = t.send(act(&[("action", "pause")])).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let paused = html(&t.send(get(&page_path, &sam)).await).to_owned();
    assert!(paused.contains(">paused</span>") && paused.contains(">Resume</button>"));
    assert!(
        !paused.contains("data-refresh"),
        "a paused campaign is not re-read"
    );
    let r = t.send(act(&[("action", "pause")])).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert!(html(&r).contains("role=\"alert\""));
    assert_eq!(
        t.send(act(&[("action", "resume")])).await.status,
        StatusCode::SEE_OTHER
    );

    // Sent to the two in the north; the counters catch up within their second.
    let mut run = parley_app::campaigns::dispatch::CampaignRun::default();
    let campaign = id.parse().unwrap();
    for _ in 0..20 {
        if t.app
            .dispatch_pass(org, campaign, &mut run)
            .await
            .unwrap()
            .done
        {
            break;
        }
    }
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let sent = html(&t.send(get(&page_path, &sam)).await).to_owned();
    assert!(
        sent.contains("<div><dt>Sent</dt><dd>2</dd></div>"),
        "{sent}"
    );
    assert!(sent.contains("2 of 2 recipients done") && sent.contains(">completed</span>"));
    assert!(sent.contains(">+447911100001</a>") && !sent.contains("+447911100003"));
    assert!(
        !sent.contains("<button type=\"submit\" name=\"action\""),
        "nothing left to move"
    );
    let skipped = html(
        &t.send(get(&format!("{page_path}?state=skipped"), &sam))
            .await,
    )
    .to_owned();
    assert!(skipped.contains("No recipients here yet"), "{skipped}");
    assert!(sent.contains(&format!(
        "href=\"/api/v1/campaigns/{id}/recipients.csv\" download"
    )));
    let csv = t
        .send(get(&format!("/api/v1/campaigns/{id}/recipients.csv"), &sam))
        .await;
    assert_eq!(csv.status, StatusCode::OK);

    // A draft is started or cancelled from its page.
    let r = t
        .send(post(&[
            ("name", "Kept"),
            ("audience", "import"),
            ("import_id", &import_id),
            ("flow_id", &flow_id),
            ("channel_id", &channel),
            ("when", "draft"),
        ]))
        .await;
    let draft_path = location(&r).to_owned();
    let draft = html(&t.send(get(&draft_path, &sam)).await).to_owned();
    assert!(
        draft.contains(">draft</span>") && draft.contains(">Start</button>"),
        "{draft}"
    );
    assert!(
        draft.contains(&format!("The contacts of the import {import_id}")),
        "{draft}"
    );
    let act = poster(&draft_path, &sam, &csrf);
    assert_eq!(
        t.send(act(&[("action", "cancel")])).await.status,
        StatusCode::SEE_OTHER
    );
    let draft_id = draft_path.rsplit('/').next().unwrap();
    let api = t
        .get(&format!("/api/v1/campaigns/{draft_id}"), &token)
        .await
        .json;
    assert_eq!(api["status"], "cancelled");

    // Viewers read without controls; agents have no campaigns; forged posts do nothing.
    let vic = person(&t, org, "vic@example.test", Role::Viewer).await;
    let read = html(&t.send(get(&list, &vic)).await).to_owned();
    assert!(read.contains("December &#60;arrears&#62;") && !read.contains("Create campaign"));
    let vic_csrf = csrf_field(&read);
    let forged = poster(&list, &vic, &vic_csrf);
    assert_eq!(
        t.send(forged(&[
            ("name", "x"),
            ("audience", "filter"),
            ("flow_id", &flow_id),
            ("channel_id", &channel)
        ]))
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let vic_live = html(&t.send(get(&format!("{page_path}/live"), &vic)).await).to_owned();
    assert!(
        vic_live.contains("id=\"campaign-status\"") && !vic_live.contains("<button"),
        "a viewer follows without controls: {vic_live}"
    );
    let ann = person(&t, org, "ann@example.test", Role::Agent).await;
    assert_eq!(t.send(get(&list, &ann)).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        t.send(get(&format!("{page_path}/live"), &ann)).await.status,
        StatusCode::FORBIDDEN
    );
    assert!(
        !html(
            &t.send(get(&format!("/app/{org}/conversations"), &ann))
                .await
        )
        .contains(">Campaigns</a>")
    );
    assert_eq!(
        t.get("/api/v1/campaigns", &token).await.json["data"]
            .as_array()
            .unwrap()
            .len(),
        2,
        "the two made in the page, no more"
    );
}
