//! The `<think>…</think>` filter (`duo_core::reasoning::ThinkFilter`) on arbitrary text.
//!
//! Input: one byte of chunk size, then UTF-8 text. Checks the module's contract: the visible text
//! does not depend on how the answer is cut into chunks (tags split across chunks included), and
//! a text without `<` passes through unchanged.
#![no_main]

use duo_core::reasoning::ThinkFilter;
use libfuzzer_sys::fuzz_target;

#[path = "common/mod.rs"]
mod common;
use common::chunks;

fn visible(chunks: &[&str]) -> String {
    let mut filter = ThinkFilter::new();
    let mut out: String = chunks.iter().map(|c| filter.push(c)).collect();
    out.push_str(&filter.finish());
    out
}

fuzz_target!(|data: &[u8]| {
    let Some((&size, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let whole = visible(&[text]);
    if !text.contains('<') {
        assert_eq!(whole, text, "text without a tag passes unchanged");
    }
    assert!(whole.len() <= text.len(), "the filter only removes");
    let size = 1 + usize::from(size % 16);
    assert_eq!(
        visible(&chunks(text, size)),
        whole,
        "chunks of {size} bytes"
    );
    assert_eq!(visible(&chunks(text, 1)), whole, "one character at a time");
    // Two pieces at the size byte's position (a tag or a character cut anywhere).
    let mut at = usize::from(data[0]).min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    assert_eq!(
        visible(&[&text[..at], "", &text[at..]]),
        whole,
        "split at {at}"
    );
});
