//! Directory passwords: hashed with argon2 when vmimap writes them; a plain password or a glibc
//! `$5$`/`$6$` crypt hash is also accepted when read, so existing directories can be imported.

use std::sync::OnceLock;

use argon2::{
    Argon2,
    password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash},
};
use sha_crypt::ShaCrypt;

/// The password operand of a USER statement.
#[derive(Clone, PartialEq, Eq)]
pub enum Password {
    /// `NOLOG`: the user can never log on (a data-only id).
    NoLog,
    /// `NOPASS`: no password exists; the user can be logged on only by the operator (the trusted
    /// console socket) or by XAUTOLOG.
    NoPass,
    /// `AUTOONLY`: the user can only be AUTOLOGged/XAUTOLOGged (service machines).
    AutoOnly,
    /// `LBYONLY`: logon only by a LOGONBY user; treated like AUTOONLY here.
    LbyOnly,
    /// A password in plain text (accepted when read; never written by vmimap).
    Plain(String),
    /// An argon2 PHC string (`$argon2id$…`).
    Argon2(String),
    /// A glibc SHA-crypt string (`$5$…` or `$6$…`).
    ShaCrypt(String),
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print a password or a hash.
        let kind = match self {
            Password::NoLog => "NOLOG",
            Password::NoPass => "NOPASS",
            Password::AutoOnly => "AUTOONLY",
            Password::LbyOnly => "LBYONLY",
            Password::Plain(_) => "plain",
            Password::Argon2(_) => "argon2",
            Password::ShaCrypt(_) => "sha-crypt",
        };
        write!(f, "Password({kind})")
    }
}

impl Password {
    /// Reads the password operand of a USER statement. Fails with a reason for malformed hashes.
    pub fn parse(tok: &str) -> Result<Password, String> {
        match tok.to_ascii_uppercase().as_str() {
            "NOLOG" => return Ok(Password::NoLog),
            "NOPASS" => return Ok(Password::NoPass),
            "AUTOONLY" => return Ok(Password::AutoOnly),
            "LBYONLY" => return Ok(Password::LbyOnly),
            _ => {}
        }
        if tok.starts_with("$argon2") {
            PasswordHash::new(tok).map_err(|e| format!("malformed argon2 password hash: {e}"))?;
            Ok(Password::Argon2(tok.to_string()))
        } else if tok.starts_with("$5$") || tok.starts_with("$6$") {
            if tok.matches('$').count() < 3 {
                return Err("malformed $5$/$6$ password hash".into());
            }
            Ok(Password::ShaCrypt(tok.to_string()))
        } else if tok.starts_with('$') {
            Err(format!(
                "unsupported password hash scheme {}",
                tok.split('$').nth(1).unwrap_or("")
            ))
        } else if tok.len() > 200 {
            Err("password longer than 200 characters".into())
        } else {
            Ok(Password::Plain(tok.to_string()))
        }
    }

    /// Whether a user with this password may log on with a password at all.
    pub fn allows_password_logon(&self) -> bool {
        matches!(
            self,
            Password::Plain(_) | Password::Argon2(_) | Password::ShaCrypt(_)
        )
    }

    /// Whether the user may be logged on at all (by anyone).
    pub fn allows_logon(&self) -> bool {
        !matches!(self, Password::NoLog)
    }

    /// Checks `given` against this password. Takes about as long for a wrong password as for a
    /// right one, and as long for a user without a password as for one with a hash.
    pub fn verify(&self, given: &str) -> bool {
        match self {
            Password::Plain(p) => {
                // Spend the time of a hash check so that timing does not tell plain from hashed.
                dummy_verify(given);
                constant_time_eq(p.as_bytes(), given.as_bytes())
            }
            Password::Argon2(h) => argon2_verify(h, given.as_bytes()),
            Password::ShaCrypt(h) => ShaCrypt::default()
                .verify_password(given.as_bytes(), h.as_str())
                .is_ok(),
            Password::NoLog | Password::NoPass | Password::AutoOnly | Password::LbyOnly => {
                dummy_verify(given);
                false
            }
        }
    }

    /// The text written into USER DIRECT for this password.
    pub fn directory_text(&self) -> &str {
        match self {
            Password::NoLog => "NOLOG",
            Password::NoPass => "NOPASS",
            Password::AutoOnly => "AUTOONLY",
            Password::LbyOnly => "LBYONLY",
            Password::Plain(s) | Password::Argon2(s) | Password::ShaCrypt(s) => s,
        }
    }
}

thread_local! {
    /// The argon2 working memory of this thread (about 19 MiB with the default parameters),
    /// kept between checks: the allocator would otherwise keep each freed block in a
    /// per-thread arena without reusing it, and a flood of failed logins would grow memory
    /// by the block size per check.
    static BLOCKS: std::cell::RefCell<Vec<argon2::Block>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Checks `given` against an argon2 PHC string, with this thread's working memory.
fn argon2_verify(phc: &str, given: &[u8]) -> bool {
    let Ok(ph) = PasswordHash::new(phc) else {
        return false;
    };
    let (Ok(alg), Some(salt), Some(expected)) = (
        argon2::Algorithm::try_from(ph.algorithm.as_str()),
        ph.salt,
        ph.hash,
    ) else {
        return false;
    };
    let version = match ph.version {
        Some(v) => match argon2::Version::try_from(v) {
            Ok(v) => v,
            Err(_) => return false,
        },
        None => argon2::Version::default(),
    };
    let Ok(params) = argon2::Params::try_from(&ph) else {
        return false;
    };
    let blocks = params.block_count();
    // A hash whose parameters ask for absurd memory is refused rather than obeyed.
    if blocks > 1 << 20 {
        return false;
    }
    let a = Argon2::new(alg, version, params);
    let mut out = vec![0u8; expected.as_bytes().len()];
    let ok = BLOCKS.with(|b| {
        let mut b = b.borrow_mut();
        if b.len() < blocks {
            b.resize(blocks, argon2::Block::default());
        }
        a.hash_password_into_with_memory(given, salt.as_ref(), &mut out, &mut b[..blocks])
            .is_ok()
    });
    ok && constant_time_eq(&out, expected.as_bytes())
}

/// Hashes a new password with argon2id (default parameters, random salt).
pub fn hash(password: &str) -> String {
    Argon2::default()
        .hash_password(password.as_bytes())
        .expect("argon2 hashing with default parameters cannot fail")
        .to_string()
}

/// Verifies against a fixed hash of a random password: the same work as a real check, used when
/// the userid does not exist so that a refusal takes as long as for a real user.
pub fn dummy_verify(given: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let h = DUMMY.get_or_init(|| hash(&generate()));
    if let Ok(ph) = PasswordHash::new(h) {
        let _ = Argon2::default().verify_password(given.as_bytes(), &ph);
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        diff |= (*a.get(i).unwrap_or(&0) ^ *b.get(i).unwrap_or(&0)) as usize;
    }
    diff == 0
}

/// Generates a random password of 12 characters from an alphabet without look-alikes.
pub fn generate() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
    let mut out = String::with_capacity(12);
    let mut buf = [0u8; 64];
    while out.len() < 12 {
        getrandom::fill(&mut buf).expect("the operating system's random source failed");
        for b in buf {
            // Rejection sampling keeps the distribution uniform.
            if (b as usize) < 256 - 256 % ALPHABET.len() && out.len() < 12 {
                out.push(ALPHABET[b as usize % ALPHABET.len()] as char);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2_round_trip() {
        let h = hash("s3cret");
        let p = Password::parse(&h).unwrap();
        assert!(p.verify("s3cret"));
        assert!(!p.verify("S3CRET"));
    }

    #[test]
    fn plain_and_sha_crypt_are_accepted() {
        assert!(Password::parse("pass1").unwrap().verify("pass1"));
        // openssl passwd -6 -salt abcdefgh secret
        let h = "$6$abcdefgh$ltjgWl6579NluT/Vi1nwEvcil.G5Nbc4NiXZaNGStk8PSwGfQv72N2CKPPrVACtLtip/cZ/1GM/O6IND4WQhG.";
        let p = Password::parse(h).unwrap();
        assert!(matches!(p, Password::ShaCrypt(_)));
        assert!(p.verify("secret"));
        assert!(!p.verify("Secret"));
    }

    #[test]
    fn keywords_and_bad_hashes() {
        assert_eq!(Password::parse("autoonly").unwrap(), Password::AutoOnly);
        assert!(!Password::AutoOnly.verify(""));
        assert!(Password::parse("$argon2id$garbage").is_err());
        assert!(Password::parse("$1$md5$x").is_err());
        assert!(!format!("{:?}", Password::Plain("x".into())).contains('x'));
    }

    #[test]
    fn generated_passwords_differ() {
        let a = generate();
        assert_eq!(a.len(), 12);
        assert_ne!(a, generate());
    }
}
