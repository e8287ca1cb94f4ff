//! Field text: result columns encoded column by column (integers with itoa, floats with
//! ryu, strings quoted when needed), records re-quoted for another delimiter, names.

use polars::prelude::*;

use crate::dialect::Dialect;
use crate::parse::Span;

/// The CSV text of every value of one column, back to back.
pub struct Encoded {
    bytes: Vec<u8>,
    bounds: Bounds,
}

/// Where the fields of an `Encoded` lie.
enum Bounds {
    /// Field `i` is `bytes[offsets[i]..offsets[i + 1]]`.
    Offsets(Vec<usize>),
    /// Field `i` is `bytes[i]` (the one-digit counts of most row functions): no offsets to
    /// write and read back.
    OneByte,
}

impl Encoded {
    /// The bytes of all the fields.
    pub fn byte_len(&self) -> usize {
        self.bytes.len()
    }

    /// Where field `i` starts and ends in `bytes`.
    #[inline(always)]
    fn bounds(&self, i: usize) -> (usize, usize) {
        match &self.bounds {
            Bounds::Offsets(offsets) => (offsets[i], offsets[i + 1]),
            Bounds::OneByte => (i, i + 1),
        }
    }

    pub fn field(&self, i: usize) -> &[u8] {
        let (start, end) = self.bounds(i);
        &self.bytes[start..end]
    }

    /// Appends field `i` to `out`, then `after` (see [`Tail::field_then`]).
    #[inline(always)]
    pub fn append_to(&self, out: &mut Tail, i: usize, after: u8) {
        let (start, end) = self.bounds(i);
        out.field_then(&self.bytes, start, end, after);
    }
}

/// Encodes a column; nulls become empty fields.
pub fn encode(col: &Series, dialect: &Dialect) -> PolarsResult<Encoded> {
    let dtype = col.dtype();
    if dtype == &DataType::UInt32 {
        return Ok(integers(col.u32()?)); // the counts of row functions: no cast
    } else if dtype.is_unsigned_integer() {
        return Ok(integers(col.cast(&DataType::UInt64)?.u64()?));
    } else if dtype.is_integer() {
        return Ok(integers(col.cast(&DataType::Int64)?.i64()?));
    }
    let mut bytes = Vec::with_capacity(col.len() * 4);
    let mut offsets = Vec::with_capacity(col.len() + 1);
    offsets.push(0);
    if dtype.is_float() {
        let mut buf = ryu::Buffer::new();
        for_each_value(col.cast(&DataType::Float64)?.f64()?, |v| {
            if let Some(v) = v {
                let start = bytes.len();
                bytes.extend_from_slice(buf.format(v).as_bytes());
                if dialect.decimal_comma {
                    bytes[start..]
                        .iter_mut()
                        .filter(|b| **b == b'.')
                        .for_each(|b| *b = b',');
                }
            }
            offsets.push(bytes.len());
        });
    } else {
        for v in col.cast(&DataType::String)?.str()?.iter() {
            if let Some(v) = v {
                push_text(&mut bytes, v.as_bytes(), dialect);
            }
            offsets.push(bytes.len());
        }
    }
    let bounds = Bounds::Offsets(offsets);
    Ok(Encoded { bytes, bounds })
}

/// The text of each integer of `ca`. One-digit values without nulls (the counts of most
/// row functions) take one pass of known length per array, and need no offsets; otherwise
/// one digit is written directly and the rest by itoa.
fn integers<T>(ca: &ChunkedArray<T>) -> Encoded
where
    T: PolarsNumericType,
    T::Native: itoa::Integer + TryInto<u8>,
{
    let digit = |v: T::Native| v.try_into().ok().filter(|d| *d <= 9);
    let arrays = || ca.downcast_iter().map(|arr| arr.values().as_slice());
    if ca.null_count() == 0 && arrays().all(|values| values.iter().all(|&v| digit(v).is_some())) {
        let mut bytes = Vec::with_capacity(ca.len());
        for values in arrays() {
            bytes.extend(values.iter().map(|&v| b'0' + digit(v).unwrap_or(0)));
        }
        let bounds = Bounds::OneByte;
        return Encoded { bytes, bounds };
    }
    let (mut bytes, mut offsets) = (Vec::with_capacity(ca.len() * 4), vec![0]);
    offsets.reserve(ca.len());
    let mut buf = itoa::Buffer::new();
    for_each_value(ca, |v| {
        match v.map(|v| (v, digit(v))) {
            Some((_, Some(d))) => bytes.push(b'0' + d),
            Some((v, None)) => append(&mut bytes, buf.format(v).as_bytes()),
            None => {}
        }
        offsets.push(bytes.len());
    });
    let bounds = Bounds::Offsets(offsets);
    Encoded { bytes, bounds }
}

/// The text of `first`, `first + 1`, ... (`n` values; a chunk's row index): one decimal
/// counter stepped per value instead of each value formatted anew.
pub fn consecutive(first: u64, n: usize) -> Encoded {
    let mut digits = itoa::Buffer::new().format(first).as_bytes().to_vec();
    let mut bytes = Vec::with_capacity(n * (digits.len() + 1));
    let mut offsets = Vec::with_capacity(n + 1);
    offsets.push(0);
    for _ in 0..n {
        append(&mut bytes, &digits);
        offsets.push(bytes.len());
        step(&mut digits);
    }
    let bounds = Bounds::Offsets(offsets);
    Encoded { bytes, bounds }
}

/// Adds one to a decimal number written in ASCII digits.
#[inline(always)]
fn step(digits: &mut Vec<u8>) {
    for d in digits.iter_mut().rev() {
        if *d < b'9' {
            *d += 1;
            return;
        }
        *d = b'0';
    }
    digits.insert(0, b'1');
}

/// Calls `each` with every value of `ca` in order (`None` for a null), straight from the
/// value slices: no boxed iterator, and no validity check in arrays without nulls.
fn for_each_value<T: PolarsNumericType>(
    ca: &ChunkedArray<T>,
    mut each: impl FnMut(Option<T::Native>),
) {
    for arr in ca.downcast_iter() {
        match arr.validity().filter(|v| v.unset_bits() > 0) {
            None => arr.values().iter().for_each(|&v| each(Some(v))),
            Some(_) => arr.iter().for_each(|v| each(v.copied())),
        }
    }
}

/// Appends `bytes` to `out`. Fields are mostly a few bytes, for which a call to `memcpy`
/// costs more than the copy: up to 16 bytes are moved with two overlapping loads and stores.
#[inline(always)]
pub fn append(out: &mut Vec<u8>, bytes: &[u8]) {
    let n = bytes.len();
    if n > 16 || out.capacity() - out.len() < n {
        out.extend_from_slice(bytes);
        return;
    }
    let src = bytes.as_ptr();
    // SAFETY: `out` has room for `n` more bytes (checked above), every load stays within
    // `bytes` and every store within `out`'s first `len + n` bytes, which are then set.
    unsafe {
        let dst = out.as_mut_ptr().add(out.len());
        if n >= 8 {
            let (a, b) = (
                src.cast::<u64>().read_unaligned(),
                src.add(n - 8).cast::<u64>().read_unaligned(),
            );
            dst.cast::<u64>().write_unaligned(a);
            dst.add(n - 8).cast::<u64>().write_unaligned(b);
        } else if n >= 4 {
            let (a, b) = (
                src.cast::<u32>().read_unaligned(),
                src.add(n - 4).cast::<u32>().read_unaligned(),
            );
            dst.cast::<u32>().write_unaligned(a);
            dst.add(n - 4).cast::<u32>().write_unaligned(b);
        } else if n > 0 {
            let (a, b, c) = (*src, *src.add(n / 2), *src.add(n - 1));
            *dst = a;
            *dst.add(n / 2) = b;
            *dst.add(n - 1) = c;
        }
        out.set_len(out.len() + n);
    }
}

/// Room a buffer written by [`Tail::field_then`] needs past its last byte.
pub const SLACK: usize = 16;

/// The end of a `Vec<u8>` while rows are appended to it: its pointer, length and capacity
/// held as plain values, which stay in registers in a row loop (a `Vec` behind `&mut` is
/// reloaded and stored at each append). `Drop` sets the `Vec`'s length.
pub struct Tail<'a> {
    out: &'a mut Vec<u8>,
    ptr: *mut u8,
    len: usize,
    cap: usize,
}

impl<'a> Tail<'a> {
    pub fn new(out: &'a mut Vec<u8>) -> Tail<'a> {
        let (ptr, len, cap) = (out.as_mut_ptr(), out.len(), out.capacity());
        Tail { out, ptr, len, cap }
    }

    #[inline(always)]
    pub fn push(&mut self, byte: u8) {
        if self.len == self.cap {
            (self.ptr, self.cap) = grow(self.out, self.len, 1);
        }
        // SAFETY: `len < cap`: the byte goes into the `Vec`'s capacity.
        unsafe { self.ptr.add(self.len).write(byte) };
        self.len += 1;
    }

    /// Appends `bytes[start..end]`, then `after` (a delimiter, or a line ending). A field
    /// of up to 16 bytes is copied as one 16-byte load and store when `bytes` holds 16
    /// bytes from `start` and more than [`SLACK`] bytes of room are left (one check for
    /// all three): the bytes stored past the field are spare capacity, overwritten next.
    #[inline(always)]
    pub fn field_then(&mut self, bytes: &[u8], start: usize, end: usize, after: u8) {
        let n = end.wrapping_sub(start);
        let readable = start < bytes.len() && bytes.len() - start >= 16;
        if n > 16 || !readable || self.cap - self.len <= SLACK {
            return self.long_field_then(&bytes[start..end], after);
        }
        // SAFETY: the load reads `bytes[start..start + 16]`, and the stores write the 17
        // bytes of the capacity from `len` (both checked above). The first `n` bytes, copies
        // of `bytes[start..end]`, and `after` after them become part of the `Vec`.
        unsafe {
            let src = bytes.as_ptr().add(start).cast::<[u8; 16]>();
            let dst = self.ptr.add(self.len);
            dst.cast::<[u8; 16]>().write_unaligned(src.read_unaligned());
            dst.add(n).write(after);
        }
        self.len += n + 1;
    }

    /// `field_then` for any field: one `memcpy`, after making room if need be.
    #[inline(always)]
    fn long_field_then(&mut self, field: &[u8], after: u8) {
        let n = field.len();
        if self.cap - self.len <= n {
            (self.ptr, self.cap) = grow(self.out, self.len, n + 1);
        }
        // SAFETY: more than `n` bytes of capacity are left from `len` (made so above).
        unsafe {
            let dst = self.ptr.add(self.len);
            std::ptr::copy_nonoverlapping(field.as_ptr(), dst, n);
            dst.add(n).write(after);
        }
        self.len += n + 1;
    }

    /// Replaces the last byte appended, if any: a line's last delimiter by its line ending.
    #[inline(always)]
    pub fn set_last(&mut self, byte: u8) {
        if let Some(last) = self.len.checked_sub(1) {
            // SAFETY: `last < len <= cap`: a byte of the `Vec`.
            unsafe { self.ptr.add(last).write(byte) };
        }
    }

    /// Runs `f` on the `Vec` itself, for appends that need it (re-quoting).
    #[inline(always)]
    fn with_vec(&mut self, f: impl FnOnce(&mut Vec<u8>)) {
        // SAFETY: the first `len` bytes have been written.
        unsafe { self.out.set_len(self.len) };
        f(self.out);
        (self.ptr, self.len, self.cap) =
            (self.out.as_mut_ptr(), self.out.len(), self.out.capacity());
    }
}

impl Drop for Tail<'_> {
    fn drop(&mut self) {
        // SAFETY: the first `len` bytes have been written, and `len <= cap`.
        unsafe { self.out.set_len(self.len) };
    }
}

/// Makes room for `more` bytes after the first `len` (written) bytes of `out`, and at least
/// [`SLACK`]; returns the new pointer and capacity. Values in and out, so that a `Tail`'s
/// fields need no home in memory.
#[cold]
#[inline(never)]
fn grow(out: &mut Vec<u8>, len: usize, more: usize) -> (*mut u8, usize) {
    // SAFETY: the first `len` bytes have been written.
    unsafe { out.set_len(len) };
    out.reserve(more.max(SLACK));
    (out.as_mut_ptr(), out.capacity())
}

/// Appends `text` as one CSV field, quoted when it holds the delimiter, a quote or a line break.
pub fn push_text(out: &mut Vec<u8>, text: &[u8], d: &Dialect) {
    let needs_quotes = text
        .iter()
        .any(|&b| b == d.delimiter || b == d.quote || b == b'\n' || b == b'\r');
    if !needs_quotes {
        out.extend_from_slice(text);
        return;
    }
    out.push(d.quote);
    for &b in text {
        if b == d.quote {
            out.push(d.quote);
        }
        out.push(b);
    }
    out.push(d.quote);
}

/// Appends the record `bytes[span]`, written in `input`'s dialect, re-written for
/// `output`'s delimiter (a plain copy when the delimiters agree, else each field unquoted
/// and quoted anew), then `after`.
#[inline(always)]
pub fn push_record(
    out: &mut Tail,
    (bytes, span): (&[u8], Span),
    input: &Dialect,
    output: &Dialect,
    after: u8,
) {
    let (start, end) = (span.start as usize, span.end as usize);
    match input.delimiter == output.delimiter {
        true => out.field_then(bytes, start, end, after),
        false => {
            out.with_vec(|out| requote(out, &bytes[start..end], input, output));
            out.push(after);
        }
    }
}

/// Appends `record`'s fields unquoted and quoted anew for `output`'s delimiter.
#[inline(never)]
fn requote(out: &mut Vec<u8>, record: &[u8], input: &Dialect, output: &Dialect) {
    let mut first = true;
    let _ = crate::records::scan(
        record,
        input.delimiter,
        input.quote,
        |_, raw, _| {
            if !first {
                out.push(output.delimiter);
            }
            first = false;
            push_text(out, &unquote(raw, input.quote), output);
            Ok::<(), ()>(())
        },
        |_| Ok(()),
    );
}

/// A field's text: outer quotes removed and doubled quotes undoubled.
fn unquote(raw: &[u8], quote: u8) -> std::borrow::Cow<'_, [u8]> {
    match raw {
        [q, inner @ .., last] if *q == quote && *last == quote => {
            let mut text = Vec::with_capacity(inner.len());
            let mut i = 0;
            while i < inner.len() {
                text.push(inner[i]);
                i += if inner[i] == quote && inner.get(i + 1) == Some(&quote) {
                    2
                } else {
                    1
                };
            }
            std::borrow::Cow::Owned(text)
        }
        _ => std::borrow::Cow::Borrowed(raw),
    }
}

/// Appends a header line of names.
pub fn push_names<'a>(out: &mut Vec<u8>, names: impl IntoIterator<Item = &'a str>, d: &Dialect) {
    for (i, name) in names.into_iter().enumerate() {
        if i > 0 {
            out.push(d.delimiter);
        }
        push_text(out, name.as_bytes(), d);
    }
    out.push(b'\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_copies_every_length_with_and_without_room() {
        let source: Vec<u8> = (0..40).collect();
        for n in 0..=20 {
            for room in [0, n, 64] {
                let mut out = Vec::with_capacity(3 + room);
                out.extend_from_slice(b"abc");
                append(&mut out, &source[7..7 + n]);
                assert_eq!(&out[..3], b"abc");
                assert_eq!(&out[3..], &source[7..7 + n], "{n} bytes, room {room}");
            }
        }
    }

    #[test]
    fn tail_copies_every_field_wherever_it_lies() {
        let source: Vec<u8> = (0..40).collect();
        for start in 0..source.len() {
            for end in start..=source.len().min(start + 20) {
                for room in [0, 1, SLACK, 64] {
                    let mut out = Vec::with_capacity(3 + room);
                    out.extend_from_slice(b"abc");
                    let mut tail = Tail::new(&mut out);
                    tail.field_then(&source, start, end, b'-');
                    tail.field_then(b"xy", 1, 2, b',');
                    tail.set_last(b'.');
                    drop(tail);
                    let want = [&b"abc"[..], &source[start..end], b"-y."].concat();
                    assert_eq!(out, want, "{start}..{end}, room {room}");
                }
            }
        }
    }

    #[test]
    fn one_digit_counts_and_others_in_one_column() {
        let d = Dialect::default();
        for counts in [
            vec![Some(0u32), Some(9), Some(3)],
            vec![Some(5), Some(10), Some(7)],
        ] {
            let mut ca = UInt32Chunked::from_iter_options("c".into(), counts.iter().copied());
            ca.append(&ca.clone()).unwrap(); // two arrays
            let e = encode(&ca.into_series(), &d).unwrap();
            let all: Vec<_> = counts.iter().chain(&counts).collect();
            for (i, v) in all.iter().enumerate() {
                assert_eq!(
                    e.field(i),
                    v.unwrap().to_string().as_bytes(),
                    "{all:?} at {i}"
                );
            }
        }
    }

    #[test]
    fn integers_of_every_width_match_their_display() {
        let d = Dialect::default();
        let values = [
            Some(0i64),
            Some(9),
            Some(10),
            None,
            Some(-1),
            Some(-10),
            Some(1 << 40),
        ];
        let want = |v: &Option<i64>| v.map_or(String::new(), |v| v.to_string());
        let e = encode(&Series::new("i".into(), values), &d).unwrap();
        for (i, v) in values.iter().enumerate() {
            assert_eq!(e.field(i), want(v).as_bytes(), "i64 {v:?}");
        }
        let counts = [Some(0u32), Some(7), Some(10), None, Some(u32::MAX)];
        let e = encode(&Series::new("c".into(), counts), &d).unwrap();
        for (i, v) in counts.iter().enumerate() {
            let want = v.map_or(String::new(), |v| v.to_string());
            assert_eq!(e.field(i), want.as_bytes(), "u32 {v:?}");
        }
    }

    #[test]
    fn consecutive_numbers_match_their_display_across_every_carry() {
        for first in [0u64, 7, 95, 998, 99_999_990, u64::MAX - 20] {
            let n = 25;
            let e = consecutive(first, n);
            for i in 0..n {
                let want = (first as u128 + i as u128).to_string();
                assert_eq!(e.field(i), want.as_bytes(), "{first} + {i}");
            }
        }
        assert_eq!(consecutive(5, 0).byte_len(), 0);
    }

    #[test]
    fn quotes_only_when_needed() {
        let d = Dialect::default();
        let s = Series::new(
            "s".into(),
            [Some("a,b"), Some("plain"), None, Some("say \"hi\"")],
        );
        let e = encode(&s, &d).unwrap();
        let fields: Vec<&[u8]> = (0..4).map(|i| e.field(i)).collect();
        assert_eq!(
            fields,
            [&b"\"a,b\""[..], b"plain", b"", b"\"say \"\"hi\"\"\""]
        );
    }

    #[test]
    fn records_are_rewritten_for_another_delimiter() {
        let csv = Dialect::default();
        let tsv = Dialect {
            delimiter: b'\t',
            ..Dialect::default()
        };
        let mut out = Vec::new();
        let record = b"a,\"b,c\",\"say \"\"x\"\"\",d\te";
        let span = Span {
            start: 0,
            end: record.len() as u32,
        };
        let mut tail = Tail::new(&mut out);
        tail.push(b'>');
        push_record(&mut tail, (record, span), &csv, &tsv, b'<');
        drop(tail);
        assert_eq!(out, b">a\tb,c\t\"say \"\"x\"\"\"\t\"d\te\"<".to_vec());
    }

    #[test]
    fn numbers_round_trip() {
        let d = Dialect::default();
        let s = Series::new("f".into(), [Some(0.1), None, Some(3.0), Some(f64::NAN)]);
        let e = encode(&s, &d).unwrap();
        assert_eq!(e.field(0), b"0.1");
        assert_eq!(e.field(1), b"");
        assert_eq!(e.field(2), b"3.0");
        assert_eq!(e.field(3), b"NaN");
    }
}
