//! `parley bench hostile-uploads`: hostile uploads against a real `parley serve` in a
//! child process, whose peak memory is read from `/proc` (reset before each case with
//! `/proc/<pid>/clear_refs`). The cases, each a file that once pinned gigabytes:
//!
//! * `json-rows`: 60 MiB of JSON rows (≈ 600,000 contacts) through `POST /api/v1/imports`;
//! * `xlsx-huge-cell`: a ≈ 2 MB `.xlsx` whose only data cell unpacks to 2 GiB (less 8 MiB,
//!   so the sheet's declared size passes and the cell is what is refused);
//! * `xlsx-shared-strings`: a ≈ 2.5 MB `.xlsx` declaring and holding 60 million shared
//!   strings.
//!
//! Each runs alone, then all three at once; the command prints each import's outcome and
//! the server's peak RSS, against the goal of 500 MB. The spreadsheets are built here as
//! raw deflate: one compressed block of a repeated unit, repeated (a full flush makes
//! each block stand alone), so a 2 GiB part costs seconds to write, not minutes.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use flate2::{Compress, Compression, FlushCompress};

/// Options.
#[derive(Debug, Args)]
pub struct HostileBench {
    /// Where the files and the server's data go (default: a new temporary folder).
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Scale every case down by this factor (CI runs a small version; 1 is the real size).
    #[arg(long, default_value_t = 1)]
    pub shrink: u64,
}

/// The goal: the server's peak RSS through every case.
const GOAL_MB: f64 = 500.0;

/// `parley serve` in a child process; killed when dropped.
struct Server {
    child: std::process::Child,
    address: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(dir: &Path) -> anyhow::Result<(Self, String, String)> {
        let mut child = std::process::Command::new(std::env::current_exe()?)
            .arg("serve")
            .current_dir(dir)
            .env(
                "PARLEY_STORE__URL",
                format!("sqlite://{}", dir.join("parley.db").display()),
            )
            .env("PARLEY_DATA_DIR", dir.display().to_string())
            .env("PARLEY_SERVER__LISTEN", "127.0.0.1:0")
            .env("PARLEY_IMPORTS__MAX_FILE_MIB", "512")
            .env("PARLEY_LOG__LEVEL", "error")
            .stdout(std::process::Stdio::piped())
            .spawn()
            .context("starting parley serve")?;
        let stdout = child.stdout.take().context("the server's output")?;
        let mut lines = std::io::BufReader::new(stdout).lines();
        let (mut address, mut key, mut secret) = (None, None, None);
        while address.is_none() || key.is_none() || secret.is_none() {
            let line = lines
                .next()
                .context("the server ended before it was ready")??;
            let line = line.trim();
            if let Some(a) = line.strip_prefix("Parley is listening on http://") {
                address = Some(a.to_owned());
            } else if let Some(k) = line.strip_prefix("API key id:") {
                key = Some(k.trim().to_owned());
            } else if let Some(s) = line.strip_prefix("API key secret:") {
                secret = Some(s.trim().to_owned());
            }
        }
        std::thread::spawn(move || lines.for_each(drop));
        let server = Self {
            child,
            address: address.unwrap_or_default(),
        };
        Ok((server, key.unwrap_or_default(), secret.unwrap_or_default()))
    }

    fn status_kib(&self, field: &str) -> u64 {
        std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with(field))
                    .and_then(|l| l.split_whitespace().nth(1))
                    .and_then(|v| v.parse().ok())
            })
            .unwrap_or(0)
    }

    /// Peak RSS since the last reset, in MB.
    fn peak_mb(&self) -> f64 {
        #[allow(clippy::cast_precision_loss)]
        let kib = self.status_kib("VmHWM:") as f64;
        kib * 1024.0 / 1e6
    }

    /// Starts a new peak from the present RSS.
    fn reset_peak(&self) {
        let _ = std::fs::write(format!("/proc/{}/clear_refs", self.child.id()), "5");
    }

    /// One HTTP/1.1 request on a new connection; the status and body.
    async fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: &Path,
    ) -> anyhow::Result<(u16, String)> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let length = std::fs::metadata(body).map_or(0, |m| m.len());
        let mut stream = tokio::net::TcpStream::connect(&self.address).await?;
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {length}\r\n",
            self.address
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).await?;
        if length > 0 {
            let mut file = tokio::fs::File::open(body).await?;
            tokio::io::copy(&mut file, &mut stream).await?;
        }
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await?;
        let text = String::from_utf8_lossy(&answer);
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = text.split("\r\n\r\n").nth(1).unwrap_or_default().to_owned();
        Ok((status, body))
    }
}

/// Appends a zip entry's local header and data to `out`; its central directory record.
fn zip_entry(
    out: &mut Vec<u8>,
    name: &str,
    method: u16,
    data: &[u8],
    crc: u32,
    size: u64,
) -> Vec<u8> {
    let offset = u32::try_from(out.len()).unwrap_or(u32::MAX);
    let size = u32::try_from(size).unwrap_or(u32::MAX);
    let compressed = u32::try_from(data.len()).unwrap_or(u32::MAX);
    let name_len = u16::try_from(name.len()).unwrap_or(u16::MAX);
    let fields = |out: &mut Vec<u8>| {
        out.extend_from_slice(&20u16.to_le_bytes()); // version needed
        out.extend_from_slice(&0u16.to_le_bytes()); // flags
        out.extend_from_slice(&method.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes()); // time and date
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&compressed.to_le_bytes());
        out.extend_from_slice(&size.to_le_bytes());
        out.extend_from_slice(&name_len.to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes()); // extra length
    };
    out.extend_from_slice(&0x0403_4b50u32.to_le_bytes());
    fields(out);
    out.extend_from_slice(name.as_bytes());
    out.extend_from_slice(data);
    let mut central = Vec::new();
    central.extend_from_slice(&0x0201_4b50u32.to_le_bytes());
    central.extend_from_slice(&20u16.to_le_bytes()); // version made by
    fields(&mut central);
    central.extend_from_slice(&[0u8; 6]); // comment length, disk, internal attributes
    central.extend_from_slice(&0u32.to_le_bytes()); // external attributes
    central.extend_from_slice(&offset.to_le_bytes());
    central.extend_from_slice(name.as_bytes());
    central
}

/// Raw deflate of `data` as blocks that stand alone (`last` ends the stream).
fn deflate_block(data: &[u8], last: bool) -> Vec<u8> {
    let mut compress = Compress::new(Compression::best(), false);
    let mut out = Vec::with_capacity(data.len() / 4 + 1024);
    let flush = if last {
        FlushCompress::Finish
    } else {
        FlushCompress::Full
    };
    let mut input = data;
    loop {
        out.reserve(64 * 1024);
        let before = compress.total_in();
        let status = compress.compress_vec(input, &mut out, flush);
        #[allow(clippy::cast_possible_truncation)]
        let used = (compress.total_in() - before) as usize;
        input = &input[used..];
        match status {
            Ok(flate2::Status::StreamEnd) => break,
            Ok(_) if input.is_empty() && !last && out.len() < out.capacity() => break,
            Ok(_) => {}
            Err(_) => break,
        }
    }
    out
}

/// A part made of `head`, `unit` repeated `times`, and `tail`: its deflate data, CRC-32
/// and size.
fn repeated_part(head: &[u8], unit: &[u8], times: u64, tail: &[u8]) -> (Vec<u8>, u32, u64) {
    let mut data = deflate_block(head, false);
    let block = deflate_block(unit, false);
    for _ in 0..times {
        data.extend_from_slice(&block);
    }
    data.extend_from_slice(&deflate_block(tail, true));
    let mut crc = crc32fast::Hasher::new();
    crc.update(head);
    let mut power = crc32fast::Hasher::new();
    power.update(unit);
    let mut n = times;
    while n > 0 {
        if n & 1 == 1 {
            crc.combine(&power);
        }
        let copy = power.clone();
        power.combine(&copy);
        n >>= 1;
    }
    crc.update(tail);
    let size = head.len() as u64 + unit.len() as u64 * times + tail.len() as u64;
    (data, crc.finalize(), size)
}

/// A workbook with the given parts besides the ones every workbook has.
fn workbook(path: &Path, parts: &[(&str, Vec<u8>, u32, u64)]) -> anyhow::Result<()> {
    let small = [
        (
            "[Content_Types].xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>"#,
        ),
        (
            "_rels/.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#,
        ),
        (
            "xl/workbook.xml",
            r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Contacts" sheetId="1" r:id="rId1"/></sheets></workbook>"#,
        ),
        (
            "xl/_rels/workbook.xml.rels",
            r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>"#,
        ),
    ];
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, text) in small {
        let crc = crc32fast::hash(text.as_bytes());
        central.push(zip_entry(
            &mut out,
            name,
            0,
            text.as_bytes(),
            crc,
            text.len() as u64,
        ));
    }
    for (name, data, crc, size) in parts {
        central.push(zip_entry(&mut out, name, 8, data, *crc, *size));
    }
    let start = u32::try_from(out.len()).unwrap_or(u32::MAX);
    let count = u16::try_from(central.len()).unwrap_or(u16::MAX);
    let mut directory_len = 0u32;
    for record in &central {
        directory_len += u32::try_from(record.len()).unwrap_or(0);
        out.extend_from_slice(record);
    }
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0u8; 4]); // disk numbers
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&directory_len.to_le_bytes());
    out.extend_from_slice(&start.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    std::fs::write(path, out)?;
    Ok(())
}

const SHEET_HEAD: &str = r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>"#;
const SHEET_TAIL: &str = "</sheetData></worksheet>";

/// One sheet whose cell A2 holds `mib` MiB of text (A1 is the header `phone`).
fn huge_cell(path: &Path, mib: u64) -> anyhow::Result<()> {
    let head = format!(
        r#"{SHEET_HEAD}<row r="1"><c r="A1" t="inlineStr"><is><t>phone</t></is></c></row><row r="2"><c r="A2" t="inlineStr"><is><t>"#
    );
    let tail = format!("</t></is></c></row>{SHEET_TAIL}");
    let sheet = repeated_part(head.as_bytes(), &vec![b'7'; 1 << 20], mib, tail.as_bytes());
    let strings = repeated_part(br#"<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="0" uniqueCount="0">"#, b"", 0, b"</sst>");
    workbook(
        path,
        &[
            ("xl/worksheets/sheet1.xml", sheet.0, sheet.1, sheet.2),
            ("xl/sharedStrings.xml", strings.0, strings.1, strings.2),
        ],
    )
}

/// A workbook declaring and holding `count` shared strings.
fn shared_strings(path: &Path, count: u64) -> anyhow::Result<()> {
    let sheet_text =
        format!(r#"{SHEET_HEAD}<row r="1"><c r="A1" t="s"><v>0</v></c></row>{SHEET_TAIL}"#);
    let sheet = repeated_part(sheet_text.as_bytes(), b"", 0, b"");
    let unit = "<si><t>x</t></si>".repeat(4096);
    let head = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="{count}" uniqueCount="{count}">"#
    );
    let strings = repeated_part(head.as_bytes(), unit.as_bytes(), count / 4096, b"</sst>");
    workbook(
        path,
        &[
            ("xl/worksheets/sheet1.xml", sheet.0, sheet.1, sheet.2),
            ("xl/sharedStrings.xml", strings.0, strings.1, strings.2),
        ],
    )
}

/// About `mib` MiB of JSON rows.
fn json_rows(path: &Path, mib: u64) -> anyhow::Result<u64> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    out.write_all(br#"{"rows": ["#)?;
    let mut written = 0u64;
    let mut rows = 0u64;
    while written < mib << 20 {
        let row = format!(
            r#"{}{{"phone": "+447911{:06}", "first_name": "Customer {rows}", "customer_ref": "REF-{rows:08}"}}"#,
            if rows == 0 { "" } else { ", " },
            rows % 300_000
        );
        written += row.len() as u64;
        out.write_all(row.as_bytes())?;
        rows += 1;
    }
    out.write_all(b"]}")?;
    out.flush()?;
    Ok(rows)
}

/// A multipart body holding `file` as the part `file`.
fn multipart(file: &Path, name: &str, out: &Path) -> anyhow::Result<()> {
    let mut w = std::io::BufWriter::new(std::fs::File::create(out)?);
    write!(
        w,
        "--hostile\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
    )?;
    std::io::copy(&mut std::fs::File::open(file)?, &mut w)?;
    write!(w, "\r\n--hostile--\r\n")?;
    w.flush()?;
    Ok(())
}

/// Starts the upload of `case`; the import's id.
async fn upload(server: &Server, token: &str, body: &Path, json: bool) -> anyhow::Result<String> {
    let content_type = if json {
        "application/json".to_owned()
    } else {
        "multipart/form-data; boundary=hostile".to_owned()
    };
    let (status, answer) = server
        .request(
            "POST",
            "/api/v1/imports",
            &[
                ("authorization", format!("Bearer {token}")),
                ("content-type", content_type),
            ],
            body,
        )
        .await?;
    if status != 202 {
        bail!("the upload was answered {status}: {answer}");
    }
    let value: serde_json::Value = serde_json::from_str(&answer)?;
    Ok(value["id"].as_str().unwrap_or_default().to_owned())
}

/// Waits for an import to end; its status and message (or counters).
async fn outcome(server: &Server, token: &str, id: &str) -> anyhow::Result<String> {
    let empty = std::env::temp_dir().join("parley-bench-empty");
    std::fs::write(&empty, b"")?;
    let started = Instant::now();
    loop {
        let (_, body) = server
            .request(
                "GET",
                &format!("/api/v1/imports/{id}"),
                &[("authorization", format!("Bearer {token}"))],
                &empty,
            )
            .await?;
        let value: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        match value["status"].as_str() {
            Some("completed") => {
                return Ok(format!(
                    "completed: {} rows imported",
                    value["rows_imported"]
                ));
            }
            Some("failed") => {
                let error = value["error"].as_str().unwrap_or_default();
                let short: String = error.chars().take(110).collect();
                return Ok(format!("failed: {short}"));
            }
            _ if started.elapsed() > Duration::from_secs(900) => bail!("import {id} did not end"),
            _ => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// Runs the benchmark and prints its figures.
pub async fn run(args: HostileBench) -> anyhow::Result<()> {
    let dir = crate::bench::work_dir(args.dir.as_ref(), "parley-bench-hostile")?;
    let shrink = args.shrink.max(1);
    println!(
        "parley bench hostile-uploads: each case alone, then all at once, against parley serve (SQLite){}",
        if shrink > 1 {
            format!(", every case shrunk {shrink}×")
        } else {
            String::new()
        }
    );
    let started = Instant::now();
    let rows_file = dir.join("rows.json");
    // Each case keeps at least its smallest size, however far it is shrunk.
    let rows = json_rows(&rows_file, (60 / shrink).max(1))?;
    let cell = dir.join("cell.xlsx");
    // Just under 2 GiB, so the part passes the size it declares and the cell itself is
    // what is refused.
    huge_cell(&cell, (2040 / shrink).max(1))?;
    let strings = dir.join("strings.xlsx");
    shared_strings(&strings, (60_000_000 / shrink).max(1))?;
    let mut cases = Vec::new();
    for (name, file, json) in [
        ("json-rows", &rows_file, true),
        ("xlsx-huge-cell", &cell, false),
        ("xlsx-shared-strings", &strings, false),
    ] {
        let body = if json {
            file.clone()
        } else {
            let body = dir.join(format!("{name}.multipart"));
            multipart(file, &format!("{name}.xlsx"), &body)?;
            body
        };
        let size = std::fs::metadata(file)?.len();
        cases.push((name, body, json, size));
    }
    println!(
        "  files: {} JSON rows ({:.1} MB), huge cell {:.1} MB, shared strings {:.1} MB (made in {:.1} s)",
        rows,
        cases[0].3 as f64 / 1e6,
        cases[1].3 as f64 / 1e6,
        cases[2].3 as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );

    let data = dir.join("server");
    std::fs::create_dir_all(&data)?;
    let (server, key, secret) = Server::start(&data)?;
    let token_body = dir.join("token.json");
    std::fs::write(
        &token_body,
        serde_json::json!({"key_id": key, "secret": secret}).to_string(),
    )?;
    let (_, answer) = server
        .request(
            "POST",
            "/api/v1/auth/token",
            &[("content-type", "application/json".to_owned())],
            &token_body,
        )
        .await?;
    let token: serde_json::Value = serde_json::from_str(&answer)?;
    let token = token["token"].as_str().context("no token")?.to_owned();
    let baseline = server.peak_mb();
    println!("  server at rest: {baseline:.0} MB");

    let mut worst: f64 = 0.0;
    for (name, body, json, _) in &cases {
        server.reset_peak();
        let id = upload(&server, &token, body, *json).await?;
        let result = outcome(&server, &token, &id).await?;
        let peak = server.peak_mb();
        worst = worst.max(peak);
        println!("  {name:<22} peak RSS {peak:>6.0} MB   {result}");
    }
    server.reset_peak();
    let (a, b, c) = tokio::join!(
        upload(&server, &token, &cases[0].1, cases[0].2),
        upload(&server, &token, &cases[1].1, cases[1].2),
        upload(&server, &token, &cases[2].1, cases[2].2),
    );
    for id in &[a?, b?, c?] {
        outcome(&server, &token, id).await?;
    }
    let peak = server.peak_mb();
    worst = worst.max(peak);
    println!("  {:<22} peak RSS {peak:>6.0} MB", "all three at once");
    let verdict = if worst <= GOAL_MB { "met" } else { "NOT met" };
    println!(
        "  goal: peak RSS ≤ {GOAL_MB:.0} MB through every case: {verdict} (worst {worst:.0} MB)"
    );
    if worst > GOAL_MB {
        bail!("the server's peak RSS passed {GOAL_MB:.0} MB");
    }
    Ok(())
}
