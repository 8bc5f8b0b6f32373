//! The step graph rules: reachability from `start` and loops that never wait. Both walk
//! with explicit stacks, so a flow of thousands of steps cannot overflow the call stack.

use crate::document::Step;
use crate::program::StepIndex;

use super::{Checker, Rule};

pub(super) fn check(c: &mut Checker<'_>, start: StepIndex) {
    let steps: Vec<(&String, &Step)> = c.doc.steps.iter().collect();
    let edges: Vec<Vec<usize>> = steps
        .iter()
        .map(|(_, step)| {
            step.targets()
                .iter()
                .filter_map(|name| c.index.get(name).map(|i| usize::from(*i)))
                .collect()
        })
        .collect();
    if steps.is_empty() {
        return;
    }
    // Reachability (only meaningful when `start` exists).
    if c.index.contains_key(c.doc.start.as_str()) {
        let mut seen = vec![false; steps.len()];
        let mut stack = vec![usize::from(start)];
        seen[usize::from(start)] = true;
        while let Some(n) = stack.pop() {
            for &m in &edges[n] {
                if !seen[m] {
                    seen[m] = true;
                    stack.push(m);
                }
            }
        }
        for (i, (name, _)) in steps.iter().enumerate() {
            if !seen[i] {
                c.report(
                    Rule::UnreachableStep,
                    Some(name),
                    None,
                    None,
                    format!("no path from `{}` reaches this step", c.doc.start),
                );
            }
        }
    }
    // Loops among steps that do not wait: waiting steps lose their outgoing edges.
    let waits = |i: usize| matches!(steps[i].1, Step::Ask(_) | Step::Wait(_));
    let live: Vec<Vec<usize>> = edges
        .iter()
        .enumerate()
        .map(|(i, e)| if waits(i) { Vec::new() } else { e.clone() })
        .collect();
    for component in strongly_connected(&live) {
        let is_loop = component.len() > 1 || live[component[0]].contains(&component[0]);
        if !is_loop {
            continue;
        }
        let mut names: Vec<&str> = component.iter().map(|&i| steps[i].0.as_str()).collect();
        names.sort_unstable();
        let listed = names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(" → ");
        c.report(
            Rule::LoopWithoutWait,
            Some(names[0]),
            None,
            None,
            format!(
                "{listed} → `{}` loop without waiting for the customer; add an `ask` or a `wait` step to the loop",
                names[0]
            ),
        );
    }
}

/// Tarjan's strongly connected components, iteratively.
fn strongly_connected(edges: &[Vec<usize>]) -> Vec<Vec<usize>> {
    let n = edges.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut out = Vec::new();
    let mut counter = 0;
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        // (node, next edge to look at)
        let mut work = vec![(root, 0)];
        index[root] = counter;
        low[root] = counter;
        counter += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut edge)) = work.last_mut() {
            if let Some(&w) = edges[v].get(*edge) {
                *edge += 1;
                if index[w] == usize::MAX {
                    index[w] = counter;
                    low[w] = counter;
                    counter += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            work.pop();
            if let Some(&(parent, _)) = work.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut component = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                out.push(component);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::strongly_connected;

    #[test]
    fn components() {
        // 0 → 1 → 2 → 0, 3 → 3, 4 alone.
        let edges = vec![vec![1], vec![2], vec![0], vec![3], vec![]];
        let mut comps: Vec<Vec<usize>> = strongly_connected(&edges)
            .into_iter()
            .map(|mut c| {
                c.sort_unstable();
                c
            })
            .collect();
        comps.sort();
        assert_eq!(comps, vec![vec![0, 1, 2], vec![3], vec![4]]);
    }
}
