//! Helpers shared by the targets (each includes this file with `#[path]`; not every target uses
//! every helper).
#![allow(dead_code)]

/// A current-thread Tokio runtime with I/O and time, built once per target process.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// `text` cut every `size` bytes, each cut moved forward to a character boundary.
pub fn chunks(text: &str, size: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let mut end = (start + size).min(text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        out.push(&text[start..end]);
        start = end;
    }
    out
}
