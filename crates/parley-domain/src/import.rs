//! The import record and its options (SPEC §3). The reading and validation live in
//! `parley-import`; this is the vocabulary the store, the job and the API share.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{ChannelKind, CountryCode, DateOrder, ImportId, OrgId, ValueError};

/// Where an import's rows come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImportFormat {
    /// A CSV file.
    Csv,
    /// An Excel 97–2003 workbook.
    Xls,
    /// An Excel 2007+ workbook.
    Xlsx,
    /// JSON rows sent to the API.
    Rows,
}

impl ImportFormat {
    /// The wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            ImportFormat::Csv => "csv",
            ImportFormat::Xls => "xls",
            ImportFormat::Xlsx => "xlsx",
            ImportFormat::Rows => "rows",
        }
    }

    /// The format a file name's extension names (`None` for anything else).
    #[must_use]
    pub fn from_file_name(name: &str) -> Option<Self> {
        let ext = name.rsplit_once('.')?.1.to_ascii_lowercase();
        match ext.as_str() {
            "csv" | "txt" | "tsv" => Some(ImportFormat::Csv),
            "xls" => Some(ImportFormat::Xls),
            "xlsx" | "xlsm" => Some(ImportFormat::Xlsx),
            _ => None,
        }
    }
}

impl FromStr for ImportFormat {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, ValueError> {
        match s {
            "csv" => Ok(ImportFormat::Csv),
            "xls" => Ok(ImportFormat::Xls),
            "xlsx" => Ok(ImportFormat::Xlsx),
            "rows" => Ok(ImportFormat::Rows),
            _ => Err(ValueError::new("import format", "csv, xls, xlsx or rows")),
        }
    }
}

impl fmt::Display for ImportFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The life of an import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImportStatus {
    /// Waiting for the background job.
    Queued,
    /// Being read and applied.
    Running,
    /// Every row was imported or rejected.
    Completed,
    /// The file itself could not be read; `error` says why and where.
    Failed,
}

impl ImportStatus {
    /// The wire name.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            ImportStatus::Queued => "queued",
            ImportStatus::Running => "running",
            ImportStatus::Completed => "completed",
            ImportStatus::Failed => "failed",
        }
    }

    /// True once the import will not change any more.
    #[must_use]
    pub const fn is_final(self) -> bool {
        matches!(self, ImportStatus::Completed | ImportStatus::Failed)
    }
}

impl FromStr for ImportStatus {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, ValueError> {
        match s {
            "queued" => Ok(ImportStatus::Queued),
            "running" => Ok(ImportStatus::Running),
            "completed" => Ok(ImportStatus::Completed),
            "failed" => Ok(ImportStatus::Failed),
            _ => Err(ValueError::new(
                "import status",
                "queued, running, completed or failed",
            )),
        }
    }
}

/// How to read a file: every option may be left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ImportOptions {
    /// Column header (as written, or normalised) → field key; `null` ignores the column.
    /// Columns not named here map by their normalised header.
    pub mapping: BTreeMap<String, Option<String>>,
    /// The header of the channel-address column; detected from names such as phone,
    /// mobile, msisdn or cell when absent.
    pub address_column: Option<String>,
    /// The channel the addresses belong to (`sms` unless set).
    pub channel: Option<ChannelKind>,
    /// The worksheet to read (the first one unless set).
    pub sheet: Option<String>,
    /// Drop columns that match no field instead of creating `text` fields for them.
    pub ignore_unknown: bool,
    /// The country local phone numbers belong to (the organization's unless set).
    pub default_country: Option<CountryCode>,
    /// Day or month first in dates (the organization's `locale` unless set).
    pub date_order: Option<DateOrder>,
}

impl ImportOptions {
    /// The channel kind, defaulting to SMS.
    #[must_use]
    pub fn channel_kind(&self) -> ChannelKind {
        self.channel.unwrap_or(ChannelKind::Sms)
    }
}

/// Row counters of an import. `rows_total == rows_imported + rows_rejected` always.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ImportCounters {
    /// Data rows read so far (the header is not a row).
    pub rows_total: u64,
    /// Rows applied: a contact created, updated or found unchanged.
    pub rows_imported: u64,
    /// Rows refused, each with at least one line in the rejects report.
    pub rows_rejected: u64,
    /// Contacts created.
    pub contacts_created: u64,
    /// Existing contacts changed.
    pub contacts_updated: u64,
    /// Rows that matched a contact already holding the same values.
    pub contacts_unchanged: u64,
}

impl ImportCounters {
    /// Adds `other` to `self`.
    pub fn add(&mut self, other: &ImportCounters) {
        self.rows_total += other.rows_total;
        self.rows_imported += other.rows_imported;
        self.rows_rejected += other.rows_rejected;
        self.contacts_created += other.contacts_created;
        self.contacts_updated += other.contacts_updated;
        self.contacts_unchanged += other.contacts_unchanged;
    }
}

/// An import and where it stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImportRecord {
    /// The id.
    pub id: ImportId,
    /// The organization the contacts go into.
    pub organization_id: OrgId,
    /// Where it stands.
    pub status: ImportStatus,
    /// The source format.
    pub format: ImportFormat,
    /// The uploaded file's name, when there was one.
    pub file_name: Option<String>,
    /// The options it runs with.
    pub options: ImportOptions,
    /// Row counters.
    #[serde(flatten)]
    pub counters: ImportCounters,
    /// Size of the source in bytes.
    pub bytes_total: u64,
    /// Bytes read so far (drives `progress`).
    pub bytes_read: u64,
    /// The last source row whose outcome is committed: a retried import goes on after it.
    #[serde(default)]
    pub rows_through: u64,
    /// Why the import failed, naming the line or row.
    pub error: Option<String>,
    /// Things worth knowing that did not stop the import (an ignored empty header…).
    pub warnings: Vec<String>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When the job started reading.
    pub started_at: Option<DateTime<Utc>>,
    /// When it completed or failed.
    pub finished_at: Option<DateTime<Utc>>,
}

impl ImportRecord {
    /// Progress from 0 to 1: the share of the source read, 1 once final.
    #[must_use]
    pub fn progress(&self) -> f64 {
        if self.status.is_final() {
            return 1.0;
        }
        if self.bytes_total == 0 {
            return 0.0;
        }
        #[allow(clippy::cast_precision_loss)]
        let share = self.bytes_read as f64 / self.bytes_total as f64;
        share.clamp(0.0, 1.0)
    }
}
