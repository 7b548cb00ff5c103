//! The intercepting HTTPS proxy: what it serves, what it refuses, and where its CA key lives.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::Request;
use axum::routing::any;
use axum::{Json, Router};
use passage_emulator::proxy::{CertificateAuthority, InterceptingProxy, PassageHost, ProxyError};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use serde_json::{json, Value};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;

/// Guards reads that wait for the proxy to answer or close, so that a regression fails the test
/// instead of hanging it; generous, as nothing here is expected to come near it.
const HANG_GUARD: Duration = Duration::from_secs(60);

/// What the routers saw: (router name, `Host` header, `PassageHost` extension).
type Seen = Arc<Mutex<Vec<(String, String, Option<PassageHost>)>>>;

/// A router that answers every path with its name and the `Host` it saw, and records the request.
fn recording_router(name: &'static str, seen: Seen) -> Router {
    Router::new().fallback(any(move |req: Request| {
        let seen = seen.clone();
        async move {
            let host = req
                .headers()
                .get("host")
                .and_then(|value| value.to_str().ok())
                .unwrap_or_default()
                .to_owned();
            let extension = req.extensions().get::<PassageHost>().copied();
            seen.lock()
                .unwrap()
                .push((name.to_owned(), host.clone(), extension));
            Json(json!({"router": name, "host": host, "path": req.uri().path()}))
        }
    }))
}

struct Fixture {
    _dir: tempfile::TempDir,
    state_dir: PathBuf,
    ca: CertificateAuthority,
    proxy: InterceptingProxy,
    seen: Seen,
}

async fn start(hosts: &[PassageHost]) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let state_dir = dir.path().join("state");
    let ca = CertificateAuthority::load_or_create(&state_dir).unwrap();
    let seen = Seen::default();
    let routers = hosts.iter().map(|&host| {
        let name = match host {
            PassageHost::Auth => "auth-router",
            PassageHost::Api => "api-router",
        };
        (host, recording_router(name, seen.clone()))
    });
    let proxy = InterceptingProxy::bind("127.0.0.1:0".parse().unwrap(), &ca, routers)
        .await
        .unwrap();
    Fixture {
        _dir: dir,
        state_dir,
        ca,
        proxy,
        seen,
    }
}

/// A reqwest client (rustls) that trusts only `ca_pem` and reaches HTTPS through `proxy_url`.
fn client(proxy_url: &str, ca_pem: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .tls_backend_rustls()
        .tls_certs_only([reqwest::Certificate::from_pem(ca_pem.as_bytes()).unwrap()])
        .proxy(reqwest::Proxy::https(proxy_url).unwrap())
        .build()
        .unwrap()
}

#[tokio::test]
async fn each_host_is_served_by_its_router_with_its_host_header() {
    let fx = start(&PassageHost::ALL).await;
    let client = client(&fx.proxy.proxy_url(), fx.ca.certificate_pem());
    for (host, router) in [
        (PassageHost::Auth, "auth-router"),
        (PassageHost::Api, "api-router"),
    ] {
        let url = format!("https://{}/v1/apps/app/whoami?x=1", host.name());
        let response = client.get(&url).send().await.unwrap();
        assert_eq!(response.status(), 200, "{url}");
        assert_eq!(response.version(), reqwest::Version::HTTP_11);
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["router"], router);
        assert_eq!(body["host"], host.name());
        assert_eq!(body["path"], "/v1/apps/app/whoami");
    }
    let seen = fx.seen.lock().unwrap().clone();
    assert_eq!(
        seen,
        [
            (
                "auth-router".to_owned(),
                "auth.passage.id".to_owned(),
                Some(PassageHost::Auth)
            ),
            (
                "api-router".to_owned(),
                "api.passage.id".to_owned(),
                Some(PassageHost::Api)
            ),
        ]
    );
}

/// Sends `request` on a new connection to the proxy and reads until the proxy closes it.
async fn raw_exchange(proxy: &InterceptingProxy, request: &[u8]) -> Vec<u8> {
    let mut stream = TcpStream::connect(proxy.local_addr()).await.unwrap();
    stream.write_all(request).await.unwrap();
    let mut received = Vec::new();
    tokio::time::timeout(HANG_GUARD, stream.read_to_end(&mut received))
        .await
        .expect("the proxy closes the connection")
        .unwrap();
    received
}

/// Asserts that `received` is exactly one `403` answer (status line, headers, a body of the
/// announced length) and nothing after it: no TLS, no second answer.
fn assert_single_403(received: &[u8]) {
    let text = String::from_utf8_lossy(received);
    assert!(text.starts_with("HTTP/1.1 403 "), "{text}");
    let head_end = text.find("\r\n\r\n").expect("a complete head") + 4;
    let head = text[..head_end].to_ascii_lowercase();
    assert!(head.contains("\r\nconnection: close\r\n"), "{head}");
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length: "))
        .expect("content-length")
        .trim()
        .parse()
        .unwrap();
    assert_eq!(
        received.len(),
        head_end + length,
        "nothing after the answer"
    );
}

#[tokio::test]
async fn connect_to_any_other_host_or_port_is_refused_without_tls() {
    let fx = start(&[PassageHost::Auth]).await;
    // A TLS ClientHello's first bytes, sent right behind the CONNECT as an eager client would.
    let hello = [0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0x00, 0x00, 0x01, 0x00];
    for target in [
        "example.com:443",
        "auth.passage.id:8443",
        "auth.passage.id:80",
        // Not intercepted by this proxy (only Auth was given).
        "api.passage.id:443",
        "auth.passage.id.evil.example:443",
        "127.0.0.1:443",
    ] {
        let mut request =
            format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n").into_bytes();
        request.extend_from_slice(&hello);
        let received = raw_exchange(&fx.proxy, &request).await;
        assert_single_403(&received);
    }
    // The same through a real client: the tunnel fails, nothing is served.
    let client = client(&fx.proxy.proxy_url(), fx.ca.certificate_pem());
    let error = client
        .get("https://example.com/v1/x")
        .send()
        .await
        .unwrap_err();
    assert!(error.is_connect(), "{error:?}");
    assert!(fx.seen.lock().unwrap().is_empty());
}

#[tokio::test]
async fn requests_that_are_not_connect_are_refused() {
    let fx = start(&PassageHost::ALL).await;
    for request in [
        "GET http://auth.passage.id/v1/apps/app HTTP/1.1\r\nHost: auth.passage.id\r\n\r\n",
        "GET /v1/apps/app HTTP/1.1\r\nHost: auth.passage.id\r\n\r\n",
        // The right host and port, but not CONNECT.
        "GET http://auth.passage.id:443/v1/apps/app HTTP/1.1\r\nHost: auth.passage.id:443\r\n\r\n",
        "POST http://api.passage.id/v1/apps/app/users HTTP/1.1\r\nHost: api.passage.id\r\nContent-Length: 0\r\n\r\n",
    ] {
        let received = raw_exchange(&fx.proxy, request.as_bytes()).await;
        assert_single_403(&received);
    }
    // Plain-HTTP proxying through a real client: the proxy's own 403 comes back.
    let client = reqwest::Client::builder()
        .proxy(reqwest::Proxy::http(fx.proxy.proxy_url()).unwrap())
        .build()
        .unwrap();
    let response = client
        .get("http://auth.passage.id/v1/apps/app")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 403);
    assert!(fx.seen.lock().unwrap().is_empty());
}

/// Opens a tunnel the way Python's `http.client` does (`CONNECT … HTTP/1.0`, no `Host`), then
/// TLS trusting only the fixture's CA.
async fn python_style_tunnel(
    fx: &Fixture,
    host: PassageHost,
) -> tokio_rustls::client::TlsStream<TcpStream> {
    let mut stream = TcpStream::connect(fx.proxy.local_addr()).await.unwrap();
    stream
        .write_all(format!("CONNECT {}:443 HTTP/1.0\r\n\r\n", host.name()).as_bytes())
        .await
        .unwrap();
    // Read the answer's head byte by byte: what follows belongs to TLS.
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let byte = tokio::time::timeout(HANG_GUARD, stream.read_u8())
            .await
            .expect("the proxy answers")
            .unwrap();
        head.push(byte);
    }
    let head = String::from_utf8(head).unwrap();
    assert!(
        head.starts_with("HTTP/1.1 200 ") || head.starts_with("HTTP/1.0 200 "),
        "{head}"
    );
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(fx.ca.certificate_pem().as_bytes()).unwrap())
        .unwrap();
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let tls = connector
        .connect(ServerName::try_from(host.name()).unwrap(), stream)
        .await
        .unwrap();
    assert_eq!(tls.get_ref().1.alpn_protocol(), Some(&b"http/1.1"[..]));
    tls
}

async fn read_all<S: AsyncRead + AsyncWrite + Unpin>(stream: &mut S) -> String {
    let mut received = Vec::new();
    // A TLS peer may close without close_notify; what was read is what counts.
    let _ = tokio::time::timeout(HANG_GUARD, stream.read_to_end(&mut received))
        .await
        .expect("the server closes the connection");
    String::from_utf8(received).unwrap()
}

#[tokio::test]
async fn http_1_0_connect_without_host_opens_a_tunnel() {
    let fx = start(&PassageHost::ALL).await;
    let mut tls = python_style_tunnel(&fx, PassageHost::Api).await;
    tls.write_all(
        b"GET /v1/apps/app/users HTTP/1.1\r\nHost: api.passage.id\r\nConnection: close\r\n\r\n",
    )
    .await
    .unwrap();
    let answer = read_all(&mut tls).await;
    assert!(answer.starts_with("HTTP/1.1 200 "), "{answer}");
    assert!(answer.contains(r#""router":"api-router""#), "{answer}");
}

#[tokio::test]
async fn a_host_header_naming_another_host_is_misdirected() {
    let fx = start(&PassageHost::ALL).await;
    for host_header in ["api.passage.id", "auth.passage.id:8443", "example.com"] {
        let mut tls = python_style_tunnel(&fx, PassageHost::Auth).await;
        tls.write_all(
            format!("GET /v1/x HTTP/1.1\r\nHost: {host_header}\r\nConnection: close\r\n\r\n")
                .as_bytes(),
        )
        .await
        .unwrap();
        let answer = read_all(&mut tls).await;
        assert!(answer.starts_with("HTTP/1.1 421 "), "{answer}");
    }
    assert!(fx.seen.lock().unwrap().is_empty());
}

/// Every regular file under `dir`, recursively.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// The base64 body of a PEM file (its lines between the BEGIN and END lines), joined.
fn pem_body(pem: &str) -> String {
    pem.lines()
        .filter(|line| !line.starts_with("-----"))
        .collect()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn the_ca_key_stays_private_inside_the_state_dir() {
    let fx = start(&PassageHost::ALL).await;
    // Serving makes leaf certificates; they must not add files either.
    let client = client(&fx.proxy.proxy_url(), fx.ca.certificate_pem());
    client
        .get("https://auth.passage.id/v1/x")
        .send()
        .await
        .unwrap();

    let key_path = fx.ca.key_path().to_owned();
    assert_eq!(key_path.parent(), Some(fx.state_dir.as_path()));
    assert_eq!(
        fx.ca.certificate_path().parent(),
        Some(fx.state_dir.as_path())
    );
    #[cfg(unix)]
    {
        assert_eq!(mode(&fx.state_dir), 0o700);
        assert_eq!(mode(&key_path), 0o600);
    }
    let key_pem = std::fs::read_to_string(&key_path).unwrap();
    assert!(
        key_pem.starts_with("-----BEGIN PRIVATE KEY-----"),
        "PKCS#8 PEM"
    );
    let key_body = pem_body(&key_pem);
    let key_der = rustls::pki_types::PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).unwrap();
    let key_der = key_der.secret_der();
    let mut files = files_under(&fx.state_dir);
    files.sort();
    assert_eq!(
        files,
        {
            let mut expected = vec![key_path.clone(), fx.ca.certificate_path().to_owned()];
            expected.sort();
            expected
        },
        "the state dir holds the key and the certificate only"
    );
    for file in files.iter().filter(|file| **file != key_path) {
        let bytes = std::fs::read(file).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains(&key_body),
            "{} holds the key",
            file.display()
        );
        assert!(
            !bytes.windows(key_der.len()).any(|window| window == key_der),
            "{} holds the key's DER",
            file.display()
        );
    }
    // The key is never printed.
    for shown in [format!("{:?}", fx.ca), format!("{:?}", fx.proxy)] {
        for chunk in key_body.as_bytes().chunks(16) {
            let chunk = std::str::from_utf8(chunk).unwrap();
            assert!(!shown.contains(chunk), "Debug shows key material: {shown}");
        }
    }
    assert!(format!("{:?}", fx.ca).contains(fx.ca.sha256_fingerprint()));
}

#[tokio::test]
async fn a_restart_reuses_the_same_ca() {
    let fx = start(&[PassageHost::Auth]).await;
    let key_before = std::fs::read(fx.ca.key_path()).unwrap();
    let again = CertificateAuthority::load_or_create(&fx.state_dir).unwrap();
    assert_eq!(again.certificate_pem(), fx.ca.certificate_pem());
    assert_eq!(again.sha256_fingerprint(), fx.ca.sha256_fingerprint());
    assert_eq!(std::fs::read(again.key_path()).unwrap(), key_before);

    // A proxy on the reloaded CA is trusted by a client that trusts the first run's certificate.
    let first_pem = fx.ca.certificate_pem().to_owned();
    fx.proxy.shutdown().await;
    let seen = Seen::default();
    let proxy = InterceptingProxy::bind(
        "127.0.0.1:0".parse().unwrap(),
        &again,
        [(
            PassageHost::Auth,
            recording_router("auth-router", seen.clone()),
        )],
    )
    .await
    .unwrap();
    let response = client(&proxy.proxy_url(), &first_pem)
        .get("https://auth.passage.id/v1/x")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(seen.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn a_client_trusting_another_ca_is_not_served() {
    let fx = start(&[PassageHost::Auth]).await;
    let other_dir = tempfile::tempdir().unwrap();
    let other = CertificateAuthority::load_or_create(other_dir.path()).unwrap();
    assert_ne!(other.sha256_fingerprint(), fx.ca.sha256_fingerprint());
    let error = client(&fx.proxy.proxy_url(), other.certificate_pem())
        .get("https://auth.passage.id/v1/x")
        .send()
        .await
        .unwrap_err();
    assert!(error.is_connect(), "{error:?}");
    assert!(fx.seen.lock().unwrap().is_empty());
}

#[test]
fn the_ca_is_a_leaf_only_ca_constrained_to_the_passage_hosts() {
    use x509_parser::extensions::{GeneralName, ParsedExtension};
    let dir = tempfile::tempdir().unwrap();
    let ca = CertificateAuthority::load_or_create(dir.path()).unwrap();
    let (_, pem) = x509_parser::pem::parse_x509_pem(ca.certificate_pem().as_bytes()).unwrap();
    let certificate = pem.parse_x509().unwrap();
    let constraints = certificate.basic_constraints().unwrap().unwrap().value;
    assert!(constraints.ca);
    assert_eq!(constraints.path_len_constraint, Some(0));
    let mut permitted = Vec::new();
    for extension in certificate.extensions() {
        if let ParsedExtension::NameConstraints(names) = extension.parsed_extension() {
            assert!(extension.critical);
            for subtree in names.permitted_subtrees.iter().flatten() {
                match subtree.base {
                    GeneralName::DNSName(name) => permitted.push(name.to_owned()),
                    ref other => panic!("unexpected constraint {other:?}"),
                }
            }
            assert!(names.excluded_subtrees.is_none());
        }
    }
    permitted.sort();
    assert_eq!(permitted, ["api.passage.id", "auth.passage.id"]);
}

#[test]
fn unsafe_or_inconsistent_ca_files_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let ca = CertificateAuthority::load_or_create(dir.path()).unwrap();
    let key_path = ca.key_path().to_owned();
    let certificate_path = ca.certificate_path().to_owned();
    drop(ca);

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let error = CertificateAuthority::load_or_create(dir.path()).unwrap_err();
        assert!(
            matches!(error, ProxyError::KeyFileExposed { mode: 0o644, .. }),
            "{error:?}"
        );
        std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600)).unwrap();
        CertificateAuthority::load_or_create(dir.path()).unwrap();

        // A key that is a symbolic link (even to a private file) is not followed.
        let elsewhere = tempfile::tempdir().unwrap();
        let target = elsewhere.path().join("key.pem");
        std::fs::rename(&key_path, &target).unwrap();
        std::os::unix::fs::symlink(&target, &key_path).unwrap();
        let error = CertificateAuthority::load_or_create(dir.path()).unwrap_err();
        assert!(
            matches!(error, ProxyError::NotARegularFile { .. }),
            "{error:?}"
        );
        std::fs::remove_file(&key_path).unwrap();
        std::fs::rename(&target, &key_path).unwrap();
        CertificateAuthority::load_or_create(dir.path()).unwrap();
    }

    // Another CA's certificate next to this key.
    let other_dir = tempfile::tempdir().unwrap();
    let other = CertificateAuthority::load_or_create(other_dir.path()).unwrap();
    let own_certificate = std::fs::read(&certificate_path).unwrap();
    std::fs::write(&certificate_path, other.certificate_pem()).unwrap();
    let error = CertificateAuthority::load_or_create(dir.path()).unwrap_err();
    assert!(
        matches!(error, ProxyError::InvalidAuthority { .. }),
        "{error:?}"
    );
    std::fs::write(&certificate_path, own_certificate).unwrap();

    // A certificate whose key is gone is not silently replaced.
    std::fs::remove_file(&key_path).unwrap();
    let error = CertificateAuthority::load_or_create(dir.path()).unwrap_err();
    assert!(matches!(error, ProxyError::MissingKey { .. }), "{error:?}");
    assert!(!key_path.exists(), "no new key was made");

    // A key whose certificate is gone gets a new certificate for the same key.
    std::fs::remove_file(&certificate_path).unwrap();
    let fresh = CertificateAuthority::load_or_create(dir.path()).unwrap();
    let key = std::fs::read(fresh.key_path()).unwrap();
    std::fs::remove_file(fresh.certificate_path()).unwrap();
    let recertified = CertificateAuthority::load_or_create(dir.path()).unwrap();
    assert_eq!(std::fs::read(recertified.key_path()).unwrap(), key);
    assert!(recertified.certificate_path().exists());
}

#[tokio::test]
async fn shutdown_stops_listening() {
    let fx = start(&[PassageHost::Auth]).await;
    let addr = fx.proxy.local_addr();
    fx.proxy.shutdown().await;
    let error = TcpStream::connect(addr).await.unwrap_err();
    assert_eq!(error.kind(), std::io::ErrorKind::ConnectionRefused);
}
