use super::*;

/// Realms: `open` (anonymous), `closed` (no method), `ticketed` (a ticket
/// challenge, "secret" passes), `later` (anonymous, answered asynchronously).
struct Fake;

fn who(authid: &str, method: &str) -> Identity {
    Identity {
        authid: Text::from(authid),
        authrole: Text::from("user"),
        authmethod: Text::from(method),
        authprovider: Text::from("static"),
        authextra: None,
    }
}

impl Authenticator for Fake {
    fn methods(&self, realm: &str) -> Option<&[&'static str]> {
        match realm {
            "open" | "later" => Some(&["anonymous"]),
            "closed" => Some(&[]),
            "ticketed" => Some(&["ticket"]),
            "both" => Some(&["ticket", "wampcra"]),
            _ => None,
        }
    }

    fn session_id(&mut self) -> SessionId {
        SessionId(77)
    }

    fn hello(&mut self, realm: &Text, method: &'static str, hello: &HelloInfo<'_>) -> Verdict {
        assert_eq!(hello.session, SessionId(77));
        match (realm.as_str(), method) {
            ("later", _) => Verdict::Ask(Box::new(Ask {
                procedure: Text::from("com.example.authenticate"),
                args: vec![Value::str("later")],
                asked: Asked::Ticket {
                    authid: Text::from("joe"),
                },
            })),
            (_, "ticket" | "wampcra") => Verdict::Challenge {
                authmethod: Text::from(method),
                extra: Dict::new(),
                pending: Challenged::Ticket {
                    authid: Text::from(method),
                    ask: None,
                },
            },
            _ => Verdict::Welcome(who("", "anonymous")),
        }
    }

    fn authenticate(&mut self, _: &Text, pending: Challenged, sig: &Text, _: &Dict) -> Verdict {
        let Challenged::Ticket { authid, .. } = pending else {
            panic!("unexpected {pending:?}");
        };
        if sig.as_str() == "secret" {
            Verdict::Welcome(who(authid.as_str(), "ticket"))
        } else {
            Verdict::Deny(Refused::new(ErrorUri::NotAuthorized, "bad ticket"))
        }
    }

    fn answered(&mut self, _: &Text, asked: Asked, answer: Answer) -> Verdict {
        let Asked::Ticket { authid } = asked else {
            panic!("unexpected {asked:?}");
        };
        match answer {
            Answer::Result(_) => Verdict::Welcome(who(authid.as_str(), "ticket")),
            Answer::Error { uri, message } => Verdict::Deny(Refused::new(uri, message)),
        }
    }
}

fn hello(realm: &str, methods: &[&str]) -> Message {
    let mut details = Dict::new().with("roles", Dict::new().with("caller", Dict::new()));
    if !methods.is_empty() {
        let list = methods.iter().map(|m| Value::str(m.to_string())).collect();
        details.insert("authmethods", Value::List(list));
    }
    Message::Hello {
        realm: Text::from(realm),
        details,
    }
}

fn authenticate(signature: &str) -> Message {
    Message::Authenticate {
        signature: Text::from(signature),
        extra: Dict::new(),
    }
}

fn abort_reason(step: &Step) -> &str {
    match step {
        Step::Abort(Message::Abort { reason, .. }) => reason.as_str(),
        other => panic!("expected an ABORT, got {other:?}"),
    }
}

#[test]
fn anonymous_hello_is_accepted_at_once() {
    let mut h = Handshake::default();
    let step = h.on_message(hello("open", &[]), &mut Fake);
    assert!(matches!(step, Step::Accept { ref realm, .. } if realm.as_str() == "open"));
    assert!(h.is_done());
}

#[test]
fn a_realm_without_anonymous_refuses_an_anonymous_hello() {
    let mut h = Handshake::default();
    let step = h.on_message(hello("closed", &[]), &mut Fake);
    assert_eq!(abort_reason(&step), "wamp.error.no_auth_method");
    let step = Handshake::default().on_message(hello("ticketed", &["anonymous"]), &mut Fake);
    assert_eq!(abort_reason(&step), "wamp.error.no_auth_method");
}

#[test]
fn unknown_realm_and_bad_details_are_refused() {
    let step = Handshake::default().on_message(hello("nowhere", &[]), &mut Fake);
    assert_eq!(abort_reason(&step), "wamp.error.no_such_realm");
    let step = Handshake::default().on_message(hello("bad realm!", &[]), &mut Fake);
    assert_eq!(abort_reason(&step), "wamp.error.invalid_uri");
    let no_roles = Message::Hello {
        realm: Text::from("open"),
        details: Dict::new(),
    };
    let step = Handshake::default().on_message(no_roles, &mut Fake);
    assert_eq!(abort_reason(&step), "wamp.error.protocol_violation");
    let bad_methods = Message::Hello {
        realm: Text::from("open"),
        details: Dict::new()
            .with("roles", Dict::new().with("caller", Dict::new()))
            .with("authmethods", "anonymous"),
    };
    let step = Handshake::default().on_message(bad_methods, &mut Fake);
    assert_eq!(abort_reason(&step), "wamp.error.protocol_violation");
}

#[test]
fn a_challenge_is_answered_by_authenticate() {
    let mut h = Handshake::default();
    let step = h.on_message(hello("ticketed", &["ticket"]), &mut Fake);
    assert!(matches!(step, Step::Send(Message::Challenge { .. })));
    assert!(!h.is_done());
    let step = h.on_message(authenticate("secret"), &mut Fake);
    match step {
        Step::Accept {
            identity, session, ..
        } => {
            assert_eq!(identity.authid.as_str(), "ticket");
            assert_eq!(session, SessionId(77), "the ID chosen at HELLO");
        }
        other => panic!("expected Accept, got {other:?}"),
    }
}

#[test]
fn the_first_method_in_the_clients_order_is_chosen() {
    for (offered, chosen) in [
        (&["wampcra", "ticket"][..], "wampcra"),
        (&["cryptosign", "ticket", "wampcra"][..], "ticket"),
    ] {
        let step = Handshake::default().on_message(hello("both", offered), &mut Fake);
        match step {
            Step::Send(Message::Challenge { auth_method, .. }) => {
                assert_eq!(auth_method.as_str(), chosen)
            }
            other => panic!("expected a CHALLENGE, got {other:?}"),
        }
    }
}

#[test]
fn too_many_authmethods_are_a_violation() {
    let many: Vec<String> = (0..1000).map(|i| format!("m{i}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let step = Handshake::default().on_message(hello("open", &many), &mut Fake);
    assert_eq!(abort_reason(&step), "wamp.error.protocol_violation");
}

#[test]
fn a_wrong_answer_to_a_challenge_is_refused() {
    let mut h = Handshake::default();
    h.on_message(hello("ticketed", &["ticket"]), &mut Fake);
    let step = h.on_message(authenticate("guess"), &mut Fake);
    assert_eq!(abort_reason(&step), "wamp.error.not_authorized");
    assert!(h.is_done());
}

#[test]
fn an_authenticator_is_asked_and_its_answer_completes_the_handshake() {
    let mut h = Handshake::default();
    let step = h.on_message(hello("later", &[]), &mut Fake);
    assert!(
        matches!(step, Step::Ask { ref procedure, .. } if procedure.as_str() == "com.example.authenticate"),
        "{step:?}"
    );
    assert!(h.is_asking());
    let step = h.on_message(hello("later", &[]), &mut Fake);
    assert_eq!(abort_reason(&step), "wamp.error.protocol_violation");
    let mut h = Handshake::default();
    h.on_message(hello("later", &[]), &mut Fake);
    let step = h.on_answer(Answer::Result(Value::str("user")), &mut Fake);
    assert!(matches!(step, Step::Accept { ref identity, .. } if identity.authid.as_str() == "joe"));
    let mut h = Handshake::default();
    h.on_message(hello("later", &[]), &mut Fake);
    let refusal = Answer::Error {
        uri: Text::from("com.example.denied"),
        message: "no".into(),
    };
    assert_eq!(
        abort_reason(&h.on_answer(refusal, &mut Fake)),
        "com.example.denied"
    );
    let stray = Handshake::default().on_answer(Answer::Result(Value::Null), &mut Fake);
    assert_eq!(abort_reason(&stray), "wamp.error.protocol_violation");
}

#[test]
fn messages_out_of_order_are_violations_and_abort_just_closes() {
    let step = Handshake::default().on_message(authenticate("x"), &mut Fake);
    assert_eq!(abort_reason(&step), "wamp.error.protocol_violation");
    let mut h = Handshake::default();
    h.on_message(hello("ticketed", &["ticket"]), &mut Fake);
    let step = h.on_message(hello("ticketed", &["ticket"]), &mut Fake);
    assert_eq!(abort_reason(&step), "wamp.error.protocol_violation");
    let bye = Message::Abort {
        details: Dict::new(),
        reason: Text::from("wamp.close.goodbye_and_out"),
        payload: Default::default(),
    };
    assert_eq!(
        Handshake::default().on_message(bye, &mut Fake),
        Step::Closed
    );
}
