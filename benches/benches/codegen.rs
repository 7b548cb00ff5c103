//! `passage_codegen::generate` on the real spec (load + lint + progenitor + prettyplease).

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};

fn generate(c: &mut Criterion) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/passage-auth.yaml");
    let text = std::fs::read_to_string(path).expect("spec");
    let mut group = c.benchmark_group("codegen");
    group.sample_size(10);
    group.bench_function("load_lint_generate_real_spec", |b| {
        b.iter(|| {
            let spec =
                passage_codegen::LoadedSpec::from_str("spec/passage-auth.yaml", text.clone())
                    .expect("loads");
            passage_codegen::generate(&spec).expect("generates")
        })
    });
    group.finish();
}

criterion_group!(benches, generate);
criterion_main!(benches);
