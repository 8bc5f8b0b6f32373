//! The example flows in `examples/flows/`: each validates without a diagnostic and passes
//! its dialogue script (`NAME.test` beside `NAME.json` or `NAME.yaml`). The same runner
//! backs `parley flow test`. Also the state-size goal: at most 2 KiB serialised.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use parley_flow::{FlowDocument, Settings, run_script, validate};

fn examples() -> Vec<(PathBuf, PathBuf)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/flows");
    let mut out = Vec::new();
    for entry in std::fs::read_dir(&dir).expect("examples/flows exists") {
        let path = entry.expect("readable").path();
        let is_flow = matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("json" | "yaml")
        );
        if is_flow {
            let script = path.with_extension("test");
            assert!(script.exists(), "{} has no test script", path.display());
            out.push((path, script));
        }
    }
    out.sort();
    out
}

#[test]
fn every_example_flow_is_clean_and_passes_its_script() {
    let examples = examples();
    assert_eq!(
        examples.len(),
        3,
        "arrears reminder, inbound triage, promise to pay"
    );
    for (flow_path, script_path) in examples {
        let text = std::fs::read_to_string(&flow_path).expect("readable");
        let doc =
            FlowDocument::parse(&text).unwrap_or_else(|e| panic!("{}: {e}", flow_path.display()));
        let validation = validate(&doc, None);
        assert!(
            validation.diagnostics.is_empty(),
            "{}: {:?}",
            flow_path.display(),
            validation.diagnostics
        );
        let flow = validation.flow().expect("publishable");
        let script = std::fs::read_to_string(&script_path).expect("readable");
        let defaults = Settings::new(NaiveDate::from_ymd_opt(2026, 1, 1).expect("a date"));
        let reports = run_script(flow, &script, &defaults)
            .unwrap_or_else(|e| panic!("{}: {e}", script_path.display()));
        assert!(
            reports.len() >= 3,
            "{}: too few dialogues",
            script_path.display()
        );
        for r in reports {
            assert!(
                r.max_state_bytes <= 2048,
                "{}: {} holds {} bytes of state",
                script_path.display(),
                r.name,
                r.max_state_bytes
            );
        }
    }
}
