//! The Flows pages as a supervisor uses them: a flow made from a document, drawn as a
//! graph with every way out labelled; findings with their step, field, line and column,
//! also as typed (`/check`); Publish refused with what blocks it, then a version made and
//! read; viewers read without controls.

use http::StatusCode;
use parley_domain::Role;
use parley_testkit::TestApp;
use serde_json::json;

use crate::web::{csrf_field, get, html, location, person, poster};

#[tokio::test]
async fn a_supervisor_draws_checks_saves_and_publishes_a_flow_in_the_pages() {
    let t = TestApp::new().await;
    let org = t.root.organization;
    let token = t.owner_token().await;
    let sam = person(&t, org, "sam@example.test", Role::Supervisor).await;
    let list = format!("/app/{org}/flows");
    let page = html(&t.send(get(&list, &sam)).await).to_owned();
    assert!(page.contains(">Flows</a>") && page.contains("No flows yet."));
    assert!(
        page.contains("Payment reminder"),
        "a document to start from"
    );
    let csrf = csrf_field(&page);
    let post = poster(&list, &sam, &csrf);
    let r = t
        .send(post(&[("document", "{\"schema\": 1, \"name\": ")]))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&r).contains("role=\"alert\""));

    let document = json!({"schema": 1, "name": "Arrears <chat>", "start": "ask", "steps": {
        "ask": {"type": "ask", "text": "Can you pay, <<first_name>>?", "save_as": "answer",
                "timeout": "24h", "on_timeout": "agent", "next": "check"},
        "check": {"type": "branch", "rules": [{"when": "<<answer>> == \"yes\"", "next": "thanks"}],
                  "otherwise": "agent"},
        "thanks": {"type": "close", "status": "promised", "text": "Thank you."},
        "agent": {"type": "queue", "queue": "arrears"}}});
    let text = serde_json::to_string_pretty(&document).unwrap();
    let r = t.send(post(&[("document", &text)])).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", html(&r));
    let editor = location(&r).to_owned();
    let shown = html(&t.send(get(&editor, &sam)).await).to_owned();
    assert!(
        shown.contains("<h1>Arrears &#60;chat&#62;</h1>"),
        "names render inert"
    );
    assert!(shown.contains("<svg class=\"flow-graph\""), "{shown}");
    for label in [
        ">next</text>",
        ">timeout</text>",
        ">rule 1</text>",
        ">otherwise</text>",
    ] {
        assert!(shown.contains(label), "{label}");
    }
    assert!(shown.contains("data-step=\"ask\"") && shown.contains("ask · start"));
    assert!(
        shown.contains("These block publishing:"),
        "the queue and status are unknown"
    );
    assert!(
        shown.contains("<code>steps.thanks.status, line "),
        "findings say where: {shown}"
    );
    assert!(shown.contains("Draft, never published"));

    // As typed: a broken condition is placed at its line and column, the drawing follows.
    let typed = text.replace("<<answer>> == \\\"yes\\\"", "<<answer>> ==");
    assert_ne!(typed, text);
    let check_path = format!("{editor}/check");
    let check = poster(&check_path, &sam, &csrf);
    let region = html(&t.send(check(&[("document", &typed)])).await).to_owned();
    assert!(
        region.starts_with("<div id=\"flow-check\""),
        "a region, not a page"
    );
    let line = typed.lines().position(|l| l.contains("\"when\"")).unwrap() + 1;
    assert!(
        region.contains(&format!(
            "<code>steps.check.rules[0].when, line {line}, column "
        )),
        "{region}"
    );
    let region = html(&t.send(check(&[("document", "not a flow")])).await).to_owned();
    assert!(region.contains("role=\"alert\"") && !region.contains("<svg"));

    // Publish refused while something blocks it; the typed text is kept.
    let act = poster(&editor, &sam, &csrf);
    let r = t
        .send(act(&[("action", "publish"), ("document", &text)]))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&r).contains("role=\"alert\"") && html(&r).contains("promised"));
    t.define_flow_names(&token, &document).await;
    let r = t
        .send(act(&[("action", "validate"), ("document", &text)]))
        .await;
    assert!(
        html(&r).contains("No findings: the flow can be published."),
        "{}",
        html(&r)
    );
    let r = t
        .send(act(&[("action", "publish"), ("document", &text)]))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let published = html(&r).to_owned();
    assert!(
        published.contains("Published as version 1.") && published.contains("Published, version 1")
    );
    let version = format!("{editor}/versions/1");
    assert!(published.contains(&format!("<a href=\"{version}\">Version 1</a>")));
    let r = t
        .send(act(&[("action", "publish"), ("document", &text)]))
        .await;
    assert!(html(&r).contains("Nothing changed since version 1"));
    let read = html(&t.send(get(&version, &sam)).await).to_owned();
    assert!(read.contains("<pre class=\"code\">") && read.contains("<svg class=\"flow-graph\""));
    let api = t.get("/api/v1/flows", &token).await.json;
    assert_eq!(api["data"][0]["latest_version"], 1, "{api}");

    // Save keeps a new draft; a viewer reads without controls and cannot post.
    let saved = text.replace("Thank you.", "Thank you very much.");
    let r = t
        .send(act(&[("action", "save"), ("document", &saved)]))
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(html(&t.send(get(&editor, &sam)).await).contains("Thank you very much."));
    let vic = person(&t, org, "vic@example.test", Role::Viewer).await;
    let viewed = html(&t.send(get(&editor, &vic)).await).to_owned();
    assert!(
        viewed.contains("<svg")
            && !viewed.contains("value=\"publish\"")
            && viewed.contains(" readonly")
    );
    let vic_csrf = csrf_field(&viewed);
    let vic_post = poster(&editor, &vic, &vic_csrf);
    assert_eq!(
        t.send(vic_post(&[("action", "save"), ("document", &text)]))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    let ann = person(&t, org, "ann@example.test", Role::Agent).await;
    assert_eq!(t.send(get(&list, &ann)).await.status, StatusCode::FORBIDDEN);
}

/// `document` made a flow (its statuses and queues defined) and a supervisor to edit it:
/// the flow's id, the supervisor's session and the editor's address.
async fn in_the_editor(
    t: &TestApp,
    token: &str,
    document: &serde_json::Value,
) -> (String, String, String) {
    let org = t.root.organization;
    t.define_flow_names(token, document).await;
    let id = t.post_ok(token, "/api/v1/flows", document.clone()).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let sam = person(t, org, "sam@example.test", Role::Supervisor).await;
    let editor = format!("/app/{org}/flows/{id}");
    (id, sam, editor)
}

/// The value of the hidden input `name` in `region`, unescaped.
fn hidden(region: &str, name: &str) -> String {
    let start = region
        .find(&format!("name=\"{name}\" value=\""))
        .unwrap_or_else(|| panic!("no {name} in {region}"))
        + name.len()
        + 15;
    let raw = &region[start..start + region[start..].find('"').unwrap()];
    raw.replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&#60;", "<")
        .replace("&#62;", ">")
        .replace("&#38;", "&")
}

#[tokio::test]
async fn try_it_talks_to_the_draft_with_fetches_and_timers_under_the_testers_control() {
    let t = TestApp::new().await;
    let token = t.owner_token().await;
    let document = json!({"schema": 1, "name": "Trial", "start": "ask", "steps": {
        "ask": {"type": "ask", "text": "Hello <<first_name>>, can you pay?", "save_as": "answer",
                "expect": "yes_no", "timeout": "1h", "on_timeout": "nudge", "next": "look"},
        "nudge": {"type": "message", "text": "Still there?", "next": "agent"},
        "look": {"type": "fetch", "fields": ["balance"], "next": "tell", "on_failure": "agent"},
        "tell": {"type": "close", "status": "done", "text": "Your balance is <<balance>>."},
        "agent": {"type": "queue", "queue": "default"}}});
    let (_, sam, editor) = in_the_editor(&t, &token, &document).await;
    let page = html(&t.send(get(&editor, &sam)).await).to_owned();
    assert!(page.contains("<h2 id=\"try-title\">Try it</h2>") && page.contains(">Try it</button>"));
    let csrf = csrf_field(&page);
    let path = format!("{editor}/try");
    let post = poster(&path, &sam, &csrf);
    let text = document.to_string();
    let contact = "first_name: Sam";
    let turn = |region: &str, extra: Vec<(&'static str, String)>| {
        let mut fields: Vec<(String, String)> = vec![
            ("document".into(), text.clone()),
            ("contact".into(), contact.into()),
            ("state".into(), hidden(region, "state")),
        ];
        let mut rest = region;
        while let Some(at) = rest.find("name=\"line\" value=\"") {
            fields.push(("line".into(), hidden(&rest[at..], "line")));
            rest = &rest[at + 1..];
        }
        fields.extend(extra.into_iter().map(|(k, v)| (k.to_owned(), v)));
        fields
    };
    let send = |fields: Vec<(String, String)>| {
        let refs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        post(&refs)
    };

    let started = html(
        &t.send(post(&[
            ("do", "start"),
            ("document", &text),
            ("contact", contact),
        ]))
        .await,
    )
    .to_owned();
    assert!(
        started.starts_with("<section id=\"try-it\""),
        "a region: {started}"
    );
    assert!(
        started.contains("Bot: Hello Sam, can you pay?"),
        "{started}"
    );
    assert!(
        started.contains("(a timer of 1h starts)")
            && started.contains(">Let the timer pass</button>")
    );
    let replied = html(
        &t.send(send(turn(
            &started,
            vec![("do", "reply".into()), ("reply", "yes".into())],
        )))
        .await,
    )
    .to_owned();
    assert!(
        replied.contains("<li class=\"customer\">You: yes</li>"),
        "{replied}"
    );
    assert!(
        replied.contains("(asks the custom value endpoint for balance)")
            && replied.contains("name=\"fetch.balance\"")
    );
    let answered = html(
        &t.send(send(turn(
            &replied,
            vec![("do", "fetch".into()), ("fetch.balance", "12.50".into())],
        )))
        .await,
    )
    .to_owned();
    assert!(
        answered.contains("Bot: Your balance is 12.50."),
        "{answered}"
    );
    assert!(answered.contains("(closed: done)") && answered.contains("(the conversation ended)"));
    assert!(
        answered.contains("Bot: Hello Sam, can you pay?"),
        "the conversation so far is kept"
    );

    // Again, letting the timer pass; and a failed fetch.
    let again = html(
        &t.send(post(&[
            ("do", "start"),
            ("document", &text),
            ("contact", contact),
        ]))
        .await,
    )
    .to_owned();
    let timed = html(
        &t.send(send(turn(&again, vec![("do", "timer".into())])))
            .await,
    )
    .to_owned();
    assert!(
        timed.contains("(the timer passes)") && timed.contains("Bot: Still there?"),
        "{timed}"
    );
    assert!(timed.contains("(handed over to the queue default)"));
    let replied = html(
        &t.send(send(turn(
            &again,
            vec![("do", "reply".into()), ("reply", "yes".into())],
        )))
        .await,
    )
    .to_owned();
    let failed = html(
        &t.send(send(turn(&replied, vec![("do", "fail".into())])))
            .await,
    )
    .to_owned();
    assert!(
        failed.contains("(handed over to the queue default)"),
        "{failed}"
    );

    // A state that is not one, and a draft with errors, are said; nothing else happens.
    let r = t
        .send(post(&[
            ("do", "reply"),
            ("reply", "x"),
            ("state", "{\"at\": 5"),
            ("document", &text),
        ]))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&r).contains("role=\"alert\""));
    let broken = text.replace("\"next\":\"look\"", "\"next\":\"gone\"");
    assert_ne!(broken, text);
    let r = t
        .send(post(&[("do", "start"), ("document", &broken)]))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html(&r).contains("fix the errors the editor lists"),
        "{}",
        html(&r)
    );
}

#[tokio::test]
async fn an_example_flows_dialogue_script_plays_in_the_page_with_each_transcript() {
    let t = TestApp::new().await;
    let org = t.root.organization;
    let token = t.owner_token().await;
    let text = include_str!("../../../../examples/flows/promise_to_pay.json");
    let script = include_str!("../../../../examples/flows/promise_to_pay.test");
    let document: serde_json::Value = serde_json::from_str(text).unwrap();
    let (_, sam, editor) = in_the_editor(&t, &token, &document).await;
    let page = html(&t.send(get(&editor, &sam)).await).to_owned();
    assert!(page.contains("Dialogue scripts") && page.contains(">Play script</button>"));
    let csrf = csrf_field(&page);
    let path = format!("{editor}/script");
    let post = poster(&path, &sam, &csrf);

    let r = t
        .send(post(&[("document", text), ("script", script)]))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let played = html(&r).to_owned();
    assert!(
        played.starts_with("<section id=\"scripts\""),
        "a region: {played}"
    );
    assert!(played.contains("All 3 dialogues passed."), "{played}");
    for said in [
        "<li class=\"bot\">Bot: Hi Lee, your account PX-9 is £250.00 overdue.</li>",
        "<li class=\"customer\">You: 05/12/2026</li>",
        "Bot: You will pay £100.00 on 2026-12-05.",
        "(outcome status set: promise_to_pay)",
        "(closed: promise_made)",
    ] {
        assert!(played.contains(said), "{said} in {played}");
    }
    assert!(played.contains("✓ US date order reads month first"));

    // A script that expects what the flow does not say fails at its line, after the
    // dialogues that passed, with the conversation up to there.
    let wrong = script.replace("bot: That date has passed.", "bot: That date is gone.");
    let played = html(
        &t.send(post(&[("document", text), ("script", &wrong)]))
            .await,
    )
    .to_owned();
    assert!(
        played.contains("1 dialogue passed; &#34;dates in the past or too far ahead, and too much money, are refused&#34; failed at line 24.")
            && played.contains("role=\"alert\""),
        "{played}"
    );
    assert!(played.contains("Line 24: expected the bot to say &#34;That date is gone.&#34;"));
    assert!(played.contains("<li class=\"customer\">You: 20/11/2026</li>"));

    // Nothing to play, a draft that cannot run, and people who may not: refused.
    let r = t.send(post(&[("document", text), ("script", " ")])).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&r).contains("paste or choose a dialogue script"));
    let r = t
        .send(post(&[("document", "{\"schema\": 1"), ("script", script)]))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let ann = person(&t, org, "ann@example.test", Role::Agent).await;
    let desk = html(
        &t.send(get(&format!("/app/{org}/conversations"), &ann))
            .await,
    )
    .to_owned();
    let r = t
        .send(poster(&path, &ann, &csrf_field(&desk))(&[
            ("document", text),
            ("script", script),
        ]))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_step_opened_from_the_drawing_is_edited_in_its_form_and_written_back() {
    let t = TestApp::new().await;
    let org = t.root.organization;
    let token = t.owner_token().await;
    let document = json!({"schema": 1, "name": "Steps", "start": "ask", "steps": {
        "ask": {"type": "ask", "text": "Can you pay, <<first_name>>?", "save_as": "answer",
                "expect": "yes_no", "timeout": "24h", "on_timeout": "agent", "next": "check"},
        "check": {"type": "branch", "rules": [{"when": "<<answer>> == \"yes\"", "next": "thanks"}],
                  "otherwise": "agent"},
        "thanks": {"type": "close", "status": "promised", "text": "Thank you."},
        "agent": {"type": "queue", "queue": "arrears"}}});
    let (id, sam, editor) = in_the_editor(&t, &token, &document).await;
    let page = html(&t.send(get(&editor, &sam)).await).to_owned();
    assert!(
        page.contains(&format!(
            "<a href=\"{editor}?step=ask#step-edit\" class=\"node-link\" data-step=\"ask\"><title>Edit step ask (ask)</title>"
        )),
        "each box opens its step: {page}"
    );
    assert!(
        !page.contains("id=\"step-edit\""),
        "no form until one is opened"
    );
    for key in ["first_name", "answer", "today"] {
        assert!(
            page.contains(&format!("data-key=\"{key}\"")),
            "<< completes {key}: a field, the flow's own and a built-in name"
        );
    }

    // Without our module: the address opens the stored draft's step.
    let opened = html(&t.send(get(&format!("{editor}?step=ask"), &sam)).await).to_owned();
    assert!(
        opened.contains("<h2 id=\"step-title\">Step ask</h2>"),
        "{opened}"
    );
    for part in [
        "<label for=\"step-text\">Question</label>",
        "name=\"save_as\" value=\"answer\"",
        "<option selected>yes_no</option>",
        "name=\"on_timeout\" value=\"agent\" list=\"flow-steps\"",
        "<option value=\"check\">",
        "<option value=\"arrears\">",
        "<option value=\"promised\">",
        ">Apply to document</button>",
        ">Remove step</button>",
    ] {
        assert!(opened.contains(part), "{part}");
    }
    let csrf = csrf_field(&page);
    let path = format!("{editor}/step");
    let post = poster(&path, &sam, &csrf);
    let text = serde_json::to_string_pretty(&document).unwrap();

    // Opened as typed, as another type: the shared values are kept.
    let r = t
        .send(post(&[
            ("do", "open"),
            ("step", "thanks"),
            ("type", "message"),
            ("document", &text),
        ]))
        .await;
    assert_eq!(r.status, StatusCode::OK);
    let retyped = html(&r).to_owned();
    assert!(retyped.contains("<label for=\"step-text\">Message</label>"));
    assert!(retyped.contains(">Thank you.</textarea>"));
    assert!(retyped.contains("<label for=\"step-next\">Next step</label>"));

    // Applied: the rename reaches every way to the step; the findings follow.
    let r = t
        .send(post(&[
            ("do", "apply"),
            ("step", "agent"),
            ("name", "people"),
            ("type", "queue"),
            ("queue", "arrears"),
            ("text", "A colleague <b>will</b> call."),
            ("document", &text),
        ]))
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", html(&r));
    let applied = html(&r).to_owned();
    assert!(applied.contains("Step people written into the document; Save or Publish keeps it."));
    assert!(
        applied.contains("&#34;on_timeout&#34;: &#34;people&#34;"),
        "{applied}"
    );
    assert!(applied.contains("&#34;otherwise&#34;: &#34;people&#34;"));
    assert!(
        applied.contains("A colleague &#60;b&#62;will&#60;/b&#62; call."),
        "inert"
    );
    assert!(applied.contains("No findings: the flow can be published."));
    assert!(applied.contains("<h2 id=\"step-title\">Step people</h2>"));
    let stored = t.get(&format!("/api/v1/flows/{id}"), &token).await.json;
    let draft = stored["draft"].to_string();
    assert!(
        draft.contains("agent") && !draft.contains("people"),
        "nothing is stored until Save: {draft}"
    );

    // Every problem beside its field, the typed document untouched.
    let r = t
        .send(post(&[
            ("do", "apply"),
            ("step", "ask"),
            ("name", "check"),
            ("type", "ask"),
            ("text", "Again?"),
            ("save_as", "answer"),
            ("expect", "maybe"),
            ("retries", "lots"),
            ("next", "check"),
            ("document", &text),
        ]))
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    let refused = html(&r).to_owned();
    for id in ["step-name", "step-expect", "step-retries"] {
        assert!(
            refused.contains(&format!("aria-describedby=\"{id}-problem\"")),
            "{id} in {refused}"
        );
    }
    assert!(refused.contains("role=\"alert\"") && refused.contains("value=\"lots\""));
    assert!(
        refused.contains("&#34;expect&#34;: &#34;yes_no&#34;")
            && refused.contains(">Again?</textarea>"),
        "the document as it was, the form as typed: {refused}"
    );

    // Removed: the ways to it become findings.
    let r = t
        .send(post(&[
            ("do", "remove"),
            ("step", "thanks"),
            ("document", &text),
        ]))
        .await;
    let removed = html(&r).to_owned();
    assert!(removed.contains("Step thanks removed from the document"));
    assert!(removed.contains("These block publishing:") && removed.contains("Add step thanks"));

    // A viewer sees no way to edit and cannot post; an unknown action is refused.
    let vic = person(&t, org, "vic@example.test", Role::Viewer).await;
    let viewed = html(&t.send(get(&format!("{editor}?step=ask"), &vic)).await).to_owned();
    assert!(!viewed.contains("Edit step ask") && !viewed.contains("step-edit"));
    let r = t
        .send(poster(&path, &vic, &csrf_field(&viewed))(&[
            ("do", "open"),
            ("step", "ask"),
            ("document", &text),
        ]))
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let r = t.send(post(&[("do", "erase"), ("document", &text)])).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
}
