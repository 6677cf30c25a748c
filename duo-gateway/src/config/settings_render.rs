//! The settings table rendered: the environment name of a key, `--help`, and the Markdown tables
//! of the docs.

use super::settings::{GROUPS, NOTES, Setting};

/// The environment variable the loader maps onto `key`: `AIGW_`, then the key upper-cased with
/// `__` between levels (`fastapi.api_port` → `AIGW_FASTAPI__API_PORT`).
#[must_use]
pub fn env_name(key: &str) -> String {
    format!("AIGW_{}", key.replace('.', "__").to_ascii_uppercase())
}

fn env_column(setting: &Setting) -> String {
    if setting.toml_only {
        "(TOML only)".to_owned()
    } else {
        env_name(setting.key)
    }
}

/// Every setting with its TOML key, environment variable and default, for `--help`.
#[must_use]
pub fn settings_help() -> String {
    let rows = GROUPS.iter().flat_map(|g| g.settings.iter());
    let key_width = rows.clone().map(|s| s.key.len()).max().unwrap_or(0);
    let env_width = rows.map(|s| env_column(s).len()).max().unwrap_or(0);
    let mut out = String::from("SETTINGS (TOML key, environment variable, [default]):\n");
    for group in GROUPS {
        out.push_str(&format!("  {}\n", group.title));
        for s in group.settings {
            let line = format!(
                "    {:key_width$} {:env_width$} [{}] {}",
                s.key,
                env_column(s),
                s.default,
                s.help
            );
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    out.push('\n');
    for note in NOTES {
        out.push_str(note);
        out.push('\n');
    }
    out
}

/// The head of every settings table in the docs.
const TABLE_HEAD: &str = "| setting | environment | default | meaning |\n|---|---|---|---|\n";

/// One setting as a row of a docs table.
fn markdown_row(s: &Setting) -> String {
    let env = if s.toml_only {
        "TOML only".to_owned()
    } else {
        format!("`{}`", env_name(s.key))
    };
    format!(
        "| `{}` | {env} | {} | {} |\n",
        s.key,
        s.default.replace('|', "\\|"),
        s.meaning().replace('|', "\\|")
    )
}

/// The settings as Markdown tables, one per group (the settings section of the README).
#[must_use]
pub fn settings_markdown() -> String {
    let mut out = String::new();
    for group in GROUPS {
        out.push_str(&format!("**{}**\n\n{TABLE_HEAD}", group.title));
        for s in group.settings {
            out.push_str(&markdown_row(s));
        }
        out.push('\n');
    }
    for note in NOTES {
        out.push_str(note);
        out.push_str("\n\n");
    }
    out
}

/// One Markdown table of the settings under the given sections (`"auth"` takes `auth.*` and a
/// key named `auth`), in the table's order: the settings section of the doc that owns them.
#[cfg(test)]
#[must_use]
pub(crate) fn settings_markdown_of(sections: &[&str]) -> String {
    let mut out = String::from(TABLE_HEAD);
    for s in GROUPS.iter().flat_map(|g| g.settings.iter()) {
        if in_sections(s.key, sections) {
            out.push_str(&markdown_row(s));
        }
    }
    out
}

/// Whether `key` is one of `sections` or under one.
#[cfg(test)]
pub(crate) fn in_sections(key: &str, sections: &[&str]) -> bool {
    sections.iter().any(|section| {
        key.strip_prefix(section)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
    })
}
