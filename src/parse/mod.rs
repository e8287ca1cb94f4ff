//! Parsing, in each worker: one pass over a chunk finds and checks every record and reads
//! the selected columns' fields as numbers into polars Float64 columns.

use polars::prelude::*;

pub mod integer;
mod table;

pub use integer::integer;

use crate::dialect::Dialect;
use crate::records;

/// Where a record lies in its chunk, without its line ending. `u32` offsets: the splitter
/// keeps chunks under 4 GiB.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    pub fn len(self) -> usize {
        (self.end - self.start) as usize
    }

    pub fn is_empty(self) -> bool {
        self.end == self.start
    }

    pub fn of(self, bytes: &[u8]) -> &[u8] {
        &bytes[self.start as usize..self.end as usize]
    }
}

/// The input row number of each record (the values of `row_index`).
#[derive(Clone, Debug)]
pub enum Rows {
    /// Consecutive rows from this one.
    From(u64),
    List(Vec<u64>),
}

impl Rows {
    /// The row number of the `i`-th row.
    pub fn get(&self, i: usize) -> u64 {
        match self {
            Rows::From(first) => first + i as u64,
            Rows::List(rows) => rows[i],
        }
    }
}

/// The records at `spans` of `bytes`, one per line: as polars' CSV reader and commands take them.
pub fn lines(bytes: &[u8], spans: &[Span]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len().min(1 << 24) + spans.len());
    for s in spans {
        out.extend_from_slice(s.of(bytes));
        out.push(b'\n');
    }
    out
}

/// Why a chunk could not be parsed; lines are offsets within the chunk.
#[derive(Debug, PartialEq)]
pub enum ParseError {
    Ragged {
        line: u64,
        found: usize,
    },
    NotNumber {
        line: u64,
        column: usize,
        text: String,
    },
}

/// A parsed chunk: its records and the selected columns, in the order they were selected,
/// and (when bad rows are skipped) the records of the wrong width.
pub struct Parsed {
    pub records: Vec<Span>,
    pub columns: Vec<Float64Chunked>,
    pub rejected: Vec<Rejected>,
}

/// A record skipped for having `found` fields instead of the header's width.
#[derive(Debug, PartialEq)]
pub struct Rejected {
    pub line: u64,
    pub found: usize,
    pub span: Span,
}

/// Parses chunks of whole records with the header's width and the selected columns.
pub struct Parser {
    dialect: Dialect,
    width: usize,
    /// For each input field: the position of its column among the selected, if selected.
    slot_of: Vec<Option<usize>>,
    /// For each input field: whether it is selected (the scan reads only those).
    wanted: Vec<bool>,
    selected: Vec<usize>,
    names: Vec<String>,
    /// Skip records of the wrong width (`--on-bad-rows skip`) instead of failing.
    skip_ragged: bool,
}

impl Parser {
    pub fn new(names: &[String], selected: &[usize], dialect: &Dialect) -> Parser {
        let mut slot_of = vec![None; names.len()];
        for (slot, &i) in selected.iter().enumerate() {
            slot_of[i] = Some(slot);
        }
        Parser {
            dialect: dialect.clone(),
            width: names.len(),
            wanted: slot_of.iter().map(Option::is_some).collect(),
            slot_of,
            selected: selected.to_vec(),
            names: names.to_vec(),
            skip_ragged: false,
        }
    }

    /// Skips records of the wrong width (reported in `Parsed::rejected`) instead of failing.
    pub fn skipping_bad_rows(self, skip: bool) -> Parser {
        Parser {
            skip_ragged: skip,
            ..self
        }
    }

    pub fn selected(&self) -> &[usize] {
        &self.selected
    }

    /// The name of input column `index`.
    pub fn name(&self, index: usize) -> &str {
        &self.names[index]
    }

    /// Finds every record of `bytes`, checks its width and parses the selected fields: as a
    /// table of separators when the chunk is one (the common case), else by the general scan.
    pub fn parse(&self, bytes: &[u8]) -> Result<Parsed, ParseError> {
        match self.parse_table(bytes) {
            Some(parsed) => Ok(parsed),
            None => self.parse_general(bytes),
        }
    }

    /// Any chunk, by the general field scan: ragged records, quotes, blank lines, errors.
    fn parse_general(&self, bytes: &[u8]) -> Result<Parsed, ParseError> {
        let (values, records) = self.buffers(bytes);
        let mut r = Reading {
            parser: self,
            values,
            records,
            rejected: Vec::new(),
            bad_number: None,
        };
        let d = &self.dialect;
        records::visit_selected(bytes, d.delimiter, d.quote, &self.wanted, &mut r)?;
        Ok(self.finish(r.records, r.values, r.rejected))
    }

    /// Empty values for each selected column and empty records, sized for `bytes`.
    fn buffers(&self, bytes: &[u8]) -> (Vec<Values>, Vec<Span>) {
        let guess = bytes.len() / (2 * self.width.max(1)) + 1;
        let values = self.selected.iter().map(|_| Values::new(guess)).collect();
        (values, Vec::with_capacity(guess))
    }

    /// The parsed chunk: the values of the kept records as columns.
    fn finish(&self, records: Vec<Span>, values: Vec<Values>, rejected: Vec<Rejected>) -> Parsed {
        let kept = records.len();
        let columns = values
            .into_iter()
            .zip(&self.selected)
            .map(|(mut v, &i)| {
                v.keep(kept);
                v.into_column(&self.names[i])
            })
            .collect();
        Parsed {
            records,
            columns,
            rejected,
        }
    }
}

/// A chunk being parsed: what the scan has found so far.
struct Reading<'p> {
    parser: &'p Parser,
    values: Vec<Values>,
    records: Vec<Span>,
    rejected: Vec<Rejected>,
    /// When skipping, a bad number only counts once its record proves of the right width.
    bad_number: Option<ParseError>,
}

impl records::Visitor<ParseError> for Reading<'_> {
    #[inline(always)]
    fn field(&mut self, index: usize, raw: &[u8], line: u64) -> Result<(), ParseError> {
        let slot = self.parser.slot_of[index].expect("only selected fields are scanned");
        let column = &mut self.values[slot];
        // Values beyond the accepted records belong to a rejected one.
        column.keep(self.records.len());
        match number(raw, &self.parser.dialect) {
            Some(Some(v)) => {
                column.values.push(v);
                Ok(())
            }
            Some(None) => {
                column.push_null();
                Ok(())
            }
            None => self.not_a_number(slot, raw, line),
        }
    }

    #[inline(always)]
    fn record(&mut self, r: records::Record) -> Result<(), ParseError> {
        let span = Span {
            start: r.start as u32,
            end: r.end as u32,
        };
        if r.fields != self.parser.width {
            let (line, found) = (r.line, r.fields);
            if !self.parser.skip_ragged {
                return Err(ParseError::Ragged { line, found });
            }
            self.rejected.push(Rejected { line, found, span });
            self.bad_number = None;
            return Ok(());
        }
        if let Some(e) = self.bad_number.take() {
            return Err(e);
        }
        self.records.push(span);
        Ok(())
    }
}

impl Reading<'_> {
    /// A field of selected column `slot` that is not a number: the error, or when bad rows
    /// are skipped a placeholder, the error kept until its record proves of the right width.
    #[cold]
    #[inline(never)]
    fn not_a_number(&mut self, slot: usize, raw: &[u8], line: u64) -> Result<(), ParseError> {
        let e = ParseError::NotNumber {
            line,
            column: self.parser.selected[slot],
            text: String::from_utf8_lossy(raw).into_owned(),
        };
        if !self.parser.skip_ragged {
            return Err(e);
        }
        self.bad_number.get_or_insert(e);
        self.values[slot].values.push(0.0);
        Ok(())
    }
}

/// One selected column's values so far (a null is a 0.0 whose position is kept).
struct Values {
    values: Vec<f64>,
    nulls: Vec<usize>,
}

impl Values {
    fn new(capacity: usize) -> Values {
        Values {
            values: Vec::with_capacity(capacity),
            nulls: Vec::new(),
        }
    }

    fn push_null(&mut self) {
        self.nulls.push(self.values.len());
        self.values.push(0.0);
    }

    /// Drops the values pushed for a rejected record (those past the first `keep`).
    #[inline(always)]
    fn keep(&mut self, keep: usize) {
        if self.values.len() > keep {
            self.values.truncate(keep);
            self.nulls.retain(|&i| i < keep);
        }
    }

    /// A Float64 column of the values, with their nulls.
    fn into_column(self, name: &str) -> Float64Chunked {
        if self.nulls.is_empty() {
            return Float64Chunked::from_vec(name.into(), self.values);
        }
        let mut next_null = self.nulls.iter().peekable();
        let options = self.values.into_iter().enumerate().map(|(i, v)| {
            if next_null.peek() == Some(&&i) {
                next_null.next();
                None
            } else {
                Some(v)
            }
        });
        Float64Chunked::from_iter_options(name.into(), options)
    }
}

/// A field read as a number: `Some(None)` for a null, `None` when it is not a number.
/// Quotes around the field and spaces around the number are allowed; integers take a
/// fast exact path, anything else (decimals, exponents, inf, NaN) goes to fast-float.
#[inline(always)]
pub fn number(raw: &[u8], d: &Dialect) -> Option<Option<f64>> {
    if let Some(v) = integer(raw) {
        return Some(Some(v as f64));
    }
    number_slow(raw, d)
}

#[inline(never)]
fn number_slow(raw: &[u8], d: &Dialect) -> Option<Option<f64>> {
    let f = bare(raw, d);
    if d.is_null(f) {
        return Some(None);
    }
    if let Some(v) = integer(f) {
        return Some(Some(v as f64));
    }
    if is_integer_text(f) {
        return None; // an integer that f64 cannot hold exactly: never a silently rounded one
    }
    if d.decimal_comma {
        // 21,5 is 21.5; a point is not a decimal point here.
        if f.contains(&b'.') {
            return None;
        }
        let f: Vec<u8> = f
            .iter()
            .map(|&b| if b == b',' { b'.' } else { b })
            .collect();
        return fast_float2::parse::<f64, _>(&f).ok().map(Some);
    }
    fast_float2::parse::<f64, _>(f).ok().map(Some)
}

/// A field's text without the quotes around it and the spaces around that.
fn bare<'a>(raw: &'a [u8], d: &Dialect) -> &'a [u8] {
    let mut f = raw;
    if f.len() >= 2 && f[0] == d.quote && f[f.len() - 1] == d.quote {
        f = &f[1..f.len() - 1];
    }
    f.trim_ascii()
}

/// What a field holds, by the parser's own number rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Holds {
    Null,
    /// A whole number (beyond 2^53 too: the parser then refuses it, naming its line).
    Integer,
    /// Any other number (decimals, exponents, NaN, inf).
    Number,
    Text,
}

pub fn holds(raw: &[u8], d: &Dialect) -> Holds {
    match number(raw, d) {
        Some(None) => Holds::Null,
        Some(Some(_)) | None if is_integer_text(bare(raw, d)) => Holds::Integer,
        Some(Some(_)) => Holds::Number,
        None => Holds::Text,
    }
}

fn is_integer_text(f: &[u8]) -> bool {
    let digits = f
        .strip_prefix(b"-")
        .or_else(|| f.strip_prefix(b"+"))
        .unwrap_or(f);
    !digits.is_empty() && digits.iter().all(u8::is_ascii_digit)
}

/// Why a field of a selected column was refused, for the error message.
pub fn why_not_a_number(text: &str) -> &'static str {
    if is_integer_text(text.trim_matches('"').trim().as_bytes()) {
        "is an integer beyond 2^53, which 64-bit floats cannot hold exactly"
    } else {
        "is not a number"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        let d = Dialect {
            null_values: vec!["NA".into()],
            ..Dialect::default()
        };
        for (text, want) in [
            ("12", Some(Some(12.0))),
            ("-7", Some(Some(-7.0))),
            ("\"3.5\"", Some(Some(3.5))),
            (" 4 ", Some(Some(4.0))),
            ("1e3", Some(Some(1000.0))),
            ("", Some(None)),
            ("NA", Some(None)),
            ("12345678901234567890", None),
            ("9007199254740993", None),
            ("9007199254740992", Some(Some(9007199254740992.0))),
            (
                "1.2345678901234567890e19",
                Some(Some(1.2345678901234567e19)),
            ),
            ("abc", None),
            ("1.2.3", None),
            ("-", None),
        ] {
            assert_eq!(number(text.as_bytes(), &d), want, "{text:?}");
        }
        assert!(number(b"inf", &d).unwrap().unwrap().is_infinite());
        assert!(number(b"NaN", &d).unwrap().unwrap().is_nan());
    }

    #[test]
    fn parses_selected_columns_and_reports_lines() {
        let names: Vec<String> = ["a", "b", "c"].map(String::from).to_vec();
        let p = Parser::new(&names, &[2, 0], &Dialect::default());
        let parsed = p.parse(b"1,x,3\n\n,\"y\nz\",6.5\n").unwrap();
        assert_eq!(parsed.records.len(), 2);
        let c: Vec<Option<f64>> = parsed.columns[0].iter().collect();
        let a: Vec<Option<f64>> = parsed.columns[1].iter().collect();
        assert_eq!((c, a), (vec![Some(3.0), Some(6.5)], vec![Some(1.0), None]));
        assert_eq!(
            p.parse(b"1,2,3\n4,5\n").err(),
            Some(ParseError::Ragged { line: 1, found: 2 })
        );
        let skipping = Parser::new(&names, &[2, 0], &Dialect::default()).skipping_bad_rows(true);
        let parsed = skipping.parse(b"1,2,3\n4,5\n6\n,7,8\n9,9,9,9\n").unwrap();
        let c: Vec<Option<f64>> = parsed.columns[0].iter().collect();
        let a: Vec<Option<f64>> = parsed.columns[1].iter().collect();
        assert_eq!((c, a), (vec![Some(3.0), Some(8.0)], vec![Some(1.0), None]));
        let lines: Vec<(u64, usize)> = parsed.rejected.iter().map(|r| (r.line, r.found)).collect();
        assert_eq!(lines, [(1, 2), (2, 1), (4, 4)]);
        let bad = p.parse(b"1,2,3\n1,\"q\nq\",3\n4,5,x\n").err();
        assert_eq!(
            bad,
            Some(ParseError::NotNumber {
                line: 3,
                column: 2,
                text: "x".into()
            })
        );
    }
}
