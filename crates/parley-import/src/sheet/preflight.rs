//! The pre-flight check of an `.xlsx`, run before the spreadsheet library opens it: the
//! archive's table of contents, its number of parts, and every part unpacked as a stream
//! and counted (never trusting the sizes the archive declares, refusing those over the
//! limit before unpacking), each XML part checked by `markup`.
//!
//! It finds the parts the library reads whole when it opens the workbook (relationships,
//! workbook, styles, theme, shared strings) the way the library does, from
//! `_rels/.rels`, but keeps every candidate the library could pick, so no reading of a
//! malformed file makes it check less than the library reads.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::io::{self, BufRead, BufReader, Read, Seek, SeekFrom};

use zip::ZipArchive;

use super::markup::{Part, attributes, check_part, trip_error};
use super::meter::Meter;
use crate::limits::{SheetLimits, shorten};
use crate::source::ReadError;

/// The longest part name or sheet name a message repeats.
const NAME_CHARS: usize = 120;

/// Fails reads once `left` bytes have been read: bounds what opening the archive reads
/// (and so keeps) of its table of contents.
struct Budgeted<'a, R> {
    inner: R,
    left: &'a Cell<u64>,
    tripped: &'a Cell<bool>,
}

impl<R: Read> Read for Budgeted<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left.get() == 0 {
            self.tripped.set(true);
            return Err(io::Error::other("the table of contents is too large"));
        }
        let max = usize::try_from(self.left.get())
            .unwrap_or(usize::MAX)
            .min(buf.len());
        let n = self.inner.read(&mut buf[..max])?;
        self.left.set(self.left.get() - n as u64);
        Ok(n)
    }
}

impl<R: Seek> Seek for Budgeted<'_, R> {
    fn seek(&mut self, pos: SeekFrom) -> io::Result<u64> {
        self.inner.seek(pos)
    }
}

/// How a part is checked.
#[derive(Debug, Clone, Default)]
struct Role {
    /// The library reads it (when opening the workbook, or as a sheet).
    is_read: bool,
    /// It is read whole when the workbook opens, so it has the smaller size limit.
    is_metadata: bool,
    /// The sheet it holds, if the workbook lists it.
    sheet: Option<String>,
}

/// `name` as the library looks it up: lower case, `/` separators.
fn normalise(name: &str) -> String {
    name.replace('\\', "/").to_ascii_lowercase()
}

/// Refuses `input` if any limit is passed; `Ok` otherwise, and also when it is not an
/// archive the library could open (the library then reports why). `input` is left
/// where it started.
pub(crate) fn check_xlsx<RS: Read + Seek>(
    input: &mut RS,
    limits: &SheetLimits,
) -> Result<(), ReadError> {
    let io_error = |e: io::Error| ReadError::Io(e.to_string());
    let start = input.stream_position().map_err(io_error)?;
    let result = check_archive(&mut *input, limits);
    input.seek(SeekFrom::Start(start)).map_err(io_error)?;
    result
}

fn check_archive<RS: Read + Seek>(input: &mut RS, limits: &SheetLimits) -> Result<(), ReadError> {
    let left = Cell::new(limits.max_directory_bytes);
    let tripped = Cell::new(false);
    let budgeted = Budgeted {
        inner: input,
        left: &left,
        tripped: &tripped,
    };
    let mut archive = match ZipArchive::new(budgeted) {
        Ok(archive) => archive,
        Err(_) if tripped.get() => {
            return Err(ReadError::DirectoryTooLarge {
                limit: limits.max_directory_bytes,
            });
        }
        Err(_) => return Ok(()),
    };
    left.set(u64::MAX);
    if archive.len() as u64 > limits.max_parts {
        return Err(ReadError::TooManyParts {
            limit: limits.max_parts,
        });
    }
    let mut names = Vec::with_capacity(archive.len());
    for name in archive.file_names() {
        match name {
            Ok(name) => names.push(name.into_owned()),
            // The library refuses a workbook with a part it cannot name.
            Err(_) => return Ok(()),
        }
    }
    let mut walk = Walk {
        archive: &mut archive,
        names: &names,
        limits,
        checked: vec![false; names.len()],
        total: 0,
    };
    let roles = walk.find_roles()?;
    for (index, name) in names.iter().enumerate() {
        if !walk.checked[index] {
            let role = roles.get(&normalise(name)).cloned().unwrap_or_default();
            walk.check(index, &role, &mut |_, _| {})?;
        }
    }
    Ok(())
}

/// The archive being checked, part by part.
struct Walk<'a, R: Read + Seek> {
    archive: &'a mut ZipArchive<R>,
    names: &'a [String],
    limits: &'a SheetLimits,
    checked: Vec<bool>,
    total: u64,
}

impl<R: Read + Seek> Walk<'_, R> {
    /// The indexes of the parts the library finds at `path`.
    fn find(&self, path: &str) -> Vec<usize> {
        let wanted = path.to_ascii_lowercase();
        (0..self.names.len())
            .filter(|i| normalise(&self.names[*i]) == wanted || self.names[*i] == path)
            .collect()
    }

    /// Checks every part the library may open at `path` as `role`, passing each start
    /// tag to `on_start`.
    fn check_path(
        &mut self,
        path: &str,
        role: &Role,
        on_start: &mut dyn FnMut(&str, &str),
    ) -> Result<(), ReadError> {
        for index in self.find(path) {
            self.check(index, role, on_start)?;
        }
        Ok(())
    }

    /// Reads the workbook's own parts the way the library does, checking them, and
    /// returns the role of every part the library may read, by normalised path.
    fn find_roles(&mut self) -> Result<HashMap<String, Role>, ReadError> {
        let metadata = Role {
            is_read: true,
            is_metadata: true,
            sheet: None,
        };
        let mut roles = HashMap::new();
        roles.insert(normalise("_rels/.rels"), metadata.clone());
        let mut documents = vec!["xl/workbook.xml".to_owned()];
        self.check_path("_rels/.rels", &metadata, &mut |local, attrs| {
            if local == "Relationship" {
                let all: Vec<_> = attributes(attrs).collect();
                let is_document = all
                    .iter()
                    .any(|(k, v)| *k == "Type" && v.ends_with("/relationships/officeDocument"));
                for (key, value) in all {
                    if is_document
                        && key == "Target"
                        && let Ok(target) = quick_xml::escape::unescape(value)
                    {
                        documents.push(target.into_owned());
                    }
                }
            }
        })?;
        let mut seen = HashSet::new();
        for document in documents {
            let (dir, name) = match document.rfind('/') {
                Some(i) => document.split_at(i + 1),
                None => ("", document.as_str()),
            };
            let dir = dir.strip_prefix('/').unwrap_or(dir);
            let name = if name.is_empty() {
                "workbook.xml"
            } else {
                name
            };
            if seen.insert((dir.to_owned(), name.to_owned())) {
                self.find_sheets(dir, name, &metadata, &mut roles)?;
            }
        }
        Ok(roles)
    }

    /// Checks the parts of the workbook at `dir` + `name` read whole when it opens, and
    /// records them and its sheets in `roles`.
    fn find_sheets(
        &mut self,
        dir: &str,
        name: &str,
        metadata: &Role,
        roles: &mut HashMap<String, Role>,
    ) -> Result<(), ReadError> {
        for part in ["theme/theme1.xml", "styles.xml"] {
            roles.insert(normalise(&format!("{dir}{part}")), metadata.clone());
        }
        let read = Role {
            is_read: true,
            ..Role::default()
        };
        roles.insert(normalise(&format!("{dir}sharedStrings.xml")), read.clone());
        // Relationship id → targets of sheets, as written (the library does not unescape).
        let mut targets: HashMap<String, Vec<String>> = HashMap::new();
        let relationships = format!("{dir}_rels/{name}.rels");
        roles.insert(normalise(&relationships), metadata.clone());
        self.check_path(&relationships, metadata, &mut |local, attrs| {
            if local == "Relationship" {
                let all: Vec<_> = attributes(attrs).collect();
                let is_sheet = all.iter().any(|(k, v)| {
                    *k == "Type"
                        && matches!(
                            v.rsplit('/').next(),
                            Some("worksheet" | "chartsheet" | "dialogsheet")
                        )
                });
                if is_sheet {
                    for (_, id) in all.iter().filter(|(k, _)| *k == "Id") {
                        targets.entry((*id).to_owned()).or_default().extend(
                            all.iter()
                                .filter(|(k, _)| *k == "Target")
                                .map(|(_, t)| (*t).to_owned()),
                        );
                    }
                }
            }
        })?;
        let workbook = format!("{dir}{name}");
        roles.insert(normalise(&workbook), metadata.clone());
        let mut sheets: Vec<(String, String)> = Vec::new();
        self.check_path(&workbook, metadata, &mut |local, attrs| {
            if local != "sheet" {
                return;
            }
            let all: Vec<_> = attributes(attrs).collect();
            let sheet_name = all
                .iter()
                .find(|(k, _)| *k == "name")
                .and_then(|(_, v)| quick_xml::escape::unescape(v).ok())
                .map(|n| shorten(&n, NAME_CHARS))
                .unwrap_or_default();
            let ids = all.iter().filter(|(k, _)| *k == "id" || k.ends_with(":id"));
            for (_, id) in ids {
                for target in targets.get(*id).into_iter().flatten() {
                    let path = match target.strip_prefix('/') {
                        Some(absolute) => absolute.to_owned(),
                        None => format!("{dir}{target}"),
                    };
                    sheets.push((normalise(&path), sheet_name.clone()));
                }
            }
        })?;
        for (path, sheet) in sheets {
            let role = roles.entry(path).or_insert_with(|| read.clone());
            role.sheet.get_or_insert(sheet);
        }
        Ok(())
    }

    /// Unpacks and checks part `index` as `role` (once).
    fn check(
        &mut self,
        index: usize,
        role: &Role,
        on_start: &mut dyn FnMut(&str, &str),
    ) -> Result<(), ReadError> {
        if self.checked[index] {
            return Ok(());
        }
        self.checked[index] = true;
        let limits = self.limits;
        let name = shorten(&self.names[index], NAME_CHARS);
        let byte_limit = if role.is_metadata {
            limits.max_metadata_bytes.min(limits.max_part_bytes)
        } else {
            limits.max_part_bytes
        };
        // An entry that cannot be opened (encrypted, an unknown compression) cannot be
        // read by the library either.
        let Ok(file) = self.archive.by_index(index) else {
            return Ok(());
        };
        if file.size() > byte_limit {
            return Err(ReadError::PartTooLarge {
                part: name,
                limit: byte_limit,
            });
        }
        let mut meter = Meter::new(
            BufReader::with_capacity(64 * 1024, file),
            byte_limit,
            (self.total, limits.max_workbook_bytes),
            limits.max_markup_bytes,
        );
        let part = Part {
            name: &name,
            sheet: role.sheet.as_deref(),
            is_read: role.is_read,
            is_metadata: role.is_metadata,
            byte_limit,
            limits,
        };
        let consumed = if role.is_read || looks_like_xml(&mut meter) {
            check_part(meter, &part, on_start)?
        } else {
            meter.without_token_limit();
            match (meter.drain(), meter.tripped()) {
                (Err(_), Some(trip)) => return Err(trip_error(trip, &part)),
                // An error unpacking it: the library cannot read it either.
                _ => meter.consumed(),
            }
        };
        self.total = self.total.saturating_add(consumed);
        Ok(())
    }
}

/// Whether a part's first bytes are XML's (`<` after an optional byte-order mark and
/// white space): pictures and other binary parts are only counted.
fn looks_like_xml<R: BufRead>(meter: &mut Meter<R>) -> bool {
    match meter.fill_buf() {
        Ok(bytes) => {
            let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            bytes
                .iter()
                .find(|b| !b.is_ascii_whitespace())
                .is_none_or(|b| *b == b'<')
        }
        Err(_) => true,
    }
}
