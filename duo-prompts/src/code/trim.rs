//! Trimming code around the cursor to a character budget, keeping the text nearest the cursor.

/// How many characters of code a prompt may carry, and the share kept for the suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    /// Characters (Unicode scalar values) for prefix + suffix + context items together.
    pub total_chars: usize,
    /// Percentage of `total_chars` reserved for the suffix when both sides are long (the
    /// reference reserves 7 %); a short prefix leaves its unused share to the suffix.
    pub suffix_percent: u8,
}

impl Budget {
    /// A budget of `total_chars` with the reference's 7 % suffix reserve.
    #[must_use]
    pub const fn chars(total_chars: usize) -> Self {
        Self {
            total_chars,
            suffix_percent: 7,
        }
    }
}

/// The last `max_chars` characters of `s` (all of it when shorter).
#[must_use]
pub fn keep_end(s: &str, max_chars: usize) -> &str {
    if s.len() <= max_chars {
        return s;
    }
    if max_chars == 0 {
        return "";
    }
    match s.char_indices().rev().nth(max_chars - 1) {
        Some((i, _)) => &s[i..],
        None => s,
    }
}

/// The first `max_chars` characters of `s` (all of it when shorter).
#[must_use]
pub fn keep_start(s: &str, max_chars: usize) -> &str {
    if s.len() <= max_chars {
        return s;
    }
    match s.char_indices().nth(max_chars) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Characters in `s`, counting no further than `limit` (cheap on huge inputs).
pub(crate) fn char_count_upto(s: &str, limit: usize) -> usize {
    if s.len() <= limit {
        return s.chars().count();
    }
    s.chars()
        .take(limit.saturating_add(1))
        .count()
        .min(limit.saturating_add(1))
}

/// Trims `prefix` (keeping its end) and `suffix` (keeping its start) so that together they fit
/// `budget.total_chars`: the suffix gets at most its reserved share while the prefix is longer
/// than the rest, and whatever the prefix leaves.
///
/// ```
/// use duo_prompts::code::{trim_around_cursor, Budget};
/// let (p, s) = trim_around_cursor("0123456789", "abcdefghij", Budget { total_chars: 10, suffix_percent: 20 });
/// assert_eq!((p, s), ("23456789", "ab"));
/// let (p, s) = trim_around_cursor("012", "abcdefghij", Budget { total_chars: 10, suffix_percent: 20 });
/// assert_eq!((p, s), ("012", "abcdefg"));
/// ```
#[must_use]
pub fn trim_around_cursor<'a>(
    prefix: &'a str,
    suffix: &'a str,
    budget: Budget,
) -> (&'a str, &'a str) {
    let total = budget.total_chars;
    let reserve = total.saturating_mul(usize::from(budget.suffix_percent.min(100))) / 100;
    let suffix_len = char_count_upto(suffix, total);
    let prefix_max = total - suffix_len.min(reserve);
    let prefix = keep_end(prefix, prefix_max);
    let used = char_count_upto(prefix, prefix_max);
    let suffix = keep_start(suffix, total.saturating_sub(used));
    (prefix, suffix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_whole_characters() {
        assert_eq!(keep_end("héllo wörld", 5), "wörld");
        assert_eq!(keep_start("héllo wörld", 2), "hé");
        assert_eq!(keep_end("abc", 0), "");
        assert_eq!(keep_start("abc", 0), "");
        assert_eq!(keep_end("｜▁", 1), "▁");
        assert_eq!(keep_start("｜▁", 5), "｜▁");
    }

    #[test]
    fn reserve_applies_only_when_both_sides_are_long() {
        let b = Budget::chars(100);
        let long = "x".repeat(500);
        let (p, s) = trim_around_cursor(&long, &long, b);
        assert_eq!((p.len(), s.len()), (93, 7));
        let (p, s) = trim_around_cursor(&long, "short", b);
        assert_eq!((p.len(), s), (95, "short"));
        let (p, s) = trim_around_cursor("", &long, b);
        assert_eq!((p, s.len()), ("", 100));
        let (p, s) = trim_around_cursor("ab", "cd", Budget::chars(0));
        assert_eq!((p, s), ("", ""));
    }

    #[test]
    fn bounded_count() {
        assert_eq!(char_count_upto("héllo", 10), 5);
        assert_eq!(char_count_upto("héllo", 2), 3);
    }
}
