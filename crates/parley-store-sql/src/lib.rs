#![doc = include_str!("../README.md")]

mod api_keys;
mod audit;
mod campaigns;
mod channels;
mod contacts;
mod conversations;
pub mod dialect;
mod engine;
mod flows;
mod idempotency;
mod imports;
mod inboxes;
mod invitations;
mod jobs;
pub mod migrations;
mod organizations;
mod outbox;
mod outcomes;
mod query;
mod reads;
mod sessions;
pub mod sql;
mod store;
mod users;
mod webhooks;

use std::sync::Arc;

use parley_store::StoreError;
use sqlx::pool::PoolConnection;
use sqlx::{Pool, Transaction};

pub use audit::insert_audit;
pub use contacts::filters_json;
pub use engine::{
    CampaignsEngine, ChannelsEngine, Conn, ContactsEngine, ConversationsEngine, Engine,
    ImportsEngine, JobsEngine, SqlRow, WebhooksEngine,
};
pub use outbox::insert_event;
pub use query::{Cols, Param, Sql, query, query_bound, query_built};

/// A write transaction of engine `E`.
pub type Tx<E> = Transaction<'static, <E as Engine>::Db>;

/// Every port of `parley-store` on one database of engine `E`: the statements both
/// engines share run here, and the rest through `E`'s [`Engine`] operations.
pub struct SqlStore<E: Engine> {
    pool: Pool<E::Db>,
    engine: Arc<E>,
    /// The conversation list statements with the engine's contact join, built once.
    lists: Arc<sql::ConversationLists>,
}

impl<E: Engine> Clone for SqlStore<E> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            engine: Arc::clone(&self.engine),
            lists: Arc::clone(&self.lists),
        }
    }
}

impl<E: Engine> std::fmt::Debug for SqlStore<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlStore")
            .field("engine", &self.engine)
            .finish_non_exhaustive()
    }
}

impl<E: Engine> SqlStore<E> {
    /// Opens the database at `url` and applies pending migrations unless `migrate` is
    /// false.
    pub async fn connect(url: &str, migrate: bool) -> Result<Self, StoreError> {
        let (pool, engine) = E::open(url).await?;
        let store = Self {
            pool,
            engine: Arc::new(engine),
            lists: Arc::new(sql::ConversationLists::new(E::CONTACT_JOIN)),
        };
        if migrate {
            store.migrate().await?;
        }
        Ok(store)
    }

    /// Applies every pending migration.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        migrations::run(&self.pool).await
    }

    /// The connection pool.
    #[must_use]
    pub fn pool(&self) -> &Pool<E::Db> {
        &self.pool
    }

    /// The engine's own state.
    #[must_use]
    pub fn engine(&self) -> &E {
        &self.engine
    }

    /// A pooled connection, for reads and single statements.
    pub async fn conn(&self) -> Result<PoolConnection<E::Db>, StoreError> {
        self.pool.acquire().await.map_err(E::map_err)
    }

    /// A transaction that writes, begun as the engine begins those
    /// ([`Engine::BEGIN_WRITE`]).
    pub async fn write(&self) -> Result<Tx<E>, StoreError> {
        self.pool
            .begin_with(E::BEGIN_WRITE)
            .await
            .map_err(E::map_err)
    }
}

/// Commits `tx`.
pub async fn commit<E: Engine>(tx: Tx<E>) -> Result<(), StoreError> {
    tx.commit().await.map_err(E::map_err)
}
