//! The container of an `.xls` (and of a password-protected `.xlsx`): the OLE compound
//! file, read the way the spreadsheet library reads it, to refuse the files that would
//! make the library loop or allocate without end (a sector chain that cycles, a chain
//! that leaves the allocation table, more allocation sectors than the file has), and to
//! hand the `.xls` checker the workbook stream the library will parse.
//!
//! Reading never holds more than the file's size: sectors are read on demand, and the
//! tables are as large as the file allows.

use std::io::{Read, Seek, SeekFrom};

const SIGNATURE: [u8; 8] = *b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";
const RESERVED: u32 = 0xFFFF_FFFA;
const DIFSECT: u32 = 0xFFFF_FFFC;
const END_OF_CHAIN: u32 = 0xFFFF_FFFE;
/// Streams shorter than this live in the mini stream.
const MINI_CUTOFF: u64 = 4096;

/// What reading the container found.
#[derive(Debug)]
pub(crate) enum Container {
    /// Not an OLE compound file.
    Absent,
    /// The library will refuse it with an error of its own, harmlessly.
    Refused,
    /// Safe for the library; the named stream, when asked for and present.
    Safe(Option<Vec<u8>>),
}

/// Why the container is refused: the library would loop or allocate without end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Damaged(pub &'static str);

/// Why reading stopped.
enum Stop {
    /// The library would stop here with an error of its own.
    Fails,
    /// The library would loop, panic or exhaust memory here.
    Damaged(&'static str),
}

struct Reader<'r, R> {
    input: &'r mut R,
    sector: u64,
    header: u64,
    /// The highest sector id the library reads.
    max_id: u32,
}

impl<R: Read + Seek> Reader<'_, R> {
    /// Sector `id`, short at the end of the file, as the library reads it.
    fn sector(&mut self, id: u32) -> Result<Vec<u8>, Stop> {
        if id > self.max_id {
            return Err(Stop::Fails);
        }
        let offset = self.header + u64::from(id) * self.sector;
        self.input
            .seek(SeekFrom::Start(offset))
            .map_err(|_| Stop::Fails)?;
        let mut data = Vec::with_capacity(usize::try_from(self.sector).unwrap_or(512));
        (&mut *self.input)
            .take(self.sector)
            .read_to_end(&mut data)
            .map_err(|_| Stop::Fails)?;
        Ok(data)
    }

    /// A table sector as `u32`s (the library asserts whole entries).
    fn table(&mut self, id: u32) -> Result<Vec<u32>, Stop> {
        let data = self.sector(id)?;
        if data.len() % 4 != 0 {
            return Err(Stop::Damaged("a table sector is cut short"));
        }
        Ok(data
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }

    /// The bytes of the chain from `id`, up to `len`, as the library follows it; a cycle
    /// or a link outside `table` is damage.
    fn chain(&mut self, mut id: u32, table: &[u32], len: u64) -> Result<Vec<u8>, Stop> {
        let mut out = Vec::new();
        let mut steps = 0u64;
        while id != END_OF_CHAIN {
            let sector = self.sector(id)?;
            let left = len.saturating_sub(out.len() as u64);
            let take = usize::try_from(left).map_or(sector.len(), |l| l.min(sector.len()));
            out.extend_from_slice(&sector[..take]);
            if out.len() as u64 >= len {
                break;
            }
            id = *table
                .get(id as usize)
                .ok_or(Stop::Damaged("a sector chain leaves the allocation table"))?;
            steps += 1;
            if steps > u64::from(self.max_id) + 1 {
                return Err(Stop::Damaged("a sector chain runs in a circle"));
            }
        }
        Ok(out)
    }
}

/// One directory entry: its name, first sector and length.
struct Entry {
    name: String,
    start: u32,
    len: u64,
}

/// Reads the container of `input` (left at its start) as the library would, refusing the
/// damage that would make the library loop or exhaust memory; returns the stream named
/// one of `stream` (first match, any case) when asked.
pub(crate) fn read_container<R: Read + Seek>(
    input: &mut R,
    stream: &[&str],
) -> Result<Container, Damaged> {
    let result = read(input, stream);
    let _ = input.seek(SeekFrom::Start(0));
    match result {
        Ok(container) => Ok(container),
        Err(Stop::Fails) => Ok(Container::Refused),
        Err(Stop::Damaged(why)) => Err(Damaged(why)),
    }
}

fn read<R: Read + Seek>(input: &mut R, stream: &[&str]) -> Result<Container, Stop> {
    let len = input.seek(SeekFrom::End(0)).map_err(|_| Stop::Fails)?;
    input.seek(SeekFrom::Start(0)).map_err(|_| Stop::Fails)?;
    let mut header = Vec::with_capacity(512);
    (&mut *input)
        .take(512)
        .read_to_end(&mut header)
        .map_err(|_| Stop::Fails)?;
    if header.len() < 512 || header[..8] != SIGNATURE {
        return Ok(Container::Absent);
    }
    let u16_at = |i: usize| u16::from_le_bytes([header[i], header[i + 1]]);
    let u32_at =
        |i: usize| u32::from_le_bytes([header[i], header[i + 1], header[i + 2], header[i + 3]]);
    let version = u16_at(26);
    let sector: u64 = match u16_at(30) {
        0x09 => 512,
        0x0C => 4096,
        _ => return Err(Stop::Fails),
    };
    if u16_at(32) != 0x06 || len < sector {
        return Err(Stop::Fails);
    }
    let max_id = u32::try_from(len / sector).unwrap_or(u32::MAX);
    let mut reader = Reader {
        input,
        sector,
        header: sector,
        max_id,
    };
    // The allocation table's sectors: the header's list, then the chain of more.
    let mut difat: Vec<u32> = (76..512).step_by(4).map(u32_at).collect();
    let mut id = u32_at(68);
    let mut difat_sectors = 0u64;
    while id < RESERVED {
        difat_sectors += 1;
        if difat_sectors > u64::from(max_id) + 1 {
            return Err(Stop::Fails);
        }
        difat.extend(reader.table(id)?);
        id = difat.pop().ok_or(Stop::Fails)?;
    }
    let fat_sectors: Vec<u32> = difat.into_iter().filter(|id| *id < DIFSECT).collect();
    // Each would add a sector's worth of entries: no more than the file has sectors.
    if fat_sectors.len() as u64 > u64::from(max_id) + 1 {
        return Err(Stop::Damaged(
            "the allocation table lists more sectors than the file has",
        ));
    }
    let mut fat = Vec::new();
    for id in fat_sectors {
        fat.extend(reader.table(id)?);
    }
    let directory = reader.chain(u32_at(48), &fat, u64::MAX)?;
    let entries: Vec<Entry> = directory
        .chunks_exact(128)
        .map(|e| Entry {
            name: String::from_utf16_lossy(
                &e[..64]
                    .chunks_exact(2)
                    .map(|c| u16::from_le_bytes([c[0], c[1]]))
                    .take_while(|c| *c != 0)
                    .collect::<Vec<_>>(),
            ),
            start: u32::from_le_bytes([e[116], e[117], e[118], e[119]]),
            len: if sector == 512 {
                u64::from(u32::from_le_bytes([e[120], e[121], e[122], e[123]]))
            } else {
                u64::from_le_bytes([
                    e[120], e[121], e[122], e[123], e[124], e[125], e[126], e[127],
                ])
            },
        })
        .collect();
    let Some(root) = entries.first() else {
        return Err(Stop::Fails);
    };
    if version != 3 && root.start == END_OF_CHAIN {
        return Err(Stop::Fails);
    }
    let mini_fat_sectors = u64::from(u32_at(64));
    let (mini_fat, mini_stream) = if mini_fat_sectors > 0 {
        let mini_stream = reader.chain(root.start, &fat, root.len)?;
        let table = reader.chain(u32_at(60), &fat, mini_fat_sectors * sector)?;
        if table.len() % 4 != 0 {
            return Err(Stop::Damaged("a table sector is cut short"));
        }
        let table = table
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect();
        (table, mini_stream)
    } else {
        (Vec::new(), Vec::new())
    };
    // The library tries each name in turn, on any error.
    for name in stream {
        let Some(entry) = entries.iter().find(|e| e.name.eq_ignore_ascii_case(name)) else {
            continue;
        };
        let bytes = if entry.len >= MINI_CUTOFF {
            reader.chain(entry.start, &fat, entry.len)
        } else {
            mini_chain(&mini_stream, &mini_fat, entry, max_id)
        };
        match bytes {
            Ok(bytes) => return Ok(Container::Safe(Some(bytes))),
            Err(Stop::Fails) => {}
            Err(damage) => return Err(damage),
        }
    }
    Ok(Container::Safe(None))
}

/// A short stream, from the mini stream's 64-byte sectors.
fn mini_chain(
    mini_stream: &[u8],
    mini_fat: &[u32],
    entry: &Entry,
    max_id: u32,
) -> Result<Vec<u8>, Stop> {
    let mut out = Vec::new();
    let mut id = entry.start;
    let len = usize::try_from(entry.len).unwrap_or(usize::MAX);
    while id != END_OF_CHAIN {
        if u64::from(id) > u64::from(max_id) * 8 {
            return Err(Stop::Fails);
        }
        let start = id as usize * 64;
        // Past the mini stream, the library reads whatever follows in the file.
        let sector = mini_stream
            .get(start..start + 64)
            .ok_or(Stop::Damaged("a short stream lies outside the mini stream"))?;
        let take = (len - out.len()).min(64);
        out.extend_from_slice(&sector[..take]);
        if out.len() >= len {
            break;
        }
        id = *mini_fat
            .get(id as usize)
            .ok_or(Stop::Damaged("a sector chain leaves the allocation table"))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;
    use crate::limits::SheetLimits;
    use crate::sheet::biff::check_workbook;
    use crate::source::ReadError;

    #[test]
    fn a_real_xls_yields_its_workbook_stream_and_its_sheets_are_walked() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/contacts.xls");
        let mut file = Cursor::new(std::fs::read(path).unwrap());
        let Ok(Container::Safe(Some(stream))) = read_container(&mut file, &["Workbook", "Book"])
        else {
            panic!("the stream is found");
        };
        assert_eq!(&stream[..2], &0x0809u16.to_le_bytes(), "it starts with BOF");
        assert_eq!(check_workbook(&stream, &SheetLimits::default()), Ok(()));
        let tiny = SheetLimits {
            max_xls_cells: 10,
            ..SheetLimits::default()
        };
        assert!(matches!(
            check_workbook(&stream, &tiny),
            Err(ReadError::XlsTooLarge { sheet, .. }) if sheet == "Contacts"
        ));
        let mut not_ole = Cursor::new(b"PK\x03\x04 not a container".to_vec());
        assert!(matches!(
            read_container(&mut not_ole, &[]),
            Ok(Container::Absent)
        ));
    }
}
