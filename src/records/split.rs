//! The splitter's helpers over block masks: the last complete record's end (a quote-parity
//! pass, then a backward walk) and the line and row counts of a chunk in one pass.

use memchr::{memchr, memrchr};

use super::block::{for_each_block, Kernel, Masks};
use super::walk::QuoteState;

/// The reference `last_record_end` (for a quote that is not `\n`).
/// # Safety
/// The CPU supports `K`'s target features.
#[inline(always)]
pub(crate) unsafe fn last_record_end<K: Kernel>(buf: &[u8], quote: u8) -> Option<usize> {
    let Some(first) = memchr(quote, buf) else {
        return memrchr(b'\n', buf).map(|i| i + 1); // quote-free: the last line ending
    };
    // The quoted state at the end of `buf`: the parity of its quotes.
    let mut parity = 0u64;
    let each = |_, m: Masks, _| {
        parity ^= m.quote;
        Ok::<(), ()>(())
    };
    // SAFETY: forwarded from the caller.
    unsafe { for_each_block::<K, ()>(&buf[first..], quote, quote, true, each).ok() };
    let mut inside_after = parity.count_ones() % 2 == 1;
    // Walk back in blocks that end at the end of `buf`, to the first line ending outside quotes.
    let mut end = buf.len();
    while end > 0 {
        let start = end.saturating_sub(64);
        let mut block = [0u8; 64];
        block[..end - start].copy_from_slice(&buf[start..end]);
        // SAFETY (both): forwarded from the caller.
        let m = unsafe { K::masks(&block, quote, quote) }.and(u64::MAX >> (64 - (end - start)));
        let inside_before = inside_after ^ (m.quote.count_ones() % 2 == 1);
        let carry = if inside_before { u64::MAX } else { 0 };
        let outside_nl = m.nl & !(unsafe { K::prefix_xor(m.quote) } ^ carry);
        if outside_nl != 0 {
            return Some(start + 64 - outside_nl.leading_zeros() as usize);
        }
        (end, inside_after) = (start, inside_before);
    }
    None
}

/// The reference `count_lines_and_rows` (for a delimiter and quote distinct from each other
/// and from `\n` and `\r`): every line ending, and the structural ones that end a record
/// that is neither empty nor a lone `\r`. `Q` false promises a quote-free chunk.
/// # Safety
/// The CPU supports `K`'s target features.
#[inline(always)]
pub(crate) unsafe fn count_lines_and_rows<K: Kernel, const Q: bool>(
    chunk: &[u8],
    delim: u8,
    quote: u8,
) -> (u64, u64) {
    let mut quotes = QuoteState::default();
    let (mut lines, mut rows) = (0u64, 0u64);
    // Bit 63 of the previous block's record starts, and of those that hold a `\r`; the
    // chunk starts a record.
    let (mut start_carry, mut cr_start_carry) = (1u64, 0u64);
    let mut last_end = 0; // just after the last structural line ending
    let each = |base: usize, m: Masks, _| {
        // SAFETY: forwarded from the caller.
        let s = unsafe { quotes.structure::<K, Q>(m) };
        // Bit i: a record starts at byte i (the chunk start or just after a line ending).
        let starts = s.nl << 1 | start_carry;
        let cr_starts = m.cr & starts;
        // A blank record: its line ending is at its start, or right after a `\r` there.
        let blank = s.nl & (starts | cr_starts << 1 | cr_start_carry);
        lines += u64::from(s.all_nl.count_ones());
        rows += u64::from((s.nl & !blank).count_ones());
        if s.nl != 0 {
            last_end = base + 64 - s.nl.leading_zeros() as usize;
        }
        (start_carry, cr_start_carry) = (s.nl >> 63, cr_starts >> 63);
        Ok::<(), ()>(())
    };
    // SAFETY: forwarded from the caller.
    unsafe { for_each_block::<K, ()>(chunk, delim, quote, true, each).ok() };
    let rest = &chunk[last_end..];
    let unterminated = !rest.is_empty() && rest != b"\r";
    (lines, rows + u64::from(unterminated))
}
