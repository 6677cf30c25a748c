//! The text rules both sides of the index share: how a Markdown file becomes the searched
//! `processed` column, how a question becomes an FTS5 query, and how results are counted in tokens.
//!
//! They follow GitLab's gateway, so that an index either side builds answers the other's queries
//! the same way: lower-cased text with every character that is neither a word character nor white
//! space removed (`re.sub(r"[^\w\s]", "", text)` in Python's Unicode mode), and tokens estimated as
//! words × 1.4.

use unicode_properties::{GeneralCategoryGroup, UnicodeGeneralCategory};

/// Whether `c` survives the punctuation rule: a word character or white space. Word characters are
/// Python's: letters and numbers by general category (so combining marks go, as Python removes
/// them) and `_`.
fn is_kept(c: char) -> bool {
    c == '_'
        || c.is_whitespace()
        || matches!(
            c.general_category_group(),
            GeneralCategoryGroup::Letter | GeneralCategoryGroup::Number
        )
}

/// Removes every character that is neither a word character nor white space.
#[must_use]
pub fn strip_punctuation(text: &str) -> String {
    text.chars().filter(|&c| is_kept(c)).collect()
}

/// The Markdown after its YAML front matter: the block between a first line `---` and the next
/// line `---`. A file without front matter (or whose block never closes) is returned whole.
///
/// GitLab's indexer cuts at the first two `---` anywhere in the file; a page without front matter
/// but with two horizontal rules would lose its beginning there. Here only a block that opens the
/// file counts, which gives the same text for every page of GitLab's `doc/` (all open with one).
#[must_use]
pub fn strip_front_matter(markdown: &str) -> &str {
    let text = markdown.strip_prefix('\u{feff}').unwrap_or(markdown);
    let Some(rest) = text
        .strip_prefix("---\n")
        .or_else(|| text.strip_prefix("---\r\n"))
    else {
        return markdown;
    };
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        offset += line.len();
        if line.trim_end_matches(['\n', '\r']) == "---" {
            return &rest[offset..];
        }
    }
    markdown
}

/// The `processed` column of one file: front matter removed, lower-cased, punctuation removed.
#[must_use]
pub fn processed_text(markdown: &str) -> String {
    // Lower-cased first, as GitLab's indexer does: a lower case that adds a combining mark (`İ`
    // becomes `i` and U+0307) then loses the mark to the punctuation rule.
    strip_punctuation(&strip_front_matter(markdown).to_lowercase())
}

/// The FTS5 query for a user's question, or `None` when nothing searchable is left.
///
/// Punctuation is removed as GitLab's gateway removes it, and then every remaining word is quoted
/// as an FTS5 string, so that words FTS5 reads as operators (`AND`, `OR`, `NOT`, `NEAR`) are
/// searched as words instead of failing the query. The words are still all required (FTS5's
/// implicit AND), as in GitLab's query, so ordinary questions rank the same.
#[must_use]
pub fn fts_query(question: &str) -> Option<String> {
    let cleaned = strip_punctuation(question);
    let mut query = String::with_capacity(cleaned.len() + 8);
    for word in cleaned.split_whitespace() {
        if !query.is_empty() {
            query.push(' ');
        }
        // No `"` is left after the punctuation rule, so the word needs no escaping.
        query.push('"');
        query.push_str(word);
        query.push('"');
    }
    (!query.is_empty()).then_some(query)
}

/// The estimated tokens of `text`, as GitLab's gateway estimates them: words × 1.4, rounded down.
#[must_use]
pub fn estimated_tokens(text: &str) -> usize {
    // Integer arithmetic for ×1.4 rounded down, as `int(len(words) * 1.4)` gives.
    text.split_whitespace().count() * 14 / 10
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn front_matter_is_removed_only_when_it_opens_the_file() {
        assert_eq!(
            strip_front_matter("---\nstage: Create\ntitle: x\n---\n\n# Projects\n"),
            "\n# Projects\n"
        );
        assert_eq!(strip_front_matter("---\r\ntitle: x\r\n---\r\nbody"), "body");
        assert_eq!(strip_front_matter("\u{feff}---\na: b\n---\nbody"), "body");
        // a horizontal rule pair in a page without front matter keeps the page whole
        let page = "# Title\n\nintro\n\n---\n\nmiddle\n\n---\nend";
        assert_eq!(strip_front_matter(page), page);
        // a block that never closes is not front matter
        assert_eq!(strip_front_matter("---\nno end"), "---\nno end");
    }

    #[test]
    fn processed_text_is_lower_case_without_punctuation() {
        let md =
            "---\ntitle: T\n---\n# Create a Project!\n\n`git push` -- Ünïcödé, naïve_café; 100%.\n";
        assert_eq!(
            processed_text(md),
            " create a project\n\ngit push  ünïcödé naïve_café 100\n"
        );
    }

    #[test]
    fn query_words_are_quoted_and_operators_neutralised() {
        assert_eq!(
            fts_query("How do I create a project?").as_deref(),
            Some(r#""How" "do" "I" "create" "a" "project""#)
        );
        assert_eq!(
            fts_query(r#"NEAR(merge OR "review") - NOT *"#).as_deref(),
            Some(r#""NEARmerge" "OR" "review" "NOT""#)
        );
        assert_eq!(fts_query("  ?!* \"\" "), None);
        assert_eq!(fts_query(""), None);
    }

    #[test]
    fn tokens_are_words_times_one_point_four_rounded_down() {
        assert_eq!(estimated_tokens(""), 0);
        assert_eq!(estimated_tokens("one"), 1);
        assert_eq!(estimated_tokens("a b c d e"), 7);
        assert_eq!(estimated_tokens("a\nb\tc  d e f g h i j"), 14);
    }
}
