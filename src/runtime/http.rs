//! The operators' HTTP listener, served by shard 0 only: `GET /metrics`
//! (Prometheus text), `GET /health` (200 when every shard answers within
//! `SHARD_ANSWER_BOUND`, 503 naming those that did not) and `GET /ready`
//! (200 while the router listens, 503 once it shuts down), and, when
//! enabled, the HTTP bridge's `POST /publish` and `POST /call` (`bridge/`).
//! HTTP/1.1 without keep-alive: one request per connection, answered, then
//! closed. The request head is bounded (`MAX_HEAD`) and must arrive within
//! `READ_TIMEOUT`; the body is read by the bridge only (bounded there), and
//! ignored elsewhere. `GET /status.json` and the status page (`/`,
//! `/status`) are served by `status`.
//!
//! Metrics and health gather every shard's report at request time: shard 0
//! asks the others over the mesh (`Shard::open_scrape`) and waits for the
//! answers, so the routing hot path keeps plain per-shard counters.

use crate::realm::report::ShardReport;
use crate::shard::Shard;
use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::net::{TcpListener, TcpStream};
use std::cell::RefCell;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

mod status;

/// The longest request head accepted (request line and headers).
pub const MAX_HEAD: usize = 8 * 1024;
/// Time allowed for the request head (and, apart, a bridge request's body)
/// to arrive.
const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a scrape or health check waits for the other shards' reports.
pub const SHARD_ANSWER_BOUND: Duration = Duration::from_secs(1);

/// What the HTTP tasks of shard 0 share.
pub struct HttpContext {
    pub shard: Rc<RefCell<Shard>>,
    /// Raised when the router shuts down (then `/ready` answers 503).
    pub stop: Arc<AtomicBool>,
    /// `POST /publish` and `POST /call`, when enabled.
    pub bridge: Option<super::bridge::Bridge>,
}

/// Accepts HTTP connections forever, each in its own task.
pub async fn run_http(listener: TcpListener, ctx: Rc<HttpContext>) {
    let mut failures = super::fds::AcceptFailures::default();
    loop {
        match listener.accept().await {
            Ok(stream) => {
                glommio::spawn_local(serve(ctx.clone(), stream)).detach();
            }
            Err(e) => failures.failed(&e.into()).await,
        }
    }
}

/// A response: status, content type, body (and `Allow` for a 405).
struct Response {
    status: u16,
    content_type: &'static str,
    body: String,
}

impl Response {
    fn json(status: u16, body: serde_json::Value) -> Response {
        Response {
            status,
            content_type: "application/json",
            body: body.to_string(),
        }
    }

    fn text(status: u16, body: &str) -> Response {
        Response {
            status,
            content_type: "text/plain; charset=utf-8",
            body: format!("{body}\n"),
        }
    }

    fn to_bytes(&self) -> Vec<u8> {
        let reason = reason(self.status);
        let allow = if self.status == 405 {
            "Allow: GET\r\n"
        } else {
            ""
        };
        let head = format!(
            "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\n{allow}\
             Connection: close\r\n\r\n",
            self.status,
            self.content_type,
            self.body.len()
        );
        [head.as_bytes(), self.body.as_bytes()].concat()
    }
}

/// The reason phrase of `status`.
pub(super) fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        202 => "Accepted",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Content Too Large",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        504 => "Gateway Timeout",
        _ => "Service Unavailable",
    }
}

/// A request head, and the bytes that came after it in the same reads.
pub(super) struct Head {
    pub method: String,
    /// The request target: the path, and the query if any.
    pub target: String,
    /// Header names in lowercase, with their raw values.
    headers: Vec<(String, Vec<u8>)>,
    /// The start of the body (or more), read with the head.
    pub rest: Vec<u8>,
}

impl Head {
    /// The value of the first header named `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        let found = self.headers.iter().find(|(n, _)| n == name);
        found.map(|(_, v)| v.as_slice())
    }

    /// The values of every header named `name` (lowercase).
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> {
        self.headers
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }
}

/// Answers one request, then closes the connection.
async fn serve(ctx: Rc<HttpContext>, mut stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(READ_TIMEOUT));
    let response = match read_head(&mut stream).await {
        Some(Ok(head)) => match &ctx.bridge {
            Some(bridge) if super::bridge::Bridge::serves(&head.target) => {
                bridge.serve(&head, &mut stream, READ_TIMEOUT).await
            }
            _ => route(&ctx, &head.method, &head.target).await.to_bytes(),
        },
        Some(Err(bad)) => bad.to_bytes(),
        None => return,
    };
    let _ = stream.write_all(&response).await;
    let _ = stream.close().await;
}

/// Reads and parses the request head, an error response, or `None` when
/// the peer left (or timed out) before sending anything.
async fn read_head(stream: &mut TcpStream) -> Option<Result<Head, Response>> {
    let mut buf = vec![0u8; MAX_HEAD];
    let mut len = 0;
    loop {
        let n = match stream.read(&mut buf[len..]).await {
            Ok(0) | Err(_) if len == 0 => return None,
            Ok(0) | Err(_) => return Some(Err(Response::text(400, "incomplete request"))),
            Ok(n) => n,
        };
        len += n;
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&buf[..len]) {
            Ok(httparse::Status::Complete(end)) => {
                let headers = req
                    .headers
                    .iter()
                    .map(|h| (h.name.to_ascii_lowercase(), h.value.to_vec()))
                    .collect();
                return Some(Ok(Head {
                    method: req.method.unwrap_or_default().to_string(),
                    target: req.path.unwrap_or_default().to_string(),
                    headers,
                    rest: buf[end..len].to_vec(),
                }));
            }
            Ok(httparse::Status::Partial) if len == MAX_HEAD => {
                return Some(Err(Response::text(431, "request head too large")));
            }
            Ok(httparse::Status::Partial) => continue,
            Err(e) => return Some(Err(Response::text(400, &format!("bad request: {e}")))),
        }
    }
}

/// The response to `method path`.
async fn route(ctx: &HttpContext, method: &str, path: &str) -> Response {
    let path = path.split('?').next().unwrap_or_default();
    if let Some(answer) = status::route(ctx, method, path).await {
        return answer;
    }
    if !["/metrics", "/health", "/ready"].contains(&path) {
        return Response::text(
            404,
            "not found: try /, /status, /status.json, /metrics, /health or /ready",
        );
    }
    if method != "GET" {
        return Response::text(405, "only GET is allowed");
    }
    match path {
        "/metrics" => {
            let (reports, nr_shards) = gather(&ctx.shard).await;
            Response {
                status: 200,
                content_type: crate::metrics::CONTENT_TYPE,
                body: crate::metrics::exposition(&reports, nr_shards),
            }
        }
        "/health" => health(&ctx.shard).await,
        _ if ctx.stop.load(Ordering::Acquire) => {
            Response::json(503, serde_json::json!({"status": "shutting down"}))
        }
        _ => Response::json(200, serde_json::json!({"status": "ready"})),
    }
}

/// 200 when every shard answered within the bound; 503 naming the others.
async fn health(shard: &Rc<RefCell<Shard>>) -> Response {
    let (reports, nr_shards) = gather(shard).await;
    let (status, body) = health_of(&reports, nr_shards);
    Response::json(status, body)
}

/// The status and JSON body of a health check that got `reports`.
fn health_of(reports: &[ShardReport], nr_shards: usize) -> (u16, serde_json::Value) {
    let silent: Vec<usize> = (0..nr_shards)
        .filter(|s| !reports.iter().any(|r| r.shard == *s))
        .collect();
    if silent.is_empty() {
        return (
            200,
            serde_json::json!({"status": "ok", "shards": nr_shards}),
        );
    }
    let body = serde_json::json!({
        "status": "unavailable",
        "shards": nr_shards,
        "not_answering": silent,
    });
    (503, body)
}

/// Every shard's report that came within `SHARD_ANSWER_BOUND`, and the
/// number of shards.
async fn gather(shard: &Rc<RefCell<Shard>>) -> (Vec<ShardReport>, usize) {
    let (op, notify) = shard.borrow_mut().open_scrape();
    let nr_shards = shard.borrow().nr_shards;
    let deadline = Instant::now() + SHARD_ANSWER_BOUND;
    loop {
        let answered = shard.borrow().scrapes.answered(op);
        let left = deadline.saturating_duration_since(Instant::now());
        if answered >= nr_shards || left.is_zero() {
            break;
        }
        futures_lite::future::or(notify.wait(), glommio::timer::sleep(left)).await;
    }
    let reports = shard.borrow_mut().scrapes.close(op);
    (reports, nr_shards)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::realm::report::Footprint;

    fn report(shard: usize) -> ShardReport {
        ShardReport {
            shard,
            stats: crate::realm::Stats::default(),
            footprint: Footprint::default(),
            realms: Vec::new(),
        }
    }

    #[test]
    fn health_names_the_shards_that_did_not_answer() {
        let (status, body) = health_of(&[report(0), report(2)], 4);
        assert_eq!(status, 503);
        assert_eq!(body["not_answering"], serde_json::json!([1, 3]));
        let (status, body) = health_of(&[report(1), report(0)], 2);
        assert_eq!(status, 200);
        assert_eq!(body["status"], "ok");
    }

    #[test]
    fn responses_say_their_length_and_close() {
        let bytes = Response::text(405, "only GET").to_bytes();
        let text = String::from_utf8(bytes).unwrap();
        assert!(
            text.starts_with("HTTP/1.1 405 Method Not Allowed\r\n"),
            "{text}"
        );
        assert!(text.contains("Content-Length: 9\r\n"), "{text}");
        assert!(text.contains("Allow: GET\r\n") && text.contains("Connection: close\r\n"));
    }
}
