//! `--metrics URL`: the router's own counters over a run. This module owns
//! the scrape of a Prometheus text endpoint (one plain HTTP/1.1 GET per
//! scrape over `std::net::TcpStream`, `Connection: close`), the parsing of
//! its samples (`name{labels} value`) and the differences of the counters
//! between the scrape before the run and the one after it.
//!
//! Counters are the series whose name ends in `_total`. Switchyard labels
//! every series with `shard="N"` and adds the sum `shard="all"`: only the
//! `shard="all"` series (and series without a `shard` label, from other
//! routers) are kept, keyed by name plus their other labels, e.g.
//! `switchyard_logins_total{method="ticket"}`. An endpoint that does not
//! answer costs a warning and the section, never the run.

use anyhow::{anyhow, bail, Context, Result};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

/// How long a scrape may take to connect, and then to answer.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);

/// Counter values by key (name and labels other than `shard`).
pub type Counters = BTreeMap<String, f64>;

/// A metrics endpoint: `http://host[:port][/path]`.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    /// `host:port`, to connect to and for the `Host` header.
    pub authority: String,
    pub path: String,
}

impl Endpoint {
    /// Parses `http://host[:port][/path]` (port 80, path `/metrics` by default).
    pub fn parse(url: &str) -> Result<Endpoint> {
        let Some(rest) = url.strip_prefix("http://") else {
            bail!("--metrics {url}: expected http://host:port/metrics (plain HTTP)");
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/metrics"),
        };
        if authority.is_empty() {
            bail!("--metrics {url}: no host");
        }
        let has_port = match authority.rsplit_once(':') {
            Some((_, port)) if !port.contains(']') => {
                port.parse::<u16>()
                    .map_err(|_| anyhow!("--metrics {url}: bad port '{port}'"))?;
                true
            }
            _ => false,
        };
        let authority = if has_port {
            authority.to_string()
        } else {
            format!("{authority}:80")
        };
        Ok(Endpoint {
            authority,
            path: path.to_string(),
        })
    }

    /// One scrape: the counters of the endpoint's answer.
    pub fn scrape(&self) -> Result<Counters> {
        let body = self.get()?;
        Ok(counters(&body))
    }

    /// The body of a GET of the endpoint (status 200 required).
    fn get(&self) -> Result<String> {
        let addr = self
            .authority
            .to_socket_addrs()
            .with_context(|| format!("resolving {}", self.authority))?
            .next()
            .ok_or_else(|| anyhow!("{} resolves to no address", self.authority))?;
        let mut s = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT)
            .with_context(|| format!("connecting to {addr}"))?;
        s.set_read_timeout(Some(ANSWER_TIMEOUT))?;
        s.set_write_timeout(Some(ANSWER_TIMEOUT))?;
        let request = format!(
            "GET {} HTTP/1.1\r\nHost: {}\r\nAccept: text/plain\r\nConnection: close\r\n\r\n",
            self.path, self.authority
        );
        s.write_all(request.as_bytes())?;
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).context("reading the answer")?;
        let raw = String::from_utf8_lossy(&raw);
        let (head, body) = raw
            .split_once("\r\n\r\n")
            .ok_or_else(|| anyhow!("an incomplete HTTP answer"))?;
        let status = head.split(' ').nth(1).unwrap_or_default();
        if status != "200" {
            let line = head.lines().next().unwrap_or_default();
            bail!("answered '{line}'");
        }
        let chunked = head.lines().any(|l| {
            let l = l.to_ascii_lowercase();
            l.starts_with("transfer-encoding:") && l.contains("chunked")
        });
        Ok(if chunked {
            dechunk(body)?
        } else {
            body.to_string()
        })
    }
}

/// The body of a chunked transfer encoding.
fn dechunk(mut body: &str) -> Result<String> {
    let mut out = String::new();
    loop {
        let (size, rest) = body
            .split_once("\r\n")
            .ok_or_else(|| anyhow!("a cut chunk"))?;
        let size = usize::from_str_radix(size.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| anyhow!("a bad chunk size '{size}'"))?;
        if size == 0 {
            return Ok(out);
        }
        let chunk = rest.get(..size).ok_or_else(|| anyhow!("a cut chunk"))?;
        out.push_str(chunk);
        body = rest[size..].trim_start_matches("\r\n");
    }
}

/// A sample's labels, in order: (name, value).
type Labels = Vec<(String, String)>;

/// One sample line: name, labels, value; None for comments, blank and
/// malformed lines.
fn sample(line: &str) -> Option<(&str, Labels, f64)> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let name_end = line.find(['{', ' ', '\t']).unwrap_or(line.len());
    let name = &line[..name_end];
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(inner) = rest.strip_prefix('{') {
        let mut chars = inner.char_indices();
        let (mut key, mut value) = (String::new(), String::new());
        let mut in_value = false;
        let end = loop {
            let (i, c) = chars.next()?;
            match (in_value, c) {
                (false, '}') => break i,
                (false, ',' | ' ') => {}
                (false, '=') => {
                    if chars.next()?.1 != '"' {
                        return None;
                    }
                    in_value = true;
                }
                (false, c) => key.push(c),
                (true, '\\') => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    c => value.push(c),
                },
                (true, '"') => {
                    labels.push((std::mem::take(&mut key), std::mem::take(&mut value)));
                    in_value = false;
                }
                (true, c) => value.push(c),
            }
        };
        rest = &inner[end + 1..];
    }
    // A value, then maybe a timestamp.
    let value = rest.split_whitespace().next()?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        v => v.parse().ok()?,
    };
    Some((name, labels, value))
}

/// The counters of a Prometheus text exposition (see the module doc).
pub fn counters(text: &str) -> Counters {
    let mut out = Counters::new();
    for (name, labels, value) in text.lines().filter_map(sample) {
        if !name.ends_with("_total") {
            continue;
        }
        if labels.iter().any(|(k, v)| k == "shard" && v != "all") {
            continue;
        }
        let rest: Vec<String> = labels
            .iter()
            .filter(|(k, _)| k != "shard")
            .map(|(k, v)| format!("{k}=\"{}\"", v.replace('\\', "\\\\").replace('"', "\\\"")))
            .collect();
        let key = if rest.is_empty() {
            name.to_string()
        } else {
            format!("{name}{{{}}}", rest.join(","))
        };
        out.insert(key, value);
    }
    out
}

/// `after - before` for every counter of `after` (one missing before counts from 0).
pub fn deltas(before: &Counters, after: &Counters) -> Counters {
    after
        .iter()
        .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0.0)))
        .collect()
}

/// A scrape around a run: `start` before it, `finish` after it.
pub struct Scrape {
    endpoint: Option<Endpoint>,
    before: Option<Counters>,
}

impl Scrape {
    /// Parses `url` (a malformed one is an error, before anything runs) and
    /// scrapes it; an endpoint that does not answer is a warning, and the
    /// run goes on without router metrics.
    pub fn start(url: Option<&str>) -> Result<Scrape> {
        let endpoint = url.map(Endpoint::parse).transpose()?;
        let before = endpoint.as_ref().and_then(|e| match e.scrape() {
            Ok(c) => Some(c),
            Err(err) => {
                warn(e, &err);
                None
            }
        });
        Ok(Scrape { endpoint, before })
    }

    /// The counters' increases since `start`, or None (no `--metrics`, or
    /// a scrape that failed: warned about).
    pub fn finish(self) -> Option<Counters> {
        let (endpoint, before) = (self.endpoint?, self.before?);
        match endpoint.scrape() {
            Ok(after) => Some(deltas(&before, &after)),
            Err(err) => {
                warn(&endpoint, &err);
                None
            }
        }
    }
}

fn warn(e: &Endpoint, err: &anyhow::Error) {
    eprintln!(
        "switchyard-load: warning: --metrics http://{}{}: {err:#}; the report goes without router metrics",
        e.authority, e.path
    );
}

/// Counters as JSON: integral values as integers.
pub fn to_json(c: &Counters) -> serde_json::Value {
    let map = c.iter().map(|(k, v)| {
        let v = if v.fract() == 0.0 && v.abs() < 9e15 {
            serde_json::json!(*v as i64)
        } else {
            serde_json::json!(v)
        };
        (k.clone(), v)
    });
    serde_json::Value::Object(map.collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# HELP switchyard_calls CALLs routed.\n\
        # TYPE switchyard_calls counter\n\
        switchyard_calls_total{shard=\"0\"} 3\n\
        switchyard_calls_total{shard=\"1\"} 4\n\
        switchyard_calls_total{shard=\"all\"} 7\n\
        switchyard_sessions_open{shard=\"all\"} 6\n\
        switchyard_logins_total{shard=\"all\",method=\"ticket\"} 2\n\
        switchyard_logins_total{shard=\"0\",method=\"ticket\"} 2\n\
        other_requests_total{path=\"/a,b\",note=\"say \\\"hi\\\"\"} 1.5e3 1700000000\n\
        plain_total 9\n\
        # EOF\n";

    #[test]
    fn counters_keep_the_shard_sums_and_other_labels() {
        let c = counters(TEXT);
        let want: Counters = [
            ("switchyard_calls_total", 7.0),
            ("switchyard_logins_total{method=\"ticket\"}", 2.0),
            (
                "other_requests_total{path=\"/a,b\",note=\"say \\\"hi\\\"\"}",
                1500.0,
            ),
            ("plain_total", 9.0),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        assert_eq!(c, want);
    }

    #[test]
    fn deltas_count_new_series_from_zero() {
        let before = counters("a_total{shard=\"all\"} 5\nb_total 1\n");
        let after = counters("a_total{shard=\"all\"} 12\nb_total 1\nc_total 4\n");
        let d = deltas(&before, &after);
        assert_eq!((d["a_total"], d["b_total"], d["c_total"]), (7.0, 0.0, 4.0));
        assert_eq!(
            to_json(&d),
            serde_json::json!({"a_total": 7, "b_total": 0, "c_total": 4})
        );
    }

    #[test]
    fn endpoints_parse_with_defaults() {
        let e = Endpoint::parse("http://127.0.0.1:8090/metrics").unwrap();
        assert_eq!(
            (e.authority.as_str(), e.path.as_str()),
            ("127.0.0.1:8090", "/metrics")
        );
        let e = Endpoint::parse("http://localhost").unwrap();
        assert_eq!(
            (e.authority.as_str(), e.path.as_str()),
            ("localhost:80", "/metrics")
        );
        let e = Endpoint::parse("http://[::1]:9/m").unwrap();
        assert_eq!(e.authority, "[::1]:9");
        assert!(Endpoint::parse("https://h/metrics").is_err());
        assert!(Endpoint::parse("127.0.0.1:8090").is_err());
        assert!(Endpoint::parse("http://h:port/").is_err());
    }

    #[test]
    fn a_chunked_body_is_joined() {
        assert_eq!(
            dechunk("4\r\nab_t\r\n6;x=y\r\notal 1\r\n0\r\n\r\n").unwrap(),
            "ab_total 1"
        );
    }

    #[test]
    fn an_endpoint_that_does_not_answer_costs_only_the_section() {
        // A port nothing listens on: bind one, then free it.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}/metrics");
        let scrape = Scrape::start(Some(&url)).unwrap();
        assert!(scrape.finish().is_none());
        assert!(Scrape::start(Some("ftp://x")).is_err());
        assert!(Scrape::start(None).unwrap().finish().is_none());
    }
}
