//! The SCRAM AuthMessage, `client-first-bare,server-first,client-final-
//! without-proof`, in each dialect's exact form.

use super::super::b64_encode;
use super::Dialect;

/// `n=<authid>,r=<client_nonce>,r=<nonce>,s=<salt_b64>,i=<iterations>,c=<cb>,r=<nonce>`,
/// where `nonce` is the combined nonce of the CHALLENGE.
///
/// - Spec: the authid has `,` and `=` escaped as `=2C` and `=3D`, and `cb`
///   is Base64 of the GS2 header plus binding data: `n,,` unbound (`biws`),
///   `p=<type>,,<data>` bound (RFC 5802).
/// - Autobahn/Crossbar: the authid is used as is, and `cb` is the binding
///   *type* as raw text (what Autobahn's client puts there; empty unbound,
///   which is all Crossbar ever computes). The binding data is not part of it.
///
/// Neither dialect applies SASLprep here; pass an already normalised authid.
pub fn auth_message(
    dialect: Dialect,
    authid: &str,
    client_nonce: &str,
    nonce: &str,
    salt_b64: &str,
    iterations: u32,
    channel_binding: Option<(&str, &[u8])>,
) -> String {
    let (name, cb) = match dialect {
        Dialect::Spec => (
            escape(authid),
            b64_encode(&gs2_cbind_input(channel_binding)),
        ),
        Dialect::Autobahn => (
            authid.to_owned(),
            channel_binding.map_or("", |(kind, _)| kind).to_owned(),
        ),
    };
    format!("n={name},r={client_nonce},r={nonce},s={salt_b64},i={iterations},c={cb},r={nonce}")
}

/// RFC 5802 `saslname` escaping: `,` → `=2C`, `=` → `=3D`.
fn escape(authid: &str) -> String {
    authid.replace('=', "=3D").replace(',', "=2C")
}

fn gs2_cbind_input(channel_binding: Option<(&str, &[u8])>) -> Vec<u8> {
    match channel_binding {
        None => b"n,,".to_vec(),
        Some((kind, data)) => [b"p=", kind.as_bytes(), b",,", data].concat(),
    }
}
