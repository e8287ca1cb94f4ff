//! Quote-free chunks whose records all have the same width, read as a table: the position of
//! every separator, window by window, so that the parser reads a column in one tight loop.

use super::walk::{Blocks, QuoteState, BATCH};

/// Batches per window: 16 KiB of input, whose separators stay in the first-level caches.
const WINDOW: usize = 4;

/// A window of whole records of `chunk`. `seps[0]` ends the record before the first
/// (`u32::MAX` at the chunk's start), then come each record's `width` separators, the last
/// its line ending (or the chunk's end). The positions rise strictly and none is past the
/// chunk's end: `for_each_window` makes them so, and `fields` relies on it.
pub struct Table<'a> {
    chunk: &'a [u8],
    seps: &'a [u32],
    width: usize,
}

impl<'a> Table<'a> {
    /// The number of records.
    pub fn len(&self) -> usize {
        (self.seps.len() - 1) / self.width
    }

    pub fn is_empty(&self) -> bool {
        self.seps.len() == 1
    }

    /// Field `j` (of `width`) of each record.
    #[inline(always)]
    pub fn column(&self, j: usize) -> impl ExactSizeIterator<Item = &'a [u8]> + Clone + '_ {
        let chunk = self.chunk;
        self.between(j, 1).map(move |(start, end)| {
            debug_assert!(start <= end && end <= chunk.len());
            // SAFETY: separators rise strictly and none is past the chunk's end (see `Table`),
            // so start (one past a separator, or 0) <= end <= chunk.len().
            unsafe { chunk.get_unchecked(start..end) }
        })
    }

    /// Where each record lies, without its line ending.
    #[inline(always)]
    pub fn records(&self) -> impl ExactSizeIterator<Item = (usize, usize)> + '_ {
        self.between(0, self.width)
    }

    /// For each record, from after its separator `k - 1` (`-1`: the previous record's end)
    /// to its separator `k - 1 + span`. The bounds are checked once, not per record.
    #[inline(always)]
    fn between(
        &self,
        k: usize,
        span: usize,
    ) -> impl ExactSizeIterator<Item = (usize, usize)> + Clone + '_ {
        let (s, w, n) = (self.seps, self.width, self.len());
        assert!(k + span <= w && n * w < s.len());
        (0..n).map(move |r| {
            let at = r * w + k;
            // SAFETY: at + span <= (n - 1) * w + k + span <= n * w < s.len(), asserted above.
            let (a, b) = unsafe { (*s.get_unchecked(at), *s.get_unchecked(at + span)) };
            (a.wrapping_add(1) as usize, b as usize)
        })
    }
}

/// Calls `window` with each window of the quote-free `chunk` (under 4 GiB, without `\r`) as
/// a table of records of `width` (at least 2) fields. False, perhaps after some windows,
/// when the chunk is not such a table (a blank line or a record of another width) or when
/// `window` returned false. `classify` is stage 1 of the quote-free walk.
#[inline(always)]
pub(crate) fn for_each_window(
    chunk: &[u8],
    width: usize,
    mut classify: impl FnMut(usize, bool, &mut QuoteState, &mut Blocks),
    mut window: impl FnMut(Table) -> bool,
) -> bool {
    debug_assert!(width >= 2 && chunk.len() < u32::MAX as usize);
    let mut seps: Vec<u32> = Vec::with_capacity(WINDOW * BATCH + width + 2);
    seps.push(u32::MAX);
    let (mut blocks, mut quotes) = (Blocks::new(), QuoteState::default());
    let (mut from, mut nls) = (0, 0);
    loop {
        let mut tail = false;
        for _ in 0..WINDOW {
            tail = chunk.len() - from <= BATCH;
            classify(from, tail, &mut quotes, &mut blocks);
            nls += flatten(&blocks, from, &mut seps);
            if tail {
                break;
            }
            from += BATCH;
        }
        if tail && (chunk.is_empty() || chunk.ends_with(b"\n")) {
            seps.pop(); // the chunk's end, after its last line ending, ends no record
            nls -= 1;
        }
        let rows = (seps.len() - 1) / width;
        let whole = rows * width + 1;
        if !is_table(chunk, &seps, width, nls)
            || !window(Table {
                chunk,
                seps: &seps[..whole],
                width,
            })
        {
            return false;
        }
        if tail {
            // Nothing is left over: the chunk's last separator is a line ending or its end,
            // which `is_table` has counted as a record's end.
            return seps.len() == whole;
        }
        seps.drain(..whole - 1); // keeps the last record's end and the separators after it
        nls = 0;
    }
}

/// Appends the positions of the separators (delimiters and line endings, the chunk's end
/// included) of the classified `blocks` from `from`; returns how many are line endings.
/// They rise strictly: blocks are taken in order, and each block's bits from the lowest.
#[inline(always)]
fn flatten(blocks: &Blocks, from: usize, seps: &mut Vec<u32>) -> usize {
    let mut nls = 0;
    for (i, s) in blocks.structure[..blocks.len].iter().enumerate() {
        let base = (from + 64 * i) as u32;
        let mut bits = s.delim | s.nl;
        nls += s.nl.count_ones() as usize;
        // One `extend` of known length: no capacity check or length update per separator.
        seps.extend((0..bits.count_ones()).map(|_| {
            let k = bits.trailing_zeros();
            bits &= bits - 1;
            base + k
        }));
    }
    nls
}

/// Whether the line endings among `seps[1..]` (`nls` of them) are exactly the ends of its
/// whole records: then every record has `width` fields and none is blank. Also checks that
/// no position is past the chunk's end (they rise, so the last one says), which `Table`'s
/// unchecked field slices rely on.
#[inline(always)]
fn is_table(chunk: &[u8], seps: &[u32], width: usize, nls: usize) -> bool {
    let is_nl = |p: u32| chunk.get(p as usize).is_none_or(|&b| b == b'\n');
    let within = seps.len() == 1 || seps[seps.len() - 1] as usize <= chunk.len();
    let rows = (seps.len() - 1) / width;
    // Each record's last separator; `&` rather than `&&`: no branch per record.
    let ends = seps[1..].chunks_exact(width).map(|r| r[width - 1]);
    within && nls == rows && ends.fold(true, |all, p| all & is_nl(p))
}
