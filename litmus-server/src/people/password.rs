//! Passwords: argon2id hashes (the `argon2` crate with its default parameters, OWASP's
//! recommendation: 19 MiB, 2 passes, 1 lane) in PHC strings, and the policy a new password
//! meets. Hashing is slow on purpose, so callers run it off the async threads
//! (`crate::service::people`).

use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

/// The shortest password accepted.
pub const MIN_LENGTH: usize = 10;

/// The longest password accepted (bytes), so hashing cost stays bounded.
pub const MAX_LENGTH: usize = 256;

/// Why a new password is refused, in words for the person choosing it; none when it is fine.
pub fn weakness(password: &str, email: &str) -> Option<String> {
    let chars = password.chars().count();
    if chars < MIN_LENGTH {
        return Some(format!(
            "the password must have at least {MIN_LENGTH} characters"
        ));
    }
    if password.len() > MAX_LENGTH {
        return Some(format!("the password must have at most {MAX_LENGTH} bytes"));
    }
    if password.chars().all(|c| password.starts_with(c)) {
        return Some("the password must not repeat one character".into());
    }
    if !email.is_empty() && password.eq_ignore_ascii_case(email) {
        return Some("the password must not be the email address".into());
    }
    None
}

/// The PHC string of `password`'s argon2id hash with a fresh random salt.
pub fn hash(password: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| format!("hashing the password: {e}"))
}

/// Whether `password` matches the PHC string `phc` (false for a malformed one).
pub fn verify(password: &str, phc: &str) -> bool {
    PasswordHash::new(phc).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A hash of no one's password, verified against when the email is unknown so that an answer
/// takes as long for an unknown address as for a wrong password (no user enumeration by time).
pub fn decoy() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash("decoy password of nobody").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_only_their_password() {
        let phc = hash("correct horse battery").expect("hash");
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify("correct horse battery", &phc));
        assert!(!verify("correct horse batterY", &phc));
        assert!(!verify("correct horse battery", "not a phc string"));
        // A fresh salt each time.
        assert_ne!(hash("correct horse battery").expect("hash"), phc);
        assert!(!verify("anything at all", decoy()));
    }

    #[test]
    fn weak_passwords_are_refused_with_a_reason() {
        assert!(weakness("short", "a@b.co").is_some());
        assert!(weakness("aaaaaaaaaaaa", "a@b.co").is_some());
        assert!(weakness("Alice@Example.com", "alice@example.com").is_some());
        assert!(weakness(&"x".repeat(200).replace('x', "xy"), "a@b.co").is_some());
        assert_eq!(weakness("a fine long passphrase", "a@b.co"), None);
    }
}
