//! Column functions: each reduces a selected column to one value. All of them finish one
//! mergeable accumulator, `Moments`, updated per chunk and merged across chunks and workers.

use polars::prelude::*;

use super::{named_after_function, Builtin, Function, Kind};

/// How a column function reads its answer off the merged accumulator.
#[derive(Clone, Copy)]
pub enum Stat {
    Float(fn(&Moments) -> Option<f64>),
    Count(fn(&Moments) -> u64),
}

macro_rules! stat {
    ($name:literal, $about:literal, $stat:expr) => {
        Builtin {
            name: $name,
            kind: Kind::Column,
            params: &[],
            about: $about,
            outputs: named_after_function,
            build: |_| Ok(Function::Column($stat)),
        }
    };
}

pub const BUILTINS: &[Builtin] = &[
    stat!(
        "sum_sq",
        "sum of squares of the column",
        Stat::Float(|m| m.nonempty(m.sum_sq))
    ),
    stat!(
        "sum",
        "sum of the column",
        Stat::Float(|m| m.nonempty(m.sum))
    ),
    stat!(
        "mean",
        "mean of the column",
        Stat::Float(|m| m.nonempty(m.mean))
    ),
    stat!(
        "std",
        "sample standard deviation of the column",
        Stat::Float(Moments::std)
    ),
    stat!(
        "min",
        "smallest value of the column",
        Stat::Float(|m| m.nonempty(m.min))
    ),
    stat!(
        "max",
        "largest value of the column",
        Stat::Float(|m| m.nonempty(m.max))
    ),
    stat!(
        "count",
        "number of non-null values of the column",
        Stat::Count(|m| m.count)
    ),
    stat!(
        "null_count",
        "number of nulls in the column",
        Stat::Count(|m| m.nulls)
    ),
];

/// The mergeable state of one column: counts, sums, extremes and the stable mean and
/// sum of squared deviations (Chan et al.), so any split of a column gives one answer.
/// Saved (for `--shard`) with every float as its bit pattern: exact, infinities and NaN too.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Moments {
    pub count: u64,
    pub nulls: u64,
    #[serde(with = "bits")]
    pub sum: f64,
    #[serde(with = "bits")]
    pub sum_sq: f64,
    #[serde(with = "bits")]
    pub mean: f64,
    /// Sum of squared deviations from the mean.
    #[serde(with = "bits")]
    pub m2: f64,
    #[serde(with = "bits")]
    pub min: f64,
    #[serde(with = "bits")]
    pub max: f64,
}

/// An f64 as its bit pattern.
mod bits {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(v.to_bits())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        u64::deserialize(d).map(f64::from_bits)
    }
}

impl Default for Moments {
    fn default() -> Self {
        Moments {
            count: 0,
            nulls: 0,
            sum: 0.0,
            sum_sq: 0.0,
            mean: 0.0,
            m2: 0.0,
            min: f64::INFINITY,
            max: f64::NEG_INFINITY,
        }
    }
}

impl Moments {
    /// The state of one piece of a column, in vectorized passes over its values. Min and
    /// max ignore NaN, as polars' do.
    pub fn of(c: &Float64Chunked) -> Moments {
        let nulls = c.null_count() as u64;
        let count = c.len() as u64 - nulls;
        if count == 0 {
            return Moments {
                nulls,
                ..Moments::default()
            };
        }
        let mut dense = Vec::new();
        let slices: Vec<&[f64]> = match nulls {
            0 => c.downcast_iter().map(|a| a.values().as_slice()).collect(),
            _ => {
                dense.extend(c.iter().flatten());
                vec![&dense]
            }
        };
        let m = passes(&slices);
        let (min, max) = match (m.min, m.max) {
            (min, max) if min > max => (f64::NAN, f64::NAN), // only NaN
            extremes => extremes,
        };
        Moments {
            nulls,
            mean: m.sum / count as f64,
            min,
            max,
            ..m
        }
    }

    /// Combines the states of two pieces of the same column.
    pub fn merge(&self, other: &Moments) -> Moments {
        if other.count == 0 || self.count == 0 {
            let (full, empty) = if self.count == 0 {
                (other, self)
            } else {
                (self, other)
            };
            return Moments {
                nulls: full.nulls + empty.nulls,
                ..*full
            };
        }
        let (na, nb) = (self.count as f64, other.count as f64);
        let n = na + nb;
        let delta = other.mean - self.mean;
        Moments {
            count: self.count + other.count,
            nulls: self.nulls + other.nulls,
            sum: self.sum + other.sum,
            sum_sq: self.sum_sq + other.sum_sq,
            mean: self.mean + delta * nb / n,
            m2: self.m2 + other.m2 + delta * delta * na * nb / n,
            min: self.min.min(other.min),
            max: self.max.max(other.max),
        }
    }

    fn nonempty(&self, v: f64) -> Option<f64> {
        (self.count > 0).then_some(v)
    }

    /// Sample standard deviation (n - 1 in the denominator); null below two values.
    pub fn std(&self) -> Option<f64> {
        (self.count > 1).then(|| (self.m2 / (self.count - 1) as f64).sqrt())
    }
}

/// The passes over a column's values, compiled for AVX2 too and picked at run time.
fn passes(slices: &[&[f64]]) -> Moments {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: this CPU has AVX2, checked just above.
        return unsafe { passes_avx2(slices) };
    }
    all_passes(slices)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn passes_avx2(slices: &[&[f64]]) -> Moments {
    all_passes(slices)
}

/// The values in blocks that stay in the first-level cache, each read by `block` and
/// merged into the running state by `Moments::merge`: the column is read once from
/// memory. Plain loops: an iterator adapter may be compiled outside this function,
/// without AVX2.
#[inline(always)]
fn all_passes(slices: &[&[f64]]) -> Moments {
    let mut m = Moments::default();
    for s in slices {
        for values in s.chunks(BLOCK) {
            m = m.merge(&block(values));
        }
    }
    m
}

/// The state of one block (not empty): one pass for the sums and extremes, one for the
/// squared deviations from the block's mean. Comparisons that are false for NaN leave it
/// out of the extremes.
#[inline(always)]
fn block(values: &[f64]) -> Moments {
    let total = |v: [f64; LANES]| v.iter().sum::<f64>();
    let [sum, sum_sq, min, max] = sums_and_extremes(values);
    let (sum, count) = (total(sum), values.len());
    let mean = sum / count as f64;
    let mut m2 = [0.0; LANES];
    each_lane(values, |i, x| m2[i] += (x - mean) * (x - mean));
    Moments {
        count: count as u64,
        nulls: 0,
        sum,
        sum_sq: total(sum_sq),
        mean,
        m2: total(m2),
        min: min.iter().copied().fold(f64::INFINITY, f64::min),
        max: max.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    }
}

const LANES: usize = 8;

/// Values per block: 16 KiB.
const BLOCK: usize = 2048;

/// Sums, sums of squares, minima and maxima, in `LANES` accumulators each (value `i` in
/// lane `i` modulo `LANES`).
#[inline(always)]
fn sums_and_extremes(values: &[f64]) -> [[f64; LANES]; 4] {
    let (inf, ninf) = (f64::INFINITY, f64::NEG_INFINITY);
    let [mut sum, mut sum_sq, mut min, mut max] =
        [[0.0; LANES], [0.0; LANES], [inf; LANES], [ninf; LANES]];
    each_lane(values, |i, x| {
        sum[i] += x;
        sum_sq[i] += x * x;
        min[i] = if x < min[i] { x } else { min[i] };
        max[i] = if x > max[i] { x } else { max[i] };
    });
    [sum, sum_sq, min, max]
}

/// Calls `f` with each value and its lane, in blocks of `LANES` that the compiler
/// vectorizes, then the remainder.
#[inline(always)]
fn each_lane(values: &[f64], mut f: impl FnMut(usize, f64)) {
    let mut blocks = values.chunks_exact(LANES);
    for block in &mut blocks {
        for (i, &x) in block.iter().enumerate() {
            f(i, x);
        }
    }
    for (i, &x) in blocks.remainder().iter().enumerate() {
        f(i, x);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(x: f64, y: f64) -> bool {
        (x - y).abs() <= 1e-12 * y.abs().max(1.0)
    }

    /// The vectorized passes against polars' own aggregations, on a column of two arrays,
    /// with and without nulls, of lengths that leave every remainder of the lanes and span
    /// one block or several.
    #[test]
    fn the_passes_give_what_polars_aggregations_give() {
        for n in [1, 7, 8, 9, 100, 1001, BLOCK, 5000] {
            for with_nulls in [false, true] {
                let v = |i: usize| {
                    (!with_nulls || i % 5 != 2).then(|| (i * 7919 % 1000) as f64 - 321.5)
                };
                let a: Vec<Option<f64>> = (0..n).map(v).collect();
                let b: Vec<Option<f64>> = (n..2 * n + 3).map(v).collect();
                let mut c = Float64Chunked::from_slice_options("x".into(), &a);
                c.append(&Float64Chunked::from_slice_options("x".into(), &b))
                    .unwrap();
                let m = Moments::of(&c);
                let count = (c.len() - c.null_count()) as f64;
                assert_eq!(m.count as f64, count);
                assert_eq!(m.nulls as usize, c.null_count());
                assert_eq!((m.min, m.max), (c.min().unwrap(), c.max().unwrap()));
                assert!(close(m.sum, c.sum().unwrap()), "sum at {n}");
                assert!(close(m.sum_sq, (&c * &c).sum().unwrap()), "sum_sq at {n}");
                assert!(close(m.mean, c.mean().unwrap()), "mean at {n}");
                assert!(close(m.m2, c.var(0).unwrap() * count), "m2 at {n}");
            }
        }
    }

    /// Far from zero, over several blocks: the merged blocks' squared deviations stay as
    /// exact as two passes over the whole column.
    #[test]
    fn blocks_merge_as_stably_as_two_passes() {
        let v: Vec<f64> = (0..5 * BLOCK + 3)
            .map(|i| 1e9 + (i % 7) as f64 * 0.5)
            .collect();
        let m = Moments::of(&Float64Chunked::from_slice("x".into(), &v));
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let m2: f64 = v.iter().map(|x| (x - mean) * (x - mean)).sum();
        assert!((m.m2 - m2).abs() <= 1e-9 * m2, "{} vs {m2}", m.m2);
    }

    #[test]
    fn min_and_max_leave_nan_out_unless_there_is_nothing_else() {
        let of = |v: &[f64]| Moments::of(&Float64Chunked::from_slice("x".into(), v));
        let m = of(&[f64::NAN, 3.0, -1.0, f64::NAN, 2.0]);
        assert_eq!((m.min, m.max, m.count), (-1.0, 3.0, 5));
        assert!(m.sum.is_nan());
        let m = of(&[f64::NAN; 3]);
        assert!(m.min.is_nan() && m.max.is_nan());
        let m = of(&[f64::INFINITY, f64::NAN]);
        assert_eq!((m.min, m.max), (f64::INFINITY, f64::INFINITY));
    }

    #[test]
    fn merged_pieces_equal_one_pass() {
        let v: Vec<Option<f64>> = (0..1000)
            .map(|i| (i % 7 != 0).then(|| ((i * 37) % 101) as f64 * 0.5 + 1e6))
            .collect();
        let whole = Moments::of(&Float64Chunked::from_slice_options("x".into(), &v));
        for cut in [1, 10, 333, 999] {
            let a = Moments::of(&Float64Chunked::from_slice_options("x".into(), &v[..cut]));
            let b = Moments::of(&Float64Chunked::from_slice_options("x".into(), &v[cut..]));
            let m = a.merge(&b);
            assert_eq!(
                (m.count, m.nulls, m.min, m.max),
                (whole.count, whole.nulls, whole.min, whole.max)
            );
            for (x, y) in [
                (m.sum, whole.sum),
                (m.mean, whole.mean),
                (m.std().unwrap(), whole.std().unwrap()),
            ] {
                assert!((x - y).abs() <= 1e-9 * y.abs(), "{x} vs {y} at cut {cut}");
            }
        }
    }
}
