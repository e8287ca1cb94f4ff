//! The fast functions, with the reference's exact contract: safe entry points that pick a
//! kernel at run time and call its `#[target_feature]` instantiation of the generic code.

use memchr::{memchr, memchr2};

pub use super::block::Impl;
use super::table::{self, Table};
use super::walk::{self, All, Blocks, QuoteState, Selection, Wanted, BATCH};
use super::{block, reference, split, Callbacks, Record, Visitor};

/// Whether the scan looks for quotes first (`Detect`: one `memchr`, and quote-free chunks take
/// the loop without quote logic) or always runs the quote-aware loop (`Always`, for tests).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quotes {
    Detect,
    Always,
}

/// As `reference::scan`: `field(index, raw, line)` for every field of each non-blank record,
/// then `visit(record)`; returns the number of line endings (quoted ones included).
#[inline]
pub fn scan<E>(
    chunk: &[u8],
    delimiter: u8,
    quote: u8,
    field: impl FnMut(usize, &[u8], u64) -> Result<(), E>,
    visit: impl FnMut(Record) -> Result<(), E>,
) -> Result<u64, E> {
    let (imp, q) = (Impl::best(), Quotes::Detect);
    scan_with(imp, q, chunk, delimiter, quote, field, visit)
}

/// As `reference::for_each_record`: `scan` without field callbacks (much faster: only the
/// line endings are walked).
#[inline]
pub fn for_each_record<E>(
    chunk: &[u8],
    delimiter: u8,
    quote: u8,
    mut visit: impl FnMut(Record) -> Result<(), E>,
) -> Result<u64, E> {
    let (imp, q) = (Impl::best(), Quotes::Detect);
    for_each_record_with(imp, q, chunk, delimiter, quote, &mut visit)
}

/// As `reference::last_record_end`.
pub fn last_record_end(buf: &[u8], quote: u8) -> Option<usize> {
    last_record_end_with(Impl::best(), buf, quote)
}

/// As `reference::count_lines_and_rows`.
pub fn count_lines_and_rows(chunk: &[u8], delimiter: u8, quote: u8) -> (u64, u64) {
    count_lines_and_rows_with(Impl::best(), Quotes::Detect, chunk, delimiter, quote)
}

/// Dialects where the delimiter, the quote, `\n` and `\r` are not all distinct: the
/// reference's byte order of tests decides those, so they go to the reference.
fn degenerate(delimiter: u8, quote: u8) -> bool {
    delimiter == quote
        || [delimiter, quote]
            .iter()
            .any(|b| *b == b'\n' || *b == b'\r')
}

/// Whether `chunk` takes the quote-aware loop: it holds a quote, or `Always` says so.
fn quoted(quotes: Quotes, chunk: &[u8], quote: u8) -> bool {
    quotes == Quotes::Always || memchr(quote, chunk).is_some()
}

/// Panics unless the CPU can run `imp`: the check that makes the `unsafe` calls below sound.
fn check(imp: Impl) {
    assert!(imp.is_available(), "{imp:?} is not supported by this CPU");
}

/// Defines, for one kernel, `#[target_feature]` instantiations of every generic algorithm.
macro_rules! entry_points {
    ($module:ident, $kernel:ty $(, $features:literal)?) => {
        mod $module {
            use super::*;

            $(#[target_feature(enable = $features)])?
            pub(super) unsafe fn classify(
                quoted: bool,
                batch: &[u8],
                tail: bool,
                dq: (u8, u8),
                quotes: &mut QuoteState,
                out: &mut Blocks,
            ) {
                // SAFETY: the caller checked the kernel's features (`check`).
                unsafe {
                    if quoted {
                        walk::classify::<$kernel, true>(batch, tail, dq, quotes, out)
                    } else {
                        walk::classify::<$kernel, false>(batch, tail, dq, quotes, out)
                    }
                }
            }

            /// The table walk with the kernel's features (popcnt, tzcnt, blsr for the
            /// separators' positions); `window` is inlined into it.
            $(#[target_feature(enable = $features)])?
            pub(super) unsafe fn table_windows(
                chunk: &[u8],
                width: usize,
                classify: impl FnMut(usize, bool, &mut QuoteState, &mut Blocks),
                window: impl FnMut(Table) -> bool,
            ) -> bool {
                table::for_each_window(chunk, width, classify, window)
            }

            $(#[target_feature(enable = $features)])?
            pub(super) unsafe fn last_record_end(buf: &[u8], quote: u8) -> Option<usize> {
                // SAFETY: the caller checked the kernel's features (`check`).
                unsafe { split::last_record_end::<$kernel>(buf, quote) }
            }

            $(#[target_feature(enable = $features)])?
            pub(super) unsafe fn count(quoted: bool, chunk: &[u8], d: u8, q: u8) -> (u64, u64) {
                // SAFETY: the caller checked the kernel's features (`check`).
                unsafe {
                    if quoted {
                        split::count_lines_and_rows::<$kernel, true>(chunk, d, q)
                    } else {
                        split::count_lines_and_rows::<$kernel, false>(chunk, d, q)
                    }
                }
            }
        }
    };
}

entry_points!(portable, block::Portable);
#[cfg(target_arch = "x86_64")]
entry_points!(sse2, block::Sse2, "pclmulqdq,popcnt");
#[cfg(target_arch = "x86_64")]
entry_points!(avx2, block::Avx2, "avx2,pclmulqdq,popcnt,bmi1");

/// Calls the entry point `$f` of kernel `$imp`, which the caller has `check`ed.
macro_rules! dispatch {
    ($imp:expr, $f:ident($($arg:expr),*)) => {{
        // SAFETY: the caller has run `check($imp)`: the CPU supports the kernel's features.
        unsafe {
            match $imp {
                #[cfg(target_arch = "x86_64")]
                Impl::Avx2 => avx2::$f($($arg),*),
                #[cfg(target_arch = "x86_64")]
                Impl::Sse2 => sse2::$f($($arg),*),
                _ => portable::$f($($arg),*),
            }
        }
    }};
}

/// Stage 1 of a scan of `chunk` with kernel `imp` (checked here), as a closure for the
/// walks, `classify(from, tail, quotes, blocks)`; `quoted` false promises a quote-free chunk.
fn classifier(
    imp: Impl,
    quoted: bool,
    chunk: &[u8],
    dq: (u8, u8),
) -> impl FnMut(usize, bool, &mut QuoteState, &mut Blocks) + '_ {
    check(imp);
    move |from, tail, state: &mut QuoteState, out: &mut Blocks| {
        let batch = &chunk[from..if tail { chunk.len() } else { from + BATCH }];
        dispatch!(imp, classify(quoted, batch, tail, dq, state, out))
    }
}

/// `scan` with a chosen kernel and quote handling (tests, benchmarks). Panics if the CPU
/// cannot run `imp`.
#[inline]
pub fn scan_with<E>(
    imp: Impl,
    quotes: Quotes,
    chunk: &[u8],
    delimiter: u8,
    quote: u8,
    field: impl FnMut(usize, &[u8], u64) -> Result<(), E>,
    visit: impl FnMut(Record) -> Result<(), E>,
) -> Result<u64, E> {
    if degenerate(delimiter, quote) {
        return reference::scan(chunk, delimiter, quote, field, visit);
    }
    let quoted = quoted(quotes, chunk, quote);
    let classify = classifier(imp, quoted, chunk, (delimiter, quote));
    walk::walk_fields(chunk, quoted, classify, All, &mut Callbacks(field, visit))
}

/// As `scan_with`, but `field` is called only for the fields marked in `wanted` (by index;
/// fields past its end are not wanted). Records are visited with their full field counts.
/// Panics if the CPU cannot run `imp`.
#[allow(clippy::too_many_arguments)]
#[inline]
pub fn scan_selected_with<E>(
    imp: Impl,
    quotes: Quotes,
    chunk: &[u8],
    delimiter: u8,
    quote: u8,
    wanted: &[bool],
    field: impl FnMut(usize, &[u8], u64) -> Result<(), E>,
    visit: impl FnMut(Record) -> Result<(), E>,
) -> Result<u64, E> {
    let v = &mut Callbacks(field, visit);
    visit_selected_with(imp, quotes, chunk, (delimiter, quote), wanted, v)
}

/// As `scan_selected_with` with the best kernel, with the callbacks of one `Visitor`.
#[inline]
pub fn visit_selected<E>(
    chunk: &[u8],
    delimiter: u8,
    quote: u8,
    wanted: &[bool],
    v: &mut impl Visitor<E>,
) -> Result<u64, E> {
    let (imp, q) = (Impl::best(), Quotes::Detect);
    visit_selected_with(imp, q, chunk, (delimiter, quote), wanted, v)
}

/// `visit_selected` with a chosen kernel and quote handling.
#[inline]
fn visit_selected_with<E>(
    imp: Impl,
    quotes: Quotes,
    chunk: &[u8],
    (delimiter, quote): (u8, u8),
    wanted: &[bool],
    v: &mut impl Visitor<E>,
) -> Result<u64, E> {
    let selection = Selection::new(wanted);
    if degenerate(delimiter, quote) {
        let v = std::cell::RefCell::new(v);
        let field = |i, raw: &[u8], line| match selection.wants(i) {
            true => v.borrow_mut().field(i, raw, line),
            false => Ok(()),
        };
        return reference::scan(chunk, delimiter, quote, field, |r| v.borrow_mut().record(r));
    }
    if !wanted.contains(&true) {
        let mut record = |r| v.record(r);
        return for_each_record_with(imp, quotes, chunk, delimiter, quote, &mut record);
    }
    let quoted = quoted(quotes, chunk, quote);
    let classify = classifier(imp, quoted, chunk, (delimiter, quote));
    walk::walk_fields(chunk, quoted, classify, selection, v)
}

/// Calls `window` with each window of `chunk` as a table of records of `width` fields (see
/// `Table`), with the best kernel. False, perhaps after some windows, when the chunk is not
/// such a table or `window` returned false: then the chunk needs the general scan.
#[inline]
pub fn for_each_table_window(
    chunk: &[u8],
    delimiter: u8,
    quote: u8,
    width: usize,
    window: impl FnMut(Table) -> bool,
) -> bool {
    for_each_table_window_with(Impl::best(), chunk, (delimiter, quote), width, window)
}

/// `for_each_table_window` with a chosen kernel. Only quote-free chunks without `\r`, under
/// 4 GiB, of records at least 2 fields wide in a dialect of distinct special bytes are
/// tables. Panics if the CPU cannot run `imp`.
#[inline]
pub fn for_each_table_window_with(
    imp: Impl,
    chunk: &[u8],
    (delimiter, quote): (u8, u8),
    width: usize,
    window: impl FnMut(Table) -> bool,
) -> bool {
    let big = chunk.len() >= u32::MAX as usize;
    if degenerate(delimiter, quote) || width < 2 || big {
        return false;
    }
    // One pass over the chunk for both bytes that rule a table out.
    if memchr2(quote, b'\r', chunk).is_some() {
        return false;
    }
    let classify = classifier(imp, false, chunk, (delimiter, quote)); // checks `imp`
    dispatch!(imp, table_windows(chunk, width, classify, window))
}

/// `for_each_record` with a chosen kernel and quote handling. Panics if the CPU cannot run `imp`.
#[inline]
pub fn for_each_record_with<E>(
    imp: Impl,
    quotes: Quotes,
    chunk: &[u8],
    delimiter: u8,
    quote: u8,
    visit: &mut impl FnMut(Record) -> Result<(), E>,
) -> Result<u64, E> {
    if degenerate(delimiter, quote) {
        return reference::for_each_record(chunk, delimiter, quote, visit);
    }
    let quoted = quoted(quotes, chunk, quote);
    let classify = classifier(imp, quoted, chunk, (delimiter, quote));
    walk::walk_records(chunk, quoted, classify, visit)
}

/// `last_record_end` with a chosen kernel. Panics if the CPU cannot run `imp`.
pub fn last_record_end_with(imp: Impl, buf: &[u8], quote: u8) -> Option<usize> {
    if quote == b'\n' {
        return reference::last_record_end(buf, quote);
    }
    check(imp);
    dispatch!(imp, last_record_end(buf, quote))
}

/// `count_lines_and_rows` with a chosen kernel and quote handling. Panics if the CPU cannot
/// run `imp`.
pub fn count_lines_and_rows_with(
    imp: Impl,
    quotes: Quotes,
    chunk: &[u8],
    delimiter: u8,
    quote: u8,
) -> (u64, u64) {
    if degenerate(delimiter, quote) {
        return reference::count_lines_and_rows(chunk, delimiter, quote);
    }
    check(imp);
    let quoted = quoted(quotes, chunk, quote);
    dispatch!(imp, count(quoted, chunk, delimiter, quote))
}
