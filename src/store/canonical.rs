//! Whether a document's text is already what the store would write for it.
//!
//! The store keeps every document as the compact JSON serde_json writes for the parsed
//! document. Most documents of a large fixture file (a `mongoexport`, the generator's
//! output) are written that way already; for those, the text can be kept as it is, and
//! parsing it into a tree only to write it out again, the bulk of loading a million
//! contacts, is skipped.

use std::borrow::Cow;

/// `text` with the MongoDB Extended JSON wrappers `mongoexport` writes in relaxed mode,
/// `{"$date":"<ISO 8601>"}` and `{"$oid":"<id>"}`, replaced by the strings the full path
/// normalises them to (`extended_json.rs`); `None` when anything else starting with `$` is
/// left (another wrapper, an escape in one, a string starting with `$`): the full path then
/// reads it, and says what is wrong if anything is.
///
/// Outside a string, `{"$` can only open an object whose first key starts with `$`; inside
/// one, a quote is always escaped. So every match is a wrapper or a key, never text.
pub(crate) fn without_wrappers(text: &str) -> Option<Cow<'_, str>> {
    let bytes = text.as_bytes();
    if memchr::memmem::find(bytes, b"\"$").is_none() {
        return Some(Cow::Borrowed(text));
    }
    let mut out = String::with_capacity(text.len());
    let mut done = 0;
    while let Some(at) = memchr::memmem::find(&bytes[done..], b"{\"$").map(|at| at + done) {
        let rest = &text[at..];
        let (prefix, convert): (&str, fn(&str) -> Option<String>) =
            if rest.starts_with(r#"{"$date":""#) {
                (r#"{"$date":""#, super::extended_json::relaxed_date)
            } else if rest.starts_with(r#"{"$oid":""#) {
                (r#"{"$oid":""#, |id| Some(id.to_owned()))
            } else {
                return None;
            };
        let start = at + prefix.len();
        let end = start + memchr::memchr2(b'"', b'\\', &bytes[start..])?;
        if !text[end..].starts_with(r#""}"#) {
            return None;
        }
        out.push_str(&text[done..at]);
        out.push('"');
        out.push_str(&convert(&text[start..end])?);
        out.push('"');
        done = end + 2;
    }
    out.push_str(&text[done..]);
    if memchr::memmem::find(out.as_bytes(), b"\"$").is_some() {
        return None;
    }
    Some(Cow::Owned(out))
}

/// `true` when serializing the parsed `text` compactly would give `text` back, byte for
/// byte. `false` means "not known to be": the caller parses and writes it out. The text must
/// already be valid JSON.
pub(crate) fn is_canonical(text: &str) -> bool {
    let bytes = text.as_bytes();
    // The keys of the objects being read, to refuse a repeated key (parsing keeps only
    // one), each with a cheap fingerprint compared first; `objects` holds where each open
    // object's keys start.
    let mut keys: Vec<(u64, &[u8])> = Vec::new();
    let mut objects: Vec<usize> = Vec::new();
    // Whether the next string is a key, per open container (true in an object).
    let mut in_object: Vec<bool> = Vec::new();
    let mut expect_key = false;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'{' => {
                objects.push(keys.len());
                in_object.push(true);
                expect_key = true;
                i += 1;
            }
            b'[' => {
                in_object.push(false);
                expect_key = false;
                i += 1;
            }
            b'}' => {
                keys.truncate(objects.pop().unwrap_or_default());
                in_object.pop();
                expect_key = false;
                i += 1;
            }
            b']' => {
                in_object.pop();
                expect_key = false;
                i += 1;
            }
            b',' => {
                expect_key = in_object.last() == Some(&true);
                i += 1;
            }
            b':' => {
                expect_key = false;
                i += 1;
            }
            b'"' => {
                let Some(end) = string_end(bytes, i + 1) else {
                    return false;
                };
                if expect_key {
                    let key = &bytes[i + 1..end];
                    let Some(&first) = objects.last() else {
                        return false;
                    };
                    let print = fingerprint(key);
                    if keys[first..].iter().any(|&(p, k)| p == print && k == key) {
                        return false;
                    }
                    keys.push((print, key));
                }
                expect_key = false;
                i = end + 1;
            }
            b't' | b'f' | b'n' => {
                // true, false, null: written as read.
                while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
                    i += 1;
                }
            }
            b'-' | b'0'..=b'9' => {
                let start = i;
                if bytes[i] == b'-' {
                    i += 1;
                }
                let digits = i;
                while i < bytes.len() && bytes[i].is_ascii_digit() {
                    i += 1;
                }
                let integer = &bytes[digits..i];
                // An integer is written as read unless it has a leading zero, is -0, or is
                // too long for an i64 (then it is read as a float); a fraction or an
                // exponent is written as a float would be, which may differ.
                let plain = !integer.is_empty()
                    && integer.len() <= 18
                    && (integer[0] != b'0' || integer.len() == 1)
                    && !(bytes[start] == b'-' && integer == b"0");
                if !plain || matches!(bytes.get(i), Some(b'.' | b'e' | b'E')) {
                    return false;
                }
            }
            // Whitespace, or anything else: not compact.
            _ => return false,
        }
    }
    true
}

/// A key's length and first bytes, equal for equal keys and rarely for others.
fn fingerprint(key: &[u8]) -> u64 {
    let mut head = [0u8; 8];
    let n = key.len().min(6);
    head[..n].copy_from_slice(&key[..n]);
    u64::from_le_bytes(head) | ((key.len() as u64 & 0xffff) << 48)
}

/// The index of the closing quote of the string starting at `start`, if every escape in it
/// is one serde_json writes the same way (`\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`).
fn string_end(bytes: &[u8], start: usize) -> Option<usize> {
    let mut i = start;
    loop {
        let offset = memchr::memchr2(b'"', b'\\', &bytes[i..])?;
        i += offset;
        if bytes[i] == b'"' {
            return Some(i);
        }
        match bytes.get(i + 1) {
            Some(b'"' | b'\\' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
            // `\/` and `\uXXXX` are written differently (as `/` and the character).
            _ => return None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::Value;

    fn rewritten(text: &str) -> String {
        serde_json::to_string(&serde_json::from_str::<Value>(text).unwrap()).unwrap()
    }

    #[test]
    fn compact_serde_output_is_canonical_and_anything_else_is_not() {
        for text in [
            r#"{"a":1,"b":[true,false,null],"c":{"d":"x\"y\\z\n"},"e":-12,"f":0}"#,
            r#"[]"#,
            r#"{}"#,
            r#""é ✓""#,
        ] {
            assert!(is_canonical(text), "{text}");
            assert_eq!(rewritten(text), text);
        }
        for text in [
            r#"{"a": 1}"#,
            "{\"a\":1}\n",
            r#"{"a":1.0}"#,
            r#"{"a":1e3}"#,
            r#"{"a":-0}"#,
            r#"{"a":"\u00e9"}"#,
            r#"{"a":"\/"}"#,
            r#"{"a":1,"a":2}"#,
            r#"{"a":12345678901234567890}"#,
        ] {
            assert!(!is_canonical(text), "{text}");
        }
        // Equal keys in different objects are no repetition.
        assert!(is_canonical(r#"{"a":{"a":1},"b":[{"a":1},{"a":2}]}"#));
    }

    fn json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            (-1e6f64..1e6).prop_map(Value::from),
            "[a-c\"\\\\\n/é\u{1}]{0,4}".prop_map(Value::String),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::vec(("[a-c$]{1,2}", inner), 0..4)
                    .prop_map(|entries| Value::Object(entries.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// The one promise: a text called canonical is exactly what parsing and writing
        /// it gives, whatever formatting it came in.
        #[test]
        fn a_canonical_text_is_written_back_unchanged(value in json(), pretty in any::<bool>()) {
            let text = if pretty {
                serde_json::to_string_pretty(&value).unwrap()
            } else {
                serde_json::to_string(&value).unwrap()
            };
            if is_canonical(&text) {
                prop_assert_eq!(rewritten(&text), text.clone());
            }
            if !pretty {
                // serde's own compact output of an integer-only value is always kept.
                let floats = text.contains('.') || text.contains('e');
                let escapes = text.contains("\\u");
                // Integers of more digits than an i64 surely holds are left to the parser.
                let long = text.split(|c: char| !c.is_ascii_digit()).any(|run| run.len() > 18);
                prop_assert!(floats || escapes || long || is_canonical(&text), "{}", text);
            }
        }
    }
}
