//! TLS and Unix-socket fixtures: a test PKI made with rcgen (CAs, a server
//! certificate for `localhost` and 127.0.0.1, client certificates), written
//! as PEM files to a directory of the test's own; rustls client
//! configurations trusting a CA (optionally showing a client certificate);
//! certificate fingerprints; a router with every listener (plain, TLS and a
//! Unix socket) and the clients that join it through each.

use super::{roles, Client, Kind, Router, Setup, RECV_TIMEOUT};
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use switchyard::runtime::{ListenerOptions, RouterOptions, UnixOptions};
use switchyard::transport::blocking;
use switchyard::transport::tls::{client_config, ClientAuth, TlsFiles};
use switchyard::transport::TransportError;
use switchyard::wire::{Dict, Message, Serializer, SessionId, Text};

pub use rustls::ClientConfig;

/// A directory of the test's own (unique per process and call) under the
/// target's temporary directory; removed when dropped.
pub struct TestDir {
    pub path: PathBuf,
}

impl TestDir {
    /// `tag` names the test (kept short: Unix socket paths live here).
    pub fn new(tag: &str) -> TestDir {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .join("tls")
            .join(format!("{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path).unwrap();
        TestDir { path }
    }

    pub fn join(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// A certificate and its key, as PEM files.
#[derive(Debug, Clone)]
pub struct Leaf {
    pub cert: PathBuf,
    pub key: PathBuf,
    /// The certificate, DER.
    pub der: Vec<u8>,
}

impl Leaf {
    /// The SHA-256 fingerprint of the certificate, 64 lowercase hex digits.
    pub fn fingerprint(&self) -> String {
        fingerprint(&self.der)
    }

    /// The same fingerprint as `openssl x509 -fingerprint -sha256` prints
    /// it: uppercase pairs joined by colons.
    pub fn fingerprint_colons(&self) -> String {
        Sha256::digest(&self.der)
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":")
    }

    /// The identity a client shows: (certificate file, key file).
    pub fn identity(&self) -> (&Path, &Path) {
        (&self.cert, &self.key)
    }
}

/// The SHA-256 fingerprint of a DER certificate, lowercase hex.
pub fn fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A certificate authority whose certificate is written to `file`.
pub struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
    dir: PathBuf,
    name: String,
    /// The CA certificate, PEM (what clients and the router trust).
    pub file: PathBuf,
}

impl Ca {
    /// A new CA named `name`, its certificate written to `dir/<name>-ca.pem`.
    pub fn new(dir: &TestDir, name: &str) -> Ca {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params
            .distinguished_name
            .push(DnType::CommonName, format!("Switchyard test CA {name}"));
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let key = KeyPair::generate().unwrap();
        let cert = params.self_signed(&key).unwrap();
        let file = dir.join(&format!("{name}-ca.pem"));
        std::fs::write(&file, cert.pem()).unwrap();
        Ca {
            cert,
            key,
            dir: dir.path.clone(),
            name: name.to_owned(),
            file,
        }
    }

    fn issue(&self, mut params: CertificateParams, file: &str, cn: &str) -> Leaf {
        params.distinguished_name.push(DnType::CommonName, cn);
        params.use_authority_key_identifier_extension = true;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        let (cert_file, key_file) = (
            self.dir.join(format!("{}-{file}.pem", self.name)),
            self.dir.join(format!("{}-{file}.key", self.name)),
        );
        std::fs::write(&cert_file, cert.pem()).unwrap();
        std::fs::write(&key_file, key.serialize_pem()).unwrap();
        Leaf {
            cert: cert_file,
            key: key_file,
            der: cert.der().to_vec(),
        }
    }

    /// A server certificate for `localhost` and 127.0.0.1 signed by this CA.
    pub fn server(&self) -> Leaf {
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.issue(params, "server", "localhost")
    }

    /// A client certificate with common name `cn`, signed by this CA.
    pub fn client(&self, cn: &str) -> Leaf {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.issue(params, &format!("client-{cn}"), cn)
    }

    /// A client configuration trusting this CA only, showing no certificate.
    pub fn trust(&self) -> Arc<ClientConfig> {
        trusting(&self.file, None)
    }

    /// A client configuration trusting this CA only, showing `leaf`.
    pub fn trust_as(&self, leaf: &Leaf) -> Arc<ClientConfig> {
        trusting(&self.file, Some(leaf))
    }
}

/// A client configuration trusting the CAs in `ca`, showing `leaf` if given.
pub fn trusting(ca: &Path, leaf: Option<&Leaf>) -> Arc<ClientConfig> {
    client_config(Some(ca), false, leaf.map(Leaf::identity)).unwrap()
}

/// A test PKI: a CA, a server certificate it signed, in a directory of
/// the test's own.
pub struct Pki {
    pub dir: TestDir,
    pub ca: Ca,
    pub server: Leaf,
}

impl Pki {
    pub fn new(tag: &str) -> Pki {
        let dir = TestDir::new(tag);
        let ca = Ca::new(&dir, "main");
        let server = ca.server();
        Pki { dir, ca, server }
    }

    /// The server's files for a TLS listener (client certificates as `auth`,
    /// verified against this PKI's CA).
    pub fn files(&self, auth: ClientAuth) -> TlsFiles {
        TlsFiles {
            cert: self.server.cert.clone(),
            key: self.server.key.clone(),
            client_ca: (auth != ClientAuth::Off).then(|| self.ca.file.clone()),
            client_auth: auth,
        }
    }

    /// Config TOML (for `Router::from_toml`) for both TLS listeners on free
    /// loopback ports with this PKI's server certificate; `client_auth` is
    /// "off", "optional" or "required" (verified against this PKI's CA).
    pub fn listeners_toml(&self, client_auth: &str) -> String {
        let mut text = String::new();
        for table in ["websocket.tls", "rawsocket.tls"] {
            text += &format!(
                "[{table}]\nenabled = true\naddress = \"127.0.0.1:0\"\n\
                 cert_file = \"{}\"\nkey_file = \"{}\"\nclient_auth = \"{client_auth}\"\n\
                 client_ca_file = \"{}\"\n",
                self.server.cert.display(),
                self.server.key.display(),
                self.ca.file.display(),
            );
        }
        text
    }
}

/// How a client reaches the router.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Via {
    /// `ws://` or `rs://`.
    Plain(Kind),
    /// `wss://` or `rss://`.
    Tls(Kind),
    /// `unix:///path` (RawSocket; served by shard 0).
    Unix,
}

impl Router {
    /// The URL of the TLS listener of `kind` (`wss://` or `rss://`, on
    /// 127.0.0.1, a name the test server certificate holds).
    pub fn tls_url(&self, kind: Kind) -> String {
        match kind {
            Kind::WebSocket => format!(
                "wss://{}/ws",
                self.running.websocket_tls_addr().expect("a wss listener")
            ),
            Kind::RawSocket => format!(
                "rss://{}",
                self.running.rawsocket_tls_addr().expect("an rss listener")
            ),
        }
    }
}

/// `url` of the Unix socket at `path`.
pub fn unix_url(path: &Path) -> String {
    format!("unix://{}", path.display())
}

/// `opts` with a TLS twin of the plain WebSocket and RawSocket listeners
/// (same accept options, own free ports) using `files`.
pub fn with_tls_listeners(mut opts: RouterOptions, files: &TlsFiles) -> RouterOptions {
    let twin = |l: &Option<ListenerOptions>| {
        l.clone().map(|mut l| {
            l.tls = Some(files.clone());
            l
        })
    };
    opts.websocket_tls = twin(&opts.websocket);
    opts.rawsocket_tls = twin(&opts.rawsocket);
    opts
}

/// `opts` with RawSocket on the Unix socket `path` (file mode `mode`).
pub fn with_unix(mut opts: RouterOptions, path: &Path, mode: u32) -> RouterOptions {
    let accept = opts
        .rawsocket
        .as_ref()
        .expect("a rawsocket listener")
        .accept
        .clone();
    opts.unix = Some(UnixOptions {
        path: path.to_path_buf(),
        mode,
        accept,
    });
    opts
}

/// A router with plain, TLS (this PKI's server certificate, no client
/// certificates) and Unix-socket listeners, plus the realms of the test
/// matrix; and where to reach it.
pub struct SecureRouter {
    pub router: Router,
    pub pki: Pki,
    pub unix: PathBuf,
}

impl SecureRouter {
    pub fn start(shards: usize, tag: &str) -> SecureRouter {
        let pki = Pki::new(tag);
        let unix = pki.dir.join("r.sock");
        let opts = with_tls_listeners(RouterOptions::local(shards), &pki.files(ClientAuth::Off));
        let opts = with_unix(opts, &unix, 0o600);
        SecureRouter {
            router: Router::start_with(opts),
            pki,
            unix,
        }
    }

    pub fn shards(&self) -> usize {
        self.router.shards
    }

    pub fn url(&self, via: Via) -> String {
        match via {
            Via::Plain(kind) => self.router.url(kind),
            Via::Tls(kind) => self.router.tls_url(kind),
            Via::Unix => unix_url(&self.unix),
        }
    }

    /// A client joined to `realm` through `via`, whose session lives on
    /// `shard` (Unix-socket sessions always live on shard 0).
    pub fn join_on(&self, via: Via, serializer: Serializer, shard: usize, realm: &str) -> Client {
        let tls = matches!(via, Via::Tls(_)).then(|| self.pki.ca.trust());
        join_on_as(&self.url(via), serializer, tls, self.shards(), shard, realm)
    }
}

/// A client joined to `realm` at `url` (with `tls` for `wss://` and
/// `rss://`) whose session lives on `shard` of a router of `shards`;
/// sessions landing elsewhere are closed with GOODBYE before the next try.
pub fn join_on_as(
    url: &str,
    serializer: Serializer,
    tls: Option<Arc<ClientConfig>>,
    shards: usize,
    shard: usize,
    realm: &str,
) -> Client {
    for _ in 0..500 {
        let mut c = Client::join_tls(url, serializer, realm, tls.clone());
        if c.session.0 % shards as u64 == shard as u64 {
            return c;
        }
        c.goodbye();
    }
    panic!("no session through {url} landed on shard {shard} in 500 tries");
}

impl Client {
    /// Opens the transport at `url` (`tls` for `wss://` and `rss://`), or
    /// the error that stopped it.
    pub fn try_connect_tls(
        url: &str,
        serializer: Serializer,
        tls: Option<Arc<ClientConfig>>,
    ) -> Result<Client, TransportError> {
        let conn = blocking::Client::connect_tls(
            url,
            serializer,
            RECV_TIMEOUT,
            blocking::DEFAULT_MAX_MESSAGE_SIZE,
            tls,
        )?;
        Ok(Client {
            conn,
            serializer,
            session: SessionId(0),
            next_request: 0,
        })
    }

    /// Opens the transport at `url` (fails the test if it cannot).
    pub fn connect_tls(
        url: &str,
        serializer: Serializer,
        tls: Option<Arc<ClientConfig>>,
    ) -> Client {
        Client::try_connect_tls(url, serializer, tls)
            .unwrap_or_else(|e| panic!("connecting to {url}: {e}"))
    }

    /// Opens the transport at `url` and a session on `realm` (anonymous).
    pub fn join_tls(
        url: &str,
        serializer: Serializer,
        realm: &str,
        tls: Option<Arc<ClientConfig>>,
    ) -> Client {
        let mut c = Client::connect_tls(url, serializer, tls);
        c.send(&Message::Hello {
            realm: Text::from(realm),
            details: Dict::new().with("roles", roles()),
        });
        match c.recv() {
            Message::Welcome { session, .. } => c.session = session,
            other => panic!("expected WELCOME through {url}, got {other:?}"),
        }
        c
    }
}

/// The realm of the test matrix for `shards`, `kind` and `serializer`
/// (`Router::start_with` serves them all).
pub fn matrix_realm(shards: usize, kind: Kind, serializer: Serializer) -> String {
    Setup {
        shards,
        kind,
        serializer,
    }
    .realm()
}
