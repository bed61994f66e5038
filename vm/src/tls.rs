//! A server guest's TLS identity: the certificate and key its configuration names (IMAP CONFIG,
//! SMTP CONFIG), or a self-signed pair for `localhost` made on first start when they are missing
//! (rustls with ring). It lives in CP's crate so that every guest crate can use it without
//! depending on another guest's.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use anyhow::{Context, bail};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};

/// Where the PEM files are: relative paths are taken from the system folder.
pub fn resolve(system: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        system.join(p)
    }
}

/// Makes a self-signed certificate for localhost if neither file exists. Returns whether it
/// made one. The key is written mode 0600.
pub fn ensure(cert: &Path, key: &Path) -> anyhow::Result<bool> {
    match (cert.exists(), key.exists()) {
        (true, true) => return Ok(false),
        (true, false) | (false, true) => bail!(
            "only one of {} and {} exists; supply both or remove both to have a self-signed pair made",
            cert.display(),
            key.display()
        ),
        _ => {}
    }
    let ck =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string(), "127.0.0.1".to_string()])
            .context("cannot generate a self-signed certificate")?;
    for p in [cert, key] {
        if let Some(d) = p.parent() {
            std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
        }
    }
    write_private(key, ck.signing_key.serialize_pem().as_bytes())?;
    std::fs::write(cert, ck.cert.pem())
        .with_context(|| format!("cannot write {}", cert.display()))?;
    Ok(true)
}

fn write_private(p: &Path, data: &[u8]) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = p.with_extension("tmp");
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    f.write_all(data)?;
    f.sync_all()?;
    std::fs::rename(&tmp, p)?;
    Ok(())
}

/// A TLS acceptor for tokio streams (STARTTLS or implicit TLS) with the certificate and key.
pub fn acceptor(cert: &Path, key: &Path) -> anyhow::Result<tokio_rustls::TlsAcceptor> {
    Ok(tokio_rustls::TlsAcceptor::from(server_config(cert, key)?))
}

/// The rustls configuration for the certificate and key.
pub fn server_config(cert: &Path, key: &Path) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("cannot read certificate {}", cert.display()))?
        .collect::<Result<_, _>>()
        .with_context(|| format!("bad certificate in {}", cert.display()))?;
    if certs.is_empty() {
        bail!("no certificate in {}", cert.display());
    }
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("cannot read private key {}", key.display()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let cfg = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("certificate and key do not match")?;
    Ok(Arc::new(cfg))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_pair() {
        let d = std::env::temp_dir().join(format!("vmimap-tls-{}", std::process::id()));
        let (c, k) = (d.join("tls/a.crt"), d.join("tls/a.key"));
        assert!(ensure(&c, &k).unwrap());
        assert!(!ensure(&c, &k).unwrap());
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&k).unwrap().permissions().mode() & 0o777,
            0o600
        );
        server_config(&c, &k).unwrap();
        std::fs::remove_file(&k).unwrap();
        assert!(ensure(&c, &k).is_err());
        let _ = std::fs::remove_dir_all(&d);
    }
}
