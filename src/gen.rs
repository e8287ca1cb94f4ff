//! `dfpar gen`: a deterministic CSV of random integers in [min, max) with header
//! c0..cK-1 (or decimals, header f0..fK-1), the classic inputs for these benchmarks.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::write::Output;

#[derive(Clone, Debug)]
pub struct GenOptions {
    pub rows: u64,
    pub cols: usize,
    pub min: i64,
    pub max: i64,
    pub seed: u64,
    /// Digits after the decimal point; 0 writes integers.
    pub decimals: u32,
    pub output: Option<PathBuf>,
}

/// SplitMix64: small, fast and good enough for test data.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, range) by multiply-shift (Lemire), without modulo bias worth noting.
    fn below(&mut self, range: u64) -> u64 {
        ((u128::from(self.next()) * u128::from(range)) >> 64) as u64
    }
}

pub fn gen(o: &GenOptions) -> Result<()> {
    if o.cols == 0 {
        return Err(Error::usage("--cols must be at least 1"));
    }
    if o.max <= o.min {
        return Err(Error::usage(format!(
            "--max ({}) must be greater than --min ({})",
            o.max, o.min
        )));
    }
    // Values are drawn as integers in units of 10^-decimals.
    let scale = 10i128.pow(o.decimals);
    let (min, max) = (o.min as i128 * scale, o.max as i128 * scale);
    if max - min > u64::MAX as i128 {
        return Err(Error::usage(
            "--min, --max and --decimals give too wide a range",
        ));
    }
    let range = (max - min) as u64;
    let mut out = Output::create(o.output.as_deref())?;
    let mut buf = Vec::with_capacity(1 << 20);
    let prefix = if o.decimals == 0 { "c" } else { "f" };
    let header: Vec<String> = (0..o.cols).map(|i| format!("{prefix}{i}")).collect();
    buf.extend_from_slice(header.join(",").as_bytes());
    buf.push(b'\n');
    let mut rng = SplitMix(o.seed);
    let mut num = itoa::Buffer::new();
    for _ in 0..o.rows {
        for c in 0..o.cols {
            if c > 0 {
                buf.push(b',');
            }
            let v = min + rng.below(range) as i128;
            write_value(&mut buf, &mut num, v, o.decimals);
        }
        buf.push(b'\n');
        if buf.len() >= 1 << 20 {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    out.write_all(&buf)?;
    out.commit()
}

/// `v` units of 10^-decimals, written with exactly `decimals` digits after the point.
fn write_value(buf: &mut Vec<u8>, num: &mut itoa::Buffer, v: i128, decimals: u32) {
    if decimals == 0 {
        buf.extend_from_slice(num.format(v).as_bytes());
        return;
    }
    let scale = 10i128.pow(decimals);
    if v < 0 {
        buf.push(b'-');
    }
    let (whole, frac) = (v.abs() / scale, v.abs() % scale);
    buf.extend_from_slice(num.format(whole).as_bytes());
    buf.push(b'.');
    let digits = num.format(frac);
    buf.extend(std::iter::repeat_n(b'0', decimals as usize - digits.len()));
    buf.extend_from_slice(digits.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_written_with_every_digit() {
        let mut buf = Vec::new();
        let mut num = itoa::Buffer::new();
        for (v, d) in [(3141593, 6), (-5, 3), (0, 2), (42, 0), (-1234, 2)] {
            write_value(&mut buf, &mut num, v, d);
            buf.push(b' ');
        }
        assert_eq!(buf, b"3.141593 -0.005 0.00 42 -12.34 ");
    }
}
