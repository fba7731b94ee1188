//! Instruction-count bench for callgrind:
//! `ir <input|output|c_chains> <n> <iters>`
//! builds `n` interfaces, then runs `iters` lookups inside
//! `measure_input` / `measure_output`; run under
//! `valgrind --tool=callgrind --toggle-collect='*measure_*'` and divide the
//! collected Ir by `iters` (see BENCHMARKS.md).  Without arguments (as
//! `cargo bench` runs it) it does a short smoke run.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod setup;

use std::hint::black_box;

#[inline(never)]
fn measure_input(b: &setup::Bench, iters: usize) -> usize {
    let mut hits = 0;
    for i in 0..iters {
        if setup::input(b, black_box(&b.queries[i & 4095])).is_some() {
            hits += 1;
        }
    }
    hits
}

#[inline(never)]
fn measure_c_chains(b: &setup::Bench, iters: usize) -> usize {
    let mut hits = 0;
    for i in 0..iters {
        if setup::input_c(b, black_box(&b.queries[i & 4095])).is_some() {
            hits += 1;
        }
    }
    hits
}

#[inline(never)]
fn measure_output(b: &setup::Bench, iters: usize) -> usize {
    let mut sent = 0;
    for i in 0..iters {
        if setup::output(b, black_box(b.handles[i & 4095]), setup::first_byte(i)).is_some() {
            sent += 1;
        }
    }
    sent
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let what = args.first().map(String::as_str).unwrap_or("smoke");
    let n: u32 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1000);
    let iters: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let b = setup::build(n);
    let r = match what {
        "input" => measure_input(&b, iters),
        "output" => measure_output(&b, iters),
        "c_chains" => measure_c_chains(&b, iters),
        _ => measure_input(&b, iters) + measure_output(&b, iters),
    };
    assert_eq!(r, if what == "smoke" { 2 * iters } else { iters });
    println!("{what} n={n} iters={iters} ok");
}
