//! Record boundaries: a quote-aware scan of CSV bytes that finds where records end, counts
//! lines, rows and fields, and never cuts inside a quoted field. SIMD kernels chosen at run
//! time do the work (`kernels`); `reference` is the scalar scanner they must agree with.

mod block;
mod kernels;
pub mod reference;
mod split;
mod table;
mod walk;

use memchr::{memchr, memchr_iter};

pub use kernels::{
    count_lines_and_rows, count_lines_and_rows_with, for_each_record, for_each_record_with,
    for_each_table_window, for_each_table_window_with, last_record_end, last_record_end_with, scan,
    scan_selected_with, scan_with, visit_selected, Impl, Quotes,
};
pub use table::Table;

/// What a field scan calls: `field(index, raw, line)` for each (selected) field of a record,
/// then `record` for the record. One value holds the state both share, and the scan's loop
/// has one call site of each, so an `#[inline(always)]` implementation inlines into it.
pub trait Visitor<E> {
    fn field(&mut self, index: usize, raw: &[u8], line: u64) -> Result<(), E>;
    fn record(&mut self, record: Record) -> Result<(), E>;
}

/// A pair of closures as a `Visitor`.
pub(crate) struct Callbacks<F, V>(pub F, pub V);

impl<E, F, V> Visitor<E> for Callbacks<F, V>
where
    F: FnMut(usize, &[u8], u64) -> Result<(), E>,
    V: FnMut(Record) -> Result<(), E>,
{
    #[inline(always)]
    fn field(&mut self, index: usize, raw: &[u8], line: u64) -> Result<(), E> {
        (self.0)(index, raw, line)
    }

    #[inline(always)]
    fn record(&mut self, record: Record) -> Result<(), E> {
        (self.1)(record)
    }
}

/// One record of a chunk: its bytes without the line ending, its field count and the
/// 0-based offset of its first line within the chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    pub start: usize,
    pub end: usize,
    pub fields: usize,
    pub line: u64,
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

/// True when `chunk` ends inside a quoted field (an unterminated quote).
pub fn ends_quoted(chunk: &[u8], quote: u8) -> bool {
    memchr_iter(quote, chunk).count() % 2 == 1
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
