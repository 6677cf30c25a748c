//! Prompt rendering on the request path: trimming the editor's file to the family budget and
//! rendering a code-completion definition, with a typical 4 KB file and a 100 KB one.
//!
//! `cargo bench -p duo-benches --bench prompts`

#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use duo_core::ModelFamily;
use duo_prompts::PromptRegistry;
use duo_prompts::code::{ContextItem, CurrentFile, completion_inputs};

/// Python-looking source of about `bytes` bytes.
fn source(bytes: usize) -> String {
    let line = "    total = compute_value(items[index], factor=2) + offset  # accumulate\n";
    line.repeat(bytes / line.len() + 1)[..bytes].to_owned()
}

fn bench_render(c: &mut Criterion) {
    let registry = PromptRegistry::builtin().expect("built-ins load");
    let mut group = c.benchmark_group("render_completion");
    for (label, size) in [("4KB", 4 * 1024), ("100KB", 100 * 1024)] {
        // Three quarters above the cursor, one quarter below, plus one context file of the same size.
        let file = CurrentFile {
            file_name: "app/main.py".into(),
            language_identifier: None,
            content_above_cursor: source(size * 3 / 4),
            content_below_cursor: source(size / 4),
        };
        let context = [ContextItem {
            kind: "file".into(),
            name: "app/util.py".into(),
            content: source(size),
        }];
        group.throughput(Throughput::Bytes(size as u64));
        for family in [
            ModelFamily::Codestral,
            ModelFamily::Mistral,
            ModelFamily::General,
        ] {
            let def = registry
                .resolve("code_suggestions/completions", &family, "^1.0.0")
                .unwrap();
            group.bench_with_input(
                BenchmarkId::new(family.key().to_owned(), label),
                &(&file, &context),
                |b, (file, context)| {
                    b.iter(|| {
                        let inputs = completion_inputs(&family, file, *context).unwrap();
                        black_box(def.render(black_box(&inputs)).unwrap())
                    });
                },
            );
        }
    }
    group.finish();
}

fn bench_load(c: &mut Criterion) {
    c.bench_function("registry_load_builtin", |b| {
        b.iter(|| black_box(PromptRegistry::builtin().unwrap()));
    });
}

criterion_group!(benches, bench_render, bench_load);
criterion_main!(benches);
