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

/// One criterion group over [`setup::SIZES`]: `f(bench, i)` with `i`
/// cycling over the 4096 prepared queries and handles.
fn group<R>(c: &mut Criterion, name: &str, f: impl Fn(&setup::Bench, usize) -> R) {
    let mut g = c.benchmark_group(name);
    for n in setup::SIZES {
        let b = setup::build(n);
        let mut i = 0usize;
        g.bench_with_input(BenchmarkId::from_parameter(n), &b, |bn, b| {
            bn.iter(|| {
                i = (i + 1) & 4095;
                black_box(f(b, i))
            })
        });
    }
    g.finish();
}

fn benches(c: &mut Criterion) {
    group(c, "input_lookup", |b, i| {
        setup::input(b, black_box(&b.queries[i]))
    });
    group(c, "input_lookup_hot16", |b, i| {
        setup::input(b, black_box(&b.hot[i]))
    });
    group(c, "input_lookup_c_chains", |b, i| {
        setup::input_c(b, black_box(&b.queries[i]))
    });
    group(c, "output_admission", |b, i| {
        setup::output(b, black_box(b.handles[i]), setup::first_byte(i))
    });
}

criterion_group!(lookup, benches);
criterion_main!(lookup);
