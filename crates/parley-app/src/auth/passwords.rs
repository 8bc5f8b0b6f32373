//! Password hashing with Argon2id (OWASP's first choice), PHC strings, configurable cost.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::AppError;

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Argon2Cost {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Iterations.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for Argon2Cost {
    /// OWASP's minimum recommendation: 19 MiB, 2 iterations, 1 lane.
    fn default() -> Self {
        Self {
            memory_kib: 19 * 1024,
            iterations: 2,
            parallelism: 1,
        }
    }
}

fn hasher(cost: Argon2Cost) -> Result<Argon2<'static>, AppError> {
    let params = Params::new(cost.memory_kib, cost.iterations, cost.parallelism, None)
        .map_err(|_| AppError::Internal("invalid Argon2 parameters".into()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password, checking the length policy first (10 to 1024 characters).
pub fn hash_password(password: &str, cost: Argon2Cost) -> Result<String, AppError> {
    let chars = password.chars().count();
    if chars < 10 {
        return Err(AppError::invalid(
            "password",
            "must be at least 10 characters",
        ));
    }
    if chars > 1024 {
        return Err(AppError::invalid(
            "password",
            "must be at most 1024 characters",
        ));
    }
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| AppError::Internal(Box::new(e)))?;
    let salt = SaltString::encode_b64(&salt)
        .map_err(|_| AppError::Internal("salt encoding failed".into()))?;
    hasher(cost)?
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|_| AppError::Internal("password hashing failed".into()))
}

/// True when `password` matches the PHC string `hash` (whatever cost it was made with).
#[must_use]
pub fn verify_password(password: &str, hash: &str) -> bool {
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: Argon2Cost = Argon2Cost {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    #[test]
    fn hashes_verify_and_policy_is_enforced() {
        let hash = hash_password("correct horse battery", CHEAP).unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", &hash));
        assert!(!verify_password("wrong horse battery", &hash));
        assert!(!verify_password("anything", "not a phc string"));
        let short = hash_password("short", CHEAP).unwrap_err();
        assert!(matches!(short, AppError::Invalid(ref e) if e[0].field == "password"));
    }
}
