//! The generic record scans over block masks: the reference's exact callbacks, walking the
//! structural bits (delimiters and line endings outside quotes) of each 64-byte block.

use super::block::{for_each_block, Kernel, Masks};
use super::{Callbacks, Record, Visitor};

/// Which fields a scan passes to its `field` callback.
pub(crate) trait Wanted: Copy {
    fn wants(self, index: usize) -> bool;
}

/// Every field.
#[derive(Clone, Copy)]
pub(crate) struct All;

impl Wanted for All {
    #[inline(always)]
    fn wants(self, _: usize) -> bool {
        true
    }
}

/// Fields whose bit is set (fields 64 and beyond are never wanted).
#[derive(Clone, Copy)]
pub(crate) struct Bits(pub u64);

impl Wanted for Bits {
    #[inline(always)]
    fn wants(self, index: usize) -> bool {
        index < 64 && self.0 >> index & 1 != 0
    }
}

/// Fields marked `true` (those beyond the slice are not wanted), the first 64 as a bit mask.
#[derive(Clone, Copy)]
pub(crate) struct Selection<'a> {
    first: u64,
    marks: &'a [bool],
}

impl<'a> Selection<'a> {
    pub fn new(marks: &'a [bool]) -> Selection<'a> {
        let first = marks.iter().take(64).rev();
        Selection {
            first: first.fold(0, |m, &w| m << 1 | u64::from(w)),
            marks,
        }
    }
}

impl Wanted for Selection<'_> {
    #[inline(always)]
    fn wants(self, index: usize) -> bool {
        if index < 64 {
            self.first >> index & 1 != 0
        } else {
            self.marks.get(index) == Some(&true)
        }
    }
}

/// One block's structural bits: delimiters and line endings outside quotes, and every line
/// ending (those inside quoted fields count as lines too).
#[derive(Clone, Copy)]
pub(crate) struct Structure {
    pub delim: u64,
    pub nl: u64,
    pub all_nl: u64,
}

/// The quoted state carried from block to block: all ones while inside quotes.
#[derive(Default)]
pub(crate) struct QuoteState(u64);

impl QuoteState {
    /// The structural bits of `m`; with `Q` false the chunk is known to be quote-free.
    /// # Safety
    /// The CPU supports `K`'s target features.
    #[inline(always)]
    pub unsafe fn structure<K: Kernel, const Q: bool>(&mut self, m: Masks) -> Structure {
        if !Q {
            return Structure {
                delim: m.delim,
                nl: m.nl,
                all_nl: m.nl,
            };
        }
        // Bit i set: byte i follows an odd number of quotes (the opening quote is inside,
        // the closing one is not), exactly the bytes the reference skips over.
        // SAFETY: forwarded from the caller.
        let inside = unsafe { K::prefix_xor(m.quote) } ^ self.0;
        self.0 = ((inside as i64) >> 63) as u64;
        Structure {
            delim: m.delim & !inside,
            nl: m.nl & !inside,
            all_nl: m.nl,
        }
    }
}

/// Where the scan stands: the current record and field.
struct Cursor {
    start: usize,
    field_start: usize,
    fields: usize,
    /// Line endings before the current record.
    record_line: u64,
}

impl Cursor {
    fn new() -> Cursor {
        Cursor {
            start: 0,
            field_start: 0,
            fields: 1,
            record_line: 0,
        }
    }

    /// A structural delimiter (`nl` false) or line ending at `p`, with `line_after` line
    /// endings through `p`: reports the field it ends, and at a line ending the record
    /// unless it is blank (empty or a lone `\r`), as the reference does, then starts the
    /// next record. One call site of each callback, so they inline.
    #[inline(always)]
    fn structural<E>(
        &mut self,
        chunk: &[u8],
        (p, nl, line_after): (usize, bool, u64),
        wanted: impl Wanted,
        v: &mut impl Visitor<E>,
    ) -> Result<(), E> {
        let end = if nl && p > self.start && chunk[p - 1] == b'\r' {
            p - 1
        } else {
            p
        };
        let counts = !nl || end > self.start || self.fields > 1;
        if counts && wanted.wants(self.fields - 1) {
            let raw = &chunk[self.field_start..end.max(self.field_start)];
            v.field(self.fields - 1, raw, self.record_line)?;
        }
        if !nl {
            self.fields += 1;
            self.field_start = p + 1;
            return Ok(());
        }
        if counts {
            v.record(Record {
                start: self.start,
                end,
                fields: self.fields,
                line: self.record_line,
            })?;
        }
        *self = Cursor {
            start: p + 1,
            field_start: p + 1,
            fields: 1,
            record_line: line_after,
        };
        Ok(())
    }
}

/// The line of the record after the structural line ending at bit `k` of a block whose
/// line endings are `all_nl`, `lines` being those before the block. Quote-free, every line
/// ending is structural: the line is the current record's plus one, no count needed.
#[inline(always)]
fn next_line(quoted: bool, c: &Cursor, lines: u64, all_nl: u64, k: u32) -> u64 {
    if quoted {
        lines + u64::from((all_nl & (u64::MAX >> (63 - k))).count_ones())
    } else {
        c.record_line + 1
    }
}

/// The bit of the chunk's end in the last block (of length `len` < 64), which ends the final
/// record like a line ending; none in full blocks.
#[inline(always)]
fn end_bit(len: usize) -> u64 {
    if len < 64 {
        1 << len
    } else {
        0
    }
}

/// Bytes per batch: stage 1 classifies a batch (64 blocks), then stage 2 walks its bits.
pub(crate) const BATCH: usize = 4096;

/// Stage 1's output for one batch: the structure of each block (with the chunk's end as a
/// line ending in `nl` of the last block), and each block's count of line endings.
pub(crate) struct Blocks {
    pub structure: [Structure; BATCH / 64 + 1],
    pub lines: [u32; BATCH / 64 + 1],
    pub len: usize,
}

impl Blocks {
    pub fn new() -> Blocks {
        let none = Structure {
            delim: 0,
            nl: 0,
            all_nl: 0,
        };
        Blocks {
            structure: [none; BATCH / 64 + 1],
            lines: [0; BATCH / 64 + 1],
            len: 0,
        }
    }
}

/// Stage 1: the structure of the blocks of `batch`, the last batch of its chunk when `tail`
/// (its last block then ends the final record).
/// # Safety
/// The CPU supports `K`'s target features.
#[inline(always)]
pub(crate) unsafe fn classify<K: Kernel, const Q: bool>(
    batch: &[u8],
    tail: bool,
    (delim, quote): (u8, u8),
    quotes: &mut QuoteState,
    out: &mut Blocks,
) {
    out.len = 0;
    let each = |_, m: Masks, len: usize| {
        // SAFETY: forwarded from the caller.
        let mut s = unsafe { quotes.structure::<K, Q>(m) };
        s.nl |= end_bit(len);
        out.structure[out.len] = s;
        out.lines[out.len] = s.all_nl.count_ones();
        out.len += 1;
        Ok::<(), ()>(())
    };
    // SAFETY: forwarded from the caller.
    unsafe { for_each_block::<K, ()>(batch, delim, quote, tail, each).ok() };
}

/// Stage 2 of `field` scans: batch by batch, `classify(from, tail, quotes, blocks)` runs
/// stage 1 on `chunk[from..]`, then the structural bits are walked with the callbacks. This
/// generic function is instantiated once per caller, so the callbacks inline into its loop.
/// `quoted` false promises a quote-free chunk.
#[inline(always)]
pub(crate) fn walk_fields<E>(
    chunk: &[u8],
    quoted: bool,
    mut classify: impl FnMut(usize, bool, &mut QuoteState, &mut Blocks),
    wanted: impl Wanted,
    v: &mut impl Visitor<E>,
) -> Result<u64, E> {
    let (mut c, mut quotes, mut blocks) = (Cursor::new(), QuoteState::default(), Blocks::new());
    let (mut lines, mut from) = (0u64, 0); // line endings before the block
    loop {
        let tail = chunk.len() - from <= BATCH;
        classify(from, tail, &mut quotes, &mut blocks);
        let done = blocks.structure[..blocks.len].iter().zip(&blocks.lines);
        for (i, (s, &block_lines)) in done.enumerate() {
            let base = from + 64 * i;
            let mut bits = s.delim | s.nl;
            while bits != 0 {
                let k = bits.trailing_zeros();
                let p = base + k as usize;
                let nl = s.nl >> k & 1 != 0;
                let after = if nl {
                    next_line(quoted, &c, lines, s.all_nl, k)
                } else {
                    0
                };
                c.structural(chunk, (p, nl, after), wanted, v)?;
                bits &= bits - 1;
            }
            lines += u64::from(block_lines);
        }
        if tail {
            return Ok(lines);
        }
        from += BATCH;
    }
}

/// Stage 2 of record scans, as `walk_fields` without `field` calls: only the line endings
/// are walked, each record's fields counted from the structural delimiters before them.
#[inline(always)]
pub(crate) fn walk_records<E>(
    chunk: &[u8],
    quoted: bool,
    mut classify: impl FnMut(usize, bool, &mut QuoteState, &mut Blocks),
    visit: &mut impl FnMut(Record) -> Result<(), E>,
) -> Result<u64, E> {
    let (mut c, mut quotes, mut blocks) = (Cursor::new(), QuoteState::default(), Blocks::new());
    let mut v = Callbacks(|_: usize, _: &[u8], _: u64| Ok(()), visit);
    // Line endings before the block, delimiters of the current record before the block.
    let (mut lines, mut delims, mut from) = (0u64, 0u64, 0);
    loop {
        let tail = chunk.len() - from <= BATCH;
        classify(from, tail, &mut quotes, &mut blocks);
        let done = blocks.structure[..blocks.len].iter().zip(&blocks.lines);
        for (i, (s, &block_lines)) in done.enumerate() {
            let mut bits = s.nl;
            let mut seen = 0u64; // the block's bits up to the last line ending walked
            while bits != 0 {
                let k = bits.trailing_zeros();
                let through_k = u64::MAX >> (63 - k);
                c.fields =
                    1 + (delims + u64::from((s.delim & through_k & !seen).count_ones())) as usize;
                (delims, seen) = (0, through_k);
                let after = next_line(quoted, &c, lines, s.all_nl, k);
                let p = from + 64 * i + k as usize;
                c.structural(chunk, (p, true, after), Bits(0), &mut v)?;
                bits &= bits - 1;
            }
            delims += u64::from((s.delim & !seen).count_ones());
            lines += u64::from(block_lines);
        }
        if tail {
            return Ok(lines);
        }
        from += BATCH;
    }
}
