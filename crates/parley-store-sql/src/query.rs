//! Writing a statement once for both engines: [`query`] starts one, [`Sql::bind`] takes
//! any [`Param`] (text, integers, flags, bytes, each optional), and the fetch methods run
//! it on a connection — a pooled one ([`SqlStore::conn`](crate::SqlStore::conn)) or a
//! transaction's — mapping errors through the engine. [`Cols`] reads a row through the
//! shared decoders of `parley-store`.

use parley_store::StoreError;
use parley_store::decode::RowSource;
use sqlx::SqlSafeStr;

use crate::dialect::{Dialect, Statement};
use crate::engine::{Conn, Engine, SqlRow};

/// A statement of engine `E` with its values bound so far.
#[must_use = "a statement does nothing until it is fetched or executed"]
pub struct Sql<E: Engine>(Statement<E::Db>);

/// Starts statement `text` (`$1`, `$2`, … for its values, on both engines).
pub fn query<E: Engine>(text: impl SqlSafeStr) -> Sql<E> {
    Sql(sqlx::query(text))
}

/// Starts a statement whose text was put together at run time from constants and
/// [`Engine`] clauses (never from input: values are always bound).
pub fn query_built<E: Engine>(text: String) -> Sql<E> {
    Sql(sqlx::query(sqlx::AssertSqlSafe(text)))
}

/// Starts a statement put together for a filter (`sql::ConversationLists`) with its
/// values bound in order.
pub fn query_bound<E: Engine>(statement: &crate::sql::Statement) -> Sql<E> {
    statement
        .binds
        .iter()
        .fold(query_built(statement.sql.clone()), Sql::bind)
}

impl<E: Engine> Sql<E> {
    /// Binds the next value.
    pub fn bind(self, value: impl Param) -> Self {
        Self(value.bind_to::<E::Db>(self.0))
    }

    /// Every row.
    pub async fn fetch_all(self, c: &mut Conn<E>) -> Result<Vec<SqlRow<E>>, StoreError> {
        E::Db::fetch_all(c, self.0).await.map_err(E::map_err)
    }

    /// The first row, if any.
    pub async fn fetch_optional(self, c: &mut Conn<E>) -> Result<Option<SqlRow<E>>, StoreError> {
        E::Db::fetch_optional(c, self.0).await.map_err(E::map_err)
    }

    /// The first row; `NotFound` when there is none.
    pub async fn fetch_one(self, c: &mut Conn<E>) -> Result<SqlRow<E>, StoreError> {
        self.fetch_optional(c).await?.ok_or(StoreError::NotFound)
    }

    /// How many rows it changed.
    pub async fn execute(self, c: &mut Conn<E>) -> Result<u64, StoreError> {
        E::Db::execute(c, self.0).await.map_err(E::map_err)
    }

    /// The first row decoded by `decode`, if any.
    pub async fn fetch_optional_as<T>(
        self,
        c: &mut Conn<E>,
        decode: impl Fn(&Cols<'_, E>) -> Result<T, StoreError> + Send,
    ) -> Result<Option<T>, StoreError> {
        self.fetch_optional(c)
            .await?
            .map(|row| decode(&Cols(&row)))
            .transpose()
    }

    /// Every row, each decoded by `decode`.
    pub async fn fetch_all_as<T>(
        self,
        c: &mut Conn<E>,
        decode: impl Fn(&Cols<'_, E>) -> Result<T, StoreError> + Send,
    ) -> Result<Vec<T>, StoreError> {
        self.fetch_all(c)
            .await?
            .iter()
            .map(|row| decode(&Cols(row)))
            .collect()
    }

    /// The integer in the first column of the first row; `NotFound` when there is no row.
    pub async fn fetch_int(self, c: &mut Conn<E>) -> Result<i64, StoreError> {
        let row = self.fetch_one(c).await?;
        Cols::<E>(&row).int_at(0)
    }

    /// The integer in the first column of the first row, if there is a row.
    pub async fn fetch_optional_int(self, c: &mut Conn<E>) -> Result<Option<i64>, StoreError> {
        match self.fetch_optional(c).await? {
            Some(row) => Cols::<E>(&row).int_at(0).map(Some),
            None => Ok(None),
        }
    }

    /// The text in the first column of the first row, if there is a row (NULL reads as
    /// `None` too).
    pub async fn fetch_optional_text(self, c: &mut Conn<E>) -> Result<Option<String>, StoreError> {
        match self.fetch_optional(c).await? {
            Some(row) => Cols::<E>(&row).opt_text_at(0),
            None => Ok(None),
        }
    }

    /// The text in the first column of every row.
    pub async fn fetch_texts(self, c: &mut Conn<E>) -> Result<Vec<String>, StoreError> {
        let rows = self.fetch_all(c).await?;
        rows.iter().map(|r| Cols::<E>(r).text_at(0)).collect()
    }
}

/// A row of engine `E` seen through the shared decoders.
pub struct Cols<'a, E: Engine>(pub &'a SqlRow<E>);

impl<E: Engine> Cols<'_, E> {
    /// The text in column `index`, NULL as `None`.
    pub fn opt_text_at(&self, index: usize) -> Result<Option<String>, StoreError> {
        E::Db::text_at(self.0, index).map_err(E::map_err)
    }

    /// The text in column `index`.
    pub fn text_at(&self, index: usize) -> Result<String, StoreError> {
        self.opt_text_at(index)?
            .ok_or_else(|| StoreError::corrupt(format!("column {index} is NULL")))
    }

    /// The integer in column `index`, NULL as `None`.
    pub fn opt_int_at(&self, index: usize) -> Result<Option<i64>, StoreError> {
        E::Db::int_at(self.0, index).map_err(E::map_err)
    }

    /// The integer in column `index`.
    pub fn int_at(&self, index: usize) -> Result<i64, StoreError> {
        self.opt_int_at(index)?
            .ok_or_else(|| StoreError::corrupt(format!("column {index} is NULL")))
    }

    /// Flag column `column`, NULL as `None`.
    pub fn opt_flag(&self, column: &'static str) -> Result<Option<bool>, StoreError> {
        E::Db::flag(self.0, column).map_err(E::map_err)
    }
}

impl<E: Engine> RowSource for Cols<'_, E> {
    fn opt_text(&self, column: &'static str) -> Result<Option<String>, StoreError> {
        E::Db::text(self.0, column).map_err(E::map_err)
    }
    fn opt_int(&self, column: &'static str) -> Result<Option<i64>, StoreError> {
        E::Db::int(self.0, column).map_err(E::map_err)
    }
    fn opt_bytes(&self, column: &'static str) -> Result<Option<Vec<u8>>, StoreError> {
        E::Db::bytes(self.0, column).map_err(E::map_err)
    }
}

/// A value a statement can bind: text, an integer, a flag or bytes, owned or borrowed,
/// each optional (`None` binds NULL).
pub trait Param {
    /// Binds `self` as the statement's next value.
    fn bind_to<D: Dialect>(self, q: Statement<D>) -> Statement<D>;
}

macro_rules! text_param {
    ($($t:ty),*) => {$(
        impl Param for $t {
            fn bind_to<D: Dialect>(self, q: Statement<D>) -> Statement<D> {
                D::bind_text(q, Some(self.as_ref()))
            }
        }
        impl Param for Option<$t> {
            fn bind_to<D: Dialect>(self, q: Statement<D>) -> Statement<D> {
                D::bind_text(q, self.as_ref().map(|v| v.as_ref()))
            }
        }
    )*};
}
text_param!(&str, String, &String);

impl Param for &Option<String> {
    fn bind_to<D: Dialect>(self, q: Statement<D>) -> Statement<D> {
        D::bind_text(q, self.as_deref())
    }
}

macro_rules! int_param {
    ($($t:ty),*) => {$(
        impl Param for $t {
            fn bind_to<D: Dialect>(self, q: Statement<D>) -> Statement<D> {
                D::bind_int(q, Some(i64::from(self)))
            }
        }
        impl Param for Option<$t> {
            fn bind_to<D: Dialect>(self, q: Statement<D>) -> Statement<D> {
                D::bind_int(q, self.map(i64::from))
            }
        }
    )*};
}
int_param!(i64, i32, u32, u16, u8);

impl Param for bool {
    fn bind_to<D: Dialect>(self, q: Statement<D>) -> Statement<D> {
        D::bind_flag(q, Some(self))
    }
}

impl Param for Option<bool> {
    fn bind_to<D: Dialect>(self, q: Statement<D>) -> Statement<D> {
        D::bind_flag(q, self)
    }
}

impl Param for &[u8] {
    fn bind_to<D: Dialect>(self, q: Statement<D>) -> Statement<D> {
        D::bind_bytes(q, Some(self))
    }
}

impl Param for Option<&[u8]> {
    fn bind_to<D: Dialect>(self, q: Statement<D>) -> Statement<D> {
        D::bind_bytes(q, self)
    }
}

impl Param for Vec<u8> {
    fn bind_to<D: Dialect>(self, q: Statement<D>) -> Statement<D> {
        D::bind_bytes(q, Some(&self))
    }
}

impl Param for &Vec<u8> {
    fn bind_to<D: Dialect>(self, q: Statement<D>) -> Statement<D> {
        D::bind_bytes(q, Some(self))
    }
}

impl Param for Option<Vec<u8>> {
    fn bind_to<D: Dialect>(self, q: Statement<D>) -> Statement<D> {
        D::bind_bytes(q, self.as_deref())
    }
}

impl Param for &crate::sql::Bind {
    fn bind_to<D: Dialect>(self, q: Statement<D>) -> Statement<D> {
        match self {
            crate::sql::Bind::Text(t) => D::bind_text(q, Some(t)),
            crate::sql::Bind::Int(n) => D::bind_int(q, Some(*n)),
        }
    }
}
