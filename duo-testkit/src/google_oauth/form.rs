//! Percent-decoding of form bodies and path segments (lenient: a malformed escape is kept as
//! it is, as servers do).

/// Decodes `%XX` escapes in `text` (and `+` as a space when `plus_is_space`, as in forms).
pub(crate) fn percent_decode(text: &str, plus_is_space: bool) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                if let Some(byte) = hex {
                    out.push(byte);
                    i += 3;
                    continue;
                }
                out.push(b'%');
            }
            b'+' if plus_is_space => out.push(b' '),
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The `(name, value)` pairs of an `application/x-www-form-urlencoded` body, decoded.
pub(crate) fn parse(body: &str) -> Vec<(String, String)> {
    body.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(name, true), percent_decode(value, true))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_escapes_and_plus_and_keeps_bad_escapes() {
        assert_eq!(
            parse("grant_type=urn%3Aietf%3Aparams&x=a+b&flag&bad=%zz%4"),
            vec![
                ("grant_type".into(), "urn:ietf:params".into()),
                ("x".into(), "a b".into()),
                ("flag".into(), String::new()),
                ("bad".into(), "%zz%4".into()),
            ]
        );
        assert_eq!(percent_decode("claude%40v2+x", false), "claude@v2+x");
        assert_eq!(percent_decode("%C3%A9", false), "é");
    }
}
