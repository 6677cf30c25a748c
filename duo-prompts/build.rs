//! Embeds every file under `definitions/` into the crate: generates `builtin_files.rs`, a sorted
//! slice of `(relative path, include_str!(absolute path))`, so the built-in prompt definitions ship
//! inside the library (and `cargo package` carries them, as they live in the crate directory).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::{env, fs, io};

fn collect(dir: &Path, root: &Path, out: &mut Vec<(String, PathBuf)>) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if name.starts_with('.') {
            continue;
        }
        if path.is_dir() {
            collect(&path, root, out)?;
        } else if name.ends_with(".yml") || name.ends_with(".yaml") || name.ends_with(".jinja") {
            let rel = path
                .strip_prefix(root)
                .map_err(io::Error::other)?
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
                .join("/");
            out.push((rel, path));
        }
    }
    Ok(())
}

fn main() -> io::Result<()> {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").map_err(io::Error::other)?);
    let root = manifest.join("definitions");
    println!("cargo:rerun-if-changed=definitions");
    let mut files = Vec::new();
    collect(&root, &root, &mut files)?;
    files.sort();
    let mut code = String::from(
        "/// Every embedded definition file: (path under `definitions/`, contents).\n",
    );
    code.push_str("pub(crate) static BUILTIN_FILES: &[(&str, &str)] = &[\n");
    for (rel, path) in &files {
        // Directories must be watched one by one for additions to be noticed.
        if let Some(parent) = path.parent() {
            println!("cargo:rerun-if-changed={}", parent.display());
        }
        println!("cargo:rerun-if-changed={}", path.display());
        writeln!(
            code,
            "    ({rel:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .map_err(io::Error::other)?;
    }
    code.push_str("];\n");
    let out =
        PathBuf::from(env::var("OUT_DIR").map_err(io::Error::other)?).join("builtin_files.rs");
    fs::write(out, code)
}
