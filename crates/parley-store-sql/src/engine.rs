//! What differs between the engines, named in one place. [`Engine`] says which sqlx driver
//! an engine uses, how its write transactions begin, how its errors map onto `StoreError`
//! and how it opens; the port modules' `…Engine` traits (its supertraits) name the
//! operations each engine writes its own way — claims with `SKIP LOCKED` or under SQLite's
//! write lock, the bulk import writers, SQLite's direct connection. Everything else is
//! written once, on [`SqlStore`](crate::SqlStore).

mod campaigns;
mod channels;
mod contacts;
mod conversations;
mod imports;
mod jobs;
mod webhooks;

use parley_store::StoreError;
use sqlx::{Database, Pool};

pub use campaigns::CampaignsEngine;
pub use channels::ChannelsEngine;
pub use contacts::ContactsEngine;
pub use conversations::ConversationsEngine;
pub use imports::ImportsEngine;
pub use jobs::JobsEngine;
pub use webhooks::WebhooksEngine;

use crate::dialect::Dialect;

/// A connection of engine `E`'s driver (a pooled connection or a transaction derefs to it).
pub type Conn<E> = <<E as Engine>::Db as Database>::Connection;

/// A row of engine `E`'s driver.
pub type SqlRow<E> = <<E as Engine>::Db as Database>::Row;

/// A storage engine: a sqlx driver and the few things Parley does differently on it.
#[async_trait::async_trait]
pub trait Engine:
    Send
    + Sync
    + Sized
    + std::fmt::Debug
    + 'static
    + JobsEngine
    + WebhooksEngine
    + ImportsEngine
    + ContactsEngine
    + ConversationsEngine
    + CampaignsEngine
    + ChannelsEngine
{
    /// The sqlx driver.
    type Db: Dialect;

    /// `sqlite` or `postgres`, for logs and `/readyz`.
    const NAME: &'static str;

    /// The statement that begins a transaction that writes: SQLite's `BEGIN IMMEDIATE`
    /// takes the write lock at once (a deferred transaction that reads first would fail
    /// when it upgrades); PostgreSQL's `BEGIN` locks rows as it writes them.
    const BEGIN_WRITE: &'static str;

    /// A driver error as a `StoreError`: unique violations as `Conflict` with the
    /// constraint's stable name, foreign keys as `NotFound`, lost connections, lock
    /// timeouts and serialization failures as `Unavailable`.
    fn map_err(e: sqlx::Error) -> StoreError;

    /// Inserts an organization (`$1` id, `$2` name, `$3` parent, `$4` path, `$5` region,
    /// `$6` country, `$7` time zone, `$8` date order, `$9` time, `$10` help text, `$11`
    /// contact hours): SQLite also gives it the next compact `seq` for its contact tables
    /// (its migration 0004), under the write lock.
    const INSERT_ORGANIZATION: &'static str;

    /// How the conversation lists reach a conversation's contact (SQLite keeps contacts on
    /// compact integer keys, PostgreSQL on their ids).
    const CONTACT_JOIN: crate::sql::ContactJoin;

    /// The statement that keeps a second process from bootstrapping an empty database at
    /// the same time, if the write transaction does not already (SQLite's does).
    const LOCK_ORGANIZATIONS: Option<&'static str>;

    /// A subquery of the texts in the JSON array bound as `param` (for `x IN (…)`): the
    /// one clause whose spelling differs where a statement takes a list of values.
    fn json_texts(param: &str) -> String;

    /// Closes what the engine opened beside the pool (called before the pool closes).
    fn close(&self) {}

    /// Opens the pool for `url` and the engine's own state.
    async fn open(url: &str) -> Result<(Pool<Self::Db>, Self), StoreError>;
}
