//! A flow drawn as a graph: each step a box, each way out of it (`next`, a branch's rules
//! and `otherwise`, an ask's timeout, a fetch's failure) an arrow labelled with its name,
//! laid out automatically in columns by distance from the start. Pure: the web editor
//! renders the result as SVG.
//!
//! Decisions: a step's column is the length of the shortest path to it from `start`
//! (breadth first, in the order each step names its targets), so the way a conversation
//! usually goes reads left to right; steps no path reaches stand in a last column of their
//! own, and a target no step has is drawn as a box marked missing, so a broken flow is
//! still drawn. Within a column, steps keep the order they were first reached. Arrows to a
//! column to the left (loops, retries) are drawn as curves below the boxes.

use std::collections::{BTreeMap, HashMap, VecDeque};

use crate::document::{FlowDocument, Step};

/// A box's size and the gaps between them, in SVG user units.
pub const NODE_WIDTH: u32 = 168;
/// A box's height.
pub const NODE_HEIGHT: u32 = 56;
const COLUMN_GAP: u32 = 96;
const ROW_GAP: u32 = 40;
const MARGIN: u32 = 24;

/// One step's box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The step's name.
    pub name: String,
    /// Its type (`message`, `ask`…), or `missing` for a target no step has.
    pub kind: &'static str,
    /// Its column and row.
    pub column: u32,
    /// Its row within the column.
    pub row: u32,
    /// Top-left corner.
    pub x: u32,
    /// Top-left corner.
    pub y: u32,
    /// Whether it is the flow's start.
    pub start: bool,
    /// Whether no path from the start reaches it.
    pub unreachable: bool,
}

/// One arrow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    /// From this step.
    pub from: String,
    /// To this step.
    pub to: String,
    /// Which way out it is: `next`, `rule 1`, `otherwise`, `timeout`, `failure`.
    pub label: String,
    /// The SVG path.
    pub path: String,
    /// Where its label sits.
    pub label_x: u32,
    /// Where its label sits.
    pub label_y: u32,
}

/// The drawn flow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The boxes.
    pub nodes: Vec<Node>,
    /// The arrows.
    pub edges: Vec<Edge>,
    /// The drawing's size.
    pub width: u32,
    /// The drawing's size.
    pub height: u32,
}

/// The ways out of `step`, each with its label, in the order the step names them.
fn exits(step: &Step) -> Vec<(String, &str)> {
    match step {
        Step::Message(s) => vec![("next".to_owned(), s.next.as_str())],
        Step::Set(s) => vec![("next".to_owned(), s.next.as_str())],
        Step::Status(s) => vec![("next".to_owned(), s.next.as_str())],
        Step::Wait(s) => vec![("next".to_owned(), s.next.as_str())],
        Step::Ask(s) => {
            let mut out = vec![("next".to_owned(), s.next.as_str())];
            if let Some(t) = &s.on_timeout {
                out.push(("timeout".to_owned(), t.as_str()));
            }
            out
        }
        Step::Branch(s) => s
            .rules
            .iter()
            .enumerate()
            .map(|(i, r)| (format!("rule {}", i + 1), r.next.as_str()))
            .chain([("otherwise".to_owned(), s.otherwise.as_str())])
            .collect(),
        Step::Fetch(s) => vec![
            ("next".to_owned(), s.next.as_str()),
            ("failure".to_owned(), s.on_failure.as_str()),
        ],
        Step::Queue(_) | Step::Close(_) => Vec::new(),
    }
}

/// Lays `doc` out.
#[must_use]
pub fn layout(doc: &FlowDocument) -> Layout {
    // Columns by breadth-first distance from the start.
    let mut column: HashMap<&str, u32> = HashMap::new();
    let mut order: Vec<&str> = Vec::new();
    let mut queue = VecDeque::new();
    if doc.steps.contains_key(&doc.start) {
        column.insert(doc.start.as_str(), 0);
        order.push(doc.start.as_str());
        queue.push_back(doc.start.as_str());
    }
    let mut missing: BTreeMap<&str, u32> = BTreeMap::new();
    while let Some(name) = queue.pop_front() {
        let depth = column[name];
        let Some(step) = doc.steps.get(name) else {
            continue;
        };
        for (_, to) in exits(step) {
            if column.contains_key(to) || missing.contains_key(to) {
                continue;
            }
            if doc.steps.contains_key(to) {
                column.insert(to, depth + 1);
                order.push(to);
                queue.push_back(to);
            } else {
                missing.insert(to, depth + 1);
            }
        }
    }
    let reached = column
        .values()
        .chain(missing.values())
        .copied()
        .max()
        .map_or(0, |c| c + 1);
    let unreached: Vec<&str> = doc
        .steps
        .keys()
        .map(String::as_str)
        .filter(|n| !column.contains_key(n))
        .collect();
    let mut rows: HashMap<u32, u32> = HashMap::new();
    let mut nodes = Vec::new();
    let mut place = |name: &str, kind: &'static str, col: u32, unreachable: bool| {
        let row = rows.entry(col).or_insert(0);
        nodes.push(Node {
            name: name.to_owned(),
            kind,
            column: col,
            row: *row,
            x: MARGIN + col * (NODE_WIDTH + COLUMN_GAP),
            y: MARGIN + *row * (NODE_HEIGHT + ROW_GAP),
            start: name == doc.start,
            unreachable,
        });
        *row += 1;
    };
    for name in &order {
        place(name, doc.steps[*name].type_name(), column[name], false);
    }
    for (name, col) in &missing {
        place(name, "missing", *col, false);
    }
    for name in &unreached {
        place(name, doc.steps[*name].type_name(), reached, true);
    }
    // Targets no step has, named only by steps no path reaches: after those steps.
    let mut beyond: Vec<&str> = Vec::new();
    for name in &unreached {
        for (_, to) in exits(&doc.steps[*name]) {
            if !doc.steps.contains_key(to) && !missing.contains_key(to) && !beyond.contains(&to) {
                beyond.push(to);
            }
        }
    }
    for name in beyond {
        place(name, "missing", reached + 1, false);
    }
    let at: HashMap<&str, &Node> = nodes.iter().map(|n| (n.name.as_str(), n)).collect();
    let mut edges = Vec::new();
    for (name, step) in &doc.steps {
        let Some(from) = at.get(name.as_str()) else {
            continue;
        };
        let outs = exits(step);
        let count = u32::try_from(outs.len()).unwrap_or(1).max(1);
        for (i, (label, to)) in outs.into_iter().enumerate() {
            let Some(target) = at.get(to) else { continue };
            let i = u32::try_from(i).unwrap_or(0);
            edges.push(edge(from, target, label, i, count));
        }
    }
    let width = nodes.iter().map(|n| n.x + NODE_WIDTH).max().unwrap_or(0) + MARGIN;
    let height = nodes.iter().map(|n| n.y + NODE_HEIGHT).max().unwrap_or(0) + MARGIN + ROW_GAP;
    Layout {
        nodes,
        edges,
        width,
        height,
    }
}

/// The arrow for the `i`th of `count` ways out of `from`, to `to`.
fn edge(from: &Node, to: &Node, label: String, i: u32, count: u32) -> Edge {
    // Ways out leave the box's right side spread over its height.
    let sy = from.y + NODE_HEIGHT * (i + 1) / (count + 1);
    let ty = to.y + NODE_HEIGHT / 2;
    let (path, label_x, label_y) = if to.column > from.column {
        let sx = from.x + NODE_WIDTH;
        let tx = to.x;
        let mid = (sx + tx) / 2;
        (
            format!("M{sx},{sy} C{mid},{sy} {mid},{ty} {tx},{ty}"),
            sx + 6,
            sy.saturating_sub(4),
        )
    } else {
        // Back or sideways: leave from the bottom, loop below, come in from the bottom.
        let sx = from.x + NODE_WIDTH / 2 + i * 8;
        let fy = from.y + NODE_HEIGHT;
        let tx = to.x + NODE_WIDTH / 2;
        let bottom = from.y.max(to.y) + NODE_HEIGHT + ROW_GAP * 3 / 4;
        let tb = to.y + NODE_HEIGHT;
        (
            format!("M{sx},{fy} C{sx},{bottom} {tx},{bottom} {tx},{tb}"),
            (sx + tx) / 2,
            bottom,
        )
    };
    Edge {
        from: from.name.clone(),
        to: to.name.clone(),
        label,
        path,
        label_x,
        label_y,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(json: &str) -> FlowDocument {
        FlowDocument::parse(json).unwrap()
    }

    #[test]
    fn steps_stand_in_columns_by_distance_and_every_way_out_is_an_arrow() {
        let d = doc(r#"{"schema": 1, "name": "x", "start": "hello", "steps": {
            "hello": {"type": "message", "text": "Hi", "next": "ask"},
            "ask": {"type": "ask", "text": "Pay?", "save_as": "a", "timeout": "1h", "on_timeout": "bye", "next": "check"},
            "check": {"type": "branch", "rules": [{"when": "<<a>> == \"yes\"", "next": "bye"}], "otherwise": "ask"},
            "bye": {"type": "close", "status": "done"},
            "lost": {"type": "message", "text": "never", "next": "nowhere"}}}"#);
        let l = layout(&d);
        let col = |n: &str| l.nodes.iter().find(|x| x.name == n).unwrap().column;
        assert_eq!(
            (col("hello"), col("ask"), col("check"), col("bye")),
            (0, 1, 2, 2)
        );
        let lost = l.nodes.iter().find(|x| x.name == "lost").unwrap();
        assert!(lost.unreachable && lost.column == 3);
        assert_eq!(
            l.nodes
                .iter()
                .find(|x| x.name == "nowhere")
                .map(|n| n.column),
            Some(4)
        );
        assert!(
            l.nodes
                .iter()
                .any(|n| n.name == "nowhere" && n.kind == "missing"),
            "a missing target is drawn"
        );
        let labels: Vec<(&str, &str, &str)> = l
            .edges
            .iter()
            .map(|e| (e.from.as_str(), e.to.as_str(), e.label.as_str()))
            .collect();
        for want in [
            ("hello", "ask", "next"),
            ("ask", "check", "next"),
            ("ask", "bye", "timeout"),
            ("check", "bye", "rule 1"),
            ("check", "ask", "otherwise"),
            ("lost", "nowhere", "next"),
        ] {
            assert!(labels.contains(&want), "{want:?} in {labels:?}");
        }
        assert!(l.nodes.iter().find(|n| n.name == "hello").unwrap().start);
    }

    proptest::proptest! {
        /// Any flow of up to 60 steps, each leading anywhere: every step has one box, no
        /// two boxes overlap, every arrow joins two boxes, the drawing holds them all.
        #[test]
        fn every_step_gets_its_own_box(links in proptest::collection::vec(proptest::collection::vec(0usize..70, 0..3), 1..60)) {
            let n = links.len();
            let mut steps = serde_json::Map::new();
            for (i, outs) in links.iter().enumerate() {
                let step = match outs.as_slice() {
                    [] => serde_json::json!({"type": "close", "status": "done"}),
                    [a] => serde_json::json!({"type": "message", "text": "t", "next": format!("s{a}")}),
                    [a, rest @ ..] => serde_json::json!({"type": "branch",
                        "rules": rest.iter().map(|r| serde_json::json!({"when": "1 == 1", "next": format!("s{r}")})).collect::<Vec<_>>(),
                        "otherwise": format!("s{a}")}),
                };
                steps.insert(format!("s{i}"), step);
            }
            let d = doc(&serde_json::json!({"schema": 1, "name": "p", "start": "s0", "steps": steps}).to_string());
            let l = layout(&d);
            for i in 0..n {
                proptest::prop_assert_eq!(l.nodes.iter().filter(|x| x.name == format!("s{i}")).count(), 1);
            }
            for (i, a) in l.nodes.iter().enumerate() {
                proptest::prop_assert!(a.x + NODE_WIDTH <= l.width && a.y + NODE_HEIGHT <= l.height);
                for b in &l.nodes[i + 1..] {
                    proptest::prop_assert!((a.x, a.y) != (b.x, b.y), "{} and {} overlap", a.name, b.name);
                }
            }
            for e in &l.edges {
                proptest::prop_assert!(l.nodes.iter().any(|x| x.name == e.from) && l.nodes.iter().any(|x| x.name == e.to));
            }
        }
    }
}
