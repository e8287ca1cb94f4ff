//! Frame functions: each sees whole partitions, keeps a partial state per partition,
//! merges the states (in input order in ordered mode) and finishes them into one table.

use polars::prelude::*;

use super::column::Moments;
use super::{Builtin, Function, Kind, Param, ParamType};

pub const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "shape",
        kind: Kind::Frame,
        params: &[],
        about: "one row with the number of rows and columns of the whole input",
        outputs: |_, _| vec!["rows".into(), "columns".into()],
        build: |_| Ok(Function::Frame(FrameFn::Shape)),
    },
    Builtin {
        name: "describe",
        kind: Kind::Frame,
        params: &[],
        about: "one row per selected column: count, null_count, mean, std, min, max",
        outputs: |_, _| DESCRIBE.iter().map(|s| s.to_string()).collect(),
        build: |_| Ok(Function::Frame(FrameFn::Describe)),
    },
    Builtin {
        name: "sample",
        kind: Kind::Frame,
        params: &[
            Param { name: "n", ty: ParamType::Count, default: Some("10") },
            Param { name: "seed", ty: ParamType::Count, default: Some("0") },
        ],
        about: "n rows drawn at random from the whole input, the same for every --jobs and --chunk-size",
        outputs: |_, _| Vec::new(),
        build: |a| {
            Ok(Function::Frame(FrameFn::Sample {
                n: a.count("n") as usize,
                seed: a.count("seed"),
            }))
        },
    },
];

const DESCRIBE: [&str; 7] = ["column", "count", "null_count", "mean", "std", "min", "max"];

/// What a frame function sees of one partition.
pub struct Partition<'a> {
    /// The selected columns, parsed.
    pub columns: &'a [Float64Chunked],
    /// The raw bytes of each record, in order.
    pub records: Vec<&'a [u8]>,
    /// Index of the partition's first row in the whole input.
    pub first_row: u64,
}

/// The frame builtins.
#[derive(Clone, Copy, Debug)]
pub enum FrameFn {
    Shape,
    Describe,
    Sample { n: usize, seed: u64 },
}

/// The partial result of a frame function over some partitions.
#[derive(Debug)]
pub enum FrameState {
    Shape {
        rows: u64,
    },
    Describe(Vec<Moments>),
    /// Rows kept so far, as (random key, row index, raw record), smallest keys first.
    Sample(Vec<(u64, u64, Vec<u8>)>),
}

/// The finished result: a table of values, or input records kept whole.
pub enum Table {
    Frame(DataFrame),
    Records(Vec<(u64, Vec<u8>)>),
}

impl FrameFn {
    pub fn partial(&self, p: &Partition) -> FrameState {
        match *self {
            FrameFn::Shape => FrameState::Shape {
                rows: p.records.len() as u64,
            },
            FrameFn::Describe => FrameState::Describe(p.columns.iter().map(Moments::of).collect()),
            FrameFn::Sample { n, seed } => {
                let mut kept: Vec<_> = p
                    .records
                    .iter()
                    .enumerate()
                    .map(|(i, r)| {
                        let row = p.first_row + i as u64;
                        (row_key(seed, row), row, r.to_vec())
                    })
                    .collect();
                keep_smallest(&mut kept, n);
                FrameState::Sample(kept)
            }
        }
    }

    pub fn merge(&self, a: FrameState, b: FrameState) -> FrameState {
        match (a, b) {
            (FrameState::Shape { rows: x }, FrameState::Shape { rows: y }) => {
                FrameState::Shape { rows: x + y }
            }
            (FrameState::Describe(x), FrameState::Describe(y)) => {
                FrameState::Describe(x.iter().zip(&y).map(|(a, b)| a.merge(b)).collect())
            }
            (FrameState::Sample(mut x), FrameState::Sample(y)) => {
                let FrameFn::Sample { n, .. } = *self else {
                    unreachable!("sample states come from sample")
                };
                x.extend(y);
                keep_smallest(&mut x, n);
                FrameState::Sample(x)
            }
            (a, b) => unreachable!("states of different functions: {a:?} and {b:?}"),
        }
    }

    /// The table, given the names of the selected columns and the input's width.
    pub fn finish(&self, state: FrameState, names: &[String], width: usize) -> PolarsResult<Table> {
        Ok(match state {
            FrameState::Shape { rows } => Table::Frame(DataFrame::new(
                1,
                vec![
                    Column::new("rows".into(), [rows]),
                    Column::new("columns".into(), [width as u64]),
                ],
            )?),
            FrameState::Describe(moments) => {
                let float = |f: fn(&Moments) -> Option<f64>| -> Vec<Option<f64>> {
                    moments.iter().map(f).collect()
                };
                let nonempty = |m: &Moments, v: f64| (m.count > 0).then_some(v);
                Table::Frame(DataFrame::new(
                    moments.len(),
                    vec![
                        Column::new(DESCRIBE[0].into(), names),
                        Column::new(
                            DESCRIBE[1].into(),
                            moments.iter().map(|m| m.count).collect::<Vec<_>>(),
                        ),
                        Column::new(
                            DESCRIBE[2].into(),
                            moments.iter().map(|m| m.nulls).collect::<Vec<_>>(),
                        ),
                        Column::new(
                            DESCRIBE[3].into(),
                            moments
                                .iter()
                                .map(|m| nonempty(m, m.mean))
                                .collect::<Vec<_>>(),
                        ),
                        Column::new(DESCRIBE[4].into(), float(Moments::std)),
                        Column::new(
                            DESCRIBE[5].into(),
                            moments
                                .iter()
                                .map(|m| nonempty(m, m.min))
                                .collect::<Vec<_>>(),
                        ),
                        Column::new(
                            DESCRIBE[6].into(),
                            moments
                                .iter()
                                .map(|m| nonempty(m, m.max))
                                .collect::<Vec<_>>(),
                        ),
                    ],
                )?)
            }
            FrameState::Sample(mut kept) => {
                kept.sort_by_key(|(_, row, _)| *row);
                Table::Records(kept.into_iter().map(|(_, row, r)| (row, r)).collect())
            }
        })
    }

    /// True when the function reads parsed column values (not only the records).
    pub fn reads_columns(&self) -> bool {
        matches!(self, FrameFn::Describe)
    }
}

/// Keeps the `n` entries with the smallest keys (ties broken by row index).
fn keep_smallest(kept: &mut Vec<(u64, u64, Vec<u8>)>, n: usize) {
    if kept.len() > n {
        kept.select_nth_unstable_by_key(n, |(k, row, _)| (*k, *row));
        kept.truncate(n);
    }
}

/// A pseudo-random key for a row, fixed by the seed and the row's index alone, so the
/// sample does not depend on how the input was cut into chunks (SplitMix64 finalizer).
fn row_key(seed: u64, row: u64) -> u64 {
    let mut z = seed
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(row)
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
