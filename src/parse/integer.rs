//! Field integers: a sign, then 1 to 18 ASCII digits whose value is at most 2^53 in
//! magnitude, eight digits at a time by SWAR; `reference` is the byte loop it must match.

/// The largest magnitude up to which every integer is exact in an f64.
const EXACT: u64 = 1 << 53;

/// A decimal integer of at most 18 digits with an optional sign, exact in an f64 (magnitude
/// at most 2^53); `None` otherwise. Same results as `reference`.
#[inline(always)]
pub fn integer(f: &[u8]) -> Option<i64> {
    // The commonest fields first: one digit (its length checked first, which also rules
    // out an empty field), then two to eight digits, no sign.
    if let [c] = *f {
        let d = c.wrapping_sub(b'0');
        return (d <= 9).then_some(i64::from(d));
    }
    let first = *f.first()?;
    if first.is_ascii_digit() {
        if f.len() <= 8 {
            return short(f).map(|v| v as i64);
        }
    } else if first != b'-' && first != b'+' {
        return None; // quoted, blank, a decimal point...: not for this parser
    }
    signed(f)
}

const POW10: [u64; 9] = [
    1,
    10,
    100,
    1_000,
    10_000,
    100_000,
    1_000_000,
    10_000_000,
    100_000_000,
];

/// The general case: an optional sign, then 1 to 18 digits.
#[inline]
fn signed(f: &[u8]) -> Option<i64> {
    let (negative, digits) = match f.first() {
        Some(b'-') => (true, &f[1..]),
        Some(b'+') => (false, &f[1..]),
        _ => (false, f),
    };
    let v = match digits.len() {
        1 => {
            let d = digits[0].wrapping_sub(b'0');
            if d > 9 {
                return None;
            }
            u64::from(d)
        }
        2..=8 => short(digits)?,
        // The first eight digits first: a decimal point there fails fast.
        9..=16 => {
            let (hi, lo) = digits.split_at(8);
            eight(hi)? * POW10[lo.len()] + short(lo)?
        }
        17..=18 => {
            let (hi, rest) = digits.split_at(8);
            let (mid, lo) = rest.split_at(8);
            (eight(hi)? * 100_000_000 + eight(mid)?) * POW10[lo.len()] + short(lo)?
        }
        _ => return None,
    };
    if v > EXACT {
        return None;
    }
    let v = v as i64;
    Some(if negative { -v } else { v })
}

/// Eight ASCII digits, the first (most significant) in the lowest byte, as their value.
#[inline(always)]
fn digits_value(w: u64) -> Option<u64> {
    // Every byte is 0x30..=0x39: its high nibble is 3, and still 3 after adding 6.
    let all_digits = (w & 0xF0F0_F0F0_F0F0_F0F0)
        | ((w.wrapping_add(0x0606_0606_0606_0606) & 0xF0F0_F0F0_F0F0_F0F0) >> 4)
        == 0x3333_3333_3333_3333;
    if !all_digits {
        return None;
    }
    // Pairs, then quads, then all eight (Lemire's parse_eight_digits_unrolled).
    let mut v = w - 0x3030_3030_3030_3030;
    v = v * 10 + (v >> 8);
    let pairs_13 = (v & 0x0000_00FF_0000_00FF).wrapping_mul(100 + (1_000_000 << 32));
    let pairs_24 = ((v >> 16) & 0x0000_00FF_0000_00FF).wrapping_mul(1 + (10_000 << 32));
    Some(pairs_13.wrapping_add(pairs_24) >> 32)
}

/// Exactly eight digits.
#[inline(always)]
fn eight(d: &[u8]) -> Option<u64> {
    digits_value(u64::from_le_bytes(d.try_into().ok()?))
}

/// One to eight digits: loaded without reading past `d` (two overlapping loads, or three
/// single bytes), moved to the high bytes, and left-padded with ASCII zeros.
#[inline(always)]
fn short(d: &[u8]) -> Option<u64> {
    let n = d.len();
    debug_assert!((1..=8).contains(&n));
    let w = if n >= 4 {
        let lo = u32::from_le_bytes(d[..4].try_into().ok()?);
        let hi = u32::from_le_bytes(d[n - 4..].try_into().ok()?);
        u64::from(lo) | u64::from(hi) << (8 * (n - 4))
    } else {
        let (a, b, c) = (d[0], d[n / 2], d[n - 1]);
        u64::from(a) | u64::from(b) << (8 * (n / 2)) | u64::from(c) << (8 * (n - 1))
    };
    let shift = 8 * (8 - n) as u32; // 0..=56
    let pad = 0x3030_3030_3030_3030 & ((1u64 << shift) - 1);
    digits_value(w << shift | pad)
}

/// The byte-by-byte reference for `integer`.
pub fn reference(f: &[u8]) -> Option<i64> {
    let (negative, digits) = match f.first() {
        Some(b'-') => (true, &f[1..]),
        Some(b'+') => (false, &f[1..]),
        _ => (false, f),
    };
    if digits.is_empty() || digits.len() > 18 {
        return None;
    }
    let mut v: i64 = 0;
    for &c in digits {
        let digit = c.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        v = v * 10 + i64::from(digit);
    }
    if v.unsigned_abs() > EXACT {
        return None;
    }
    Some(if negative { -v } else { v })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn swar_digits() {
        assert_eq!(eight(b"12345678"), Some(12_345_678));
        assert_eq!(eight(b"00000000"), Some(0));
        assert_eq!(eight(b"99999999"), Some(99_999_999));
        assert_eq!(eight(b"1234567/"), None);
        assert_eq!(eight(b"1234567:"), None);
        for n in 1..=8 {
            let s = &b"87654321"[..n];
            let want: u64 = std::str::from_utf8(s).unwrap().parse().unwrap();
            assert_eq!(short(s), Some(want), "{n}");
        }
    }
}
