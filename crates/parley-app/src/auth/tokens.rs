//! API keys and the JWTs they are exchanged for (`POST /api/v1/auth/token`).
//!
//! A key is a pair: its id (`key_…`, public) and a secret (`pk_` + 256 random bits,
//! shown once, stored as SHA-256). The JWT is HS256-signed with a key derived from the
//! master key; its expiry is checked against the injected clock, and every use re-reads
//! the key so revocation takes effect at once rather than when the token expires.

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use parley_domain::{ApiKeyId, AuditAction, OrgId};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::{Principal, Subject, random_token, secret_hash};
use crate::{App, AppError};

const ISSUER: &str = "parley";

/// The claims of an API-key token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenClaims {
    /// Always `parley`.
    pub iss: String,
    /// The API key id.
    pub sub: String,
    /// The key's organization.
    pub org: String,
    /// Issued at (seconds).
    pub iat: i64,
    /// Expires at (seconds).
    pub exp: i64,
    /// A unique token id.
    pub jti: String,
}

/// A token issued for an API key.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The JWT.
    pub token: String,
    /// When it stops working.
    pub expires_at: DateTime<Utc>,
    /// The key's organization.
    pub organization_id: OrgId,
}

/// A fresh API key secret.
pub fn new_api_key_secret() -> Result<String, AppError> {
    Ok(format!("pk_{}", random_token()?))
}

/// A random 20-character password for accounts created by the CLI or bootstrap, printed
/// once (about 120 bits from the same source as API key secrets).
pub fn new_password() -> Result<String, AppError> {
    Ok(random_token()?.chars().take(20).collect())
}

impl App {
    /// Exchanges an API key's id and secret for a JWT, for a caller in this process (the
    /// command line, tests): [`App::issue_token_from`] with the client `local`.
    pub async fn issue_token(
        &self,
        key_id: ApiKeyId,
        secret: &str,
    ) -> Result<IssuedToken, AppError> {
        self.issue_token_from("local", key_id, secret).await
    }

    /// Exchanges an API key's id and secret for a JWT. Failures are limited per client
    /// address and per key id (429 past the limits).
    pub async fn issue_token_from(
        &self,
        client: &str,
        key_id: ApiKeyId,
        secret: &str,
    ) -> Result<IssuedToken, AppError> {
        let attempt = self
            .throttle
            .admit_key(client, &key_id.to_string(), self.clock.now())?;
        // An unknown id and a wrong secret read the same, so ids cannot be probed.
        let refused = || AppError::Unauthenticated("unknown API key or wrong secret");
        let stored = self.store.find_api_key(key_id).await?;
        let matches = stored.as_ref().is_some_and(|stored| {
            secret_hash(secret)
                .as_bytes()
                .ct_eq(stored.secret_hash.as_bytes())
                .into()
        });
        let Some(stored) = stored.filter(|_| matches) else {
            attempt.finish(false, self.clock.now());
            return Err(refused());
        };
        attempt.finish(true, self.clock.now());
        if stored.key.revoked_at.is_some() {
            return Err(AppError::Unauthenticated("this API key was revoked"));
        }
        let now = self.clock.now();
        let ttl = chrono::Duration::from_std(self.settings.token_ttl)
            .unwrap_or(chrono::Duration::hours(1));
        let expires_at = now + ttl;
        let claims = TokenClaims {
            iss: ISSUER.to_owned(),
            sub: key_id.to_string(),
            org: stored.key.organization_id.to_string(),
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
            jti: random_token()?,
        };
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(&self.keys.jwt),
        )
        .map_err(|e| AppError::Internal(Box::new(e)))?;
        let org = stored.key.organization_id;
        let entry = self.audit(
            Some(org),
            &key_id.to_string(),
            AuditAction::TokenIssued,
            &key_id.to_string(),
            serde_json::json!({}),
        );
        self.store.append_audit(entry).await?;
        Ok(IssuedToken {
            token,
            expires_at,
            organization_id: org,
        })
    }

    /// Checks a bearer JWT: signature, issuer, expiry (by the injected clock), and that its
    /// key still exists unrevoked. The key's current permissions apply.
    pub async fn authenticate_bearer(&self, token: &str) -> Result<Principal, AppError> {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.validate_exp = false; // checked below against the injected clock
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        let data = jsonwebtoken::decode::<TokenClaims>(
            token,
            &DecodingKey::from_secret(&self.keys.jwt),
            &validation,
        )
        .map_err(|_| {
            AppError::Unauthenticated("the token is malformed or its signature is wrong")
        })?;
        if data.claims.exp <= self.clock.now().timestamp() {
            return Err(AppError::Unauthenticated("the token has expired"));
        }
        let key_id: ApiKeyId = data
            .claims
            .sub
            .parse()
            .map_err(|_| AppError::Unauthenticated("the token names no API key"))?;
        let stored = self
            .store
            .find_api_key(key_id)
            .await?
            .ok_or(AppError::Unauthenticated(
                "the token's API key no longer exists",
            ))?;
        if stored.key.revoked_at.is_some() {
            return Err(AppError::Unauthenticated("this API key was revoked"));
        }
        Ok(Principal {
            subject: Subject::ApiKey(key_id),
            home: stored.key.organization_id,
            permissions: stored.key.permissions,
        })
    }
}
