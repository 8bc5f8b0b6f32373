#![doc = include_str!("../README.md")]

mod audit;
mod campaign;
mod channel;
mod clock;
mod contact;
mod conversation;
pub mod csv;
mod event;
mod flow;
mod id;
mod import;
mod message;
mod money;
mod pace;
mod tenancy;
mod timestamp;
pub mod values;
mod webhook;

pub use audit::{AuditAction, AuditEntry, NewAuditEntry};
pub use campaign::{Campaign, CampaignStatus, Recipient, RecipientState, SkipReason, WaitReason};
pub use channel::{Channel, Provider};
pub use clock::{Clock, SystemClock};
pub use contact::{
    BUILTIN_FIELDS, ChannelAddress, ChannelKind, Contact, FieldDefinition, FieldKey, FieldType,
    MAX_FIELD_KEY_LEN,
};
pub use conversation::{
    CannedReply, Conversation, ConversationState, Message, Note, OutcomeStatus, Queue, QueueMember,
    StatusCategory, StatusReport,
};
pub use event::{EventEnvelope, EventType, NewEvent};
pub use flow::{FlowRecord, FlowVersion};
pub use id::{
    ApiKeyId, AuditId, CampaignId, ChannelId, ContactId, ConversationId, EventId, FlowId, IdError,
    IdSequence, ImportId, InvitationId, JobId, MessageId, NoteId, OrgId, SessionId, UserId,
    WebhookId,
};
pub use import::{ImportCounters, ImportFormat, ImportOptions, ImportRecord, ImportStatus};
pub use message::{Direction, Encoding, MessageStatus};
pub use money::{Money, MoneyError};
pub use pace::{Grant, Pace};
pub use tenancy::{
    ApiKey, ContactHours, CountryCode, DateOrder, Invitation, InvitationState, Membership,
    NewApiKey, NewOrganization, NewUser, Organization, OrganizationPatch, Patch, Permission,
    PermissionSet, Role, TimeZoneName, User, ValueError,
};
pub use timestamp::{from_millis, to_millis};
pub use webhook::{
    AttemptTrigger, CustomValueEndpoint, Delivery, DeliveryAttempt, DeliveryStatus, DisabledReason,
    SftpAccess, SftpInbox, Subscription, WebhookEndpoint,
};
