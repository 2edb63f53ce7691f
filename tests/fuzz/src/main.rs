//! `rekam-fuzz`: a stateful fuzzer over the whole Rekam program. Random sequences of
//! every instruction, from right and wrong signers with right and wrong accounts, run
//! in the native SVM against an independent model; the invariants are checked after
//! every step, and a failing run is shrunk to a short replayable list.
//!
//!   cargo run --release -p rekam-fuzz -- --instructions 1000000 --seed 7

// The SVM's failure type is large; the fixture passes it through unchanged.
#![allow(clippy::result_large_err)]

mod exec;
mod exec_close;
mod exec_guard;
mod exec_issuers;
mod exec_records;
mod exec_study;
mod invariants;
mod model;
mod ops;
mod out;
mod rng;
mod selftest;
mod setup;
mod shrink;
mod state;
mod world;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;

use ops::Op;
use rng::Rng;
use world::{Break, Template};

#[derive(Parser, Debug)]
#[command(about = "Stateful fuzzer of the Rekam program against an independent model")]
struct Args {
    /// Instructions to submit in all (refused ones count; clock jumps do not).
    #[arg(long, default_value_t = 20_000)]
    instructions: u64,
    /// Seed of the run; world `w` draws from the stream (seed, w).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Start a fresh world every this many instructions.
    #[arg(long, default_value_t = 500)]
    steps_per_world: u64,
    /// Time limit for shrinking a failing run, in seconds.
    #[arg(long, default_value_t = 60)]
    shrink_seconds: u64,
    /// Replay the operations in FILE (one `kind a0 a1 a2 a3 a4` a line) in one world.
    #[arg(long)]
    replay: Option<PathBuf>,
    /// Show that every invariant check detects a deliberate break, then exit.
    #[arg(long)]
    self_test: bool,
    /// Print, per instruction, how often it succeeded and failed with each code.
    #[arg(long)]
    stats: bool,
}

/// The first failing world: where, what, and the operations up to the break.
struct Failure {
    world: u64,
    ops: Vec<Op>,
    first: Break,
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("rekam-fuzz: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(args: Args) -> anyhow::Result<ExitCode> {
    out::quiet_program_logs();
    let built = Instant::now();
    let template = Template::build();
    eprintln!(
        "template world built in {:.2} s",
        built.elapsed().as_secs_f64()
    );
    if args.self_test {
        let (ok, all) = selftest::run(&template);
        say!("self-test: {ok} of {all} deliberate breaks detected");
        return Ok(if ok == all {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }
    if let Some(path) = &args.replay {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let ops: Vec<Op> = text.lines().filter_map(Op::parse_line).collect();
        let cx = shrink::replay(&template, &ops);
        for b in &cx.breaks {
            say!("break [{}] at step {}: {}", b.invariant, b.step, b.detail);
        }
        say!(
            "{} instructions, {} invariant breaks",
            cx.count,
            cx.breaks.len()
        );
        return Ok(if cx.breaks.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        });
    }

    let start = Instant::now();
    let mut last_report = Instant::now();
    let (mut total, mut breaks, mut worlds) = (0u64, 0usize, 0u64);
    let mut failure: Option<Failure> = None;
    let mut tally: std::collections::BTreeMap<(&'static str, String), u64> = Default::default();
    while total < args.instructions {
        let mut rng = Rng::for_world(args.seed, worlds);
        let limit = args.steps_per_world.min(args.instructions - total);
        let mut cx = template.fresh(limit);
        let mut ops = Vec::new();
        while cx.count < cx.limit && cx.breaks.is_empty() {
            let op = Op::random(&mut rng);
            ops.push(op);
            exec::run(&mut cx, op);
        }
        if cx.breaks.is_empty() {
            state::check_state(&mut cx);
        }
        total += cx.count;
        for (k, n) in cx.tally.drain() {
            *tally.entry(k).or_default() += n;
        }
        breaks += cx.breaks.len();
        if let (None, Some(first)) = (&failure, cx.breaks.first()) {
            failure = Some(Failure {
                world: worlds,
                ops: ops.clone(),
                first: first.clone(),
            });
        }
        worlds += 1;
        if last_report.elapsed() >= Duration::from_secs(10) {
            last_report = Instant::now();
            let secs = start.elapsed().as_secs_f64();
            eprintln!(
                "[{secs:.0} s] {total} instructions ({:.0}/s), {worlds} worlds, {breaks} breaks",
                total as f64 / secs
            );
        }
    }
    let secs = start.elapsed().as_secs_f64();
    if args.stats {
        for ((what, outcome), n) in &tally {
            say!("  {what:<22} {outcome:<12} {n}");
        }
    }
    if let Some(f) = failure {
        report(&template, &args, f);
    }
    say!(
        "elapsed {secs:.1} s, {:.0} instructions/s ({worlds} worlds, seed {})",
        total as f64 / secs,
        args.seed
    );
    say!("{total} instructions, {breaks} invariant breaks");
    Ok(if breaks == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Prints the first break and the shortest failing sequence found, and saves it.
fn report(template: &Template, args: &Args, f: Failure) {
    say!(
        "BREAK [{}] in world {} at step {} ({}): {}",
        f.first.invariant,
        f.world,
        f.first.step,
        f.first.op.to_line(),
        f.first.detail
    );
    let shrunk = shrink::shrink(
        template,
        f.ops.clone(),
        Duration::from_secs(args.shrink_seconds),
    );
    let path =
        std::env::temp_dir().join(format!("rekam-fuzz-seed{}-world{}.ops", args.seed, f.world));
    let text: String = shrunk.iter().map(|o| o.to_line() + "\n").collect();
    let saved = std::fs::write(&path, &text).is_ok();
    say!(
        "shortest failing sequence: {} of {} operations (seed {}, world {}){}",
        shrunk.len(),
        f.ops.len(),
        args.seed,
        f.world,
        if saved {
            format!("; replay with --replay {}", path.display())
        } else {
            String::new()
        }
    );
    crate::out::line(text.trim_end());
    let cx = shrink::replay(template, &shrunk);
    if let Some(b) = cx.breaks.first() {
        say!(
            "  its break: [{}] at step {}: {}",
            b.invariant,
            b.step,
            b.detail
        );
    }
}
