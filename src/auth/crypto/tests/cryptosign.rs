//! WAMP-Cryptosign: the six test vectors of the WAMP spec ("Test Vectors"
//! in authentication_cryptosign), and what `verify` must reject.

use crate::auth::crypto::cryptosign::{
    challenge_from_hex, sign, signed_message, verify, PublicKey, SigningKey,
};
use crate::auth::crypto::{hex_decode, hex_encode};

struct Vector {
    channel_id: Option<&'static str>,
    private_key: &'static str,
    challenge: &'static str,
    signature: &'static str,
}

const CHANNEL_ID: &str = "62e935ae755f3d48f80d4d59f6121358c435722a67e859cc0caa8b539027f2ff";

const VECTORS: [Vector; 6] = [
    Vector {
        channel_id: None,
        private_key: "4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510",
        challenge: "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        signature: "b32675b221f08593213737bef8240e7c15228b07028e19595294678c90d11c0cae80a357331bfc5cc9fb71081464e6e75013517c2cf067ad566a6b7b728e5d03ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    },
    Vector {
        channel_id: None,
        private_key: "d511fe78e23934b3dadb52fcd022974b80bd92bccc7c5cf404e46cc0a8a2f5cd",
        challenge: "b26c1f87c13fc1da14997f1b5a71995dff8fbe0a62fae8473c7bdbd05bfb607d",
        signature: "d4209ad10d5aff6bfbc009d7e924795de138a63515efc7afc6b01b7fe5201372190374886a70207b042294af5bd64ce725cd8dceb344e6d11c09d1aaaf4d660fb26c1f87c13fc1da14997f1b5a71995dff8fbe0a62fae8473c7bdbd05bfb607d",
    },
    Vector {
        channel_id: None,
        private_key: "6e1fde9cf9e2359a87420b65a87dc0c66136e66945196ba2475990d8a0c3a25b",
        challenge: "b05e6b8ad4d69abf74aa3be3c0ee40ae07d66e1895b9ab09285a2f1192d562d2",
        signature: "7beb282184baadd08f166f16dd683b39cab53816ed81e6955def951cb2ddad1ec184e206746fd82bda075af03711d3d5658fc84a76196b0fa8d1ebc92ef9f30bb05e6b8ad4d69abf74aa3be3c0ee40ae07d66e1895b9ab09285a2f1192d562d2",
    },
    Vector {
        channel_id: Some(CHANNEL_ID),
        private_key: "4d57d97a68f555696620a6d849c0ce582568518d729eb753dc7c732de2804510",
        challenge: "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        signature: "9b6f41540c9b95b4b7b281c3042fa9c54cef43c842d62ea3fd6030fcb66e70b3e80d49d44c29d1635da9348d02ec93f3ed1ef227dfb59a07b580095c2b82f80f9d16ca518aa0c2b707f2b2a609edeca73bca8dd59817a633f35574ac6fd80d00",
    },
    Vector {
        channel_id: Some(CHANNEL_ID),
        private_key: "d511fe78e23934b3dadb52fcd022974b80bd92bccc7c5cf404e46cc0a8a2f5cd",
        challenge: "b26c1f87c13fc1da14997f1b5a71995dff8fbe0a62fae8473c7bdbd05bfb607d",
        signature: "305aaa3ac25e98f651427688b3fc43fe7d8a68a7ec1d7d61c61517c519bd4a427c3015599d83ca28b4c652333920223844ef0725eb5dc2febfd6af7677b73f01d0852a29b460fc92ec943242ac638a053bbacc200512b18b30d15083cbdc9282",
    },
    Vector {
        channel_id: Some(CHANNEL_ID),
        private_key: "6e1fde9cf9e2359a87420b65a87dc0c66136e66945196ba2475990d8a0c3a25b",
        challenge: "b05e6b8ad4d69abf74aa3be3c0ee40ae07d66e1895b9ab09285a2f1192d562d2",
        signature: "ee3c7644fd8070532bc1fde3d70d742267da545d8c8f03e63bda63f1ad4214f4d2c4bfdb4eb9526def42deeb7e31602a6ff99eba893e0a4ad4d45892ca75e608d2b75e24a189a7f78ca776ba36fc53f6c3e31c32f251f2c524f0a44202f2902d",
    },
];

struct Case {
    key: SigningKey,
    challenge: [u8; 32],
    channel_id: Option<[u8; 32]>,
}

fn case(vector: &Vector) -> Case {
    Case {
        key: SigningKey::from_seed_hex(vector.private_key).unwrap(),
        challenge: challenge_from_hex(vector.challenge).unwrap(),
        channel_id: vector
            .channel_id
            .map(|hex| challenge_from_hex(hex).unwrap()),
    }
}

#[test]
fn sign_reproduces_the_spec_vectors() {
    for vector in &VECTORS {
        let case = case(vector);
        let signature = sign(&case.key, &case.challenge, case.channel_id.as_ref());
        assert_eq!(signature, vector.signature);
        assert_eq!(signature.len(), 192);
    }
}

#[test]
fn verify_accepts_the_spec_vectors() {
    for vector in &VECTORS {
        let case = case(vector);
        let public = case.key.public();
        assert!(verify(
            &public,
            &case.challenge,
            case.channel_id.as_ref(),
            vector.signature
        ));
        // The upper-case spelling of the same bytes is the same signature.
        let upper = vector.signature.to_ascii_uppercase();
        assert!(verify(
            &public,
            &case.challenge,
            case.channel_id.as_ref(),
            &upper
        ));
    }
}

#[test]
fn the_bound_message_is_challenge_xor_channel_id() {
    let case = case(&VECTORS[3]);
    let message = signed_message(&case.challenge, case.channel_id.as_ref());
    assert_eq!(hex_encode(&message), &VECTORS[3].signature[128..]);
    assert_eq!(signed_message(&case.challenge, None), case.challenge);
}

#[test]
fn verify_rejects_a_flipped_bit_anywhere() {
    let case = case(&VECTORS[1]);
    let public = case.key.public();
    let bytes = hex_decode(VECTORS[1].signature).unwrap();
    for index in [0, 31, 32, 63, 64, 95] {
        let mut flipped = bytes.clone();
        flipped[index] ^= 0x01;
        assert!(
            !verify(&public, &case.challenge, None, &hex_encode(&flipped)),
            "byte {index}"
        );
    }
}

#[test]
fn verify_rejects_wrong_key_challenge_or_binding() {
    let case = case(&VECTORS[0]);
    let other = SigningKey::from_seed_hex(VECTORS[1].private_key)
        .unwrap()
        .public();
    let signature = VECTORS[0].signature;
    assert!(
        !verify(&other, &case.challenge, None, signature),
        "wrong key"
    );
    let mut challenge = case.challenge;
    challenge[0] ^= 0x80;
    assert!(
        !verify(&case.key.public(), &challenge, None, signature),
        "wrong challenge"
    );
    let channel_id = challenge_from_hex(CHANNEL_ID).unwrap();
    assert!(
        !verify(
            &case.key.public(),
            &case.challenge,
            Some(&channel_id),
            signature
        ),
        "binding expected"
    );
    assert!(
        !verify(
            &case.key.public(),
            &case.challenge,
            None,
            VECTORS[3].signature
        ),
        "binding not expected"
    );
}

#[test]
fn verify_rejects_malformed_text() {
    let case = case(&VECTORS[0]);
    let public = case.key.public();
    let signature = VECTORS[0].signature;
    assert!(
        !verify(&public, &case.challenge, None, &signature[..190]),
        "190 hex digits"
    );
    assert!(
        !verify(&public, &case.challenge, None, &format!("{signature}00")),
        "194 hex digits"
    );
    assert!(
        !verify(&public, &case.challenge, None, &"z".repeat(192)),
        "not hex"
    );
    assert!(!verify(&public, &case.challenge, None, ""), "empty");
    assert!(
        !verify(&public, &case.challenge, None, &"0".repeat(1 << 20)),
        "huge"
    );
}

#[test]
fn keys_round_trip_through_hex() {
    let key = SigningKey::from_seed_hex(VECTORS[0].private_key).unwrap();
    assert_eq!(key.seed_hex(), VECTORS[0].private_key);
    let public = PublicKey::from_hex(&key.public().to_hex()).unwrap();
    assert_eq!(public, key.public());
    let fresh = SigningKey::generate();
    assert_ne!(fresh.seed_hex(), key.seed_hex());
    let challenge = [7u8; 32];
    assert!(verify(
        &fresh.public(),
        &challenge,
        None,
        &sign(&fresh, &challenge, None)
    ));
    assert!(
        !format!("{fresh:?}").contains(&fresh.seed_hex()),
        "Debug hides the seed"
    );
}

#[test]
fn public_key_parsing() {
    let xconn = "ddc2838ede4304c1082c503f0af4f0c5ea7dea9fe436127643364c0670b69b08";
    assert_eq!(PublicKey::from_hex(xconn).unwrap().to_hex(), xconn);
    assert!(PublicKey::from_hex(&xconn[..62]).is_none(), "short");
    assert!(PublicKey::from_hex(&format!("{xconn}00")).is_none(), "long");
    assert!(PublicKey::from_hex(&"g".repeat(64)).is_none(), "not hex");
    // y = 2 has no x on the curve, so this is not a point.
    let not_a_point = format!("02{}", "0".repeat(62));
    assert!(PublicKey::from_hex(&not_a_point).is_none(), "not a point");
    // The identity (y = 1) is a point of small order.
    let identity = format!("01{}", "0".repeat(62));
    assert!(PublicKey::from_hex(&identity).is_none(), "weak point");
    assert!(SigningKey::from_seed_hex(&"0".repeat(63)).is_none());
}
