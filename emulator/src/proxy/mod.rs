//! An intercepting HTTPS proxy that lets unmodified Passage SDKs reach the emulator.
//!
//! Passage's SDKs hard-code `https://auth.passage.id` and `https://api.passage.id`. A process that is
//! told to use this proxy (`HTTPS_PROXY=http://127.0.0.1:PORT`) and to trust this proxy's local CA
//! (`SSL_CERT_FILE`, `NODE_EXTRA_CA_CERTS`, …) reaches the emulator under those names:
//!
//! - [`CertificateAuthority`] is a local CA whose key lives only in the emulator's state directory
//!   (file mode `0600`, directory created `0700`) and whose certificate is written next to it as PEM
//!   for clients to trust. It is reused on the next start and never written to a system store.
//! - [`InterceptingProxy`] accepts `CONNECT host:443` for exactly the [`PassageHost`]s it was given,
//!   terminates TLS with a leaf certificate for that host signed by the CA (rustls with aws-lc-rs,
//!   named explicitly), and serves HTTP/1.1 from the host's [`axum::Router`] with the `Host` header
//!   untouched. Every other host or port, and every request that is not `CONNECT` (plain
//!   `GET http://…` proxying included), gets `403 Forbidden` and the connection is closed.
//!
//! ```no_run
//! # async fn run(state_dir: &std::path::Path) -> Result<(), passage_emulator::proxy::ProxyError> {
//! use passage_emulator::proxy::{CertificateAuthority, InterceptingProxy, PassageHost};
//!
//! let ca = CertificateAuthority::load_or_create(state_dir)?;
//! let auth = axum::Router::new().route("/v1/ping", axum::routing::get(|| async { "auth" }));
//! let proxy = InterceptingProxy::bind(
//!     "127.0.0.1:0".parse().unwrap(),
//!     &ca,
//!     [(PassageHost::Auth, auth)],
//! )
//! .await?;
//! println!("HTTPS_PROXY={} SSL_CERT_FILE={}", proxy.proxy_url(), ca.certificate_path().display());
//! # Ok(())
//! # }
//! ```

mod authority;
mod tunnel;

pub use crate::settings::intercept::PassageHost;
pub use authority::CertificateAuthority;
pub use tunnel::InterceptingProxy;

use std::path::PathBuf;

/// Why the CA could not be loaded or created, or the proxy could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyError {
    /// Reading or writing a file or directory failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The CA key file can be read by other users (its mode allows group or other access).
    #[error("{path}: the CA key must be readable by its owner only (mode {mode:o}); run `chmod 600` on it or delete the CA files")]
    KeyFileExposed {
        /// The key file.
        path: PathBuf,
        /// Its permission bits.
        mode: u32,
    },
    /// A CA file is not a regular file (for example a symbolic link), so it is not used.
    #[error("{path}: not a regular file")]
    NotARegularFile {
        /// The path.
        path: PathBuf,
    },
    /// A CA certificate exists without its key, so the CA cannot sign.
    #[error("{certificate} exists but its key {key} does not; delete the certificate to create a new CA")]
    MissingKey {
        /// The certificate file.
        certificate: PathBuf,
        /// The missing key file.
        key: PathBuf,
    },
    /// The CA files do not hold a usable CA (unparsable, or the certificate is not the key's).
    #[error("{path}: {reason}; delete the CA files to create a new CA")]
    InvalidAuthority {
        /// The offending file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// Generating a key or a certificate failed.
    #[error("certificate generation failed: {0}")]
    Certificate(#[from] rcgen::Error),
    /// The system clock is outside the range certificates can express.
    #[error("the system clock is out of range for certificate validity dates")]
    ClockOutOfRange,
    /// Building the TLS configuration failed.
    #[error("TLS configuration failed: {0}")]
    Tls(#[from] rustls::Error),
    /// Binding the listen address failed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}
