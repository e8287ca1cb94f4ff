//! The worker protocol (version 1): 16-byte headers (tag, sequence number, body length),
//! chunks of packed i64/f64 columns out, result columns back. Little-endian throughout.

use std::io::{self, Read, Write};

use polars::prelude::*;

/// A message header: tag, sequence number, body length.
pub const HEADER: usize = 16;

pub const HELLO: &[u8; 4] = b"HELO";
pub const FAIL: &[u8; 4] = b"FAIL";
pub const CHUNK: &[u8; 4] = b"CHNK";
pub const RESULT: &[u8; 4] = b"RSLT";
pub const ERROR: &[u8; 4] = b"ERRR";

const T_NULL: u8 = 0;
const T_I64: u8 = 1;
const T_F64: u8 = 2;
const T_BOOL: u8 = 3;
const T_STR: u8 = 4;

/// RSLT flag: the result is a table of its own, not columns for the records.
const REPLACE: u32 = 1;

/// FAIL kind: pandas is missing (frame mode).
pub const FAIL_NO_PANDAS: u32 = 5;

/// A column as it goes to the worker: as integers where the column holds whole numbers
/// (and is inferred as integers), else as floats; nulls as a byte mask (1 = null).
pub struct Column<'a> {
    values: &'a Float64Chunked,
    integers: bool,
}

impl<'a> Column<'a> {
    pub fn new(values: &'a Float64Chunked, integer_column: bool) -> Column<'a> {
        let whole = |x: Option<f64>| {
            x.is_none_or(|x| x.fract() == 0.0 && x.abs() <= 9.007_199_254_740_992e15)
        };
        Column {
            values,
            integers: integer_column && values.iter().all(whole),
        }
    }

    fn masked(&self) -> bool {
        self.values.null_count() > 0
    }
}

/// Writes a CHNK message of `rows` rows.
pub fn write_chunk(w: &mut impl Write, seq: u32, rows: usize, cols: &[Column]) -> io::Result<()> {
    let masked = cols.iter().filter(|c| c.masked()).count();
    let len = 16 + 8 * cols.len() + 8 * rows * cols.len() + rows * masked;
    let mut head = Vec::with_capacity(HEADER + 16 + 8 * cols.len());
    head.extend_from_slice(CHUNK);
    head.extend_from_slice(&seq.to_le_bytes());
    head.extend_from_slice(&(len as u64).to_le_bytes());
    head.extend_from_slice(&(rows as u64).to_le_bytes());
    head.extend_from_slice(&(cols.len() as u32).to_le_bytes());
    head.extend_from_slice(&0u32.to_le_bytes());
    for c in cols {
        let tag = if c.integers { T_I64 } else { T_F64 };
        head.extend_from_slice(&[tag, u8::from(c.masked()), 0, 0, 0, 0, 0, 0]);
    }
    w.write_all(&head)?;
    let mut block = Vec::with_capacity(8 * rows);
    for c in cols {
        block.clear();
        for v in c.values.iter().map(|v| v.unwrap_or(0.0)) {
            match c.integers {
                true => block.extend_from_slice(&(v as i64).to_le_bytes()),
                false => block.extend_from_slice(&v.to_le_bytes()),
            }
        }
        w.write_all(&block)?;
    }
    for c in cols.iter().filter(|c| c.masked()) {
        block.clear();
        block.extend(c.values.iter().map(|v| u8::from(v.is_none())));
        w.write_all(&block)?;
    }
    w.flush()
}

/// A message: its tag, sequence number and body.
pub type Message = ([u8; 4], u32, Vec<u8>);

/// Reads one message; `None` at EOF before it.
pub fn read_message(r: &mut impl Read) -> io::Result<Option<Message>> {
    let mut head = [0u8; HEADER];
    let mut got = 0;
    while got < HEADER {
        match r.read(&mut head[got..])? {
            0 if got == 0 => return Ok(None),
            0 => {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "a truncated message",
                ))
            }
            n => got += n,
        }
    }
    let tag = [head[0], head[1], head[2], head[3]];
    let seq = u32::from_le_bytes(head[4..8].try_into().expect("4 bytes"));
    let len = u64::from_le_bytes(head[8..16].try_into().expect("8 bytes"));
    let mut body = vec![0; len as usize];
    r.read_exact(&mut body)?;
    Ok(Some((tag, seq, body)))
}

/// A reader of a message body, field by field.
pub struct Body<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Body<'a> {
    pub fn new(bytes: &'a [u8]) -> Body<'a> {
        Body { bytes, at: 0 }
    }

    fn take(&mut self, n: usize) -> io::Result<&'a [u8]> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.bytes.len());
        let end = end.ok_or_else(|| bad("a field beyond the message's end"))?;
        let b = &self.bytes[self.at..end];
        self.at = end;
        Ok(b)
    }

    fn pad8(&mut self) {
        self.at = self.at.div_ceil(8) * 8;
    }

    pub fn u32(&mut self) -> io::Result<u32> {
        Ok(u32::from_le_bytes(
            self.take(4)?.try_into().expect("4 bytes"),
        ))
    }

    pub fn u64(&mut self) -> io::Result<u64> {
        Ok(u64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }

    pub fn i64(&mut self) -> io::Result<i64> {
        Ok(i64::from_le_bytes(
            self.take(8)?.try_into().expect("8 bytes"),
        ))
    }

    /// A u32 length, then that many UTF-8 bytes.
    pub fn string(&mut self) -> io::Result<String> {
        let n = self.u32()? as usize;
        Ok(String::from_utf8_lossy(self.take(n)?).into_owned())
    }
}

fn bad(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("python worker: {what}"))
}

/// A chunk's result: its columns, and whether they are a table of their own.
pub struct Table {
    pub columns: Vec<Series>,
    pub height: usize,
    pub replace: bool,
}

/// Decodes an RSLT body into polars columns.
pub fn read_result(body: &[u8]) -> io::Result<Table> {
    let mut b = Body::new(body);
    let rows = b.u64()? as usize;
    let ncols = b.u32()?;
    let flags = b.u32()?;
    let mut columns = Vec::with_capacity(ncols as usize);
    for _ in 0..ncols {
        let head = b.take(8)?;
        let (tag, has_mask) = (head[0], head[1] != 0);
        let name_len = u32::from_le_bytes(head[4..8].try_into().expect("4 bytes")) as usize;
        let name = String::from_utf8_lossy(b.take(name_len)?).into_owned();
        b.pad8();
        let mask = match has_mask {
            true => {
                let m = b.take(rows)?;
                b.pad8();
                Some(m)
            }
            false => None,
        };
        columns.push(read_column(&mut b, tag, rows, mask, name.as_str().into())?);
    }
    Ok(Table {
        columns,
        height: rows,
        replace: flags & REPLACE != 0,
    })
}

/// One result column's data: `rows` values of type `tag`, null where `mask` says 1.
fn read_column(
    b: &mut Body,
    tag: u8,
    rows: usize,
    mask: Option<&[u8]>,
    name: PlSmallStr,
) -> io::Result<Series> {
    let valid = |i: usize| mask.is_none_or(|m| m[i] == 0);
    let words = |b: &mut Body| -> io::Result<Vec<[u8; 8]>> {
        let raw = b.take(8 * rows)?;
        Ok(raw
            .chunks_exact(8)
            .map(|w| w.try_into().expect("8 bytes"))
            .collect())
    };
    Ok(match tag {
        T_NULL => Series::full_null(name, rows, &DataType::Null),
        T_I64 => {
            let v = words(b)?
                .into_iter()
                .enumerate()
                .map(|(i, w)| valid(i).then(|| i64::from_le_bytes(w)));
            Int64Chunked::from_iter_options(name, v).into_series()
        }
        T_F64 => {
            let v = words(b)?
                .into_iter()
                .enumerate()
                .map(|(i, w)| valid(i).then(|| f64::from_le_bytes(w)));
            Float64Chunked::from_iter_options(name, v).into_series()
        }
        T_BOOL => {
            let raw = b.take(rows)?;
            b.pad8();
            let v = raw
                .iter()
                .enumerate()
                .map(|(i, &x)| valid(i).then_some(x != 0));
            BooleanChunked::from_iter_options(name, v).into_series()
        }
        T_STR => {
            let offsets: Vec<usize> = (0..=rows)
                .map(|_| b.i64().map(|o| o as usize))
                .collect::<io::Result<_>>()?;
            let total = *offsets.last().unwrap_or(&0);
            let text = b.take(total)?;
            b.pad8();
            let v = (0..rows).map(|i| {
                let s = text.get(offsets[i]..offsets[i + 1]).unwrap_or_default();
                valid(i).then(|| String::from_utf8_lossy(s).into_owned())
            });
            StringChunked::from_iter_options(name, v).into_series()
        }
        other => return Err(bad(&format!("an unknown column type {other}"))),
    })
}

/// An ERRR: where and how the function failed.
pub struct Failure {
    /// The failing row of the chunk, when one applies.
    pub row: Option<usize>,
    pub message: String,
    pub traceback: String,
}

pub fn read_error(body: &[u8]) -> io::Result<Failure> {
    let mut b = Body::new(body);
    let row = b.i64()?;
    let _kind = b.u32()?;
    let _exc_type = b.string()?;
    let message = b.string()?;
    let traceback = b.string()?;
    Ok(Failure {
        row: usize::try_from(row).ok(),
        message,
        traceback,
    })
}
