//! Cursor pagination: a page of rows plus the opaque cursor of the next page. Cursors are
//! the last row's id as text; ids are UUIDv7, so id order is creation order.

/// Which page to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// Continue after this cursor (exclusive); `None` for the first page.
    pub after: Option<String>,
    /// Most rows to return, 1..=`PageRequest::MAX_LIMIT`.
    pub limit: u32,
}

impl PageRequest {
    /// The largest page any list returns.
    pub const MAX_LIMIT: u32 = 500;
    /// The page size when the caller names none.
    pub const DEFAULT_LIMIT: u32 = 50;

    /// The first page of `limit` rows (clamped to 1..=MAX_LIMIT).
    #[must_use]
    pub fn first(limit: u32) -> Self {
        Self {
            after: None,
            limit: limit.clamp(1, Self::MAX_LIMIT),
        }
    }

    /// The page after `cursor`.
    #[must_use]
    pub fn after(cursor: impl Into<String>, limit: u32) -> Self {
        Self {
            after: Some(cursor.into()),
            limit: limit.clamp(1, Self::MAX_LIMIT),
        }
    }

    /// How many rows an engine fetches: one more than the limit, to learn whether a next
    /// page exists without a count query.
    #[must_use]
    pub fn fetch_limit(&self) -> i64 {
        i64::from(self.limit.clamp(1, Self::MAX_LIMIT)) + 1
    }

    /// Cuts the over-fetched `rows` to a page; `cursor_of` gives a row's cursor.
    pub fn finish<T>(&self, mut rows: Vec<T>, cursor_of: impl Fn(&T) -> String) -> Page<T> {
        let limit = self.limit.clamp(1, Self::MAX_LIMIT) as usize;
        let has_more = rows.len() > limit;
        rows.truncate(limit);
        let next_cursor = if has_more {
            rows.last().map(cursor_of)
        } else {
            None
        };
        Page {
            items: rows,
            next_cursor,
        }
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The rows, in the list's order.
    pub items: Vec<T>,
    /// The cursor of the next page, when there is one.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// A page with nothing on it and nothing after it.
    #[must_use]
    pub fn empty() -> Self {
        Page {
            items: Vec::new(),
            next_cursor: None,
        }
    }

    /// The same page with each item mapped (the cursor is unchanged).
    #[must_use]
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next_cursor: self.next_cursor,
        }
    }
}
