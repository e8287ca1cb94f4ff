//! Row functions: vectorized kernels over the selected columns of a partition, each
//! returning columns of the same height. Nulls are skipped; a row with no value gives null.

use polars::prelude::*;

use super::{named_after_function, Builtin, Function, Param, ParamType};

pub const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "count_range",
        kind: super::Kind::Row,
        params: &[
            Param {
                name: "min",
                ty: ParamType::Number,
                default: None,
            },
            Param {
                name: "max",
                ty: ParamType::Number,
                default: None,
            },
        ],
        about: "how many selected values of the row lie in [min, max], inclusive",
        outputs: named_after_function,
        build: |a| {
            let (min, max) = (a.number("min"), a.number("max"));
            Ok(row(move |cols| count_range(cols, min, max)))
        },
    },
    Builtin {
        name: "hypot",
        kind: super::Kind::Row,
        params: &[],
        about: "square root of the sum of squares of the selected values of the row",
        outputs: named_after_function,
        build: |_| Ok(row(hypot)),
    },
    Builtin {
        name: "sum",
        kind: super::Kind::Row,
        params: &[],
        about: "sum of the selected values of the row",
        outputs: named_after_function,
        build: |_| Ok(row(sum)),
    },
    Builtin {
        name: "mean",
        kind: super::Kind::Row,
        params: &[],
        about: "mean of the selected values of the row",
        outputs: named_after_function,
        build: |_| Ok(row(mean)),
    },
    Builtin {
        name: "min",
        kind: super::Kind::Row,
        params: &[],
        about: "smallest selected value of the row",
        outputs: named_after_function,
        build: |_| Ok(row(|cols| min_max(cols, f64::min).into_series())),
    },
    Builtin {
        name: "max",
        kind: super::Kind::Row,
        params: &[],
        about: "largest selected value of the row",
        outputs: named_after_function,
        build: |_| Ok(row(|cols| min_max(cols, f64::max).into_series())),
    },
    Builtin {
        name: "null_count",
        kind: super::Kind::Row,
        params: &[],
        about: "how many selected values of the row are null",
        outputs: named_after_function,
        build: |_| Ok(row(null_count)),
    },
    Builtin {
        name: "normalize",
        kind: super::Kind::Row,
        params: &[],
        about: "each selected value rescaled to [0, 1] by its row's min and max, as <column>_norm",
        outputs: |_, inputs| inputs.iter().map(|c| format!("{c}_norm")).collect(),
        build: |_| Ok(Function::Row(Box::new(normalize))),
    },
];

/// A row function with a single output column (named by the caller).
fn row(f: impl Fn(&[Float64Chunked]) -> Series + Send + Sync + 'static) -> Function {
    Function::Row(Box::new(move |cols| Ok(vec![f(cols)])))
}

/// Folds the columns into one accumulator per row, column by column over polars' value
/// buffers (a tight loop the compiler vectorizes), visiting only non-null values. On
/// x86-64 the loop is also compiled for AVX2, taken at run time where the CPU has it: four
/// f64 per vector instruction instead of two.
fn fold<T: Clone>(cols: &[Float64Chunked], init: T, f: impl FnMut(&mut T, f64)) -> Vec<T> {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: this CPU has AVX2, checked just above.
        return unsafe { fold_avx2(cols, init, f) };
    }
    fold_columns(cols, init, f)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn fold_avx2<T: Clone>(
    cols: &[Float64Chunked],
    init: T,
    f: impl FnMut(&mut T, f64),
) -> Vec<T> {
    fold_columns(cols, init, f)
}

#[inline(always)]
fn fold_columns<T: Clone>(
    cols: &[Float64Chunked],
    init: T,
    mut f: impl FnMut(&mut T, f64),
) -> Vec<T> {
    let height = cols.first().map_or(0, |c| c.len());
    let mut acc = vec![init; height];
    for c in cols {
        let mut offset = 0;
        for arr in c.downcast_iter() {
            let values = arr.values().as_slice();
            let dst = &mut acc[offset..offset + values.len()];
            match arr.validity().filter(|v| v.unset_bits() > 0) {
                None => dst.iter_mut().zip(values).for_each(|(a, &x)| f(a, x)),
                Some(valid) => {
                    dst.iter_mut()
                        .zip(values)
                        .zip(valid.iter())
                        .for_each(|((a, &x), ok)| {
                            if ok {
                                f(a, x)
                            }
                        })
                }
            }
            offset += values.len();
        }
    }
    acc
}

fn counts(v: Vec<u32>) -> Series {
    UInt32Chunked::from_vec("".into(), v).into_series()
}

fn floats(v: impl IntoIterator<Item = Option<f64>>) -> Series {
    Float64Chunked::from_iter_options("".into(), v.into_iter()).into_series()
}

/// `value(sum, count)` of each row, null where the row had no value: a plain vector (no
/// `Option` per value) when every row had one, as without nulls.
fn per_row(sums: Vec<(f64, u32)>, value: impl Fn(f64, u32) -> f64) -> Series {
    if sums.iter().all(|&(_, n)| n > 0) {
        let v = sums.into_iter().map(|(s, n)| value(s, n)).collect();
        return Float64Chunked::from_vec("".into(), v).into_series();
    }
    floats(sums.into_iter().map(|(s, n)| (n > 0).then(|| value(s, n))))
}

/// (sum, count) of the values of each row, for the sums and means.
fn sum_count(cols: &[Float64Chunked], term: fn(f64) -> f64) -> Vec<(f64, u32)> {
    fold(cols, (0.0, 0), |a, x| {
        a.0 += term(x);
        a.1 += 1;
    })
}

fn count_range(cols: &[Float64Chunked], min: f64, max: f64) -> Series {
    counts(fold(cols, 0u32, |a, x| {
        *a += u32::from((min <= x) & (x <= max))
    }))
}

fn sum(cols: &[Float64Chunked]) -> Series {
    per_row(sum_count(cols, |x| x), |s, _| s)
}

fn mean(cols: &[Float64Chunked]) -> Series {
    per_row(sum_count(cols, |x| x), |s, n| s / f64::from(n))
}

fn hypot(cols: &[Float64Chunked]) -> Series {
    per_row(sum_count(cols, |x| x * x), |s, _| s.sqrt())
}

fn null_count(cols: &[Float64Chunked]) -> Series {
    counts(fold(cols, cols.len() as u32, |a, _| *a -= 1))
}

/// Element-wise min or max over the columns, skipping nulls (and NaN, as `f64::min` does).
fn min_max(cols: &[Float64Chunked], pick: fn(f64, f64) -> f64) -> Float64Chunked {
    let v = fold(cols, None, |a: &mut Option<f64>, x| {
        *a = Some(a.map_or(x, |m| pick(m, x)))
    });
    Float64Chunked::from_iter_options("".into(), v.into_iter())
}

fn normalize(cols: &[Float64Chunked]) -> PolarsResult<Vec<Series>> {
    let min = min_max(cols, f64::min);
    let range = &min_max(cols, f64::max) - &min;
    Ok(cols
        .iter()
        .map(|c| {
            let name = format!("{}_norm", c.name());
            (&(c - &min) / &range).with_name(name.into()).into_series()
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(name: &str, v: &[Option<f64>]) -> Float64Chunked {
        Float64Chunked::from_slice_options(name.into(), v)
    }

    fn values(s: Series) -> Vec<Option<f64>> {
        s.cast(&DataType::Float64)
            .unwrap()
            .f64()
            .unwrap()
            .iter()
            .collect()
    }

    #[test]
    fn kernels_skip_nulls() {
        let cols = [
            col("a", &[Some(1.0), None, Some(5.0), None]),
            col("b", &[Some(4.0), Some(8.0), Some(9.0), None]),
        ];
        assert_eq!(
            values(count_range(&cols, 4.0, 8.0)),
            [Some(1.0), Some(1.0), Some(1.0), Some(0.0)]
        );
        assert_eq!(values(sum(&cols)), [Some(5.0), Some(8.0), Some(14.0), None]);
        assert_eq!(values(mean(&cols)), [Some(2.5), Some(8.0), Some(7.0), None]);
        assert_eq!(
            values(min_max(&cols, f64::min).into_series()),
            [Some(1.0), Some(8.0), Some(5.0), None]
        );
        assert_eq!(
            values(null_count(&cols)),
            [Some(0.0), Some(1.0), Some(0.0), Some(2.0)]
        );
        assert_eq!(values(hypot(&cols))[2], Some(106f64.sqrt()));
        let norm = normalize(&cols).unwrap();
        assert_eq!(values(norm[1].clone())[0], Some(1.0));
    }

    /// The loop built for the baseline CPU gives what the one picked at run time gives (on
    /// an AVX2 machine, the two differ), with and without nulls, over several arrays.
    #[test]
    fn both_builds_of_the_fold_agree() {
        let values: Vec<Option<f64>> = (0..1000)
            .map(|i| (i % 7 != 3).then(|| f64::from((i * 37) % 11)))
            .collect();
        let mut a = col("a", &values);
        a.append(&col("a", &values[..333])).unwrap();
        let b = col(
            "b",
            &values
                .iter()
                .rev()
                .map(|v| v.or(Some(2.0)))
                .collect::<Vec<_>>(),
        );
        let mut b2 = b.clone();
        b2.append(&col(
            "b",
            &values[..333]
                .iter()
                .map(|v| v.or(Some(1.0)))
                .collect::<Vec<_>>(),
        ))
        .unwrap();
        let cols = [a, b2];
        let step = |acc: &mut (u32, f64), x: f64| {
            acc.0 += u32::from((4.0..=8.0).contains(&x));
            acc.1 += x * x;
        };
        let want = fold_columns(&cols, (0, 0.0), step);
        assert_eq!(want.len(), 1333);
        assert!(want.iter().any(|&(n, _)| n == 2));
        assert_eq!(fold(&cols, (0, 0.0), step), want);
    }
}
