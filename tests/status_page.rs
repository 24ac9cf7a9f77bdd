//! The status endpoints over real sockets and a real browser: a router of
//! three shards under load (clients publishing and calling from threads),
//! `/status.json` read directly, and the status page rendered by headless
//! Chromium, whose DOM must show the same sessions, live message rates on
//! every shard, and counters that move between two renders. Screenshots
//! land in `target/status-page.png` (1280x800) and
//! `target/status-page-phone.png` (390 px wide, tall enough for the whole
//! page) for a human to look at.
//!
//! Chromium is installed by the test when `/usr/bin/chromium` is missing
//! (`apt-get install -y chromium`, as root).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::http::request;
use common::{Client, Kind, Router, Setup};
use std::collections::BTreeMap;
use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use switchyard::wire::{Dict, Message, Payload, Serializer};

const CHROMIUM: &str = "/usr/bin/chromium";
/// How long one browser run may take before the test gives up on it.
const BROWSER_BOUND: Duration = Duration::from_secs(90);

const SETUP: Setup = Setup {
    shards: 3,
    kind: Kind::RawSocket,
    serializer: Serializer::Json,
};

/// Status and body of `GET path`.
fn get(addr: SocketAddr, path: &str) -> (u16, String) {
    let reply = request(addr, "GET", path);
    (reply.status, reply.body)
}

fn status_json(addr: SocketAddr) -> serde_json::Value {
    let (status, body) = get(addr, "/status.json");
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// Runs headless Chromium on `url` with `args`, in a fresh profile;
/// returns what it printed on stdout.
fn chromium(url: &str, args: &[String]) -> String {
    let profile = std::env::temp_dir().join(format!(
        "switchyard-status-chromium-{}-{}",
        std::process::id(),
        next_run()
    ));
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromium starts");
    let mut stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut out = String::new();
        let _ = stdout.read_to_string(&mut out);
        out
    });
    let deadline = Instant::now() + BROWSER_BOUND;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish within {BROWSER_BOUND:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let out = reader.join().unwrap();
    let _ = std::fs::remove_dir_all(&profile);
    assert!(status.success(), "chromium failed: {status}");
    out
}

/// A different number per browser run (their profiles never clash).
fn next_run() -> u64 {
    use std::sync::atomic::AtomicU64;
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The page's DOM once its script ran for `virtual_ms` of virtual time.
fn render(url: &str, virtual_ms: u64) -> Dom {
    let dom = chromium(
        url,
        &[
            format!("--virtual-time-budget={virtual_ms}"),
            "--dump-dom".to_string(),
        ],
    );
    Dom::parse(&dom)
}

/// The numbers a rendered page shows: the `data-value` of every element
/// with a `data-metric`, by (metric, shard or type), and how many times
/// the page polled.
#[derive(Debug)]
struct Dom {
    values: BTreeMap<(String, String), String>,
    polls: u64,
}

impl Dom {
    fn parse(html: &str) -> Dom {
        // The script's text names the attributes too: leave it out.
        let html = match (html.find("<script"), html.find("</script>")) {
            (Some(a), Some(b)) if a < b => format!("{}{}", &html[..a], &html[b..]),
            _ => html.to_string(),
        };
        let mut values = BTreeMap::new();
        let mut polls = 0;
        for tag in html.split('<').skip(1) {
            let attrs = attributes(tag.split('>').next().unwrap_or_default());
            if let Some(p) = attrs.get("data-polls") {
                polls = p.parse().unwrap();
            }
            let Some(metric) = attrs.get("data-metric") else {
                continue;
            };
            let scope = attrs
                .get("data-shard")
                .or(attrs.get("data-type"))
                .cloned()
                .unwrap_or_default();
            let value = attrs.get("data-value").cloned().unwrap_or_default();
            values.insert((metric.clone(), scope), value);
        }
        Dom { values, polls }
    }

    /// The number shown for `metric` of `scope` (a shard, "all", or a type).
    fn number(&self, metric: &str, scope: &str) -> f64 {
        let key = (metric.to_string(), scope.to_string());
        let v = self
            .values
            .get(&key)
            .unwrap_or_else(|| panic!("{metric} of {scope} is not on the page: {self:?}"));
        v.parse()
            .unwrap_or_else(|_| panic!("{metric} of {scope} shows {v:?}, not a number"))
    }
}

/// The attributes `name="value"` of one start tag's text.
fn attributes(tag: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let parts: Vec<&str> = tag.split('"').collect();
    for pair in parts.chunks(2) {
        let [before, value] = pair else { break };
        let Some(name) = before.trim_end().strip_suffix('=') else {
            continue;
        };
        let name = name.rsplit(char::is_whitespace).next().unwrap_or_default();
        out.insert(name.to_string(), value.to_string());
    }
    out
}

/// Load from threads: acknowledged publishes to a subscriber on another
/// shard, and calls to a callee on a third; the sessions stay open until
/// the router stops.
struct Load {
    stop: Arc<AtomicBool>,
    senders: Vec<JoinHandle<Client>>,
    receivers: Vec<JoinHandle<()>>,
}

impl Load {
    fn start(router: &Router) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let mut sub = router.join_on(SETUP, 1);
        sub.subscribe("com.status.ticks");
        let mut callee = router.join_on(SETUP, 2);
        callee.register("com.status.echo").unwrap();
        let receivers = vec![
            std::thread::spawn(
                move || while let Some(Message::Event { .. }) = sub.recv_or_closed() {},
            ),
            std::thread::spawn(move || serve(callee)),
        ];
        let publisher = router.join_on(SETUP, 0);
        let caller = router.join_on(SETUP, 1);
        let senders = vec![
            spawn_until(&stop, publisher, |c| {
                c.publish_acked("com.status.ticks", Payload::empty());
            }),
            spawn_until(&stop, caller, |c| {
                c.call("com.status.echo", Payload::empty());
                assert!(matches!(c.recv(), Message::Result { .. }));
            }),
        ];
        Load {
            stop,
            senders,
            receivers,
        }
    }

    /// Stops sending; the senders' sessions are closed, the receivers end
    /// when the router says GOODBYE.
    fn stop(self) -> Vec<JoinHandle<()>> {
        self.stop.store(true, Ordering::Release);
        for s in self.senders {
            drop(s.join().unwrap());
        }
        self.receivers
    }
}

/// Runs `step` with `client` until `stop` rises; gives the client back.
fn spawn_until(
    stop: &Arc<AtomicBool>,
    mut client: Client,
    step: impl Fn(&mut Client) + Send + 'static,
) -> JoinHandle<Client> {
    let stop = stop.clone();
    std::thread::spawn(move || {
        while !stop.load(Ordering::Acquire) {
            step(&mut client);
        }
        client
    })
}

/// Answers invocations until the session ends.
fn serve(mut callee: Client) {
    while let Some(Message::Invocation { request, .. }) = callee.recv_or_closed() {
        callee.send(&Message::Yield {
            request,
            options: Dict::new(),
            payload: Payload::empty(),
        });
    }
}

/// Waits, up to a deadline, until `ok` holds for `/status.json`.
fn wait_for_status(addr: SocketAddr, what: &str, ok: impl Fn(&serde_json::Value) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let s = status_json(addr);
        if ok(&s) {
            return;
        }
        assert!(Instant::now() < deadline, "never {what}: {s}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Renders until the page polled at least twice (more virtual time each
/// try), up to a deadline.
fn render_polled(url: &str) -> Dom {
    let deadline = Instant::now() + Duration::from_secs(120);
    let mut budget = 4000;
    loop {
        let dom = render(url, budget);
        if dom.polls >= 2 {
            return dom;
        }
        assert!(
            Instant::now() < deadline,
            "the page never polled twice: {dom:?}"
        );
        budget *= 2;
    }
}

fn target_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn screenshot(url: &str, file: &str, width: u32, height: u32) -> PathBuf {
    let path = target_dir().join(file);
    let _ = std::fs::remove_file(&path);
    chromium(
        url,
        &[
            "--virtual-time-budget=6000".to_string(),
            format!("--window-size={width},{height}"),
            format!("--screenshot={}", path.display()),
        ],
    );
    let png = std::fs::read(&path).expect("a screenshot");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{path:?}"
    );
    path
}

/// The page shows what `/status.json` says of sessions (stable during the
/// test), on every shard, and live counters and rates.
fn assert_shows_status_under_load(dom: &Dom, status: &serde_json::Value, sessions: u64) {
    assert_eq!(dom.number("sessions", "all"), sessions as f64);
    assert_eq!(status["totals"]["sessions"], sessions);
    assert_eq!(dom.number("shard_count", ""), SETUP.shards as f64);
    for shard in 0..SETUP.shards {
        let (entry, s) = (&status["shards"][shard], shard.to_string());
        assert_eq!(dom.number("up", &s), 1.0, "shard {shard} answered");
        let want = entry["sessions"].as_f64().unwrap();
        assert_eq!(
            dom.number("sessions", &s),
            want,
            "sessions of shard {shard}"
        );
        for metric in [
            "messages_in",
            "messages_out",
            "messages_in_rate",
            "messages_out_rate",
        ] {
            assert!(dom.number(metric, &s) > 0.0, "{metric} of shard {shard}");
        }
    }
    let rates = [
        "messages_in_rate",
        "messages_out_rate",
        "events_delivered_rate",
        "calls_rate",
    ];
    for metric in rates {
        assert!(dom.number(metric, "all") > 0.0, "{metric} under load");
    }
    assert!(dom.number("type_in_rate", "PUBLISH") > 0.0);
    assert!(dom.number("type_out_rate", "EVENT") > 0.0);
    let shown = dom.number("messages_in", "all");
    assert!(shown > 0.0 && shown <= status["totals"]["messages_in"].as_f64().unwrap());
}

#[test]
fn the_status_page_shows_live_sessions_and_rates_of_every_shard_under_load() {
    common::apt::ensure(CHROMIUM, "chromium");
    let router = Router::start(SETUP.shards);
    let addr = router.running.http_addr().unwrap();
    // Idle sessions on every shard, besides the load's four.
    let idle: Vec<Client> = (0..SETUP.shards)
        .flat_map(|s| [s, s])
        .map(|s| router.join_on(SETUP, s))
        .collect();
    let load = Load::start(&router);
    let sessions = idle.len() as u64 + 4;
    wait_for_status(addr, "under load with every session open", |s| {
        let t = &s["totals"];
        t["sessions"] == sessions
            && t["calls"].as_u64() > Some(10)
            && t["events_delivered"].as_u64() > Some(10)
    });
    let url = format!("http://{addr}/");

    let first = render_polled(&url);
    assert_shows_status_under_load(&first, &status_json(addr), sessions);
    let second = render_polled(&url);
    assert_shows_status_under_load(&second, &status_json(addr), sessions);
    for metric in ["messages_in", "messages_out", "calls", "events_delivered"] {
        assert!(
            second.number(metric, "all") > first.number(metric, "all"),
            "{metric} moved between two renders"
        );
    }

    let wide = screenshot(&url, "status-page.png", 1280, 800);
    let phone = screenshot(&url, "status-page-phone.png", 390, 1900);
    eprintln!("screenshots: {} {}", wide.display(), phone.display());

    let receivers = load.stop();
    drop(idle);
    drop(router);
    for r in receivers {
        r.join().unwrap();
    }
}

#[test]
fn status_json_and_the_page_answer_get_only() {
    let router = Router::start(2);
    let addr = router.running.http_addr().unwrap();
    let (status, page) = get(addr, "/status");
    assert_eq!(status, 200);
    assert!(page.starts_with("<!doctype html>") && page.contains("/status.json"));
    assert_eq!(get(addr, "/").1, page);
    let s = status_json(addr);
    assert_eq!(s["shard_count"], 2);
    assert_eq!(s["shards_answering"], 2);
    assert!(s["timestamp_ms"].as_u64().unwrap() > 1_600_000_000_000);
    assert!(s["uptime_ms"].as_u64().is_some());
    assert_eq!(s["shards"][1]["shard"], 1);
    assert_eq!(s["shards"][1]["up"], true);
    let post = request(addr, "POST", "/status.json");
    assert_eq!(post.status, 405);
    assert!(post.headers.contains("allow: get"));
    let (status, body) = get(addr, "/nothing");
    assert_eq!(status, 404);
    assert!(body.contains("/status.json"), "{body}");
}
