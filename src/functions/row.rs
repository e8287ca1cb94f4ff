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
            Ok(counts(move |cols| count_range(cols, min, max)))
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
        build: |_| Ok(row(|cols| Ok(fold_min_max(cols, f64::min)))),
    },
    Builtin {
        name: "max",
        kind: super::Kind::Row,
        params: &[],
        about: "largest selected value of the row",
        outputs: named_after_function,
        build: |_| Ok(row(|cols| Ok(fold_min_max(cols, f64::max)))),
    },
    Builtin {
        name: "null_count",
        kind: super::Kind::Row,
        params: &[],
        about: "how many selected values of the row are null",
        outputs: named_after_function,
        build: |_| Ok(counts(null_count)),
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
fn row(
    f: impl Fn(&[Float64Chunked]) -> PolarsResult<Float64Chunked> + Send + Sync + 'static,
) -> Function {
    Function::Row(Box::new(move |cols| Ok(vec![f(cols)?.into_series()])))
}

/// A row function whose single output is a count, written as an unsigned integer.
fn counts(
    f: impl Fn(&[Float64Chunked]) -> PolarsResult<Float64Chunked> + Send + Sync + 'static,
) -> Function {
    Function::Row(Box::new(move |cols| {
        Ok(vec![f(cols)?.into_series().cast(&DataType::UInt32)?])
    }))
}

/// Element-wise sum of `f(column)` over the columns.
fn add_up(
    cols: &[Float64Chunked],
    f: impl Fn(&Float64Chunked) -> Float64Chunked,
) -> Float64Chunked {
    let mut cols = cols.iter();
    let first = f(cols
        .next()
        .expect("a row function reads at least one column"));
    cols.fold(first, |acc, c| &acc + &f(c))
}

/// The value where present, 0 where null.
fn or_zero(c: &Float64Chunked) -> Float64Chunked {
    c.fill_null_with_values(0.0)
        .expect("filling nulls of a float column")
}

/// 1 where present, 0 where null.
fn present(c: &Float64Chunked) -> Float64Chunked {
    or_zero(&c.apply_values(|_| 1.0))
}

/// `values` with null wherever the row had no value at all.
fn null_where_empty(
    cols: &[Float64Chunked],
    values: Float64Chunked,
) -> PolarsResult<Float64Chunked> {
    let empty = add_up(cols, present).equal(0.0);
    values.set(&empty, None)
}

fn count_range(cols: &[Float64Chunked], min: f64, max: f64) -> PolarsResult<Float64Chunked> {
    Ok(add_up(cols, |c| {
        or_zero(&c.apply_values(|x| f64::from(u8::from(min <= x && x <= max))))
    }))
}

fn sum(cols: &[Float64Chunked]) -> PolarsResult<Float64Chunked> {
    null_where_empty(cols, add_up(cols, or_zero))
}

fn mean(cols: &[Float64Chunked]) -> PolarsResult<Float64Chunked> {
    let n = add_up(cols, present);
    null_where_empty(cols, &add_up(cols, or_zero) / &n)
}

fn hypot(cols: &[Float64Chunked]) -> PolarsResult<Float64Chunked> {
    let squares = add_up(cols, |c| or_zero(&(c * c)));
    null_where_empty(cols, squares.apply_values(f64::sqrt))
}

fn null_count(cols: &[Float64Chunked]) -> PolarsResult<Float64Chunked> {
    let width = cols.len() as f64;
    Ok(add_up(cols, present).apply_values(|n| width - n))
}

/// Element-wise min or max over the columns, skipping nulls.
fn fold_min_max(cols: &[Float64Chunked], pick: fn(f64, f64) -> f64) -> Float64Chunked {
    let mut cols = cols.iter();
    let first = cols
        .next()
        .expect("a row function reads at least one column")
        .clone();
    cols.fold(first, |acc, c| {
        polars::chunked_array::ops::arity::binary_elementwise(
            &acc,
            c,
            |a: Option<f64>, b: Option<f64>| match (a, b) {
                (Some(a), Some(b)) => Some(pick(a, b)),
                (a, None) => a,
                (None, b) => b,
            },
        )
    })
}

fn normalize(cols: &[Float64Chunked]) -> PolarsResult<Vec<Series>> {
    let min = fold_min_max(cols, f64::min);
    let range = &fold_min_max(cols, f64::max) - &min;
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

    fn values(c: &Float64Chunked) -> Vec<Option<f64>> {
        c.into_iter().collect()
    }

    #[test]
    fn kernels_skip_nulls() {
        let cols = [
            col("a", &[Some(1.0), None, Some(5.0), None]),
            col("b", &[Some(4.0), Some(8.0), Some(9.0), None]),
        ];
        assert_eq!(
            values(&count_range(&cols, 4.0, 8.0).unwrap()),
            [Some(1.0), Some(1.0), Some(1.0), Some(0.0)]
        );
        assert_eq!(
            values(&sum(&cols).unwrap()),
            [Some(5.0), Some(8.0), Some(14.0), None]
        );
        assert_eq!(
            values(&mean(&cols).unwrap()),
            [Some(2.5), Some(8.0), Some(7.0), None]
        );
        assert_eq!(
            values(&fold_min_max(&cols, f64::min)),
            [Some(1.0), Some(8.0), Some(5.0), None]
        );
        assert_eq!(
            values(&null_count(&cols).unwrap()),
            [Some(0.0), Some(1.0), Some(0.0), Some(2.0)]
        );
        assert_eq!(values(&hypot(&cols).unwrap())[2], Some(106f64.sqrt()));
    }
}
