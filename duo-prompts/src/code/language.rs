//! Language names from file names: the fallback when the editor sends no language identifier.

/// File extensions (lower-case, without the dot) and the language each means.
const EXTENSIONS: &[(&str, &str)] = &[
    ("bash", "shell"),
    ("c", "c"),
    ("c++", "c++"),
    ("cc", "c++"),
    ("cjs", "javascript"),
    ("clj", "clojure"),
    ("cljs", "clojure"),
    ("cpp", "c++"),
    ("cs", "c#"),
    ("css", "css"),
    ("cts", "typescript"),
    ("cxx", "c++"),
    ("dart", "dart"),
    ("erl", "erlang"),
    ("ex", "elixir"),
    ("exs", "elixir"),
    ("fs", "f#"),
    ("fsx", "f#"),
    ("gemspec", "ruby"),
    ("go", "go"),
    ("gradle", "groovy"),
    ("groovy", "groovy"),
    ("h", "c"),
    ("hcl", "terraform"),
    ("hh", "c++"),
    ("hpp", "c++"),
    ("hrl", "erlang"),
    ("hs", "haskell"),
    ("htm", "html"),
    ("html", "html"),
    ("hxx", "c++"),
    ("java", "java"),
    ("jl", "julia"),
    ("js", "javascript"),
    ("json", "json"),
    ("jsx", "javascript"),
    ("kt", "kotlin"),
    ("kts", "kotlin"),
    ("lua", "lua"),
    ("m", "objective-c"),
    ("md", "markdown"),
    ("mjs", "javascript"),
    ("ml", "ocaml"),
    ("mli", "ocaml"),
    ("mm", "objective-c"),
    ("mts", "typescript"),
    ("nim", "nim"),
    ("php", "php"),
    ("pl", "perl"),
    ("pm", "perl"),
    ("ps1", "powershell"),
    ("psm1", "powershell"),
    ("py", "python"),
    ("pyi", "python"),
    ("pyw", "python"),
    ("r", "r"),
    ("rake", "ruby"),
    ("rb", "ruby"),
    ("rs", "rust"),
    ("sc", "scala"),
    ("scala", "scala"),
    ("sh", "shell"),
    ("sql", "sql"),
    ("svelte", "svelte"),
    ("swift", "swift"),
    ("tf", "terraform"),
    ("tfvars", "terraform"),
    ("ts", "typescript"),
    ("tsx", "typescript"),
    ("vb", "visual basic"),
    ("vue", "vue"),
    ("xml", "xml"),
    ("yaml", "yaml"),
    ("yml", "yaml"),
    ("zig", "zig"),
    ("zsh", "shell"),
];

/// Whole file names (lower-case) that carry no extension but name a language.
const FILE_NAMES: &[(&str, &str)] = &[
    ("dockerfile", "dockerfile"),
    ("gemfile", "ruby"),
    ("jenkinsfile", "groovy"),
    ("makefile", "makefile"),
    ("rakefile", "ruby"),
];

/// The language a file name's extension means, lower-case (`main.py` → `python`), or `None`.
///
/// ```
/// use duo_prompts::code::language_from_file_name;
/// assert_eq!(language_from_file_name("src/lib.rs"), Some("rust"));
/// assert_eq!(language_from_file_name("C:\\work\\App.TSX"), Some("typescript"));
/// assert_eq!(language_from_file_name("Dockerfile"), Some("dockerfile"));
/// assert_eq!(language_from_file_name("notes"), None);
/// ```
#[must_use]
pub fn language_from_file_name(file_name: &str) -> Option<&'static str> {
    let base = file_name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or(file_name)
        .trim();
    let lower = base.to_ascii_lowercase();
    if let Some((_, lang)) = FILE_NAMES.iter().find(|(n, _)| *n == lower) {
        return Some(lang);
    }
    let (stem, ext) = lower.rsplit_once('.')?;
    if stem.is_empty() {
        // A dot file such as `.py` or `.bashrc` names no language.
        return None;
    }
    EXTENSIONS
        .binary_search_by(|(e, _)| (*e).cmp(ext))
        .ok()
        .map(|i| EXTENSIONS[i].1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_for_binary_search_and_has_forty_languages() {
        assert!(EXTENSIONS.windows(2).all(|w| w[0].0 < w[1].0));
        let mut langs: Vec<&str> = EXTENSIONS.iter().map(|(_, l)| *l).collect();
        langs.sort_unstable();
        langs.dedup();
        assert!(langs.len() >= 40, "{} languages", langs.len());
    }

    #[test]
    fn common_extensions() {
        for (name, lang) in [
            ("a.py", "python"),
            ("a.rs", "rust"),
            ("a.ts", "typescript"),
            ("dir.v1/a.go", "go"),
            ("A.JAVA", "java"),
            ("x.cpp", "c++"),
            ("x.cs", "c#"),
            ("main.tf", "terraform"),
        ] {
            assert_eq!(language_from_file_name(name), Some(lang), "{name}");
        }
        for name in [
            "",
            "README",
            "archive.unknownext",
            "dir.py/noext",
            ".bashrc",
            ".py",
        ] {
            assert_eq!(language_from_file_name(name), None, "{name}");
        }
    }
}
