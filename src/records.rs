//! Record boundaries: a quote-aware scan of CSV bytes that finds where records end,
//! counts lines, rows and fields, and never cuts inside a quoted field.

use memchr::{memchr, memchr_iter, memrchr};

/// One record of a chunk: its bytes without the line ending, its field count and the
/// 0-based offset of its first line within the chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    pub start: usize,
    pub end: usize,
    pub fields: usize,
    pub line: u64,
}

/// The position just after the last line ending that closes a complete record, given that
/// `buf` starts at a record boundary; `None` when no record in `buf` is complete.
/// Every quote character toggles the quoted state, as in RFC 4180 (a doubled quote toggles twice).
pub fn last_record_end(buf: &[u8], quote: u8) -> Option<usize> {
    let mut best = None;
    let mut quoted = false;
    let mut segment = 0;
    for q in memchr_iter(quote, buf) {
        if !quoted {
            if let Some(i) = memrchr(b'\n', &buf[segment..q]) {
                best = Some(segment + i + 1);
            }
        }
        quoted = !quoted;
        segment = q + 1;
    }
    if !quoted {
        if let Some(i) = memrchr(b'\n', &buf[segment..]) {
            best = Some(segment + i + 1);
        }
    }
    best
}

/// The position just after the first line ending at or after `from` that closes a record,
/// given that `buf` starts at a record boundary; `None` when `buf` holds none.
pub fn record_end_from(buf: &[u8], from: usize, quote: u8) -> Option<usize> {
    let newline_in = |a: usize, b: usize| -> Option<usize> {
        let a = a.max(from);
        if a >= b {
            return None;
        }
        memchr(b'\n', &buf[a..b]).map(|i| a + i + 1)
    };
    let mut quoted = false;
    let mut segment = 0;
    for q in memchr_iter(quote, buf) {
        if !quoted {
            if let Some(end) = newline_in(segment, q) {
                return Some(end);
            }
        }
        quoted = !quoted;
        segment = q + 1;
    }
    match quoted {
        true => None,
        false => newline_in(segment, buf.len()),
    }
}

/// The end of the first `n` records of `buf` (all of it when it holds fewer), after the
/// line ending of the last.
pub fn end_of_records(buf: &[u8], n: usize, delimiter: u8, quote: u8) -> usize {
    if n == 0 {
        return 0;
    }
    let mut seen = 0;
    let mut end = buf.len();
    let _ = for_each_record(buf, delimiter, quote, |r| {
        seen += 1;
        if seen < n {
            return Ok(());
        }
        end = buf[r.end..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(buf.len(), |i| r.end + i + 1);
        Err(())
    });
    end
}

/// Lines and rows in a chunk of whole records: `(line endings, non-blank records)`.
/// Quote-free chunks are counted with vectorizable loops; others with the full scan.
pub fn count_lines_and_rows(chunk: &[u8], delimiter: u8, quote: u8) -> (u64, u64) {
    if memchr(quote, chunk).is_some() {
        let mut rows = 0;
        let lines = for_each_record(chunk, delimiter, quote, |_| {
            rows += 1;
            Ok::<(), ()>(())
        })
        .unwrap_or_default();
        return (lines, rows);
    }
    let lines = memchr::memchr_iter(b'\n', chunk).count() as u64;
    // A blank line is a line ending at the chunk start or right after another one,
    // optionally preceded by a carriage return.
    let lf_lf = count_overlapping(chunk, b"\n\n");
    let lf_cr_lf = count_overlapping(chunk, b"\n\r\n");
    let leading = u64::from(chunk.starts_with(b"\n") || chunk.starts_with(b"\r\n"));
    let unterminated = match chunk.iter().rposition(|&b| b == b'\n') {
        Some(i) => !is_blank(&chunk[i + 1..]),
        None => !is_blank(chunk),
    };
    let rows = lines - lf_lf - lf_cr_lf - leading + u64::from(unterminated);
    (lines, rows)
}

/// Occurrences of `needle` in `hay`, overlapping ones included.
fn count_overlapping(hay: &[u8], needle: &[u8]) -> u64 {
    let finder = memchr::memmem::Finder::new(needle);
    let (mut n, mut at) = (0, 0);
    while let Some(i) = finder.find(&hay[at..]) {
        n += 1;
        at += i + 1;
    }
    n
}

fn is_blank(line: &[u8]) -> bool {
    line.is_empty() || line == b"\r"
}

/// Calls `visit` for every non-blank record of `chunk` in order and returns the number of
/// line endings seen. Blank lines (empty, or a lone carriage return) are skipped. A final
/// record without a line ending is visited too.
pub fn for_each_record<E>(
    chunk: &[u8],
    delimiter: u8,
    quote: u8,
    visit: impl FnMut(Record) -> Result<(), E>,
) -> Result<u64, E> {
    scan(chunk, delimiter, quote, |_, _, _| Ok(()), visit)
}

/// As `for_each_record`, and first calls `field(index, raw, line)` for every field of each
/// record (`raw` as written, quotes included, without the line ending; `line` is the
/// offset of the record's first line).
#[inline]
pub fn scan<E>(
    chunk: &[u8],
    delimiter: u8,
    quote: u8,
    mut field: impl FnMut(usize, &[u8], u64) -> Result<(), E>,
    mut visit: impl FnMut(Record) -> Result<(), E>,
) -> Result<u64, E> {
    let mut line: u64 = 0;
    let mut start = 0;
    let mut field_start = 0;
    let mut record_line = 0;
    let mut fields = 1;
    let mut i = 0;
    let n = chunk.len();
    while i < n {
        let b = chunk[i];
        if b == delimiter {
            field(fields - 1, &chunk[field_start..i], record_line)?;
            fields += 1;
            field_start = i + 1;
        } else if b == b'\n' {
            let end = if i > start && chunk[i - 1] == b'\r' {
                i - 1
            } else {
                i
            };
            if end > start || fields > 1 {
                field(
                    fields - 1,
                    &chunk[field_start..end.max(field_start)],
                    record_line,
                )?;
                visit(Record {
                    start,
                    end,
                    fields,
                    line: record_line,
                })?;
            }
            line += 1;
            start = i + 1;
            field_start = start;
            record_line = line;
            fields = 1;
        } else if b == quote {
            // Skip to the closing quote, counting the line endings inside the field.
            i += 1;
            loop {
                match memchr::memchr2(quote, b'\n', &chunk[i..]) {
                    Some(j) if chunk[i + j] == b'\n' => {
                        line += 1;
                        i += j + 1;
                    }
                    Some(j) => {
                        i += j;
                        break;
                    }
                    None => {
                        i = n;
                        break;
                    }
                }
            }
        }
        i += 1;
    }
    if start < n && !is_blank(&chunk[start..]) {
        let end = if chunk[n - 1] == b'\r' { n - 1 } else { n };
        field(
            fields - 1,
            &chunk[field_start..end.max(field_start)],
            record_line,
        )?;
        visit(Record {
            start,
            end,
            fields,
            line: record_line,
        })?;
    }
    Ok(line)
}

/// True when `chunk` ends inside a quoted field (an unterminated quote).
pub fn ends_quoted(chunk: &[u8], quote: u8) -> bool {
    memchr_iter(quote, chunk).count() % 2 == 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records(s: &str) -> Vec<(String, usize, u64)> {
        let mut out = Vec::new();
        for_each_record(s.as_bytes(), b',', b'"', |r| {
            out.push((s[r.start..r.end].to_string(), r.fields, r.line));
            Ok::<(), ()>(())
        })
        .unwrap();
        out
    }

    #[test]
    fn scans_quoted_fields_with_delimiters_and_newlines() {
        let r = records("a,\"b,\nc\"\n\n1,2\r\n\"x\"\"y\",3");
        assert_eq!(
            r,
            vec![
                ("a,\"b,\nc\"".to_string(), 2, 0),
                ("1,2".to_string(), 2, 3),
                ("\"x\"\"y\",3".to_string(), 2, 4),
            ]
        );
    }

    #[test]
    fn scan_reports_every_field() {
        let mut fields = Vec::new();
        scan(
            b"a,\"b,c\"\r\n\n,\nx",
            b',',
            b'"',
            |i, f, _| {
                fields.push((i, String::from_utf8(f.to_vec()).unwrap()));
                Ok::<(), ()>(())
            },
            |_| Ok(()),
        )
        .unwrap();
        let want = [(0, "a"), (1, "\"b,c\""), (0, ""), (1, ""), (0, "x")];
        assert_eq!(fields, want.map(|(i, f)| (i, f.to_string())));
    }

    #[test]
    fn last_record_end_skips_newlines_inside_quotes() {
        assert_eq!(last_record_end(b"a,b\nc,\"d\ne", b'"'), Some(4));
        assert_eq!(last_record_end(b"a,\"b\nc\"\nd", b'"'), Some(8));
        assert_eq!(last_record_end(b"a,\"b\nc", b'"'), None);
        assert_eq!(last_record_end(b"abc", b'"'), None);
    }

    #[test]
    fn record_end_from_skips_newlines_inside_quotes() {
        let buf = b"a,b\nc,\"d\ne\"\nf\n";
        assert_eq!(record_end_from(buf, 0, b'"'), Some(4));
        assert_eq!(record_end_from(buf, 4, b'"'), Some(12));
        assert_eq!(record_end_from(buf, 7, b'"'), Some(12));
        assert_eq!(record_end_from(buf, 12, b'"'), Some(14));
        assert_eq!(record_end_from(buf, 14, b'"'), None);
        assert_eq!(record_end_from(b"a,\"b\nc", 0, b'"'), None);
    }

    #[test]
    fn fast_count_agrees_with_scan() {
        for s in [
            "a,b\n\n1,2\r\n\r\n3,4",
            "\n1\n2\n",
            "x",
            "",
            "\r\n",
            "1,2\n3,4\n",
        ] {
            let mut rows = 0;
            let lines = for_each_record(s.as_bytes(), b',', b'"', |_| {
                rows += 1;
                Ok::<(), ()>(())
            })
            .unwrap();
            assert_eq!(
                count_lines_and_rows(s.as_bytes(), b',', b'"'),
                (lines, rows),
                "{s:?}"
            );
        }
    }
}
