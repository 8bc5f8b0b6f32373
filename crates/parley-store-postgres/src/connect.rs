//! The PostgreSQL engine: its pool, its error mapping and the clauses it spells its own
//! way.

use std::str::FromStr;
use std::time::Duration;

use parley_store::StoreError;
use parley_store_sql::{Engine, sql};
use sqlx::PgPool;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::Postgres;
use crate::rows::map_err;

#[async_trait::async_trait]
impl Engine for Postgres {
    type Db = sqlx::Postgres;
    const NAME: &'static str = "postgres";
    const BEGIN_WRITE: &'static str = "BEGIN";
    const INSERT_ORGANIZATION: &'static str = "INSERT INTO organizations (id, name, parent_id, \
         path, region, default_country, timezone, locale, created_at, updated_at, help_text, \
         contact_hours) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $11)";
    const LOCK_ORGANIZATIONS: Option<&'static str> =
        Some("LOCK TABLE organizations IN SHARE ROW EXCLUSIVE MODE");

    const CONTACT_JOIN: sql::ContactJoin = sql::ContactJoin {
        join: "JOIN contacts ct ON ct.organization_id = c.organization_id AND ct.id = c.contact_id",
        address: "(SELECT a.address FROM contact_addresses a WHERE a.contact_id = c.contact_id \
                  AND a.organization_id = c.organization_id AND a.channel_kind = {kind} \
                  ORDER BY a.address LIMIT 1)",
        fields: "ct.fields::text",
        matching: "SELECT s.id FROM contacts s WHERE s.customer_id = {text} \
             AND s.organization_id = {org} \
             UNION SELECT a.contact_id FROM contact_addresses a \
             WHERE a.address = {address} AND a.organization_id = {org} \
             UNION SELECT s.id FROM contacts s WHERE {name}::text IS NOT NULL \
             AND s.organization_id = {org} \
             AND (LOWER(COALESCE(s.fields->>'first_name', '') || ' ' || \
                  COALESCE(s.fields->>'last_name', '')) LIKE {name} ESCAPE '\\' \
               OR LOWER(s.fields->>'name') LIKE {name} ESCAPE '\\')",
    };

    fn map_err(e: sqlx::Error) -> StoreError {
        map_err(e)
    }

    fn json_texts(param: &str) -> String {
        format!("SELECT jsonb_array_elements_text({param}::jsonb)")
    }

    /// Connects to `url` (`postgres://…`); migrations take an advisory lock, so
    /// concurrent starts apply them once.
    async fn open(url: &str) -> Result<(PgPool, Self), StoreError> {
        let options = PgConnectOptions::from_str(url)
            .map_err(map_err)?
            .application_name("parley");
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await
            .map_err(map_err)?;
        Ok((pool, Postgres))
    }
}

/// PostgreSQL reads channels through the pool (the default).
impl parley_store_sql::ChannelsEngine for Postgres {}
