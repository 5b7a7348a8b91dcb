//! Email addresses as the host stores and compares them: one rule for
//! users, accounts and CRM records, so an address typed in one place finds
//! the same address stored by another.

/// An address that cannot be stored (no `@`, an empty side, whitespace or
/// control characters, or longer than 320 bytes).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an email address")]
pub struct InvalidEmail(pub String);

/// Longest address accepted, in bytes (RFC 5321's 64-byte local part, `@`
/// and 255-byte domain, rounded up).
pub const MAX_EMAIL_BYTES: usize = 320;

/// Normalises an email address for storage and comparison: trimmed and
/// lower-cased (the local part is case-insensitive in practice everywhere).
pub fn normalize_email(email: &str) -> Result<String, InvalidEmail> {
    let email = email.trim().to_lowercase();
    let valid = email.len() <= MAX_EMAIL_BYTES
        && email.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && !domain.is_empty() && !domain.contains('@')
        })
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if valid {
        Ok(email)
    } else {
        Err(InvalidEmail(email))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_trimmed_and_lower_cased() {
        assert_eq!(
            normalize_email("  Ann@Example.COM ").unwrap(),
            "ann@example.com"
        );
    }

    #[test]
    fn malformed_addresses_are_refused_and_quoted() {
        for bad in [
            "",
            "ann",
            "@example.com",
            "ann@",
            "a@b@c",
            "a b@c.d",
            "a\u{0}@b",
        ] {
            let err = normalize_email(bad).unwrap_err();
            assert!(
                err.to_string().ends_with("is not an email address"),
                "{err}"
            );
        }
        assert!(normalize_email(&format!("{}@x.example", "a".repeat(320))).is_err());
    }
}
