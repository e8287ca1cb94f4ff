//! `dfpar merge`: checks that the parts are every shard of one run and tile the input
//! exactly, then concatenates row parts (one header) or combines saved states.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::manifest::{Manifest, Part};
use crate::error::{Error, Result};
use crate::format::Format;
use crate::sink::frames::FrameWriter;
use crate::sink::parquet::Parquet;
use crate::write::Output;

/// A checked `dfpar merge` request.
#[derive(Clone, Debug)]
pub struct MergeOptions {
    pub parts: Vec<PathBuf>,
    pub output: Option<PathBuf>,
    pub format: Option<Format>,
}

/// A part and its manifest.
struct Piece {
    path: PathBuf,
    manifest: Manifest,
    /// Data rows of the shards before it.
    rows_before: u64,
}

/// Runs `dfpar merge`. On any error the output is left untouched.
pub fn merge(o: &MergeOptions) -> Result<()> {
    let pieces = checked(&o.parts)?;
    match pieces[0].manifest.part.clone() {
        Part::State => merge_states(o, &pieces),
        Part::Rows {
            format,
            header,
            row_index,
            delimiter,
        } => {
            let format = rows_format(o, &format)?;
            let mut out = Output::create(o.output.as_deref())?;
            match format {
                Format::Parquet => parquet(&pieces, row_index, &mut out)?,
                Format::Jsonl => jsonl(&pieces, row_index, &mut out)?,
                Format::Csv | Format::Tsv => text(&pieces, header, row_index, delimiter, &mut out)?,
            }
            out.commit()
        }
    }
}

/// The parts' manifests, checked to be every shard of one run, tiling the input, sorted.
fn checked(paths: &[PathBuf]) -> Result<Vec<Piece>> {
    let manifests: Vec<PathBuf> = paths.iter().map(|p| super::manifest::path_of(p)).collect();
    let mut pieces = Vec::new();
    for path in paths.iter().filter(|p| !manifests.contains(p)) {
        let manifest = Manifest::read(path)?;
        let size = std::fs::metadata(path).map_or(0, |m| m.len());
        if size != manifest.part_bytes {
            return Err(part_err(
                path,
                format!(
                    "has {size} bytes, its manifest says {}: it was written again after its manifest; run its shard ({}) again",
                    manifest.part_bytes, manifest.shard
                ),
            ));
        }
        pieces.push(Piece {
            path: path.clone(),
            manifest,
            rows_before: 0,
        });
    }
    pieces.sort_by_key(|p| p.manifest.shard.index);
    check_one_run(&pieces)?;
    check_tiling(&pieces)?;
    let mut rows = 0;
    for p in &mut pieces {
        p.rows_before = rows;
        rows += p.manifest.rows;
    }
    Ok(pieces)
}

fn part_err(path: &Path, message: String) -> Error {
    Error::Data {
        path: path.display().to_string(),
        line: None,
        message,
    }
}

/// Every part comes from the same input and options, and every shard is there once.
fn check_one_run(pieces: &[Piece]) -> Result<()> {
    let Some(first) = pieces.first() else {
        return Err(Error::usage("name the parts to merge"));
    };
    let m0 = &first.manifest;
    for p in pieces {
        let m = &p.manifest;
        let differs = if m.input != m0.input {
            Some(format!(
                "another input ({} of {} bytes)",
                m.input.path.display(),
                m.input.size
            ))
        } else if m.options != m0.options {
            Some(format!("other options ({})", m.options.join(" ")))
        } else if m.shard.count != m0.shard.count
            || m.part != m0.part
            || m.data_start != m0.data_start
        {
            Some(format!("another run (shard {})", m.shard))
        } else {
            None
        };
        if let Some(what) = differs {
            return Err(part_err(
                &p.path,
                format!(
                    "is of {what} than {} (shard {})",
                    first.path.display(),
                    m0.shard
                ),
            ));
        }
    }
    for pair in pieces.windows(2) {
        if pair[0].manifest.shard.index == pair[1].manifest.shard.index {
            return Err(part_err(
                &pair[1].path,
                format!(
                    "is shard {} again ({} is too): give each shard once",
                    pair[1].manifest.shard,
                    pair[0].path.display()
                ),
            ));
        }
    }
    let have: Vec<u64> = pieces.iter().map(|p| p.manifest.shard.index).collect();
    let missing: Vec<String> = (0..m0.shard.count)
        .filter(|i| !have.contains(i))
        .map(|i| i.to_string())
        .collect();
    if !missing.is_empty() {
        return Err(Error::Data {
            path: m0.input.path.display().to_string(),
            line: None,
            message: format!(
                "shards {} of {} are missing: merge needs every shard",
                missing.join(", "),
                m0.shard.count
            ),
        });
    }
    Ok(())
}

/// The shards' byte ranges follow each other from the input's data to its end: every
/// shard starts where the one before it ended its last record (which proves each start).
fn check_tiling(pieces: &[Piece]) -> Result<()> {
    let m0 = &pieces[0].manifest;
    let mut at = m0.data_start;
    let mut before: Option<&Piece> = None;
    for p in pieces {
        let m = &p.manifest;
        if m.start != at {
            let after = before.map_or("the header".to_string(), |b| {
                format!("{} (shard {})", b.path.display(), b.manifest.shard)
            });
            let gap = m.start.abs_diff(at);
            return Err(part_err(
                &p.path,
                format!(
                    "shard {} starts at byte {} but {after} ends at byte {at}: a quoted field with \
                     line breaks, longer than the --chunk-size, lies across that shard boundary, and \
                     the shard took a line inside it for a record's start; run the shards again with \
                     --chunk-size {} or more",
                    m.shard,
                    m.start,
                    (2 * gap).max(1 << 20)
                ),
            ));
        }
        at = m.end;
        before = Some(p);
    }
    if at != m0.input.size {
        return Err(part_err(
            &pieces[pieces.len() - 1].path,
            format!("the last shard ends at byte {at} of {}", m0.input.size),
        ));
    }
    Ok(())
}

/// The format row parts are merged in: theirs; `--format` or the output's extension, when
/// given, must agree.
fn rows_format(o: &MergeOptions, parts: &str) -> Result<Format> {
    let format = Format::by_name(parts)
        .ok_or_else(|| Error::usage(format!("the parts are of an unknown format '{parts}'")))?;
    let asked = o
        .format
        .or_else(|| o.output.as_deref().and_then(Format::by_extension));
    match asked {
        Some(f) if f != format => Err(Error::usage(format!(
            "the parts are {parts} rows: merge writes them as they are (--format {parts})"
        ))),
        _ => Ok(format),
    }
}

/// CSV or TSV: the first part's header once, then every part's rows; in unordered mode
/// each row's leading `row_index` moved on by the rows of the shards before.
fn text(
    pieces: &[Piece],
    header: bool,
    row_index: bool,
    delimiter: u8,
    out: &mut Output,
) -> Result<()> {
    for (i, p) in pieces.iter().enumerate() {
        let mut file = open(&p.path)?;
        if header {
            let head = read_header(&p.path, &mut file)?;
            if i == 0 {
                out.write_all(&head)?;
            }
        }
        match row_index {
            false => copy(&p.path, &mut file, out)?,
            true => renumber(p, BufReader::with_capacity(1 << 20, file), delimiter, out)?,
        }
    }
    Ok(())
}

/// The header line of a part (quote-aware), read off the front of `file`.
fn read_header(path: &Path, file: &mut File) -> Result<Vec<u8>> {
    use std::io::{Seek, SeekFrom};
    let mut head = Vec::new();
    loop {
        let want = (head.len() as u64).max(1 << 16);
        let n = (&mut *file)
            .take(want)
            .read_to_end(&mut head)
            .map_err(|e| read_err(path, e))?;
        if let Some(end) = crate::read::first_record_end(&head, b'"') {
            head.truncate(end);
            break;
        }
        if n == 0 {
            break;
        }
    }
    file.seek(SeekFrom::Start(head.len() as u64))
        .map_err(|e| read_err(path, e))?;
    Ok(head)
}

/// The rows of a text part, with their leading `row_index` moved on by `rows_before`.
/// dfpar writes row_index as the first field, digits only, and every row on one line
/// except where a quoted field holds a line break: such lines are copied as they are.
fn renumber(p: &Piece, reader: impl BufRead, delimiter: u8, out: &mut Output) -> Result<()> {
    let mut quoted = false;
    let mut num = itoa::Buffer::new();
    for line in reader.split(b'\n') {
        let mut line = line.map_err(|e| read_err(&p.path, e))?;
        let digits = line.iter().take_while(|b| b.is_ascii_digit()).count();
        if !quoted && digits > 0 && line.get(digits) == Some(&delimiter) {
            let row: u64 = std::str::from_utf8(&line[..digits])
                .ok()
                .and_then(|d| d.parse().ok())
                .ok_or_else(|| part_err(&p.path, "a row_index that is not a number".into()))?;
            let shifted = num.format(row + p.rows_before).as_bytes().to_vec();
            line.splice(..digits, shifted);
        }
        quoted ^= memchr::memchr_iter(b'"', &line).count() % 2 == 1;
        line.push(b'\n');
        out.write_all(&line)?;
    }
    Ok(())
}

/// JSON lines: every part's lines; in unordered mode `{"row_index":N` moved on.
fn jsonl(pieces: &[Piece], row_index: bool, out: &mut Output) -> Result<()> {
    const KEY: &[u8] = b"{\"row_index\":";
    for p in pieces {
        let mut file = open(&p.path)?;
        if !row_index {
            copy(&p.path, &mut file, out)?;
            continue;
        }
        let mut num = itoa::Buffer::new();
        for line in BufReader::with_capacity(1 << 20, file).split(b'\n') {
            let mut line = line.map_err(|e| read_err(&p.path, e))?;
            let digits = line[KEY.len().min(line.len())..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            if line.starts_with(KEY) && digits > 0 {
                let at = KEY.len()..KEY.len() + digits;
                let row: u64 = std::str::from_utf8(&line[at.clone()])
                    .ok()
                    .and_then(|d| d.parse().ok())
                    .ok_or_else(|| part_err(&p.path, "a row_index that is not a number".into()))?;
                line.splice(at, num.format(row + p.rows_before).bytes());
            }
            line.push(b'\n');
            out.write_all(&line)?;
        }
    }
    Ok(())
}

/// Parquet: every part's row groups, read one at a time and written as one file.
fn parquet(pieces: &[Piece], row_index: bool, out: &mut Output) -> Result<()> {
    use crate::sink::Writer;
    let mut file = FrameWriter(Box::<Parquet>::default());
    let read = |p: &Piece, slice: (usize, usize)| -> Result<DataFrame> {
        let fail = |e: PolarsError| part_err(&p.path, format!("cannot read the Parquet part: {e}"));
        let mut df = ParquetReader::new(open(&p.path)?)
            .with_slice(Some(slice))
            .finish()
            .map_err(fail)?;
        if row_index {
            let index = df.column("row_index").map_err(fail)?;
            let shifted = index.as_materialized_series() + p.rows_before;
            df.replace("row_index", shifted.into_column())
                .map_err(fail)?;
        }
        Ok(df)
    };
    let mut written = false;
    for p in pieces {
        let groups: Vec<usize> = ParquetReader::new(open(&p.path)?)
            .get_metadata()
            .map_err(|e| part_err(&p.path, format!("cannot read the Parquet part: {e}")))?
            .row_groups
            .iter()
            .map(|g| g.num_rows())
            .collect();
        let mut offset = 0;
        for rows in groups.into_iter().filter(|&n| n > 0) {
            file.write(out, read(p, (offset, rows))?, !written)?;
            offset += rows;
            written = true;
        }
    }
    if !written {
        // No rows in any part: the file still has the schema.
        file.write(out, read(&pieces[0], (0, 0))?, true)?;
    }
    file.finish(out)
}

/// Column and frame parts: their saved states combined, finished into the one table.
fn merge_states(o: &MergeOptions, pieces: &[Piece]) -> Result<()> {
    use crate::cli::{Cli, Command};
    use clap::Parser;
    let m0 = &pieces[0].manifest;
    let input = m0.input.path.display().to_string();
    let argv = std::iter::once("dfpar".to_string())
        .chain(m0.options.iter().cloned())
        .chain([input]);
    let request = match Cli::try_parse_from(argv).map(|c| c.command) {
        Ok(Command::Apply(args)) => args.into_request(Vec::new())?,
        _ => {
            return Err(part_err(
                &pieces[0].path,
                "its manifest's options are not dfpar apply's".into(),
            ))
        }
    };
    let run = crate::request::Run {
        inputs: request.runs[0].inputs.clone(),
        output: o.output.clone(),
        format: Format::resolve(o.format, o.output.as_deref()),
        compress: None,
    };
    let mut parts = Vec::new();
    for p in pieces {
        let text = std::fs::read(&p.path).map_err(|e| read_err(&p.path, e))?;
        let saved = serde_json::from_slice(&text)
            .map_err(|e| part_err(&p.path, format!("is not a saved state: {e}")))?;
        parts.push((saved, p.rows_before));
    }
    crate::apply::merge_states(&request, &run, parts)
}

fn open(path: &Path) -> Result<File> {
    File::open(path).map_err(|source| Error::Input {
        path: path.display().to_string(),
        what: "cannot open",
        source,
    })
}

fn read_err(path: &Path, source: std::io::Error) -> Error {
    Error::Input {
        path: path.display().to_string(),
        what: "cannot read",
        source,
    }
}

fn copy(path: &Path, file: &mut File, out: &mut Output) -> Result<()> {
    let mut block = vec![0; 1 << 20];
    loop {
        match file.read(&mut block) {
            Ok(0) => return Ok(()),
            Ok(n) => out.write_all(&block[..n])?,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(read_err(path, e)),
        }
    }
}
