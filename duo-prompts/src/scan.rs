//! Small text scans of definition sources, used only at load time: the partials a template
//! includes, and the line of a key in a YAML file (so errors can point at it).

/// Every statically named partial a template includes (or imports / extends), with the 1-based
/// line of the tag. Dynamic names (`{% include some_var %}`) are not listed.
pub(crate) fn include_names(source: &str) -> Vec<(String, usize)> {
    let mut found = Vec::new();
    let mut rest = source;
    let mut offset = 0;
    while let Some(start) = rest.find("{%") {
        let tag_start = offset + start;
        let after = &rest[start + 2..];
        let body = after.trim_start_matches(['-', '+']).trim_start();
        let keyword_len = ["include", "import", "extends", "from"]
            .iter()
            .find(|k| {
                body.starts_with(**k)
                    && body[k.len()..]
                        .starts_with(|c: char| c.is_whitespace() || c == '"' || c == '\'')
            })
            .map(|k| k.len());
        if let Some(len) = keyword_len {
            let arg = body[len..].trim_start();
            if let Some(quote) = arg.chars().next().filter(|c| *c == '"' || *c == '\'')
                && let Some(end) = arg[1..].find(quote)
            {
                let line = source[..tag_start].matches('\n').count() + 1;
                found.push((arg[1..1 + end].to_owned(), line));
            }
        }
        offset = tag_start + 2;
        rest = &source[offset..];
    }
    found
}

/// The 1-based line of the first `key:` in a YAML text (at any indentation).
pub(crate) fn key_line(text: &str, key: &str) -> Option<usize> {
    text.lines()
        .position(|l| is_key_line(l, key))
        .map(|i| i + 1)
}

fn is_key_line(line: &str, key: &str) -> bool {
    line.trim_start()
        .strip_prefix(key)
        .is_some_and(|r| r.starts_with(':'))
}

/// The 1-based line where the `role` template under `prompt_template:` starts: the key's own
/// line for an inline value, the next line for a block scalar (`|`, `>`) or a list.
pub(crate) fn template_base_line(text: &str, role: &str) -> Option<usize> {
    let lines: Vec<&str> = text.lines().collect();
    let section = lines
        .iter()
        .position(|l| is_key_line(l, "prompt_template"))?;
    let offset = lines[section + 1..]
        .iter()
        .position(|l| is_key_line(l, role))?;
    let index = section + 1 + offset;
    let value = lines[index].trim_start()[role.len() + 1..].trim_start();
    if value.is_empty() || value.starts_with('|') || value.starts_with('>') {
        Some(index + 2)
    } else {
        Some(index + 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_static_includes_with_lines() {
        let src =
            "a\n{% include 'x/y.jinja' %}\n{%- include \"z.jinja\" -%}{% include var %}{% if a %}";
        assert_eq!(
            include_names(src),
            [("x/y.jinja".to_owned(), 2), ("z.jinja".to_owned(), 3)]
        );
        assert!(include_names("{% includes %}{{ include }}").is_empty());
    }

    #[test]
    fn key_and_template_lines() {
        let text =
            "name: x\nunit_primitive: y\nprompt_template:\n  system: hi\n  user: |\n    {{ a }}\n";
        assert_eq!(key_line(text, "unit_primitive"), Some(2));
        assert_eq!(key_line(text, "missing"), None);
        assert_eq!(template_base_line(text, "system"), Some(4));
        assert_eq!(template_base_line(text, "user"), Some(6));
    }
}
