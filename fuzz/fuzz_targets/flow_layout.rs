//! Any text that reads as a flow document is drawn: one box per step, no two boxes in one
//! place, every arrow between two boxes, all inside the drawing; never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(doc) = parley_flow::FlowDocument::parse(text) else { return };
    let l = parley_flow::layout(&doc);
    for name in doc.steps.keys() {
        assert_eq!(l.nodes.iter().filter(|n| &n.name == name).count(), 1);
    }
    for (i, a) in l.nodes.iter().enumerate() {
        assert!(a.x + parley_flow::NODE_WIDTH <= l.width && a.y + parley_flow::NODE_HEIGHT <= l.height);
        for b in &l.nodes[i + 1..] {
            assert!((a.x, a.y) != (b.x, b.y));
        }
    }
    for e in &l.edges {
        assert!(l.nodes.iter().any(|n| n.name == e.from) && l.nodes.iter().any(|n| n.name == e.to));
    }
});
