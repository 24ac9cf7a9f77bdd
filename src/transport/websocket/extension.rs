//! The `Sec-WebSocket-Extensions` header (RFC 6455 9.1) and the
//! negotiation of `permessage-deflate` (RFC 7692 section 7), sans-IO.
//!
//! What we agree to, as a server: always `server_no_context_takeover` and
//! `client_no_context_takeover`. Each message is then compressed and
//! decompressed on its own, so one compressor and one decompressor per shard
//! (thread) serve every session and an idle session holds no compression
//! state at all; the cost is a worse ratio on small messages, which cannot
//! refer to the ones before (see `deflate`). The 32 KiB window (15 bits) is
//! fixed by the deflate backend: an offer asking for a smaller
//! `server_max_window_bits` is declined (the connection goes on without
//! compression), as are offers with unknown, repeated or invalid parameters.
//! A header that is not valid syntax is the caller's HTTP 400.
//!
//! As a client we offer `permessage-deflate; client_no_context_takeover`
//! and accept whatever context takeover the server keeps for itself.

/// The extension's registered name.
pub const PERMESSAGE_DEFLATE: &str = "permessage-deflate";

/// The only LZ77 window our compressor uses: 2^15 bytes.
const WINDOW_BITS: u8 = 15;

/// One extension of the header: its name and parameters in order (a
/// parameter without a value has `None`; quoted values are unescaped).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extension {
    /// The extension token.
    pub name: String,
    /// Its parameters.
    pub params: Vec<(String, Option<String>)>,
}

/// The parameters of an agreed `permessage-deflate`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PerMessageDeflate {
    /// The server compresses every message on its own.
    pub server_no_context_takeover: bool,
    /// The client compresses every message on its own.
    pub client_no_context_takeover: bool,
    /// The server's LZ77 window, in bits (8..=15; 15 when not given).
    pub server_max_window_bits: u8,
    /// The client's LZ77 window, in bits (8..=15; 15 when not given).
    pub client_max_window_bits: u8,
}

impl PerMessageDeflate {
    /// Whether the peer of the `server` (true) or client end may refer to
    /// earlier messages, so that end's decompressor must keep its window.
    pub fn peer_takes_over_context(&self, server: bool) -> bool {
        if server {
            !self.client_no_context_takeover
        } else {
            !self.server_no_context_takeover
        }
    }

    /// The header value that states these parameters (a server's answer).
    /// The window sizes are stated only when `with_windows` (a server must
    /// repeat `server_max_window_bits` when the offer had it).
    pub fn header_value(&self, with_windows: bool) -> String {
        let mut v = String::from(PERMESSAGE_DEFLATE);
        if self.server_no_context_takeover {
            v.push_str("; server_no_context_takeover");
        }
        if self.client_no_context_takeover {
            v.push_str("; client_no_context_takeover");
        }
        if with_windows {
            v.push_str(&format!(
                "; server_max_window_bits={}",
                self.server_max_window_bits
            ));
        }
        v
    }
}

/// Parses the values of every `Sec-WebSocket-Extensions` header, in order.
/// Empty list elements are skipped; anything else off the grammar is an
/// error saying what was wrong.
pub fn parse<'a>(values: impl IntoIterator<Item = &'a [u8]>) -> Result<Vec<Extension>, String> {
    let mut out = Vec::new();
    for value in values {
        let mut p = Parser { s: value, at: 0 };
        loop {
            p.skip_ws();
            match p.peek() {
                None => break,
                Some(b',') => {
                    p.at += 1;
                    continue;
                }
                Some(_) => out.push(p.extension()?),
            }
        }
    }
    Ok(out)
}

/// A cursor over one header value.
struct Parser<'a> {
    s: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.at).copied()
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.at += 1;
        }
    }

    fn token(&mut self, what: &str) -> Result<String, String> {
        let start = self.at;
        while self.peek().is_some_and(is_tchar) {
            self.at += 1;
        }
        if self.at == start {
            return Err(format!("expected {what} at byte {start}"));
        }
        Ok(String::from_utf8_lossy(&self.s[start..self.at]).into_owned())
    }

    fn quoted(&mut self) -> Result<String, String> {
        let start = self.at;
        self.at += 1; // the opening quote
        let mut v = Vec::new();
        loop {
            match self.peek() {
                None => return Err(format!("unterminated quoted string at byte {start}")),
                Some(b'"') => break,
                Some(b'\\') => {
                    self.at += 1;
                    v.extend(self.peek());
                }
                Some(c) => v.push(c),
            }
            self.at += 1;
        }
        self.at += 1;
        Ok(String::from_utf8_lossy(&v).into_owned())
    }

    /// One extension, up to (not including) the next ',' or the end.
    fn extension(&mut self) -> Result<Extension, String> {
        let name = self.token("an extension name")?;
        let mut params = Vec::new();
        loop {
            self.skip_ws();
            match self.peek() {
                None | Some(b',') => return Ok(Extension { name, params }),
                Some(b';') => self.at += 1,
                Some(c) => {
                    return Err(format!(
                        "unexpected '{}' at byte {}",
                        char::from(c).escape_default(),
                        self.at
                    ))
                }
            }
            self.skip_ws();
            let key = self.token("a parameter name")?;
            self.skip_ws();
            let value = if self.peek() == Some(b'=') {
                self.at += 1;
                self.skip_ws();
                Some(if self.peek() == Some(b'"') {
                    self.quoted()?
                } else {
                    self.token("a parameter value")?
                })
            } else {
                None
            };
            params.push((key, value));
        }
    }
}

/// RFC 7230 `tchar`.
fn is_tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c)
}

/// A window size parameter's value: `8`..=`15`, no leading zero.
fn window_bits(value: &str) -> Option<u8> {
    match value.parse::<u8>() {
        Ok(n @ 8..=15) if !value.starts_with('0') => Some(n),
        _ => None,
    }
}

/// The server's choice among the client's offers (in the client's order of
/// preference): the agreed parameters and the header value to answer with,
/// or `None` when no `permessage-deflate` offer can be accepted.
pub fn answer(offers: &[Extension]) -> Option<(PerMessageDeflate, String)> {
    offers
        .iter()
        .filter(|e| e.name.eq_ignore_ascii_case(PERMESSAGE_DEFLATE))
        .find_map(accept_offer)
}

/// Accepts one offer, or declines it (RFC 7692 7.1: unknown, repeated or
/// invalid parameters, or a configuration we cannot honour).
fn accept_offer(offer: &Extension) -> Option<(PerMessageDeflate, String)> {
    let mut seen: Vec<&str> = Vec::new();
    let mut server_window = None;
    for (key, value) in &offer.params {
        if seen.contains(&key.as_str()) {
            return None;
        }
        seen.push(key);
        match (key.as_str(), value.as_deref()) {
            ("server_no_context_takeover" | "client_no_context_takeover", None) => {}
            ("server_max_window_bits", Some(v)) => server_window = Some(window_bits(v)?),
            // The client can limit its window; ours reads any window.
            ("client_max_window_bits", None) => {}
            ("client_max_window_bits", Some(v)) => {
                window_bits(v)?;
            }
            _ => return None,
        }
    }
    // Our compressor always uses the 32 KiB window: a smaller one asked for
    // cannot be honoured.
    if server_window.is_some_and(|bits| bits < WINDOW_BITS) {
        return None;
    }
    let agreed = PerMessageDeflate {
        server_no_context_takeover: true,
        client_no_context_takeover: true,
        server_max_window_bits: WINDOW_BITS,
        client_max_window_bits: WINDOW_BITS,
    };
    let value = agreed.header_value(server_window.is_some());
    Some((agreed, value))
}

/// The offer a client sends: it compresses each message on its own.
pub fn client_offer() -> String {
    format!("{PERMESSAGE_DEFLATE}; client_no_context_takeover")
}

/// Checks a server's answer to `client_offer` (`extensions` parsed from its
/// 101 response): `Ok(None)` when it declined, the agreed parameters when
/// it accepted, an error naming the problem when the answer breaks RFC 7692
/// (or names an extension nobody offered: `offered` false).
pub fn check_answer(
    extensions: &[Extension],
    offered: bool,
) -> Result<Option<PerMessageDeflate>, &'static str> {
    let [ext] = extensions else {
        return match extensions {
            [] => Ok(None),
            _ => Err("the server selected more than one extension"),
        };
    };
    if !offered || !ext.name.eq_ignore_ascii_case(PERMESSAGE_DEFLATE) {
        return Err("the server selected an extension we did not offer");
    }
    let mut agreed = PerMessageDeflate {
        server_no_context_takeover: false,
        client_no_context_takeover: false,
        server_max_window_bits: WINDOW_BITS,
        client_max_window_bits: WINDOW_BITS,
    };
    let mut seen: Vec<&str> = Vec::new();
    for (key, value) in &ext.params {
        if seen.contains(&key.as_str()) {
            return Err("a permessage-deflate parameter repeated in the answer");
        }
        seen.push(key);
        match (key.as_str(), value.as_deref()) {
            ("server_no_context_takeover", None) => agreed.server_no_context_takeover = true,
            ("client_no_context_takeover", None) => agreed.client_no_context_takeover = true,
            ("server_max_window_bits", Some(v)) => {
                agreed.server_max_window_bits =
                    window_bits(v).ok_or("an invalid server_max_window_bits in the answer")?;
            }
            _ => return Err("a permessage-deflate parameter we cannot accept in the answer"),
        }
    }
    Ok(Some(agreed))
}

#[cfg(test)]
#[path = "extension_tests.rs"]
mod tests;
