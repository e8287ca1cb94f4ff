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
    /// The state of one piece of a column, computed with polars' vectorized aggregations.
    pub fn of(c: &Float64Chunked) -> Moments {
        let nulls = c.null_count() as u64;
        let count = c.len() as u64 - nulls;
        if count == 0 {
            return Moments {
                nulls,
                ..Moments::default()
            };
        }
        let sum = c.sum().unwrap_or(0.0);
        Moments {
            count,
            nulls,
            sum,
            sum_sq: (c * c).sum().unwrap_or(0.0),
            mean: sum / count as f64,
            m2: c.var(0).unwrap_or(0.0) * count as f64,
            min: c.min().unwrap_or(f64::NAN),
            max: c.max().unwrap_or(f64::NAN),
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

#[cfg(test)]
mod tests {
    use super::*;

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
