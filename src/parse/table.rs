//! The parser's fast path: a quote-free chunk of records of the header's width, read through
//! its table of separators (`records::Table`), one selected column at a time.

use super::{number, Parsed, Parser, Span, Values};
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
            columns.all(|(&j, v)| v.read(t.column(j), bytes, d))
        };
        let table =
            records::for_each_table_window(bytes, d.delimiter, d.quote, self.width, &mut window);
        table.then(|| self.finish(records, values, Vec::new()))
    }
}

impl Values {
    /// Pushes the numbers at `fields` of `bytes`; false at the first field that is not one.
    #[inline(always)]
    fn read(
        &mut self,
        fields: impl Iterator<Item = (usize, usize)>,
        bytes: &[u8],
        d: &Dialect,
    ) -> bool {
        for (start, end) in fields {
            match number(&bytes[start..end], d) {
                Some(Some(v)) => self.values.push(v),
                Some(None) => self.push_null(),
                None => return false,
            }
        }
        true
    }
}
