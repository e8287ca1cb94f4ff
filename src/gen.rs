//! `dfpar gen`: a deterministic CSV of random integers in [min, max) with header
//! c0..cK-1, the classic input for these benchmarks.

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
    let range = (o.max as i128 - o.min as i128) as u64;
    let mut out = Output::create(o.output.as_deref())?;
    let mut buf = Vec::with_capacity(1 << 20);
    let header: Vec<String> = (0..o.cols).map(|i| format!("c{i}")).collect();
    buf.extend_from_slice(header.join(",").as_bytes());
    buf.push(b'\n');
    let mut rng = SplitMix(o.seed);
    let mut num = itoa::Buffer::new();
    for _ in 0..o.rows {
        for c in 0..o.cols {
            if c > 0 {
                buf.push(b',');
            }
            let v = (o.min as i128 + rng.below(range) as i128) as i64;
            buf.extend_from_slice(num.format(v).as_bytes());
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
