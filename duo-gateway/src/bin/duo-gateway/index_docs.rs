//! `duo-gateway index-docs <doc/> --output docs.db`: builds the documentation index.

use std::path::Path;
use std::process::ExitCode;

use duo_docs_search::{IndexBuilder, Progress};
use indicatif::{ProgressBar, ProgressStyle};

/// Builds the index of the Markdown under `source` into `output`, with a progress bar on a
/// terminal (none otherwise) and a one-line summary.
pub(crate) fn run(source: &Path, output: &Path, force: bool) -> ExitCode {
    let bar = ProgressBar::hidden();
    // indicatif draws on standard error only when it is a terminal.
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{spinner} [{bar:40}] {pos}/{len} files, {bytes} ({bytes_per_sec}) {wide_msg}",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    let result =
        IndexBuilder::new(source, output)
            .overwrite(force)
            .build(|progress| match progress {
                Progress::Found(files) => bar.set_length(files as u64),
                Progress::Indexed { path, .. } => {
                    bar.set_message(path.display().to_string());
                    bar.inc(1);
                }
                Progress::Skipped(path) => {
                    bar.suspend(|| {
                        eprintln!("duo-gateway: skipped {}: not UTF-8 text", path.display());
                    });
                    bar.inc(1);
                }
                Progress::Finishing => bar.set_message("merging the index"),
            });
    bar.finish_and_clear();
    match result {
        Ok(summary) => {
            let seconds = summary.elapsed.as_secs_f64();
            let megabytes = summary.bytes as f64 / 1_000_000.0;
            println!(
                "indexed {} file{} ({}) into {} in {seconds:.2} s ({:.1} MB/s){}",
                summary.files,
                if summary.files == 1 { "" } else { "s" },
                indicatif::HumanBytes(summary.bytes),
                summary.output.display(),
                if seconds > 0.0 {
                    megabytes / seconds
                } else {
                    0.0
                },
                match summary.skipped.len() {
                    0 => String::new(),
                    n => format!("; {n} skipped (not UTF-8)"),
                }
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("duo-gateway: index-docs: {e}");
            ExitCode::from(2)
        }
    }
}
