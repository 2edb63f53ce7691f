//! Shrinking a failing run: replay operation lists from a fresh world and delete chunks
//! while the run still breaks an invariant (ddmin, Zeller & Hildebrandt 2002), within a
//! time budget. Operations resolve their indices when they run, so every sublist is a
//! valid run.

use std::time::{Duration, Instant};

use crate::exec;
use crate::ops::Op;
use crate::world::{Ctx, Template};

/// Runs `ops` in a fresh world until the first break; a full state check at the end.
pub fn replay(t: &Template, ops: &[Op]) -> Ctx {
    let mut cx = t.fresh(u64::MAX);
    for op in ops {
        exec::run(&mut cx, *op);
        if !cx.breaks.is_empty() {
            return cx;
        }
    }
    crate::state::check_state(&mut cx);
    cx
}

fn breaks(t: &Template, ops: &[Op]) -> bool {
    !replay(t, ops).breaks.is_empty()
}

/// The shortest sublist of `ops` found within `budget` that still breaks.
pub fn shrink(t: &Template, mut ops: Vec<Op>, budget: Duration) -> Vec<Op> {
    let start = Instant::now();
    if !breaks(t, &ops) {
        eprintln!("shrink: the failure did not reproduce on replay; keeping the full list");
        return ops;
    }
    let mut n = 2usize;
    while ops.len() >= 2 && start.elapsed() < budget {
        let chunk = ops.len().div_ceil(n);
        let removable = (0..n).find_map(|i| {
            let from = i * chunk;
            if from >= ops.len() || start.elapsed() >= budget {
                return None;
            }
            let to = (from + chunk).min(ops.len());
            let candidate: Vec<Op> = ops[..from].iter().chain(&ops[to..]).copied().collect();
            breaks(t, &candidate).then_some(candidate)
        });
        if let Some(candidate) = removable {
            ops = candidate;
            n = (n - 1).max(2);
        } else {
            if n >= ops.len() {
                break;
            }
            n = (n * 2).min(ops.len());
        }
    }
    ops
}
