//! Wall-clock benches (criterion): input demux and output admission at
//! 1, 1,000 and 100,000 interfaces.  `cargo bench --bench lookup`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod setup;

use criterion::{black_box, criterion_group, criterion_main, BenchmarkId, Criterion};

fn benches(c: &mut Criterion) {
    let mut g = c.benchmark_group("input_lookup");
    for n in setup::SIZES {
        let b = setup::build(n);
        let mut i = 0usize;
        g.bench_with_input(BenchmarkId::from_parameter(n), &b, |bn, b| {
            bn.iter(|| {
                i = (i + 1) & 4095;
                black_box(setup::input(b, black_box(&b.queries[i])))
            })
        });
    }
    g.finish();
    let mut g = c.benchmark_group("input_lookup_hot16");
    for n in setup::SIZES {
        let b = setup::build(n);
        let mut i = 0usize;
        g.bench_with_input(BenchmarkId::from_parameter(n), &b, |bn, b| {
            bn.iter(|| {
                i = (i + 1) & 4095;
                black_box(setup::input(b, black_box(&b.hot[i])))
            })
        });
    }
    g.finish();
    let mut g = c.benchmark_group("input_lookup_c_chains");
    for n in setup::SIZES {
        let b = setup::build(n);
        let mut i = 0usize;
        g.bench_with_input(BenchmarkId::from_parameter(n), &b, |bn, b| {
            bn.iter(|| {
                i = (i + 1) & 4095;
                black_box(setup::input_c(b, black_box(&b.queries[i])))
            })
        });
    }
    g.finish();
    let mut g = c.benchmark_group("output_admission");
    for n in setup::SIZES {
        let b = setup::build(n);
        let mut i = 0usize;
        g.bench_with_input(BenchmarkId::from_parameter(n), &b, |bn, b| {
            bn.iter(|| {
                i = (i + 1) & 4095;
                black_box(setup::output(
                    b,
                    black_box(b.handles[i]),
                    setup::first_byte(i),
                ))
            })
        });
    }
    g.finish();
}

criterion_group!(lookup, benches);
criterion_main!(lookup);
