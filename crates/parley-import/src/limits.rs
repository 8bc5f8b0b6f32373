//! The bounds a spreadsheet or JSON source must stay within, so that reading one never
//! needs more than a bounded amount of memory whatever the file holds, and the wording
//! of those bounds in messages ("32,767", "2 GiB"). Checking them is the readers' job.

use std::fmt;

/// The most characters an Excel cell holds: 32,767. Source: Microsoft, "Excel
/// specifications and limits", row "Total number of characters that a cell can contain"
/// (<https://support.microsoft.com/office/excel-specifications-and-limits-1672b34d-7043-467e-8e27-269d656771c3>).
pub const EXCEL_MAX_CELL_CHARS: usize = 32_767;

/// The most columns an Excel worksheet has: 16,384 (A to XFD). Source: the same page,
/// row "Worksheet size: 1,048,576 rows by 16,384 columns".
pub const EXCEL_MAX_COLUMNS: usize = 16_384;

/// The most cell formats an Excel workbook holds: 65,490. Source: the same page, row
/// "Unique cell formats/cell styles".
pub const EXCEL_MAX_CELL_FORMATS: usize = 65_490;

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const GIB: u64 = 1024 * MIB;

/// How large a spreadsheet (and, for `max_columns`, a JSON rows document) may be. An
/// `.xlsx` is checked part by part before the spreadsheet library opens it, so none of
/// these needs trusting what the file says about itself; see `sheet` for what each
/// bound protects.
///
/// The defaults admit any workbook Excel itself can save at a million rows (the
/// benchmark imports 1,000,000-row files; an upload is at most 512 MiB), and refuse
/// the shapes that only a hostile file has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SheetLimits {
    /// The most bytes any one part of an `.xlsx` may unpack to (a sheet of a million
    /// rows and twenty columns is about 1 GiB). Default 2 GiB.
    pub max_part_bytes: u64,
    /// The most bytes all the parts of an `.xlsx` together may unpack to. Default 4 GiB.
    pub max_workbook_bytes: u64,
    /// The most parts (zip entries) an `.xlsx` may have. Default 10,000.
    pub max_parts: u64,
    /// The most bytes read from the `.xlsx`'s table of contents (its zip central
    /// directory), which is kept in memory while the file is read: about 200 bytes for
    /// each part (measured: 60,000 parts, a 3 MB table, took 12 MB). Default 4 MiB
    /// (10,000 parts with Excel's names take about 1 MB).
    pub max_directory_bytes: u64,
    /// The most bytes each of the parts read whole when the workbook is opened may unpack
    /// to: the package and workbook relationships, the workbook (sheet list and names),
    /// the styles and the theme (Excel's are kilobytes; styles of 65,000 formats about
    /// 7 MB). The library keeps their contents: measured, 16 MiB of relationships took
    /// 78 MB and 16 MiB of sheet list 130 MB. Default 16 MiB.
    pub max_metadata_bytes: u64,
    /// The most bytes of any one piece of XML markup (a tag, a comment, a run of text
    /// between tags), and of the whole XML of one cell, shared string or defined name.
    /// Default 1 MiB: a cell at Excel's limit written as character references is ~330 KB.
    pub max_markup_bytes: u64,
    /// The most shared strings (`<si>` in `xl/sharedStrings.xml`), which are all held in
    /// memory while a sheet is read (about 56 bytes each besides their text; measured:
    /// 5,000,000 one-character strings, from a file under 1 MB, took 279 MB). Default
    /// 5,000,000: five distinct texts on each of a million rows.
    pub max_shared_strings: u64,
    /// The most bytes of text all the shared strings may hold together. Default 256 MiB.
    pub max_shared_strings_bytes: u64,
    /// The most characters of one cell, or of one shared string. Default
    /// [`EXCEL_MAX_CELL_CHARS`].
    pub max_cell_chars: usize,
    /// The most columns of a sheet, or distinct keys of JSON rows. Default
    /// [`EXCEL_MAX_COLUMNS`].
    pub max_columns: usize,
    /// The most bytes of text one row of a sheet may hold. Every cell of an `.xlsx` may
    /// copy the same long shared string, so without this a 1 MB file can make rows of
    /// hundreds of megabytes. Default 1 MiB (32 cells at Excel's limit).
    pub max_row_bytes: u64,
    /// The most cell formats (`<xf>` in the styles); each is held in memory with a copy
    /// of its font and number format. Default [`EXCEL_MAX_CELL_FORMATS`].
    pub max_cell_formats: usize,
    /// The most bytes of one font or number format definition in the styles (Excel's
    /// own are under 300 bytes: a font name has at most 31 characters, a number format
    /// 255). Each cell format copies one of each, so this and `max_cell_formats` bound
    /// the styles (measured: 65,490 formats copying definitions of almost 1 KiB, from a
    /// 6 KB file, took 135 MB). Default 1 KiB.
    pub max_style_bytes: u64,
    /// The most cells (rows × columns of the used range) of the sheets of an `.xls`
    /// together, which are all held in memory at once (measured: 65,536 rows of 64
    /// numbers took 364 MB). Default 4,194,304 (65,536 rows of 64 columns). Also bounds
    /// the cell records of one sheet and the size a sheet declares.
    pub max_xls_cells: u64,
    /// The most bytes of text the cells of an `.xls` may hold together (each cell keeps
    /// its own copy of a shared string). Default 256 MiB.
    pub max_xls_text_bytes: u64,
}

impl Default for SheetLimits {
    fn default() -> Self {
        Self {
            max_part_bytes: 2 * GIB,
            max_workbook_bytes: 4 * GIB,
            max_parts: 10_000,
            max_directory_bytes: 4 * MIB,
            max_metadata_bytes: 16 * MIB,
            max_markup_bytes: MIB,
            max_shared_strings: 5_000_000,
            max_shared_strings_bytes: 256 * MIB,
            max_cell_chars: EXCEL_MAX_CELL_CHARS,
            max_columns: EXCEL_MAX_COLUMNS,
            max_row_bytes: MIB,
            max_cell_formats: EXCEL_MAX_CELL_FORMATS,
            max_style_bytes: KIB,
            max_xls_cells: 65_536 * 64,
            max_xls_text_bytes: 256 * MIB,
        }
    }
}

/// A count written for people: `32,767`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count(pub u64);

impl fmt::Display for Count {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.0.to_string();
        for (i, digit) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                f.write_str(",")?;
            }
            write!(f, "{digit}")?;
        }
        Ok(())
    }
}

/// A size written for people: `2 GiB`, `1.5 MiB`, `900 bytes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bytes(pub u64);

impl fmt::Display for Bytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0;
        let (unit, name) = match n {
            n if n >= GIB => (GIB, "GiB"),
            n if n >= MIB => (MIB, "MiB"),
            n if n >= KIB => (KIB, "KiB"),
            _ => return write!(f, "{} bytes", Count(n)),
        };
        if n.is_multiple_of(unit) {
            write!(f, "{} {name}", Count(n / unit))
        } else {
            #[allow(clippy::cast_precision_loss)]
            let value = n as f64 / unit as f64;
            write!(f, "{value:.1} {name}")
        }
    }
}

/// `text` cut to `max` characters, with `…` when cut (names and messages from a file
/// can be as long as the file).
pub(crate) fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// Why a limit has its value, for the end of a message: Excel's own limit when the
/// limit is Excel's, otherwise the import's.
pub(crate) fn whose(limit: u64, excel: usize) -> &'static str {
    if usize::try_from(limit).is_ok_and(|l| l == excel) {
        "Excel's limit"
    } else {
        "the import's limit"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_sizes_read_well() {
        assert_eq!(Count(32_767).to_string(), "32,767");
        assert_eq!(Count(5_000_000).to_string(), "5,000,000");
        assert_eq!(Count(999).to_string(), "999");
        assert_eq!(Bytes(2 * GIB).to_string(), "2 GiB");
        assert_eq!(Bytes(MIB + MIB / 2).to_string(), "1.5 MiB");
        assert_eq!(Bytes(1000).to_string(), "1,000 bytes");
        assert_eq!(whose(32_767, EXCEL_MAX_CELL_CHARS), "Excel's limit");
        assert_eq!(whose(100, EXCEL_MAX_CELL_CHARS), "the import's limit");
        assert_eq!(shorten("Contacts", 120), "Contacts");
        assert_eq!(shorten(&"é".repeat(200), 3), "ééé…");
    }
}
