//! Unit tests of the WebSocket opening handshake.
#![allow(clippy::unwrap_used)]

use super::*;

fn request(extra: &str) -> String {
    format!(
        "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n\
         Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n{extra}\r\n"
    )
}

fn reject(req: &str) -> Rejection {
    parse_request(req.as_bytes(), "/ws", false).unwrap_err()
}

#[test]
fn rfc_accept_key() {
    assert_eq!(
        accept_key(b"dGhlIHNhbXBsZSBub25jZQ=="),
        "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    );
}

#[test]
fn upgrade_picks_the_first_supported_subprotocol_in_client_order() {
    let req = request("Sec-WebSocket-Protocol: wamp.2.ubjson, wamp.2.cbor\r\nSec-WebSocket-Protocol: wamp.2.json\r\n");
    let mut bytes = req.clone().into_bytes();
    bytes.extend_from_slice(b"\x82\x80frame");
    let up = parse_request(&bytes, "/ws", false).unwrap().unwrap();
    assert_eq!(up.serializer, Serializer::Cbor);
    assert_eq!(up.head_len, req.len());
    let resp = String::from_utf8(up.response).unwrap();
    assert!(resp.starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
    assert!(resp.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
    assert!(resp.contains("Sec-WebSocket-Protocol: wamp.2.cbor\r\n"));
}

#[test]
fn query_strings_and_header_case_are_accepted() {
    let req = request("sec-websocket-protocol: wamp.2.msgpack\r\n")
        .replace("GET /ws ", "GET /ws?x=1 ")
        .replace("Upgrade: websocket", "UPGRADE: WebSocket");
    let up = parse_request(req.as_bytes(), "/ws", false)
        .unwrap()
        .unwrap();
    assert_eq!(up.serializer, Serializer::MsgPack);
}

#[test]
fn incomplete_heads_wait_and_huge_ones_are_refused() {
    let req = request("Sec-WebSocket-Protocol: wamp.2.json\r\n");
    for cut in 0..req.len() {
        assert_eq!(
            parse_request(&req.as_bytes()[..cut], "/ws", false),
            Ok(None),
            "cut {cut}"
        );
    }
    let huge = format!("GET /ws HTTP/1.1\r\nX: {}\r\n", "a".repeat(MAX_HEAD));
    assert_eq!(reject(&huge).status, 431);
    let many: String = (0..60).map(|i| format!("X{i}: y\r\n")).collect();
    assert_eq!(reject(&request(&many)).status, 431);
}

#[test]
fn refusals_carry_the_right_status() {
    let ok = "Sec-WebSocket-Protocol: wamp.2.json\r\n";
    let none = reject(&request("Sec-WebSocket-Protocol: mqtt, wamp.2.ubjson\r\n"));
    assert_eq!(none.status, 400);
    assert!(none
        .body
        .contains("wamp.2.json, wamp.2.msgpack, wamp.2.cbor"));
    assert_eq!(reject(&request("")).status, 400);
    assert_eq!(reject(&request(ok).replace("/ws", "/other")).status, 404);
    assert_eq!(reject(&request(ok).replace("GET", "POST")).status, 405);
    assert_eq!(
        reject(&request(ok).replace("Upgrade: websocket\r\n", "")).status,
        426
    );
    assert_eq!(
        reject(&request(ok).replace("keep-alive, Upgrade", "keep-alive")).status,
        400
    );
    assert_eq!(
        reject(&request(ok).replace("Version: 13", "Version: 8")).status,
        426
    );
    assert_eq!(
        reject(&request(ok).replace("dGhlIHNhbXBsZSBub25jZQ==", "c2hvcnQ=")).status,
        400
    );
    assert_eq!(
        reject(&request(ok).replace("HTTP/1.1", "HTTP/1.0")).status,
        400
    );
    assert_eq!(reject("\x16\x03\x01 garbage\r\n\r\n").status, 400);
    let resp = String::from_utf8(none.response()).unwrap();
    assert!(resp.starts_with("HTTP/1.1 400 Bad Request\r\n"));
    assert!(resp.ends_with(&none.body));
    assert!(resp.contains(&format!("Content-Length: {}\r\n", none.body.len())));
}

#[test]
fn client_request_is_accepted_and_its_response_checked() {
    let (req, key) = client_request("h:1", "/ws", Serializer::Json, false);
    let up = parse_request(&req, "/ws", true).unwrap().unwrap();
    assert_eq!(up.head_len, req.len());
    assert_eq!(up.deflate, None, "nothing offered, nothing agreed");
    let mut resp = up.response.clone();
    let n = resp.len();
    resp.extend_from_slice(b"\x81\x00");
    let accepted = Accepted {
        head_len: n,
        deflate: None,
    };
    assert_eq!(
        check_response(&resp, &key, Serializer::Json, false).unwrap(),
        Some(accepted)
    );
    assert_eq!(
        check_response(&resp[..n - 1], &key, Serializer::Json, false).unwrap(),
        None
    );
    assert!(check_response(&resp, "other", Serializer::Json, false).is_err());
    assert!(check_response(&resp, &key, Serializer::Cbor, false).is_err());
    let refused = Rejection::new(400, "no").response();
    let err = check_response(&refused, &key, Serializer::Json, false).unwrap_err();
    assert_eq!(err.refusal(), Some(Refusal::Http(400)));
}

#[test]
fn a_deflate_offer_is_answered_only_when_the_server_allows_it() {
    let (req, key) = client_request("h:1", "/ws", Serializer::Cbor, true);
    let text = String::from_utf8(req.clone()).unwrap();
    assert!(text
        .contains("Sec-WebSocket-Extensions: permessage-deflate; client_no_context_takeover\r\n"));
    let up = parse_request(&req, "/ws", true).unwrap().unwrap();
    let agreed = up.deflate.unwrap();
    assert!(agreed.server_no_context_takeover && agreed.client_no_context_takeover);
    let resp = String::from_utf8(up.response.clone()).unwrap();
    assert!(resp.contains(
        "Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; \
         client_no_context_takeover\r\n"
    ));
    let seen = check_response(&up.response, &key, Serializer::Cbor, true).unwrap();
    assert_eq!(seen.unwrap().deflate, Some(agreed));
    // An answer to an offer we did not make fails the handshake.
    assert!(check_response(&up.response, &key, Serializer::Cbor, false).is_err());

    let off = parse_request(&req, "/ws", false).unwrap().unwrap();
    assert_eq!(off.deflate, None);
    assert!(!String::from_utf8(off.response.clone())
        .unwrap()
        .contains("Extensions"));
    let seen = check_response(&off.response, &key, Serializer::Cbor, true).unwrap();
    assert_eq!(seen.unwrap().deflate, None, "a declined offer is no error");
}

#[test]
fn a_malformed_extensions_header_is_a_400_when_compression_is_on() {
    let ok = "Sec-WebSocket-Protocol: wamp.2.json\r\n";
    for bad in [
        "permessage-deflate; =1",
        "permessage-deflate x",
        "permessage-deflate; a=\"open",
        "; server_no_context_takeover",
    ] {
        let req = request(&format!("{ok}Sec-WebSocket-Extensions: {bad}\r\n"));
        let r = parse_request(req.as_bytes(), "/ws", true).unwrap_err();
        assert_eq!(r.status, 400, "{bad}");
        assert!(r.body.contains("Sec-WebSocket-Extensions"), "{}", r.body);
        // Compression off: the header is not looked at.
        assert!(parse_request(req.as_bytes(), "/ws", false).is_ok());
    }
    // An offer we cannot honour is declined, not refused.
    let req = request(&format!(
        "{ok}Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=9\r\n"
    ));
    let up = parse_request(req.as_bytes(), "/ws", true).unwrap().unwrap();
    assert_eq!(up.deflate, None);
}
