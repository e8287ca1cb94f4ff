//! Frame functions: each sees whole partitions, keeps a partial state per partition,
//! merges the states (in input order in ordered mode) and finishes them into one table.

use std::any::Any;

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
        build: |_| Ok(Function::Frame(Box::new(Shape))),
    },
    Builtin {
        name: "describe",
        kind: Kind::Frame,
        params: &[],
        about: "one row per selected column: count, null_count, mean, std, min, max",
        outputs: |_, _| DESCRIBE.iter().map(|s| s.to_string()).collect(),
        build: |_| Ok(Function::Frame(Box::new(Describe))),
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
            Ok(Function::Frame(Box::new(Sample {
                n: a.count("n") as usize,
                seed: a.count("seed"),
            })))
        },
    },
];

/// What a frame function sees of one partition.
pub struct Partition<'a> {
    /// The selected columns, parsed.
    pub columns: &'a [Float64Chunked],
    /// The raw bytes of each record, in order.
    pub records: Vec<&'a [u8]>,
    /// Index of the partition's first row in the whole input.
    pub first_row: u64,
}

/// The finished result: a table of values, or input records kept whole with their row.
pub enum Table {
    Frame(DataFrame),
    Records(Vec<(u64, Vec<u8>)>),
}

/// A frame function: a state per partition, states merged pairwise, the merged state
/// finished into a table (given the selected columns' names and the input's width).
pub trait FrameFunction: Send + Sync + 'static {
    type State: Send + 'static;
    fn partial(&self, p: &Partition) -> Self::State;
    fn merge(&self, a: Self::State, b: Self::State) -> Self::State;
    fn finish(&self, state: Self::State, names: &[String], width: usize) -> PolarsResult<Table>;
    /// True when the function reads parsed column values (not only the records).
    fn reads_columns(&self) -> bool {
        false
    }
}

/// The state of some frame function, its type known only to that function.
pub struct State(Box<dyn Any + Send>);

impl State {
    fn of<T: Send + 'static>(value: T) -> State {
        State(Box::new(value))
    }

    fn into<T: 'static>(self) -> T {
        *self
            .0
            .downcast()
            .expect("a run merges only the states of its own function")
    }
}

/// Any frame function, as the engine drives it (its state type erased).
pub trait AnyFrameFunction: Send + Sync {
    fn partial(&self, p: &Partition) -> State;
    fn merge(&self, a: State, b: State) -> State;
    fn finish(&self, state: State, names: &[String], width: usize) -> PolarsResult<Table>;
    fn reads_columns(&self) -> bool;
}

impl<F: FrameFunction> AnyFrameFunction for F {
    fn partial(&self, p: &Partition) -> State {
        State::of(FrameFunction::partial(self, p))
    }

    fn merge(&self, a: State, b: State) -> State {
        State::of(FrameFunction::merge(self, a.into(), b.into()))
    }

    fn finish(&self, state: State, names: &[String], width: usize) -> PolarsResult<Table> {
        FrameFunction::finish(self, state.into(), names, width)
    }

    fn reads_columns(&self) -> bool {
        FrameFunction::reads_columns(self)
    }
}

/// `shape`: rows counted per partition and added.
struct Shape;

impl FrameFunction for Shape {
    type State = u64;

    fn partial(&self, p: &Partition) -> u64 {
        p.records.len() as u64
    }

    fn merge(&self, a: u64, b: u64) -> u64 {
        a + b
    }

    fn finish(&self, rows: u64, _: &[String], width: usize) -> PolarsResult<Table> {
        let columns = vec![
            Column::new("rows".into(), [rows]),
            Column::new("columns".into(), [width as u64]),
        ];
        Ok(Table::Frame(DataFrame::new(1, columns)?))
    }
}

const DESCRIBE: [&str; 7] = ["column", "count", "null_count", "mean", "std", "min", "max"];

/// `describe`: the mergeable moments of every selected column.
struct Describe;

impl FrameFunction for Describe {
    type State = Vec<Moments>;

    fn partial(&self, p: &Partition) -> Vec<Moments> {
        p.columns.iter().map(Moments::of).collect()
    }

    fn merge(&self, a: Vec<Moments>, b: Vec<Moments>) -> Vec<Moments> {
        a.iter().zip(&b).map(|(a, b)| a.merge(b)).collect()
    }

    fn finish(&self, m: Vec<Moments>, names: &[String], _: usize) -> PolarsResult<Table> {
        let nonempty = |f: fn(&Moments) -> f64| -> Vec<Option<f64>> {
            m.iter().map(|m| (m.count > 0).then(|| f(m))).collect()
        };
        let columns = vec![
            Column::new(DESCRIBE[0].into(), names),
            Column::new(
                DESCRIBE[1].into(),
                m.iter().map(|m| m.count).collect::<Vec<_>>(),
            ),
            Column::new(
                DESCRIBE[2].into(),
                m.iter().map(|m| m.nulls).collect::<Vec<_>>(),
            ),
            Column::new(DESCRIBE[3].into(), nonempty(|m| m.mean)),
            Column::new(
                DESCRIBE[4].into(),
                m.iter().map(Moments::std).collect::<Vec<_>>(),
            ),
            Column::new(DESCRIBE[5].into(), nonempty(|m| m.min)),
            Column::new(DESCRIBE[6].into(), nonempty(|m| m.max)),
        ];
        Ok(Table::Frame(DataFrame::new(m.len(), columns)?))
    }

    fn reads_columns(&self) -> bool {
        true
    }
}

/// `sample`: the `n` rows with the smallest keys of a hash of (seed, row index).
struct Sample {
    n: usize,
    seed: u64,
}

/// Rows kept so far, as (random key, row index, raw record).
type Kept = Vec<(u64, u64, Vec<u8>)>;

impl FrameFunction for Sample {
    type State = Kept;

    fn partial(&self, p: &Partition) -> Kept {
        let mut kept: Kept = p
            .records
            .iter()
            .enumerate()
            .map(|(i, r)| {
                let row = p.first_row + i as u64;
                (row_key(self.seed, row), row, r.to_vec())
            })
            .collect();
        keep_smallest(&mut kept, self.n);
        kept
    }

    fn merge(&self, mut a: Kept, b: Kept) -> Kept {
        a.extend(b);
        keep_smallest(&mut a, self.n);
        a
    }

    fn finish(&self, mut kept: Kept, _: &[String], _: usize) -> PolarsResult<Table> {
        kept.sort_by_key(|(_, row, _)| *row);
        Ok(Table::Records(
            kept.into_iter().map(|(_, row, r)| (row, r)).collect(),
        ))
    }
}

/// Keeps the `n` entries with the smallest keys (ties broken by row index).
fn keep_smallest(kept: &mut Kept, n: usize) {
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
