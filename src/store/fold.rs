//! Case-insensitive text matching without a regular expression per document.
//!
//! `contacts.search` matches `new RegExp(escapeRegExp(text), 'i')`: a literal, compared
//! with Unicode *simple case folding* (each pattern character matches any character of its
//! folding class; `K`, `k` and the Kelvin sign `K` are one class). Mapping every character to
//! one representative of its class (the smallest) turns that into a plain substring search:
//! the text matches exactly when its folded form contains the folded pattern. The store keeps
//! each contact's searchable values folded once, when the contact is written, and a search
//! is then one `memmem` pass over compact keys.

use std::sync::OnceLock;

use regex_syntax::hir::{ClassUnicode, ClassUnicodeRange};

/// The last code point with a case mapping is below this (Adlam ends at U+1E95F); every
/// character above it is its own class.
const CASED_END: u32 = 0x1_F000;

/// Each character's folding class representative, for the non-ASCII characters whose class
/// has more than one member, sorted by character.
fn table() -> &'static [(char, char)] {
    static TABLE: OnceLock<Vec<(char, char)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        (0x80..CASED_END)
            .filter_map(char::from_u32)
            .filter_map(|c| {
                let mut class = ClassUnicode::new([ClassUnicodeRange::new(c, c)]);
                class.case_fold_simple();
                let smallest = class.ranges().first().map_or(c, |r| r.start());
                (smallest != c).then_some((c, smallest))
            })
            .collect()
    })
}

/// The representative of `c`'s simple case folding class.
pub(crate) fn fold_char(c: char) -> char {
    if c.is_ascii() {
        // An ASCII letter's class may hold non-ASCII members (K, ſ), but its smallest member
        // is always the ASCII capital.
        return c.to_ascii_uppercase();
    }
    if (c as u32) >= CASED_END {
        return c;
    }
    let table = table();
    match table.binary_search_by_key(&c, |(from, _)| *from) {
        Ok(i) => table[i].1,
        Err(_) => c,
    }
}

/// `text` with every character replaced by its class representative.
pub(crate) fn fold(text: &str) -> String {
    if text.is_ascii() {
        return text.to_ascii_uppercase();
    }
    text.chars().map(fold_char).collect()
}

/// A contact's searchable values (name, e-mail addresses, phone numbers), folded and packed
/// into one buffer; a match must lie inside one value, as the pattern is applied to each.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FoldedValues {
    text: Box<str>,
    /// Where each value ends in `text`.
    ends: Box<[u32]>,
}

impl FoldedValues {
    pub(crate) fn new<'a>(values: impl IntoIterator<Item = &'a str>) -> Self {
        let mut text = String::new();
        let mut ends = Vec::new();
        for value in values {
            text.push_str(&fold(value));
            ends.push(u32::try_from(text.len()).unwrap_or(u32::MAX));
        }
        Self {
            text: text.into_boxed_str(),
            ends: ends.into_boxed_slice(),
        }
    }

    /// The folded values, end to end.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// Where each value ends in [`Self::text`].
    pub(crate) fn ends(&self) -> &[u32] {
        &self.ends
    }

    /// Does one of the values contain the folded pattern? (The store searches a whole
    /// column at once, text_column.rs; this is the one-contact statement of it.)
    #[cfg(test)]
    pub(crate) fn contains(&self, needle: &Needle) -> bool {
        let text = self.text.as_bytes();
        let mut start = 0;
        self.ends.iter().any(|&end| {
            let value = &text[start..end as usize];
            start = end as usize;
            value.len() >= needle.folded.len() && needle.finder.find(value).is_some()
        })
    }
}

/// A search text, folded once per request.
pub(crate) struct Needle {
    folded: String,
    finder: memchr::memmem::Finder<'static>,
}

impl Needle {
    pub(crate) fn new(text: &str) -> Self {
        let folded = fold(text);
        let finder = memchr::memmem::Finder::new(folded.as_bytes()).into_owned();
        Self { folded, finder }
    }

    /// The folded pattern's length in bytes.
    pub(crate) fn len(&self) -> usize {
        self.folded.len()
    }

    /// Does `text` (unfolded) contain the pattern, case- and accent-insensitively?
    pub(crate) fn matches(&self, text: &str) -> bool {
        self.find(fold(text).as_bytes()).is_some()
    }

    /// Where the folded pattern first occurs in `haystack` (folded text).
    pub(crate) fn find(&self, haystack: &[u8]) -> Option<usize> {
        self.finder.find(haystack)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// What `contacts.search` runs: the escaped text as a case-insensitive regex.
    fn regex_matches(text: &str, haystack: &str) -> bool {
        fancy_regex::RegexBuilder::new(&fancy_regex::escape(text))
            .case_insensitive(true)
            .build()
            .unwrap()
            .is_match(haystack)
            .unwrap()
    }

    #[test]
    fn every_character_folds_to_the_smallest_member_of_its_class() {
        // Checked against the regex engine itself, one character at a time, over every
        // code point that can have a case mapping, and a sample above.
        let above = (CASED_END..0x11_0000).step_by(97);
        for code in (0..CASED_END).chain(above) {
            let Some(c) = char::from_u32(code) else {
                continue;
            };
            let mut class = ClassUnicode::new([ClassUnicodeRange::new(c, c)]);
            class.case_fold_simple();
            let members: Vec<char> = class
                .ranges()
                .iter()
                .flat_map(|r| r.start()..=r.end())
                .collect();
            let folded = fold_char(c);
            assert_eq!(folded, members[0], "U+{code:04X}");
            for member in members {
                assert_eq!(fold_char(member), folded, "U+{code:04X} ~ {member:?}");
            }
        }
    }

    #[test]
    fn tricky_classes_match_as_the_regex_does() {
        for (text, haystack) in [
            ("k", "\u{212A}elvin"),
            ("s", "\u{17F}"),
            ("σ", "ΣΑΣ"),
            ("ς", "σ"),
            ("ß", "\u{1E9E}"),
            ("ss", "ß"),
            ("i", "İ"),
            ("ı", "I"),
            ("ǆ", "ǅ"),
            ("µ", "Μ"),
            ("å", "\u{212B}"),
        ] {
            assert_eq!(
                FoldedValues::new([haystack]).contains(&Needle::new(text)),
                regex_matches(text, haystack),
                "{text:?} in {haystack:?}"
            );
        }
    }

    #[test]
    fn a_match_must_lie_inside_one_value() {
        let values = FoldedValues::new(["Ana", "bob@x.io"]);
        assert!(values.contains(&Needle::new("NA")));
        assert!(values.contains(&Needle::new("@X.")));
        assert!(!values.contains(&Needle::new("anab")), "spans two values");
        // A first occurrence across the boundary must not hide a later one inside a value.
        assert!(FoldedValues::new(["a", "aa"]).contains(&Needle::new("AA")));
        assert!(values.contains(&Needle::new("")));
        assert!(FoldedValues::new([""]).contains(&Needle::new("")));
        assert!(!FoldedValues::new([]).contains(&Needle::new("")));
    }

    fn tricky_text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop::sample::select(vec![
                'a', 'A', 'k', 'K', '\u{212A}', 's', 'S', 'ſ', 'σ', 'Σ', 'ς', 'ß', 'ẞ', 'i', 'I',
                'İ', 'ı', 'ǅ', 'Ǆ', 'ǆ', 'é', 'É', '.', '*', '\0', ' ',
            ]),
            0..6,
        )
        .prop_map(|chars| chars.into_iter().collect())
    }

    proptest! {
        #[test]
        fn folded_search_agrees_with_the_regex(
            text in tricky_text(),
            values in proptest::collection::vec(tricky_text(), 0..3),
        ) {
            let expected = values.iter().any(|v| regex_matches(&text, v));
            let folded = FoldedValues::new(values.iter().map(String::as_str));
            prop_assert_eq!(folded.contains(&Needle::new(&text)), expected);
        }
    }
}
