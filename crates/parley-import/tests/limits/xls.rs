//! `.xls` workbooks written by hand (an OLE container of 512-byte sectors holding a BIFF8
//! workbook stream): refused when the library would build more than the limits allow,
//! or loop, or panic; read when ordinary.

use std::io::Cursor;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use parley_import::sheet::{SheetLimits, SheetProgress, read_xls};
use parley_import::source::{CellRef, Place, ReadError};

use crate::Rows;

const END_OF_CHAIN: u32 = 0xFFFF_FFFE;

fn record(kind: u16, data: &[u8]) -> Vec<u8> {
    let mut out = kind.to_le_bytes().to_vec();
    out.extend_from_slice(&u16::try_from(data.len()).unwrap().to_le_bytes());
    out.extend_from_slice(data);
    out
}

fn bof(kind: u16) -> Vec<u8> {
    let mut data = vec![0x00, 0x06];
    data.extend_from_slice(&kind.to_le_bytes());
    data.extend_from_slice(&[0; 12]);
    record(0x0809, &data)
}

fn eof() -> Vec<u8> {
    record(0x000A, &[])
}

/// A cell of text (`LABEL`, 8-bit characters).
pub fn label(row: u16, column: u16, text: &str) -> Vec<u8> {
    let mut data = [row.to_le_bytes(), column.to_le_bytes(), [0, 0]].concat();
    data.extend_from_slice(&u16::try_from(text.len()).unwrap().to_le_bytes());
    data.push(0);
    data.extend_from_slice(text.as_bytes());
    record(0x0204, &data)
}

/// A cell holding a number (`NUMBER`).
pub fn number(row: u16, column: u16, value: f64) -> Vec<u8> {
    let data = [
        &row.to_le_bytes()[..],
        &column.to_le_bytes(),
        &[0, 0],
        &value.to_le_bytes(),
    ]
    .concat();
    record(0x0203, &data)
}

/// A cell holding shared string `index` (`LABELSST`).
fn label_sst(row: u16, column: u16, index: u32) -> Vec<u8> {
    let data = [
        &row.to_le_bytes()[..],
        &column.to_le_bytes(),
        &[0, 0],
        &index.to_le_bytes(),
    ]
    .concat();
    record(0x00FD, &data)
}

/// A `DIMENSIONS` record (BIFF8): rows `first..last` (last exclusive), columns alike.
fn dimensions(first_row: u32, last_row: u32, first_column: u16, last_column: u16) -> Vec<u8> {
    let data = [
        &first_row.to_le_bytes()[..],
        &last_row.to_le_bytes(),
        &first_column.to_le_bytes(),
        &last_column.to_le_bytes(),
        &[0, 0],
    ]
    .concat();
    record(0x0200, &data)
}

/// A workbook stream: `globals` (records after the BOF), then each sheet's records.
pub fn workbook_stream(globals: &[Vec<u8>], sheets: &[(&str, Vec<Vec<u8>>)]) -> Vec<u8> {
    let bound = |position: u32, name: &str| {
        let mut data = position.to_le_bytes().to_vec();
        data.extend_from_slice(&[0, 0, u8::try_from(name.len()).unwrap(), 0]);
        data.extend_from_slice(name.as_bytes());
        record(0x0085, &data)
    };
    let mut head = bof(0x0005);
    for g in globals {
        head.extend_from_slice(g);
    }
    let bounds_len: usize = sheets.iter().map(|(n, _)| bound(0, n).len()).sum();
    let mut position = head.len() + bounds_len + eof().len();
    let mut bodies = Vec::new();
    for (name, records) in sheets {
        head.extend(bound(u32::try_from(position).unwrap(), name));
        let mut body = bof(0x0010);
        for r in records {
            body.extend_from_slice(r);
        }
        body.extend(eof());
        position += body.len();
        bodies.push(body);
    }
    head.extend(eof());
    for body in bodies {
        head.extend(body);
    }
    head
}

/// An OLE container with one stream, `Workbook`, padded to the 4,096 bytes below which a
/// stream would live in the mini stream. `fat_edit` changes the allocation table, given
/// the directory's sector and the stream's first.
pub fn container(mut stream: Vec<u8>, fat_edit: impl Fn(&mut Vec<u32>, u32, u32)) -> Vec<u8> {
    let len = stream.len().max(4096);
    stream.resize(len.div_ceil(512) * 512, 0);
    let sectors = u32::try_from(stream.len() / 512).unwrap();
    // Allocation sectors, and the sectors listing those past the header's 109.
    let lists_for = |fat: u32| fat.saturating_sub(109).div_ceil(127);
    let mut fat_sectors = 1u32;
    while 128 * fat_sectors < fat_sectors + lists_for(fat_sectors) + 1 + sectors {
        fat_sectors += 1;
    }
    let list_sectors = lists_for(fat_sectors);
    let directory = fat_sectors + list_sectors;
    let first = directory + 1;
    let mut fat = vec![0xFFFF_FFFD; fat_sectors as usize];
    fat.extend(vec![0xFFFF_FFFC; list_sectors as usize]);
    fat.push(END_OF_CHAIN);
    fat.extend((first + 1..first + sectors).chain([END_OF_CHAIN]));
    fat.resize(fat_sectors as usize * 128, 0xFFFF_FFFF);
    fat_edit(&mut fat, directory, first);
    let mut header = vec![0u8; 512];
    header[..8].copy_from_slice(b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1");
    header[24..26].copy_from_slice(&0x3Eu16.to_le_bytes());
    header[26..28].copy_from_slice(&3u16.to_le_bytes());
    header[28..30].copy_from_slice(&0xFFFEu16.to_le_bytes());
    header[30..32].copy_from_slice(&9u16.to_le_bytes());
    header[32..34].copy_from_slice(&6u16.to_le_bytes());
    header[44..48].copy_from_slice(&fat_sectors.to_le_bytes());
    header[48..52].copy_from_slice(&directory.to_le_bytes());
    header[56..60].copy_from_slice(&4096u32.to_le_bytes());
    header[60..64].copy_from_slice(&END_OF_CHAIN.to_le_bytes());
    let first_list = if list_sectors > 0 {
        fat_sectors
    } else {
        END_OF_CHAIN
    };
    header[68..72].copy_from_slice(&first_list.to_le_bytes());
    header[72..76].copy_from_slice(&list_sectors.to_le_bytes());
    let slot = |i: u32| if i < fat_sectors { i } else { 0xFFFF_FFFF };
    for (i, bytes) in header[76..].chunks_exact_mut(4).enumerate() {
        bytes.copy_from_slice(&slot(u32::try_from(i).unwrap()).to_le_bytes());
    }
    let mut lists = Vec::new();
    for k in 0..list_sectors {
        for i in 0..127 {
            lists.extend_from_slice(&slot(109 + 127 * k + i).to_le_bytes());
        }
        let next = if k + 1 < list_sectors {
            fat_sectors + k + 1
        } else {
            END_OF_CHAIN
        };
        lists.extend_from_slice(&next.to_le_bytes());
    }
    let entry = |name: &str, kind: u8, child: u32, start: u32, size: u32| {
        let mut e = vec![0u8; 128];
        let units: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
        e[..units.len()].copy_from_slice(&units);
        e[64..66].copy_from_slice(&u16::try_from(units.len() + 2).unwrap().to_le_bytes());
        e[66] = kind;
        e[67] = 1;
        e[68..72].copy_from_slice(&0xFFFF_FFFFu32.to_le_bytes());
        e[72..76].copy_from_slice(&0xFFFF_FFFFu32.to_le_bytes());
        e[76..80].copy_from_slice(&child.to_le_bytes());
        e[116..120].copy_from_slice(&start.to_le_bytes());
        e[120..124].copy_from_slice(&size.to_le_bytes());
        e
    };
    let mut file = header;
    for value in &fat {
        file.extend_from_slice(&value.to_le_bytes());
    }
    file.extend(lists);
    file.extend(entry("Root Entry", 5, 1, END_OF_CHAIN, 0));
    file.extend(entry(
        "Workbook",
        2,
        0xFFFF_FFFF,
        first,
        u32::try_from(len).unwrap(),
    ));
    file.extend(vec![0u8; 256]);
    file.extend(stream);
    file
}

fn xls(stream: Vec<u8>) -> Vec<u8> {
    container(stream, |_, _, _| {})
}

fn read(bytes: Vec<u8>, limits: &SheetLimits) -> Result<Rows, ReadError> {
    let progress = SheetProgress {
        bytes_read: Arc::new(AtomicU64::new(0)),
        bytes_total: bytes.len() as u64,
    };
    let mut rows = Rows::default();
    read_xls(Cursor::new(bytes), None, limits, &progress, &mut rows).map(|_| rows)
}

fn contacts(records: Vec<Vec<u8>>) -> Vec<u8> {
    let mut all = vec![label(0, 0, "Mobile")];
    all.extend(records);
    xls(workbook_stream(&[], &[("Contacts", all)]))
}

#[test]
fn a_hand_made_workbook_within_the_limits_reads() {
    let bytes = contacts(vec![
        dimensions(0, 2, 0, 2),
        label(1, 0, "0871234567"),
        number(1, 1, 7.0),
    ]);
    let got = read(bytes, &SheetLimits::default()).unwrap();
    assert_eq!(
        got.header,
        ["Mobile", ""],
        "the used range is two columns wide"
    );
    assert_eq!(got.rows.len(), 1);
    assert_eq!(got.rows[0].cell(0), CellRef::Text("0871234567"));
    assert_eq!(got.rows[0].cell(1), CellRef::Number(7.0));
}

#[test]
fn a_sheet_spanning_the_whole_format_is_refused_before_it_is_built() {
    // Two cells, A1 and IV65536: the library would build 16.7 million cells and copy
    // them (1 GB measured).
    let bytes = contacts(vec![number(65_535, 255, 1.0)]);
    assert!(bytes.len() < 8000, "{}", bytes.len());
    let e = read(bytes, &SheetLimits::default()).err().unwrap();
    assert_eq!(
        e,
        ReadError::XlsTooLarge {
            sheet: "Contacts".to_owned(),
            rows: 65_536,
            columns: 256,
            limit: 4_194_304
        }
    );
    assert_eq!(
        e.to_string(),
        "sheet `Contacts` spans 65,536 rows × 256 columns, which takes the workbook past 4,194,304 cells (the limit)"
    );
}

#[test]
fn a_declared_size_past_the_limit_is_refused_before_room_is_reserved() {
    // An end before the start: the library would reserve room for ~2³² rows (and abort).
    let e = read(
        contacts(vec![dimensions(10, 5, 0, 1)]),
        &SheetLimits::default(),
    )
    .err()
    .unwrap();
    assert!(
        matches!(e, ReadError::XlsTooLarge { rows, columns: 1, .. } if rows > 4_000_000_000),
        "{e}"
    );
    let e = read(
        contacts(vec![dimensions(0, 65_536, 0, 256)]),
        &SheetLimits::default(),
    )
    .err()
    .unwrap();
    assert!(
        matches!(
            e,
            ReadError::XlsTooLarge {
                rows: 65_536,
                columns: 256,
                ..
            }
        ),
        "{e}"
    );
}

#[test]
fn the_sheets_count_together_and_records_count_alone() {
    let limits = SheetLimits {
        max_xls_cells: 1000,
        ..SheetLimits::default()
    };
    let square = |name| {
        let mut records = vec![label(0, 0, "Mobile")];
        records.push(number(19, 29, 1.0));
        (name, records)
    };
    // 600 cells each: the second takes the workbook past 1,000.
    let e = read(
        xls(workbook_stream(&[], &[square("One"), square("Two")])),
        &limits,
    )
    .err()
    .unwrap();
    assert!(
        matches!(&e, ReadError::XlsTooLarge { sheet, rows: 20, columns: 30, .. } if sheet == "Two"),
        "{e}"
    );
    // 2,000 records of one cell.
    let repeated = (0..2000).map(|_| number(1, 0, 1.0)).collect();
    let e = read(contacts(repeated), &limits).err().unwrap();
    assert!(
        matches!(e, ReadError::XlsTooLarge { limit: 1000, .. }),
        "{e}"
    );
}

#[test]
fn a_column_past_the_limit_is_refused_naming_the_cell() {
    let e = read(
        contacts(vec![number(4, 20_000, 1.0)]),
        &SheetLimits::default(),
    )
    .err()
    .unwrap();
    assert_eq!(
        e,
        ReadError::TooManyColumns {
            place: Place::Cell {
                sheet: "Contacts".to_owned(),
                cell: "ACOG5".to_owned()
            },
            limit: 16_384
        }
    );
}

#[test]
fn copies_of_a_long_shared_string_are_bounded() {
    // One 8,000-character string, referenced by 20,000 cells: 160 million characters.
    let mut sst = 20_000u32.to_le_bytes().to_vec();
    sst.extend_from_slice(&1u32.to_le_bytes());
    sst.extend_from_slice(&8000u16.to_le_bytes());
    sst.push(0);
    sst.extend(vec![b's'; 8000]);
    let cells = (1..=20_000u16).map(|r| label_sst(r, 0, 0)).collect();
    let mut records = vec![label(0, 0, "Mobile")];
    records.extend::<Vec<_>>(cells);
    let bytes = xls(workbook_stream(
        &[record(0x00FC, &sst)],
        &[("Contacts", records)],
    ));
    assert!(bytes.len() < 400_000, "{}", bytes.len());
    let e = read(bytes, &SheetLimits::default()).err().unwrap();
    assert_eq!(
        e,
        ReadError::XlsTextTooLarge {
            sheet: "Contacts".to_owned(),
            limit: 256 * 1024 * 1024
        }
    );
}

#[test]
fn a_container_whose_chains_cycle_or_leave_the_table_is_refused() {
    let stream = workbook_stream(&[], &[("Contacts", vec![label(0, 0, "Mobile")])]);
    // The directory's chain points back at itself: the library would read it forever.
    let cycle = container(stream.clone(), |fat, directory, _| {
        fat[directory as usize] = directory;
    });
    for result in [
        read(cycle.clone(), &SheetLimits::default()),
        crate::xlsx::read(cycle, &SheetLimits::default()),
    ] {
        match result.err().unwrap() {
            ReadError::Workbook { message, .. } => {
                assert!(message.contains("runs in a circle"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }
    // The stream's chain leads to a sector the table does not cover (the library would
    // index past its table and panic).
    let mut outside = container(stream, |fat, _, first| {
        fat[first as usize] = 150;
    });
    outside.extend(vec![0; 100_000]);
    match read(outside, &SheetLimits::default()).err().unwrap() {
        ReadError::Workbook { message, .. } => {
            assert!(message.contains("leaves the allocation table"), "{message}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn records_the_library_would_panic_on_are_refused() {
    // A sheet record of three bytes.
    let short = xls([bof(0x0005), record(0x0085, &[1, 2, 3]), eof()].concat());
    match read(short, &SheetLimits::default()).err().unwrap() {
        ReadError::Workbook { message, .. } => assert!(message.contains("damaged"), "{message}"),
        other => panic!("{other:?}"),
    }
    // A defined name cut short: not checked here, the library's panic becomes a refusal.
    let name = xls(workbook_stream(
        &[record(0x0018, &[0, 0])],
        &[("Contacts", vec![label(0, 0, "Mobile")])],
    ));
    assert_eq!(
        read(name, &SheetLimits::default()).err(),
        Some(ReadError::Workbook {
            format: "XLS",
            message: "the file is damaged: the spreadsheet reader failed on it".to_owned()
        })
    );
}
