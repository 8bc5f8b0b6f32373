//! Tenancy use cases: organizations, members and roles, API keys, the audit log, and the
//! bootstrap of an empty installation. Each function takes the caller's [`Access`] and
//! checks the SPEC §1 permission it needs before touching the store.
//!
//! [`Access`]: crate::auth::Access

mod admin;
mod invitations;
mod keys;
mod members;
mod organizations;

pub use admin::{BootstrapRequest, Bootstrapped};
pub use invitations::{
    ACCEPT_PATH, AcceptRequest, Accepted, CreatedInvitation, INVITATION_TTL, InvitationPreview,
};
pub use keys::{CreateApiKey, CreatedApiKey};
pub use organizations::{ContactHoursInput, HELP_TEXT_MAX, OrganizationSettings};

use crate::AppError;

/// Trims a display name and checks it is 1 to 200 characters.
pub(crate) fn clean_name(field: &str, name: &str) -> Result<String, AppError> {
    let trimmed = name.trim();
    match trimmed.chars().count() {
        0 => Err(AppError::invalid(field, "must not be empty")),
        1..=200 => Ok(trimmed.to_owned()),
        _ => Err(AppError::invalid(field, "must be at most 200 characters")),
    }
}

/// Lower-cases an email and checks its shape (something@something.tld, no spaces).
pub(crate) fn clean_email(email: &str) -> Result<String, AppError> {
    let e = email.trim().to_lowercase();
    let valid = e.len() <= 254
        && !e.contains(char::is_whitespace)
        && e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if valid {
        Ok(e)
    } else {
        Err(AppError::invalid(
            "email",
            "must be an email address such as ann@example.com",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_emails_are_cleaned_or_refused_by_field() {
        assert_eq!(clean_name("name", "  Acme  ").unwrap(), "Acme");
        assert!(
            matches!(clean_name("name", "   "), Err(AppError::Invalid(e)) if e[0].field == "name")
        );
        assert_eq!(clean_email(" Ann@Example.COM ").unwrap(), "ann@example.com");
        for bad in [
            "ann",
            "@example.com",
            "ann@example",
            "ann @example.com",
            "ann@.com",
        ] {
            assert!(
                matches!(clean_email(bad), Err(AppError::Invalid(e)) if e[0].field == "email"),
                "{bad}"
            );
        }
    }
}
