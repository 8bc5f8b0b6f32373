//! Checking one row against the plan, and finding duplicates across rows.
//!
//! A row is valid when its channel address is present and valid and every non-empty
//! value reads as its field's type; otherwise every problem is reported, each with its
//! column, the value and the reason. Empty cells leave a field untouched on update
//! (they never erase a stored value). A problem names its column by the header,
//! shortened to 100 characters.

use std::collections::HashMap;
use std::hash::BuildHasher;

use parley_domain::ChannelKind;

use crate::limits::shorten;
use crate::plan::{ImportPlan, Target};
use crate::source::{CellRef, Row};
use crate::values::{Value, ValueContext, cell_text, parse_value, write_json_string};

/// Characters of a column's header a problem repeats (a header cell may hold 32,767).
const PROBLEM_COLUMN_CHARS: usize = 100;

/// Longest `customer_id` accepted.
pub const MAX_CUSTOMER_ID_CHARS: usize = 128;
/// Longest non-phone channel address accepted.
pub const MAX_ADDRESS_CHARS: usize = 256;

/// A row ready to apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactRow {
    /// The row number (header = 1).
    pub number: u64,
    /// The organization's reference, when the file has one.
    pub customer_id: Option<String>,
    /// The normalised channel address.
    pub address: String,
    /// The values as a JSON object (keys in column order; empty cells left out).
    pub fields_json: String,
}

/// One reason a row was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The column's header (or a description when the problem is the row's).
    pub column: String,
    /// The value as the file held it.
    pub value: String,
    /// Why it was refused.
    pub reason: String,
}

/// A refused row and everything wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RejectedRow {
    /// The row number (header = 1).
    pub number: u64,
    /// At least one problem.
    pub problems: Vec<Problem>,
    /// The original cells, for the rejects report.
    pub original: Vec<String>,
}

/// The verdict on a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    /// Ready to apply.
    Valid(ContactRow),
    /// Refused.
    Rejected(RejectedRow),
}

/// Checks rows against a plan; one per worker thread.
#[derive(Debug)]
pub struct RowValidator<'p> {
    plan: &'p ImportPlan,
    ctx: ValueContext,
}

impl<'p> RowValidator<'p> {
    /// A validator for `plan` with the organization's `ctx`.
    #[must_use]
    pub fn new(plan: &'p ImportPlan, ctx: ValueContext) -> Self {
        Self { plan, ctx }
    }

    /// The problem of a row with values beyond the header's columns, if it has one.
    #[must_use]
    pub fn overflow(&self, row: &Row) -> Option<Problem> {
        let width = self.plan.columns.len();
        (width..row.len())
            .any(|i| !row.cell(i).is_empty())
            .then(|| Problem {
                column: format!("(columns {}–{})", width + 1, row.len()),
                value: String::new(),
                reason: format!(
                    "the row has {} cells but the header has {width}; a quote or delimiter is probably misplaced",
                    row.len()
                ),
            })
    }

    /// The verdict on `row`.
    pub fn check(&mut self, row: &Row) -> Checked {
        let mut problems: Vec<Problem> = self.overflow(row).into_iter().collect();
        let mut customer_id = None;
        let mut address = None;
        let mut json = String::with_capacity(128);
        json.push('{');
        let plan = self.plan;
        for (i, column) in plan.columns.iter().enumerate() {
            let cell = row.cell(i);
            match self.read(i, cell) {
                Ok(Reading::Skipped) => {}
                Ok(Reading::Address(a)) => address = Some(a),
                Ok(Reading::CustomerId(c)) => customer_id = Some(c),
                Ok(Reading::Value(key, value)) => {
                    if json.len() > 1 {
                        json.push(',');
                    }
                    write_json_string(&mut json, key.as_str());
                    json.push(':');
                    value.write_json(&mut json);
                }
                Err(reason) => problems.push(Problem {
                    column: shorten(&column.header, PROBLEM_COLUMN_CHARS),
                    value: cell.to_string(),
                    reason,
                }),
            }
        }
        json.push('}');
        match (problems.is_empty(), address) {
            (true, Some(address)) => Checked::Valid(ContactRow {
                number: row.number,
                customer_id,
                address,
                fields_json: json,
            }),
            _ => Checked::Rejected(RejectedRow {
                number: row.number,
                problems,
                original: row.to_strings(),
            }),
        }
    }
}

/// What one cell becomes under the plan.
#[derive(Debug, Clone, PartialEq)]
pub enum Reading<'p> {
    /// Nothing: an ignored column or an empty cell (which never erases a stored value).
    Skipped,
    /// The channel address, normalised.
    Address(String),
    /// The organization's reference.
    CustomerId(String),
    /// A field's value in its canonical form.
    Value(&'p parley_domain::FieldKey, Value),
}

impl<'p> RowValidator<'p> {
    /// Reads the cell of column `index` as the plan says, or says why it cannot be.
    pub fn read(&mut self, index: usize, cell: CellRef<'_>) -> Result<Reading<'p>, String> {
        let plan = self.plan;
        let Some(column) = plan.columns.get(index) else {
            return Ok(Reading::Skipped);
        };
        match &column.target {
            Target::Ignore => Ok(Reading::Skipped),
            Target::Address if cell.is_empty() => Err("the channel address is missing".to_owned()),
            Target::Address => {
                read_address(plan.channel, cell, &mut self.ctx).map(Reading::Address)
            }
            Target::CustomerId | Target::Field { .. } if cell.is_empty() => Ok(Reading::Skipped),
            Target::CustomerId => {
                let text = cell_text(cell);
                if text.chars().count() > MAX_CUSTOMER_ID_CHARS {
                    Err(format!("longer than {MAX_CUSTOMER_ID_CHARS} characters"))
                } else {
                    Ok(Reading::CustomerId(text.into_owned()))
                }
            }
            Target::Field { key, field_type } => parse_value(*field_type, cell, &mut self.ctx)
                .map(|value| Reading::Value(key, value))
                .map_err(|reason| format!("{reason} (field `{key}`, type {field_type})")),
        }
    }
}

/// Reads a channel address: E.164 for phone channels, a trimmed id without spaces
/// otherwise.
pub fn read_address(
    channel: ChannelKind,
    cell: CellRef<'_>,
    ctx: &mut ValueContext,
) -> Result<String, String> {
    if channel.uses_phone_numbers() {
        return ctx.phones.normalise(cell).map_err(|r| r.into_owned());
    }
    let text = cell_text(cell);
    if text.is_empty()
        || text.chars().count() > MAX_ADDRESS_CHARS
        || text.chars().any(char::is_whitespace)
    {
        return Err(format!(
            "not a {channel} id (1 to {MAX_ADDRESS_CHARS} characters, no spaces)"
        ));
    }
    Ok(text.into_owned())
}

/// A value's fingerprint: 96 bits of two keyed SipHash digests, in 32-bit words so that
/// an entry with its row number takes 16 bytes (a `u64` field would pad it to 24). Two
/// different values of a million-row file share one with a probability near 10⁻¹⁷.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fingerprint {
    hash: [u32; 2],
    check: u32,
}

impl std::hash::Hash for Fingerprint {
    /// The table hashes the first digest alone: it is random already.
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        state.write_u64(u64::from(self.hash[0]) | (u64::from(self.hash[1]) << 32));
    }
}

/// Passes a [`Fingerprint`]'s digest through, rather than hashing it again as the
/// default hasher would.
#[derive(Debug, Default, Clone, Copy)]
struct FingerprintHasher(u64);

impl std::hash::Hasher for FingerprintHasher {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used; this keeps any other input well defined.
        for b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(*b);
        }
    }
    fn write_u64(&mut self, digest: u64) {
        self.0 = digest;
    }
}

type Table = HashMap<Fingerprint, u32, std::hash::BuildHasherDefault<FingerprintHasher>>;

const _: () = assert!(std::mem::size_of::<(Fingerprint, u32)>() == 16);

/// Tables a [`Seen`] is split into.
const SHARDS: usize = 512;

/// The values seen so far with the row that had each, in [`SHARDS`] tables chosen by the
/// fingerprint's second digest (the tables themselves hash by the first). One table of a
/// million entries grows by doubling to 34 MB, and each doubling briefly holds the old
/// table beside the new one (~50 MB for each of the two sets near a million rows); the
/// freed multi-megabyte tables also raised glibc's mmap threshold, after which a
/// long-lived process kept the next imports' large buffers in its heaps (peaks of
/// 220–240 MB from the second import on, against ~185 MB for the first). Shards of a
/// million-row file stay near 70 KB each, grow one at a time, and come from the heap.
#[derive(Debug)]
struct Seen {
    shards: Vec<Table>,
}

impl Default for Seen {
    fn default() -> Self {
        Self {
            shards: std::iter::repeat_with(Table::default)
                .take(SHARDS)
                .collect(),
        }
    }
}

impl Seen {
    fn shard_of(key: &Fingerprint) -> usize {
        usize::try_from(key.check).unwrap_or(0) % SHARDS
    }

    fn get(&self, key: &Fingerprint) -> Option<u32> {
        self.shards[Self::shard_of(key)].get(key).copied()
    }

    fn insert(&mut self, key: Fingerprint, row: u32) {
        self.shards[Self::shard_of(&key)].insert(key, row);
    }
}

/// Finds rows that repeat an earlier row's channel address or `customer_id`. Holds a
/// 96-bit fingerprint and a row number per value (16 bytes, about 36 a row with the hash
/// tables' slack), not the values: a million-row file needs ~70 MB, not ~130 MB as with
/// 128-bit keys (whose 16-byte alignment made each entry 32 bytes). Row numbers above
/// `u32::MAX` are remembered as `u32::MAX` (no accepted file has that many rows).
#[derive(Debug, Default)]
pub struct Deduplicator {
    hashers: (
        std::collections::hash_map::RandomState,
        std::collections::hash_map::RandomState,
    ),
    addresses: Seen,
    customer_ids: Seen,
}

impl Deduplicator {
    /// An empty tracker.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    #[allow(clippy::cast_possible_truncation)]
    fn fingerprint(&self, value: &str) -> Fingerprint {
        let hash = self.hashers.0.hash_one(value);
        // Truncations intended: the words of the first digest, 32 bits of the second.
        Fingerprint {
            hash: [hash as u32, (hash >> 32) as u32],
            check: self.hashers.1.hash_one(value) as u32,
        }
    }

    /// Passes `row` through, or rejects it naming the earlier row it repeats. Only rows
    /// that pass are remembered.
    pub fn check(&mut self, row: ContactRow, original: impl FnOnce() -> Vec<String>) -> Checked {
        let address_key = self.fingerprint(&row.address);
        let customer_key = row.customer_id.as_deref().map(|c| self.fingerprint(c));
        let mut problems = Vec::new();
        if let Some(first) = self.addresses.get(&address_key) {
            problems.push(Problem {
                column: "(channel address)".to_owned(),
                value: row.address.clone(),
                reason: format!("duplicate: row {first} has the same channel address"),
            });
        }
        if let Some(key) = customer_key
            && let Some(first) = self.customer_ids.get(&key)
        {
            problems.push(Problem {
                column: "customer_id".to_owned(),
                value: row.customer_id.clone().unwrap_or_default(),
                reason: format!("duplicate: row {first} has the same customer_id"),
            });
        }
        if !problems.is_empty() {
            return Checked::Rejected(RejectedRow {
                number: row.number,
                problems,
                original: original(),
            });
        }
        let number = u32::try_from(row.number).unwrap_or(u32::MAX);
        self.addresses.insert(address_key, number);
        if let Some(key) = customer_key {
            self.customer_ids.insert(key, number);
        }
        Checked::Valid(row)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use proptest::prelude::*;

    use super::*;

    #[test]
    fn a_problem_names_a_long_header_shortened() {
        use crate::source::OwnedCell;
        let long_header = "n".repeat(5000);
        let header = vec!["Mobile".to_owned(), long_header.clone()];
        let mut options = parley_domain::ImportOptions::default();
        options
            .mapping
            .insert(long_header, Some("customer_id".to_owned()));
        let plan = crate::plan(&header, &options, &[]).unwrap();
        let ctx = ValueContext::new("IE".parse().unwrap(), parley_domain::DateOrder::Dmy);
        let row = Row::from_cells(
            2,
            vec![
                OwnedCell::Text("087 123 4567".into()),
                OwnedCell::Text("c".repeat(200)),
            ],
        );
        let Checked::Rejected(rejected) = RowValidator::new(&plan, ctx).check(&row) else {
            panic!("the customer_id is too long");
        };
        assert_eq!(rejected.problems[0].column, format!("{}…", "n".repeat(100)));
        assert_eq!(
            rejected.original[1],
            "c".repeat(200),
            "the original cells are kept"
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// The deduplicator agrees with a plain map of values to the first row that had
        /// them: a row is refused exactly when its address or customer_id was seen on an
        /// earlier accepted row, each problem naming that row; refused rows are not
        /// remembered. The values come from small sets, so repeats are common and every
        /// shard sees several.
        #[test]
        fn deduplication_matches_a_map_of_first_rows(
            rows in proptest::collection::vec((0u16..2000, proptest::option::of(0u16..600)), 0..3000)
        ) {
            let mut dedupe = Deduplicator::new();
            let (mut addresses, mut customers) = (HashMap::new(), HashMap::new());
            for (i, (address, customer)) in rows.into_iter().enumerate() {
                let number = i as u64 + 2;
                let address = format!("+3538710{address:05}");
                let customer = customer.map(|c| format!("C{c}"));
                let row = ContactRow {
                    number,
                    customer_id: customer.clone(),
                    address: address.clone(),
                    fields_json: "{}".to_owned(),
                };
                let mut expected = Vec::new();
                if let Some(first) = addresses.get(&address) {
                    expected.push(format!("duplicate: row {first} has the same channel address"));
                }
                if let Some(first) = customer.as_ref().and_then(|c| customers.get(c)) {
                    expected.push(format!("duplicate: row {first} has the same customer_id"));
                }
                match dedupe.check(row, Vec::new) {
                    Checked::Valid(valid) => {
                        prop_assert!(expected.is_empty(), "row {number} passed, expected {expected:?}");
                        prop_assert_eq!(valid.number, number);
                        addresses.insert(address, number);
                        if let Some(c) = customer {
                            customers.insert(c, number);
                        }
                    }
                    Checked::Rejected(rejected) => {
                        let reasons: Vec<_> = rejected.problems.into_iter().map(|p| p.reason).collect();
                        prop_assert_eq!(reasons, expected);
                    }
                }
            }
        }
    }
}
