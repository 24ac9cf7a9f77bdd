//! Tests of `PatternIndex`: the spec's examples, and a property test
//! against the reference matcher.

use super::*;
use proptest::prelude::*;
use MatchPolicy::*;

fn index(entries: &[(&str, MatchPolicy)]) -> PatternIndex<String> {
    let mut idx = PatternIndex::default();
    for (p, policy) in entries {
        idx.insert(Text::from(*p), *policy, format!("{policy:?}:{p}"));
    }
    idx
}

fn all_matches(idx: &PatternIndex<String>, uri: &str) -> Vec<String> {
    let mut out = Vec::new();
    idx.matches(uri, |(_, v)| out.push(v.clone()));
    out.sort();
    out
}

#[test]
fn exact_prefix_and_wildcard_all_match() {
    let idx = index(&[
        ("a.b.c", Exact),
        ("a.b", Prefix),
        ("", Prefix),
        ("a..c", Wildcard),
        ("x..c", Wildcard),
    ]);
    assert_eq!(
        all_matches(&idx, "a.b.c"),
        ["Exact:a.b.c", "Prefix:", "Prefix:a.b", "Wildcard:a..c"]
    );
    // Prefix matching is by characters.
    assert_eq!(all_matches(&idx, "a.bc"), ["Prefix:", "Prefix:a.b"]);
    // Wildcards need the same number of components.
    assert_eq!(all_matches(&idx, "a.b.c.d"), ["Prefix:", "Prefix:a.b"]);
}

#[test]
fn best_prefers_exact_then_longest_prefix_then_wildcard() {
    let idx = index(&[
        ("a1.b2.c3", Prefix),
        ("a1.b2", Prefix),
        ("a1.b2.c3.d4", Wildcard),
    ]);
    assert_eq!(
        idx.best("a1.b2.c3.d4").map(|(_, v)| v.as_str()),
        Some("Prefix:a1.b2.c3")
    );
    let idx = index(&[("a1.b2.c3.d4", Exact), ("a1", Prefix)]);
    assert_eq!(
        idx.best("a1.b2.c3.d4").map(|(_, v)| v.as_str()),
        Some("Exact:a1.b2.c3.d4")
    );
}

#[test]
fn wildcard_ranking_follows_the_spec_examples() {
    let idx = index(&[("a1.b2..d4", Wildcard), ("a1...d4", Wildcard)]);
    assert_eq!(
        idx.best("a1.b2.c3.d4").map(|(_, v)| v.as_str()),
        Some("Wildcard:a1.b2..d4")
    );
    let idx = index(&[
        ("a1.b2..d4.e5..g7", Wildcard),
        ("a1.b2..d4..f6.g7", Wildcard),
    ]);
    assert_eq!(
        idx.best("a1.b2.c88.d4.e5.f6.g7").map(|(_, v)| v.as_str()),
        Some("Wildcard:a1.b2..d4.e5..g7")
    );
}

#[test]
fn remove_takes_one_entry_and_keeps_others() {
    let mut idx = index(&[("a.b", Exact), ("a.b", Prefix), ("a.", Wildcard)]);
    assert_eq!(idx.len(), 3);
    assert_eq!(idx.remove("a.b", Prefix), Some("Prefix:a.b".to_string()));
    assert_eq!(idx.remove("a.b", Prefix), None);
    assert_eq!(all_matches(&idx, "a.b"), ["Exact:a.b", "Wildcard:a."]);
    assert_eq!(idx.len(), 2);
    assert_eq!(
        idx.get("a.", Wildcard).map(String::as_str),
        Some("Wildcard:a.")
    );
}

fn component() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("a".to_string()),
        Just("b".to_string()),
        Just("ab".to_string()),
        Just(String::new())
    ]
}

fn uri_like() -> impl Strategy<Value = String> {
    prop::collection::vec(component(), 1..5).prop_map(|c| c.join("."))
}

fn policy() -> impl Strategy<Value = MatchPolicy> {
    prop_oneof![Just(Exact), Just(Prefix), Just(Wildcard)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn matches_agree_with_the_reference_matcher(
        patterns in prop::collection::vec((uri_like(), policy()), 0..12),
        uri in uri_like(),
    ) {
        let mut idx = PatternIndex::default();
        for (p, pol) in &patterns {
            idx.insert(Text::from(p.as_str()), *pol, (p.clone(), *pol));
        }
        let mut got = Vec::new();
        idx.matches(&uri, |(_, v)| got.push(v.clone()));
        got.sort();
        let mut want: Vec<(String, MatchPolicy)> = patterns
            .iter()
            .filter(|(p, pol)| pattern_matches(p, *pol, &uri))
            .cloned()
            .collect();
        want.sort();
        want.dedup();
        got.dedup();
        prop_assert_eq!(got, want);
    }
}

#[test]
fn values_lists_every_entry_once_with_its_policy() {
    let mut idx = index(&[
        ("a.b", Exact),
        ("a.", Prefix),
        ("a..c", Wildcard),
        ("x", Prefix),
    ]);
    idx.remove("x", Prefix);
    let mut all: Vec<_> = idx.values().map(|(p, v)| (p, v.as_str())).collect();
    all.sort();
    let want = [
        (Exact, "Exact:a.b"),
        (Prefix, "Prefix:a."),
        (Wildcard, "Wildcard:a..c"),
    ];
    assert_eq!(all, want);
}
