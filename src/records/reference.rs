//! The scalar reference scanner, byte by byte: the contract the SIMD kernels are tested
//! against (and what they fall back to for dialects whose special bytes are not distinct).

use memchr::{memchr, memchr_iter, memrchr};

use super::Record;

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
            i = closing_quote(chunk, i + 1, quote, &mut line);
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

/// The position of the quote that closes a field opened before `from` (or the end),
/// counting the line endings inside the field into `line`.
fn closing_quote(chunk: &[u8], mut from: usize, quote: u8, line: &mut u64) -> usize {
    loop {
        match memchr::memchr2(quote, b'\n', &chunk[from..]) {
            Some(j) if chunk[from + j] == b'\n' => {
                *line += 1;
                from += j + 1;
            }
            Some(j) => return from + j,
            None => return chunk.len(),
        }
    }
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
