#![doc = include_str!("../README.md")]

mod audit;
mod clock;
mod event;
mod id;
mod money;
mod tenancy;
mod timestamp;

pub use audit::{AuditAction, AuditEntry, NewAuditEntry};
pub use clock::{Clock, SystemClock};
pub use event::{EventEnvelope, EventType, NewEvent};
pub use id::{
    ApiKeyId, AuditId, ContactId, ConversationId, EventId, IdError, JobId, MessageId, OrgId,
    SessionId, UserId,
};
pub use money::{Money, MoneyError};
pub use tenancy::{
    ApiKey, CountryCode, DateOrder, Membership, NewApiKey, NewOrganization, NewUser, Organization,
    OrganizationPatch, Patch, Permission, PermissionSet, Role, TimeZoneName, User, ValueError,
};
pub use timestamp::{from_millis, to_millis};
