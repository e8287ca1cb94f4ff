//! Frame functions: each sees whole partitions, keeps a partial state per partition,
//! merges the states (in input order in ordered mode) and finishes them into one table.

use std::any::Any;

use polars::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::column::Moments;
use super::{Builtin, Function, Kind, Param, ParamType};
use crate::parse::{Rows, Span};

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
        about: "n rows drawn at random from the whole input, the same for every --jobs, --chunk-size and --shard",
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
    /// The records: where each lies in `bytes`.
    pub bytes: &'a [u8],
    pub spans: &'a [Span],
    /// Each record's input row number.
    pub rows: &'a Rows,
    /// Which input the partition comes from, and the byte offset of `bytes` in it.
    pub source: usize,
    pub offset: u64,
}

impl Partition<'_> {
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The raw bytes of record `i`.
    pub fn record(&self, i: usize) -> &[u8] {
        self.spans[i].of(self.bytes)
    }

    /// Where record `i` is in the input: the same however the input is cut into chunks
    /// or shards.
    pub fn place(&self, i: usize) -> (usize, u64) {
        (self.source, self.offset + u64::from(self.spans[i].start))
    }
}

/// The finished result: a table of values, or input records kept whole with their row.
pub enum Table {
    Frame(DataFrame),
    Records(Vec<(u64, Vec<u8>)>),
}

/// A frame function: a state per partition, states merged pairwise, the merged state
/// finished into a table (given the selected columns' names and the input's width).
/// States are saved as JSON by shards (`--shard`) and merged by `dfpar merge`.
pub trait FrameFunction: Send + Sync + 'static {
    type State: Send + Serialize + DeserializeOwned + 'static;
    fn partial(&self, p: &Partition) -> Self::State;
    fn merge(&self, a: Self::State, b: Self::State) -> Self::State;
    fn finish(&self, state: Self::State, names: &[String], width: usize) -> PolarsResult<Table>;
    /// True when the function reads parsed column values (not only the records).
    fn reads_columns(&self) -> bool {
        false
    }
    /// The state with the row numbers it holds moved on by `rows` (a shard's rows are
    /// numbered from its own first row).
    fn shift_rows(&self, state: Self::State, _rows: u64) -> Self::State {
        state
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
    fn save(&self, state: State) -> serde_json::Value;
    fn load(&self, saved: serde_json::Value, shift_rows: u64) -> serde_json::Result<State>;
}

impl<F: FrameFunction> AnyFrameFunction for F {
    fn save(&self, state: State) -> serde_json::Value {
        serde_json::to_value(state.into::<F::State>()).expect("frame states are JSON")
    }

    fn load(&self, saved: serde_json::Value, shift_rows: u64) -> serde_json::Result<State> {
        let state = serde_json::from_value(saved)?;
        Ok(State::of(self.shift_rows(state, shift_rows)))
    }

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
        p.len() as u64
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

/// `sample`: the `n` rows with the smallest keys of a hash of the seed and each record's
/// place in the input (input index, byte offset).
struct Sample {
    n: usize,
    seed: u64,
}

/// Rows kept so far, as (random key, row index, raw record).
type Kept = Vec<(u64, u64, Vec<u8>)>;

impl FrameFunction for Sample {
    type State = Kept;

    fn partial(&self, p: &Partition) -> Kept {
        let mut kept: Kept = (0..p.len())
            .map(|i| {
                let (source, offset) = p.place(i);
                let key = row_key(row_key(self.seed, source as u64), offset);
                (key, p.rows.get(i), p.record(i).to_vec())
            })
            .collect();
        keep_smallest(&mut kept, self.n);
        kept
    }

    fn shift_rows(&self, mut kept: Kept, rows: u64) -> Kept {
        kept.iter_mut().for_each(|(_, row, _)| *row += rows);
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

/// A pseudo-random key for a value (a record's place), fixed by the seed and the value
/// alone, so the sample does not depend on how the input was cut (SplitMix64 finalizer).
fn row_key(seed: u64, value: u64) -> u64 {
    let mut z = seed
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(value)
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
