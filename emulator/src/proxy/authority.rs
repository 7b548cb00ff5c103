//! The proxy's local certificate authority: created once in the state directory, reused afterwards.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{Datelike, Days, NaiveDate, Utc};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose,
    GeneralSubtree, IsCa, Issuer, KeyPair, KeyUsagePurpose, NameConstraints,
};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use super::ProxyError;
use crate::settings::intercept::PassageHost;

/// How long a new CA certificate is valid.
const CA_VALIDITY_DAYS: u64 = 3650;
/// How long a leaf certificate is valid (under the 398 days some clients allow for a server
/// certificate); leaves are issued at every start, so this only bounds a single run.
const LEAF_VALIDITY_DAYS: u64 = 397;
/// Certificates start a day early, so that a client whose clock is slightly behind accepts them.
const BACKDATE_DAYS: u64 = 1;
/// The ALPN protocol served inside a tunnel (no SDK needs HTTP/2; see the module docs).
const ALPN_HTTP_1_1: &[u8] = b"http/1.1";

/// A local CA that signs the proxy's leaf certificates.
///
/// Its key is written only to [`key_path`](Self::key_path) in the state directory, readable by its
/// owner only, and is never shown by `Debug`. Clients trust the PEM certificate at
/// [`certificate_path`](Self::certificate_path). The certificate is name-constrained to the
/// [`PassageHost`]s, so a client that trusts it can be intercepted for those hosts and no other.
pub struct CertificateAuthority {
    certificate_path: PathBuf,
    key_path: PathBuf,
    certificate_pem: String,
    fingerprint: String,
    issuer: Issuer<'static, KeyPair>,
}

impl fmt::Debug for CertificateAuthority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CertificateAuthority")
            .field("certificate_path", &self.certificate_path)
            .field("key_path", &self.key_path)
            .field("sha256_fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

impl CertificateAuthority {
    /// File name of the CA certificate (PEM) in the state directory.
    pub const CERTIFICATE_FILE_NAME: &'static str = "intercept-ca.pem";
    /// File name of the CA key (PKCS#8 PEM, mode `0600`) in the state directory.
    pub const KEY_FILE_NAME: &'static str = "intercept-ca-key.pem";

    /// Loads the CA from `state_dir`, or creates it there when it has none.
    ///
    /// `state_dir` is created with mode `0700` if missing. A new key is written with mode `0600`
    /// (through a temporary file in the same directory, linked into place so that two starts
    /// racing each other end up with the same CA). A key file that other users can read, a CA file
    /// that is a symbolic link, a certificate without its key or a certificate that is not the
    /// key's is refused with a typed error rather than replaced.
    pub fn load_or_create(state_dir: impl AsRef<Path>) -> Result<Self, ProxyError> {
        let dir = state_dir.as_ref();
        create_private_dir(dir)?;
        let key_path = dir.join(Self::KEY_FILE_NAME);
        let certificate_path = dir.join(Self::CERTIFICATE_FILE_NAME);

        let key = match read_key(&key_path)? {
            Some(key) => key,
            None => {
                if read_regular_file(&certificate_path)?.is_some() {
                    return Err(ProxyError::MissingKey {
                        certificate: certificate_path,
                        key: key_path,
                    });
                }
                let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
                let pem = Zeroizing::new(key.serialize_pem());
                if write_new_file(&key_path, pem.as_bytes(), 0o600)? {
                    key
                } else {
                    // Another process created it first: use that one.
                    read_key(&key_path)?.ok_or_else(|| not_found(&key_path))?
                }
            }
        };

        let certificate_pem = match read_regular_file(&certificate_path)? {
            Some(pem) => pem.to_string(),
            None => {
                let pem = ca_params()?.self_signed(&key)?.pem();
                if write_new_file(&certificate_path, pem.as_bytes(), 0o644)? {
                    pem
                } else {
                    read_regular_file(&certificate_path)?
                        .ok_or_else(|| not_found(&certificate_path))?
                        .to_string()
                }
            }
        };
        let der = check_certificate(&certificate_path, &certificate_pem, &key)?;
        let fingerprint = hex_fingerprint(&der);
        let issuer = Issuer::from_ca_cert_pem(&certificate_pem, key).map_err(|e| {
            ProxyError::InvalidAuthority {
                path: certificate_path.clone(),
                reason: e.to_string(),
            }
        })?;
        Ok(CertificateAuthority {
            certificate_path,
            key_path,
            certificate_pem,
            fingerprint,
            issuer,
        })
    }

    /// The CA certificate file (PEM) for clients to trust, e.g. as `SSL_CERT_FILE`.
    pub fn certificate_path(&self) -> &Path {
        &self.certificate_path
    }

    /// The CA key file (inside the state directory, mode `0600`).
    pub fn key_path(&self) -> &Path {
        &self.key_path
    }

    /// The CA certificate as PEM text.
    pub fn certificate_pem(&self) -> &str {
        &self.certificate_pem
    }

    /// SHA-256 of the certificate's DER, as upper-case hex pairs joined by `:`.
    pub fn sha256_fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// A TLS server configuration for `host`: a new leaf key (kept in memory only) and a leaf
    /// certificate for it signed by this CA; rustls with the aws-lc-rs provider, HTTP/1.1 by ALPN.
    pub(crate) fn server_config(
        &self,
        host: PassageHost,
    ) -> Result<Arc<rustls::ServerConfig>, ProxyError> {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let mut params = CertificateParams::new(vec![host.name().to_owned()])?;
        params.distinguished_name = DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, host.name());
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        set_validity(&mut params, LEAF_VALIDITY_DAYS)?;
        let certificate = params.signed_by(&key, &self.issuer)?;
        let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(vec![certificate.der().clone()], key_der)?;
        config.alpn_protocols = vec![ALPN_HTTP_1_1.to_vec()];
        Ok(Arc::new(config))
    }
}

/// Parameters of a new CA: a basic-constraints CA that may sign leaves only (path length 0), only
/// for the Passage hosts.
fn ca_params() -> Result<CertificateParams, ProxyError> {
    let mut params = CertificateParams::default();
    params
        .distinguished_name
        .push(DnType::CommonName, "passage-emulator intercepting proxy CA");
    params
        .distinguished_name
        .push(DnType::OrganizationName, "passage-emulator (local)");
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params.name_constraints = Some(NameConstraints {
        permitted_subtrees: PassageHost::ALL
            .into_iter()
            .map(|host| GeneralSubtree::DnsName(host.name().to_owned()))
            .collect(),
        excluded_subtrees: Vec::new(),
    });
    set_validity(&mut params, CA_VALIDITY_DAYS)?;
    Ok(params)
}

/// Valid from yesterday (UTC) for `days` days.
fn set_validity(params: &mut CertificateParams, days: u64) -> Result<(), ProxyError> {
    let today = Utc::now().date_naive();
    let start = today
        .checked_sub_days(Days::new(BACKDATE_DAYS))
        .ok_or(ProxyError::ClockOutOfRange)?;
    let end = today
        .checked_add_days(Days::new(days))
        .ok_or(ProxyError::ClockOutOfRange)?;
    params.not_before = rcgen::date_time_ymd(start.year(), month(start), day(start));
    params.not_after = rcgen::date_time_ymd(end.year(), month(end), day(end));
    Ok(())
}

fn month(date: NaiveDate) -> u8 {
    // 1..=12 always fits.
    u8::try_from(date.month()).unwrap_or(12)
}

fn day(date: NaiveDate) -> u8 {
    // 1..=31 always fits.
    u8::try_from(date.day()).unwrap_or(28)
}

/// Checks that `pem` is a CA certificate for `key` that is valid now; returns its DER.
fn check_certificate(path: &Path, pem: &str, key: &KeyPair) -> Result<Vec<u8>, ProxyError> {
    let invalid = |reason: &str| ProxyError::InvalidAuthority {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    let (_, pem) = x509_parser::pem::parse_x509_pem(pem.as_bytes())
        .map_err(|_| invalid("not a PEM certificate"))?;
    if pem.label != "CERTIFICATE" {
        return Err(invalid("not a PEM certificate"));
    }
    let certificate = pem
        .parse_x509()
        .map_err(|_| invalid("not an X.509 certificate"))?;
    if certificate.public_key().subject_public_key.data.as_ref() != key.public_key_raw() {
        return Err(invalid("the certificate is not the CA key's"));
    }
    if !certificate.is_ca() {
        return Err(invalid("not a CA certificate"));
    }
    if !certificate.validity().is_valid() {
        return Err(invalid("the certificate is not valid now (expired?)"));
    }
    Ok(pem.contents)
}

fn hex_fingerprint(der: &[u8]) -> String {
    Sha256::digest(der)
        .iter()
        .map(|byte| format!("{byte:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> ProxyError + '_ {
    move |source| ProxyError::Io {
        path: path.to_owned(),
        source,
    }
}

fn not_found(path: &Path) -> ProxyError {
    ProxyError::Io {
        path: path.to_owned(),
        source: std::io::ErrorKind::NotFound.into(),
    }
}

/// Creates `dir` (and missing parents) with mode `0700` when it does not exist.
fn create_private_dir(dir: &Path) -> Result<(), ProxyError> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(io_error(dir))
}

/// The contents of the regular file at `path`, `None` when there is none; a symbolic link or any
/// other kind of file is refused.
fn read_regular_file(path: &Path) -> Result<Option<Zeroizing<String>>, ProxyError> {
    let metadata = match std::fs::symlink_metadata(path) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(path)(e)),
    };
    if !metadata.is_file() {
        return Err(ProxyError::NotARegularFile {
            path: path.to_owned(),
        });
    }
    let text = std::fs::read_to_string(path).map_err(io_error(path))?;
    Ok(Some(Zeroizing::new(text)))
}

/// The key at `path`, `None` when there is none; refused when other users may read it.
fn read_key(path: &Path) -> Result<Option<KeyPair>, ProxyError> {
    let Some(pem) = read_regular_file(path)? else {
        return Ok(None);
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::symlink_metadata(path)
            .map_err(io_error(path))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(ProxyError::KeyFileExposed {
                path: path.to_owned(),
                mode: mode & 0o777,
            });
        }
    }
    let key = KeyPair::from_pem(&pem).map_err(|_| ProxyError::InvalidAuthority {
        path: path.to_owned(),
        reason: "not a PEM private key".to_owned(),
    })?;
    Ok(Some(key))
}

/// Writes `contents` to the new file `path` with `mode`, atomically: a temporary file in the same
/// directory (created with `mode`) is hard-linked into place. Returns `false`, writing nothing,
/// when `path` already exists.
fn write_new_file(path: &Path, contents: &[u8], mode: u32) -> Result<bool, ProxyError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = dir.join(format!(
        ".{name}.{}.{:016x}.tmp",
        std::process::id(),
        rand::random::<u64>()
    ));
    let result = write_and_link(&temporary, path, contents, mode);
    // The temporary name is gone in every case; a failure to remove it is reported only if all
    // else went well.
    let removed = std::fs::remove_file(&temporary);
    let linked = result?;
    removed.map_err(io_error(&temporary))?;
    if linked {
        sync_dir(dir)?;
    }
    Ok(linked)
}

fn write_and_link(
    temporary: &Path,
    path: &Path,
    contents: &[u8],
    mode: u32,
) -> Result<bool, ProxyError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(temporary).map_err(io_error(temporary))?;
    file.write_all(contents).map_err(io_error(temporary))?;
    file.sync_all().map_err(io_error(temporary))?;
    drop(file);
    match std::fs::hard_link(temporary, path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(io_error(path)(e)),
    }
}

/// Makes a new directory entry durable (a no-op where directories cannot be opened).
fn sync_dir(dir: &Path) -> Result<(), ProxyError> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)
            .and_then(|handle| handle.sync_all())
            .map_err(io_error(dir))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_colon_separated_upper_hex_of_sha256() {
        let fingerprint = hex_fingerprint(b"abc");
        // SHA-256("abc") from FIPS 180-2, appendix B.1.
        assert_eq!(
            fingerprint.replace(':', ""),
            "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"
        );
        assert_eq!(fingerprint.len(), 32 * 3 - 1);
    }

    #[test]
    fn write_new_file_never_replaces_an_existing_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("file");
        assert!(write_new_file(&path, b"first", 0o600).unwrap());
        assert!(!write_new_file(&path, b"second", 0o600).unwrap());
        assert_eq!(std::fs::read(&path).unwrap(), b"first");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, ["file"], "no temporary file is left behind");
    }
}
