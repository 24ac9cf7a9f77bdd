//! Unit tests of the extensions header and the permessage-deflate
//! negotiation, both ends.
#![allow(clippy::unwrap_used)]

use super::*;

fn offers(values: &[&str]) -> Vec<Extension> {
    parse(values.iter().map(|v| v.as_bytes())).unwrap()
}

fn answer_to(values: &[&str]) -> Option<String> {
    answer(&offers(values)).map(|(_, value)| value)
}

const BOTH_OFF: &str = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";

#[test]
fn the_header_grammar_is_parsed() {
    let got = offers(&[
        " , foo;a=1 ; b=\"x\\\"y\" ,, permessage-deflate ;client_max_window_bits",
        "bar",
    ]);
    let param = |k: &str, v: Option<&str>| (k.to_owned(), v.map(str::to_owned));
    assert_eq!(
        got,
        vec![
            Extension {
                name: "foo".into(),
                params: vec![param("a", Some("1")), param("b", Some("x\"y"))],
            },
            Extension {
                name: "permessage-deflate".into(),
                params: vec![param("client_max_window_bits", None)],
            },
            Extension {
                name: "bar".into(),
                params: vec![],
            },
        ]
    );
    assert_eq!(offers(&["", " ,\t, "]), vec![]);
}

#[test]
fn malformed_headers_are_errors() {
    for bad in [
        "permessage-deflate; =1",
        "permessage-deflate;",
        "permessage-deflate x",
        "permessage-deflate; a=",
        "permessage-deflate; a=\"open",
        "permessage-deflate;; a",
        "; a",
        "pmd; a=b c",
        "p@d",
    ] {
        assert!(parse([bad.as_bytes()]).is_err(), "{bad}");
    }
}

#[test]
fn browser_and_autobahn_offers_are_accepted_without_context_takeover() {
    // Chrome and Firefox; Autobahn's default offer; a bare one.
    for offer in [
        "permessage-deflate; client_max_window_bits",
        "permessage-deflate; client_no_context_takeover; client_max_window_bits",
        "permessage-deflate",
        "PerMessage-Deflate; server_no_context_takeover; client_max_window_bits=10",
    ] {
        let (agreed, value) = answer(&offers(&[offer])).unwrap();
        assert_eq!(value, BOTH_OFF, "{offer}");
        assert!(!agreed.peer_takes_over_context(true));
        assert!(!agreed.peer_takes_over_context(false));
    }
}

#[test]
fn a_requested_server_window_of_15_is_repeated_and_a_smaller_one_declined() {
    assert_eq!(
        answer_to(&["permessage-deflate; server_max_window_bits=15"]).unwrap(),
        format!("{BOTH_OFF}; server_max_window_bits=15")
    );
    assert_eq!(
        answer_to(&["permessage-deflate; server_max_window_bits=10"]),
        None
    );
    // The next offer in the client's order is taken instead.
    assert_eq!(
        answer_to(&[
            "permessage-deflate; server_max_window_bits=10",
            "permessage-deflate; client_max_window_bits"
        ])
        .unwrap(),
        BOTH_OFF
    );
}

#[test]
fn offers_with_unknown_repeated_or_invalid_parameters_are_declined() {
    for offer in [
        "permessage-deflate; mem_level=8",
        "permessage-deflate; client_max_window_bits; client_max_window_bits",
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; client_no_context_takeover=\"\"",
        "permessage-deflate; server_max_window_bits",
        "permessage-deflate; server_max_window_bits=16",
        "permessage-deflate; client_max_window_bits=7",
        "permessage-deflate; client_max_window_bits=010",
        "permessage-deflate; client_max_window_bits=x",
        "x-webkit-deflate-frame",
    ] {
        assert_eq!(answer_to(&[offer]), None, "{offer}");
    }
    // A quoted value is the same value.
    assert!(answer_to(&["permessage-deflate; server_max_window_bits=\"15\""]).is_some());
}

#[test]
fn a_client_checks_the_answer() {
    let check = |v: &str| check_answer(&offers(&[v]), true);
    let ours = check(BOTH_OFF).unwrap().unwrap();
    assert!(ours.server_no_context_takeover && ours.client_no_context_takeover);
    let takeover = check("permessage-deflate; server_max_window_bits=10")
        .unwrap()
        .unwrap();
    assert!(takeover.peer_takes_over_context(false));
    assert_eq!(takeover.server_max_window_bits, 10);
    assert_eq!(check_answer(&[], true), Ok(None));
    for bad in [
        "permessage-deflate; client_max_window_bits=10",
        "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
        "permessage-deflate; server_max_window_bits=20",
        "permessage-deflate; foo",
        "x-other",
    ] {
        assert!(check(bad).is_err(), "{bad}");
    }
    assert!(check_answer(&offers(&["permessage-deflate"]), false).is_err());
    assert!(check_answer(&offers(&["permessage-deflate, permessage-deflate"]), true).is_err());
    assert_eq!(
        client_offer(),
        "permessage-deflate; client_no_context_takeover"
    );
}
