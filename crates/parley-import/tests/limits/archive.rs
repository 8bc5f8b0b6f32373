//! Zip archives written by hand (a few lines of the format), so a test controls what
//! `rust_xlsxwriter` cannot: a part whose one cell is gigabytes (a run of identical
//! deflate blocks, so the file stays ~2 MB), a part that lies about its size, millions
//! of tiny shared strings.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::Mutex;

use flate2::{Compress, Compression, FlushCompress};

/// One entry of an archive written by hand.
pub struct Part {
    pub name: String,
    /// Raw deflate data.
    pub data: Vec<u8>,
    pub crc: u32,
    /// The size the archive declares once unpacked.
    pub size: u64,
}

pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for b in bytes {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// `bytes` as raw deflate, ending byte-aligned and not final (so pieces chain).
pub fn deflate_piece(bytes: &[u8]) -> Vec<u8> {
    let mut compress = Compress::new(Compression::best(), false);
    let mut out = Vec::with_capacity(bytes.len() / 2 + 1024);
    compress
        .compress_vec(bytes, &mut out, FlushCompress::Sync)
        .unwrap();
    while compress.total_in() < bytes.len() as u64 {
        out.reserve(64 * 1024);
        let done = usize::try_from(compress.total_in()).unwrap();
        compress
            .compress_vec(&bytes[done..], &mut out, FlushCompress::Sync)
            .unwrap();
    }
    out
}

/// The final, empty deflate block.
pub const DEFLATE_END: [u8; 2] = [0x03, 0x00];

pub fn part(name: &str, text: &str) -> Part {
    let mut data = deflate_piece(text.as_bytes());
    data.extend_from_slice(&DEFLATE_END);
    Part {
        name: name.to_owned(),
        data,
        crc: crc32(text.as_bytes()),
        size: text.len() as u64,
    }
}

/// Like [`part`], without the checksum (for parts refused before their end).
pub fn unchecked_part(name: &str, text: &str) -> Part {
    let mut data = deflate_piece(text.as_bytes());
    data.extend_from_slice(&DEFLATE_END);
    Part {
        name: name.to_owned(),
        data,
        crc: 0,
        size: text.len() as u64,
    }
}

/// `head`, then `mib` MiB of `fill`, then `tail`: unpacks to gigabytes from a few MB.
/// Its checksum is not computed (nothing should read it to the end).
pub fn huge_part(name: &str, head: &str, fill: u8, mib: u64, tail: &str) -> Part {
    static BLOCKS: Mutex<BTreeMap<u8, Vec<u8>>> = Mutex::new(BTreeMap::new());
    let block = BLOCKS
        .lock()
        .unwrap()
        .entry(fill)
        .or_insert_with(|| deflate_piece(&vec![fill; 1024 * 1024]))
        .clone();
    let mut data = deflate_piece(head.as_bytes());
    for _ in 0..mib {
        data.extend_from_slice(&block);
    }
    data.extend_from_slice(&deflate_piece(tail.as_bytes()));
    data.extend_from_slice(&DEFLATE_END);
    Part {
        name: name.to_owned(),
        data,
        crc: 0,
        size: head.len() as u64 + mib * 1024 * 1024 + tail.len() as u64,
    }
}

pub fn zip(parts: &[Part]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut directory = Vec::new();
    for p in parts {
        let offset = u32::try_from(out.len()).unwrap();
        let fields = |out: &mut Vec<u8>| {
            out.write_all(&20u16.to_le_bytes()).unwrap(); // version needed
            out.write_all(&0u16.to_le_bytes()).unwrap(); // flags
            out.write_all(&8u16.to_le_bytes()).unwrap(); // deflate
            out.write_all(&0u16.to_le_bytes()).unwrap(); // time
            out.write_all(&0x21u16.to_le_bytes()).unwrap(); // date: 1980-01-01
            out.write_all(&p.crc.to_le_bytes()).unwrap();
            let compressed = u32::try_from(p.data.len()).unwrap();
            out.write_all(&compressed.to_le_bytes()).unwrap();
            out.write_all(&u32::try_from(p.size).unwrap().to_le_bytes())
                .unwrap();
            out.write_all(&u16::try_from(p.name.len()).unwrap().to_le_bytes())
                .unwrap();
            out.write_all(&0u16.to_le_bytes()).unwrap(); // extra
        };
        out.write_all(&0x0403_4b50u32.to_le_bytes()).unwrap();
        fields(&mut out);
        out.write_all(p.name.as_bytes()).unwrap();
        out.write_all(&p.data).unwrap();
        directory.write_all(&0x0201_4b50u32.to_le_bytes()).unwrap();
        directory.write_all(&20u16.to_le_bytes()).unwrap(); // made by
        fields(&mut directory);
        directory.write_all(&[0; 6]).unwrap(); // comment, disk, internal attributes
        directory.write_all(&0u32.to_le_bytes()).unwrap(); // external attributes
        directory.write_all(&offset.to_le_bytes()).unwrap();
        directory.write_all(p.name.as_bytes()).unwrap();
    }
    let start = u32::try_from(out.len()).unwrap();
    out.extend_from_slice(&directory);
    let count = u16::try_from(parts.len()).unwrap();
    out.write_all(&0x0605_4b50u32.to_le_bytes()).unwrap();
    out.write_all(&[0; 4]).unwrap();
    out.write_all(&count.to_le_bytes()).unwrap();
    out.write_all(&count.to_le_bytes()).unwrap();
    out.write_all(&u32::try_from(directory.len()).unwrap().to_le_bytes())
        .unwrap();
    out.write_all(&start.to_le_bytes()).unwrap();
    out.write_all(&0u16.to_le_bytes()).unwrap();
    out
}
