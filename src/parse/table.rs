//! The parser's fast path: a quote-free chunk of records of the header's width, read through
//! its table of separators (`records::Table`), one selected column at a time.

use super::{integer, number, number_slow, Parsed, Parser, Span, Values};
use crate::dialect::Dialect;
use crate::records::{self, Table};

impl Parser {
    /// The chunk parsed as a table; `None` when it is not one or a field is not a number:
    /// the general scan then finds what is wrong, and where.
    pub(super) fn parse_table(&self, bytes: &[u8]) -> Option<Parsed> {
        let (mut values, mut records) = self.buffers(bytes);
        let d = &self.dialect;
        let mut window = |t: Table| {
            let spans = t.records().map(|(start, end)| Span {
                start: start as u32,
                end: end as u32,
            });
            records.extend(spans);
            let mut columns = self.selected.iter().zip(&mut values);
            columns.all(|(&j, v)| v.read_column(&t, j, d))
        };
        let table =
            records::for_each_table_window(bytes, d.delimiter, d.quote, self.width, &mut window);
        table.then(|| self.finish(records, values, Vec::new()))
    }
}

impl Values {
    /// Appends field `j` of each record of `t` as numbers; false when a field is not one.
    /// The values go into reserved room, with no capacity check or length update per
    /// value, and what is not an integer goes to `Seen::other`, out of line: the loop keeps
    /// its state in registers. It only notes that there were nulls; a column with some is
    /// read again for their positions.
    #[inline(never)]
    fn read_column(&mut self, t: &Table, j: usize, d: &Dialect) -> bool {
        let (at, n) = (self.values.len(), t.len());
        self.values.reserve(n);
        let mut seen = Seen {
            nulls: false,
            numbers: true,
        };
        let room = &mut self.values.spare_capacity_mut()[..n];
        for (slot, field) in room.iter_mut().zip(t.column(j)) {
            slot.write(match integer(field) {
                Some(v) => v as f64,
                None => seen.other(field, d),
            });
        }
        // SAFETY: the loop wrote the `n` values after the first `at`, `t.column` being of
        // length `t.len()`.
        unsafe { self.values.set_len(at + n) };
        if seen.numbers && seen.nulls {
            let found = t
                .column(j)
                .enumerate()
                .filter(|(_, f)| number(f, d) == Some(None));
            self.nulls.extend(found.map(|(i, _)| at + i));
        }
        seen.numbers
    }
}

/// What a column's loop has seen besides integers.
struct Seen {
    nulls: bool,
    numbers: bool,
}

impl Seen {
    /// A field that is not an integer: its number, or 0.0 for a null or a non-number,
    /// which are noted.
    #[inline(never)]
    fn other(&mut self, field: &[u8], d: &Dialect) -> f64 {
        match number_slow(field, d) {
            Some(Some(v)) => v,
            Some(None) => {
                self.nulls = true;
                0.0
            }
            None => {
                self.numbers = false;
                0.0
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A parse's records and column values, to compare.
    type Seen = (Vec<Span>, Vec<Vec<Option<f64>>>);

    fn parsed(p: Option<Parsed>) -> Option<Seen> {
        p.map(|p| {
            (
                p.records,
                p.columns.iter().map(|c| c.iter().collect()).collect(),
            )
        })
    }

    #[test]
    fn a_table_parses_as_the_general_scan_does() {
        let names: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let p = Parser::new(&names, &[2, 0], &Dialect::default());
        let general = |bytes: &[u8]| parsed(p.parse_general(bytes).ok());
        // Nulls here and there over several 16 KiB windows: their positions count on.
        let long: String = (0..9000)
            .map(|i| match i % 7 {
                3 => format!(",{i},\n"),
                5 => format!("{i},x,\n"),
                _ => format!("{i},y,{}\n", i % 10),
            })
            .collect();
        for text in [
            &b"1,x,3\n,y,6.5\n-2, 4 ,1e3"[..],
            b"",
            b"7,8,9\n",
            b"1,,\n,,\n",
            long.as_bytes(),
        ] {
            assert_eq!(parsed(p.parse_table(text)), general(text), "{text:?}");
            assert!(p.parse_table(text).is_some(), "{text:?} is a table");
        }
        // Not tables (a short record, a blank line, `\r`, a quote) or not a number: left to
        // the general scan, which reports them (`parse::tests`).
        for text in [
            &b"1,2,3\n4,5\n"[..],
            b"1,2,3\n\n4,5,6\n",
            b"1,2,3\r\n",
            b"1,2,x\n",
            b"\"1\",2,3\n",
        ] {
            assert!(p.parse_table(text).is_none(), "{text:?}");
        }
    }
}
