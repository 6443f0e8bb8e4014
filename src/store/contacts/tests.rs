//! The indexed search against the reference: [`Search::matches`] over every document,
//! sorted by [`Search::compare`] with ties in natural order, as `findPaginatedContacts`
//! answers. Order, page and total must be the same on any workspace and any search.

use proptest::prelude::*;
use serde_json::{Map, Value, json};

use super::{Contacts, PreparedContact};
use crate::domain::request::SearchContactsQuery;
use crate::domain::search::Search;

fn name() -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        Just(None),
        Just(Some(Value::Null)),
        prop::sample::select(vec![
            "Ana",
            "ana",
            "Ana",
            "Bob",
            "bob",
            "",
            "K",
            "\u{212A}elvin",
            "kelvin",
            "Émile",
            "émile",
            "Zoë",
            "ß",
            "SS",
            "a b",
        ])
        .prop_map(|n| Some(json!(n))),
    ]
}

fn flag() -> impl Strategy<Value = Option<bool>> {
    prop_oneof![Just(None), Just(Some(false)), Just(Some(true))]
}

/// A contact document without its `_id`.
fn contact() -> impl Strategy<Value = Map<String, Value>> {
    let emails = proptest::collection::vec(
        prop::sample::select(vec!["ana@x.io", "BOB@x.io", "k@y.org", "zz@x.io"]),
        0..3,
    );
    let phones = proptest::collection::vec(
        prop::sample::select(vec!["+5511999", "+1 555", "123"]),
        0..2,
    );
    (name(), emails, phones, flag(), flag(), 0u8..3).prop_map(
        |(name, emails, phones, unknown, enabled, created)| {
            let mut document = Map::new();
            document.insert(
                "createdAt".into(),
                json!(format!("2024-0{}-01", created + 1)),
            );
            if let Some(name) = name {
                document.insert("name".into(), name);
            }
            if !emails.is_empty() {
                let list: Vec<Value> = emails.iter().map(|e| json!({ "address": e })).collect();
                document.insert("emails".into(), Value::Array(list));
            }
            if !phones.is_empty() {
                let list: Vec<Value> = phones.iter().map(|p| json!({ "phoneNumber": p })).collect();
                document.insert("phones".into(), Value::Array(list));
            }
            if let Some(unknown) = unknown {
                document.insert("unknown".into(), json!(unknown));
            }
            if let Some(enabled) = enabled {
                document.insert("enabled".into(), json!(enabled));
            }
            document
        },
    )
}

fn search() -> impl Strategy<Value = Search> {
    let text = prop::sample::select(vec![
        None,
        Some(""),
        Some("a"),
        Some("A"),
        Some("k"),
        Some("@x."),
        Some("55"),
        Some("zz"),
        Some("ss"),
        Some("b b"),
        Some("nobody"),
    ]);
    let sort = prop::sample::select(vec![
        None,
        Some(r#"{"name":1}"#),
        Some(r#"{"name":-1}"#),
        Some(r#"{"_id":-1}"#),
        Some(r#"{"emails.address":1}"#),
        Some(r#"{"name":-1,"_id":1}"#),
        Some(r#"{"createdAt":-1}"#),
    ]);
    (text, sort, 0u8..6, 0u8..5, any::<bool>()).prop_map(|(text, sort, offset, count, unknown)| {
        Search::new(SearchContactsQuery {
            count: Some(count.into()),
            offset: Some(offset.into()),
            sort: sort.map(str::to_owned),
            search_text: text.map(str::to_owned),
            unknown: Some(unknown),
        })
        .expect("a valid search")
    })
}

/// What `findPaginatedContacts` answers, straight from the documents.
fn reference(documents: &[Map<String, Value>], search: &Search) -> (Vec<String>, usize) {
    let mut matched: Vec<(usize, &Map<String, Value>)> = documents
        .iter()
        .enumerate()
        .filter(|(_, d)| search.matches(d))
        .collect();
    matched.sort_by(|(pa, a), (pb, b)| search.compare(a, b).then(pa.cmp(pb)));
    let (offset, limit) = search.page.bounds();
    let page = matched
        .iter()
        .skip(offset)
        .take(limit)
        .map(|(_, d)| d["_id"].as_str().unwrap().to_owned())
        .collect();
    (page, matched.len())
}

fn answered(contacts: &Contacts, search: &Search) -> (Vec<String>, usize) {
    let (page, total) = contacts.search(search);
    let ids = page
        .iter()
        .map(|c| c.document()["_id"].as_str().unwrap().to_owned())
        .collect();
    (ids, total)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Written one by one (new contacts and replacements in place) or built in bulk, the
    /// store answers every search as the reference does.
    #[test]
    fn the_indexed_search_answers_as_the_reference(
        writes in proptest::collection::vec((0usize..12, contact()), 0..40),
        searches in proptest::collection::vec(search(), 1..8),
    ) {
        // The workspace in natural order: a replaced contact keeps its place.
        let mut documents: Vec<Map<String, Value>> = Vec::new();
        let mut contacts = Contacts::default();
        for (id, mut document) in writes {
            let id = format!("c{id:02}");
            let mut with_id = Map::new();
            with_id.insert("_id".into(), json!(id));
            with_id.append(&mut document);
            contacts.upsert(PreparedContact::new(&with_id));
            match documents.iter_mut().find(|d| d["_id"] == json!(id)) {
                Some(place) => *place = with_id,
                None => documents.push(with_id),
            }
        }
        let prepared: Vec<PreparedContact> = documents.iter().map(PreparedContact::new).collect();
        let bulk = Contacts::filled(&prepared).expect("distinct ids");
        for search in &searches {
            let expected = reference(&documents, search);
            prop_assert_eq!(&answered(&contacts, search), &expected, "one by one: {:?}", search);
            prop_assert_eq!(&answered(&bulk, search), &expected, "in bulk: {:?}", search);
        }
    }
}

#[test]
fn a_repeated_id_is_no_bulk_load() {
    let document = |id: &str| json!({"_id": id, "name": "x"}).as_object().unwrap().clone();
    let prepared: Vec<PreparedContact> = [document("a"), document("b"), document("a")]
        .iter()
        .map(PreparedContact::new)
        .collect();
    assert!(Contacts::filled(&prepared).is_none());
    let mut contacts = Contacts::default();
    contacts.extend(prepared);
    assert_eq!(
        contacts.len(),
        2,
        "the later replaces the earlier in its place"
    );
}
