//! `dfpar apply`: checks the request against the input, builds the job for the chosen
//! `--by`, runs the engine, and writes rows as they are released or the merged table.

use std::path::PathBuf;

use polars::prelude::*;

use crate::dialect::Dialect;
use crate::encode;
use crate::error::{Error, Result};
use crate::functions::column::Moments;
use crate::functions::frame::{FrameFn, FrameState, Partition, Table};
use crate::functions::{Function, Kind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use crate::parse::{self, ParseError, Parsed, Parser, Rejected};
use crate::pipeline::{self, Job, Settings};
use crate::plan::{self, Plan, Request};
use crate::progress::{self, Progress};
use crate::read::{Chunk, Inputs, Source};
use crate::write::Output;

/// Rows read to decide which columns are numeric.
const INFER_ROWS: usize = 1000;

/// A checked `dfpar apply` request.
#[derive(Clone, Debug)]
pub struct ApplyOptions {
    /// Paths, or `-` for standard input; several inputs with the same header are one stream.
    pub inputs: Vec<String>,
    /// One output per input in this directory, with the input's file name (instead of `output`).
    pub output_dir: Option<PathBuf>,
    pub kind: Kind,
    pub functions: Vec<String>,
    pub args: Vec<(String, String)>,
    pub cols: Option<Vec<String>>,
    pub jobs: usize,
    pub ordered: bool,
    pub chunk_size: usize,
    pub output: Option<PathBuf>,
    pub only_results: bool,
    pub progress: progress::When,
    pub dialect: Dialect,
    /// `--on-bad-rows skip`: drop rows of the wrong width instead of failing.
    pub skip_bad_rows: bool,
    /// `--rejects FILE`: where the skipped rows are written.
    pub rejects: Option<PathBuf>,
}

/// Runs `dfpar apply`. On any error the output file is left untouched.
pub fn apply(o: &ApplyOptions) -> Result<()> {
    if o.inputs.is_empty() {
        return Err(Error::usage("name an input file (or - for standard input)"));
    }
    if o.rejects.is_some() && !o.skip_bad_rows {
        return Err(Error::usage("--rejects needs --on-bad-rows skip"));
    }
    match &o.output_dir {
        Some(dir) => apply_each(o, dir),
        None => apply_stream(o),
    }
}

/// `--output-dir`: one run per input, each written to `DIR/<input's file name>`.
fn apply_each(o: &ApplyOptions, dir: &std::path::Path) -> Result<()> {
    if o.output.is_some() {
        return Err(Error::usage("give either -o or --output-dir, not both"));
    }
    let mut targets: Vec<PathBuf> = Vec::new();
    for input in &o.inputs {
        let name = std::path::Path::new(input)
            .file_name()
            .filter(|_| input != "-");
        let Some(name) = name else {
            return Err(Error::usage(format!(
                "--output-dir needs input files, not '{input}'"
            )));
        };
        let target = dir.join(name);
        if targets.contains(&target) {
            return Err(Error::usage(format!(
                "two inputs named {} would write the same {}",
                name.to_string_lossy(),
                target.display()
            )));
        }
        targets.push(target);
    }
    std::fs::create_dir_all(dir).map_err(|source| Error::Output {
        path: dir.to_path_buf(),
        source,
    })?;
    for (input, target) in o.inputs.iter().zip(targets) {
        apply_stream(&ApplyOptions {
            inputs: vec![input.clone()],
            output: Some(target),
            output_dir: None,
            ..o.clone()
        })?;
    }
    Ok(())
}

/// Every input as one stream, to one output.
fn apply_stream(o: &ApplyOptions) -> Result<()> {
    // The output first: a target that cannot be written fails before any reading.
    let mut output = Output::create(o.output.as_deref())?;
    let sources = o.inputs.iter().map(|i| Source::from_arg(i)).collect();
    let inputs = Inputs::open(sources, &o.dialect, o.chunk_size)?;
    let splitter = inputs.first();
    let names = splitter.header().names.clone();
    let raw_header = splitter.header().raw.clone();
    let ctx = Context {
        paths: inputs.names().to_vec(),
        dialect: o.dialect.clone(),
        width: names.len(),
        parser: Parser::new(&names, &[], &o.dialect).skipping_bad_rows(o.skip_bad_rows),
        row_index: !o.ordered,
        rejects: None,
    };
    let sample = ctx.inference_sample(splitter.sample(), splitter.next_line(), INFER_ROWS)?;
    let kinds = parse::infer(&sample, names.len(), &o.dialect)
        .map_err(|e| ctx.data_err(0, None, format!("cannot read the first rows: {e}")))?;
    let request = Request {
        kind: o.kind,
        functions: &o.functions,
        args: &o.args,
        cols: o.cols.as_deref(),
    };
    let numeric: Vec<bool> = kinds.iter().map(|k| k.is_numeric()).collect();
    let plan = plan::plan(&request, &names, &numeric)?;
    let parser = Parser::new(&names, &plan.parsed, &o.dialect).skipping_bad_rows(o.skip_bad_rows);
    let rejects = if o.skip_bad_rows {
        Some(Rejects::new(o.rejects.as_deref(), &o.dialect)?)
    } else {
        None
    };
    let ctx = Context {
        parser,
        rejects,
        ..ctx
    };
    let parsed_names: Vec<String> = plan.parsed.iter().map(|&i| names[i].clone()).collect();

    let progress = Progress::new(o.progress, inputs.size);
    progress.advance(splitter.header_bytes, 0);
    let settings = Settings {
        jobs: o.jobs.max(1),
        ordered: o.ordered,
    };
    let ctx = match o.kind {
        Kind::Row => {
            let job = RowJob {
                ctx,
                plan,
                only_results: o.only_results,
            };
            // The header goes out with the first rows, so that a run failing in its first
            // chunk writes nothing at all.
            let mut header = raw_header.as_deref().map(|raw| job.header(raw));
            pipeline::run(inputs, &job, settings, &progress, |bytes| {
                if let Some(h) = header.take() {
                    output.write_all(&h)?;
                }
                output.write_all(&bytes)
            })?;
            if let Some(h) = header.take() {
                output.write_all(&h)?;
            }
            job.ctx
        }
        Kind::Column => {
            let job = ColumnJob { ctx };
            let mut total = vec![Moments::default(); plan.parsed.len()];
            pipeline::run(inputs, &job, settings, &progress, |part| {
                total = total.iter().zip(&part).map(|(a, b)| a.merge(b)).collect();
                Ok(())
            })?;
            let table = column_table(&plan, &parsed_names, &total)
                .map_err(|e| Error::Internal(e.to_string()))?;
            output.write_all(
                &job.ctx
                    .encode_table(Table::Frame(table), raw_header.as_deref())?,
            )?;
            job.ctx
        }
        Kind::Frame => {
            let Some(Function::Frame(function)) = plan.calls.first().map(|c| &c.function) else {
                unreachable!("frame plans hold one frame function")
            };
            let job = FrameJob {
                ctx,
                function: *function,
            };
            let mut state: Option<FrameState> = None;
            pipeline::run(inputs, &job, settings, &progress, |part| {
                state = Some(match state.take() {
                    None => part,
                    Some(s) => function.merge(s, part),
                });
                Ok(())
            })?;
            let state = match state {
                Some(s) => s,
                None => job.empty_state(),
            };
            let table = function
                .finish(state, &parsed_names, names.len())
                .map_err(|e| Error::Internal(e.to_string()))?;
            output.write_all(&job.ctx.encode_table(table, raw_header.as_deref())?)?;
            job.ctx
        }
    };
    progress.finish();
    if let Some(rejects) = ctx.rejects {
        rejects.finish(&ctx.paths)?;
    }
    output.commit()
}

/// What every job needs to read a chunk.
struct Context {
    /// The inputs' names, indexed by `Chunk::source`.
    paths: Vec<String>,
    dialect: Dialect,
    width: usize,
    parser: Parser,
    /// Unordered mode: outputs carry a first column `row_index`.
    row_index: bool,
    /// Where rows of the wrong width go with `--on-bad-rows skip`.
    rejects: Option<Rejects>,
}

/// The skipped rows: counted, and written to `--rejects FILE` as CSV
/// (`file,line,reason,record`) in the order chunks finish.
struct Rejects {
    count: AtomicU64,
    out: Option<Mutex<Output>>,
}

impl Rejects {
    fn new(path: Option<&std::path::Path>, d: &Dialect) -> Result<Rejects> {
        let out = match path {
            Some(p) => {
                let mut out = Output::create(Some(p))?;
                let mut header = Vec::new();
                encode::push_names(&mut header, ["file", "line", "reason", "record"], d);
                out.write_all(&header)?;
                Some(Mutex::new(out))
            }
            None => None,
        };
        Ok(Rejects {
            count: AtomicU64::new(0),
            out,
        })
    }

    fn log(
        &self,
        path: &str,
        chunk: &Chunk,
        rejected: &[Rejected],
        width: usize,
        d: &Dialect,
    ) -> Result<()> {
        if rejected.is_empty() {
            return Ok(());
        }
        self.count
            .fetch_add(rejected.len() as u64, Ordering::Relaxed);
        let Some(out) = &self.out else { return Ok(()) };
        let mut text = Vec::new();
        let mut num = itoa::Buffer::new();
        for r in rejected {
            let reason = format!("expected {width} fields, found {}", r.found);
            let fields = [
                path.as_bytes(),
                num.format(chunk.first_line + r.line).as_bytes(),
                reason.as_bytes(),
                r.span.of(&chunk.bytes),
            ];
            for (i, f) in fields.iter().enumerate() {
                if i > 0 {
                    text.push(d.delimiter);
                }
                encode::push_text(&mut text, f, d);
            }
            text.push(b'\n');
        }
        out.lock().expect("rejects writer").write_all(&text)
    }

    /// Reports the count on stderr and moves the rejects file into place.
    fn finish(self, inputs: &[String]) -> Result<()> {
        let n = self.count.load(Ordering::Relaxed);
        let input = match inputs {
            [one] => one.clone(),
            many => format!("{} inputs", many.len()),
        };
        if n > 0 {
            eprintln!(
                "dfpar: {input}: skipped {n} bad row{}",
                if n == 1 { "" } else { "s" }
            );
        }
        match self.out {
            Some(out) => out.into_inner().expect("rejects writer").commit(),
            None => Ok(()),
        }
    }
}

impl Context {
    fn data_err(&self, source: usize, line: Option<u64>, message: String) -> Error {
        Error::Data {
            path: self.paths[source].clone(),
            line,
            message,
        }
    }

    fn chunk_err(&self, chunk: &Chunk, message: String) -> Error {
        Error::Function {
            path: self.paths[chunk.source].clone(),
            first_line: chunk.first_line,
            last_line: chunk.last_line(),
            message,
        }
    }

    /// Parses `bytes`, the records of which start at line `first_line`.
    fn parse(&self, bytes: &[u8], source: usize, first_line: u64) -> Result<Parsed> {
        self.parser.parse(bytes).map_err(|e| match e {
            ParseError::Ragged { line, found } => self.data_err(
                source,
                Some(first_line + line),
                format!("expected {} fields, found {found}", self.width),
            ),
            ParseError::NotNumber { line, column, text } => self.data_err(
                source,
                Some(first_line + line),
                format!(
                    "column '{}': '{text}' {}",
                    self.parser.name(column),
                    parse::why_not_a_number(&text)
                ),
            ),
        })
    }

    /// The records of a chunk and its parsed columns; records of the wrong width, when
    /// skipped, go to the rejects.
    fn read(&self, chunk: &Chunk) -> Result<Parsed> {
        let parsed = self.parse(&chunk.bytes, chunk.source, chunk.first_line)?;
        if (parsed.records.len() + parsed.rejected.len()) as u64 != chunk.rows {
            return Err(Error::Internal(format!(
                "{}: lines {}-{}: counted {} rows, scanned {}",
                self.paths[chunk.source],
                chunk.first_line,
                chunk.last_line(),
                chunk.rows,
                parsed.records.len()
            )));
        }
        if let Some(rejects) = &self.rejects {
            rejects.log(
                &self.paths[chunk.source],
                chunk,
                &parsed.rejected,
                self.width,
                &self.dialect,
            )?;
        }
        Ok(parsed)
    }

    /// The first `n` records of the input's first block, checked, for schema inference
    /// (without the rows of the wrong width when those are skipped).
    fn inference_sample(&self, sample: &[u8], first_line: u64, n: usize) -> Result<Vec<u8>> {
        let parsed = self.parse(sample, 0, first_line)?;
        let mut out = Vec::with_capacity(sample.len().min(1 << 20));
        for r in parsed.records.iter().take(n) {
            out.extend_from_slice(r.of(sample));
            out.push(b'\n');
        }
        Ok(out)
    }

    /// A finished table as CSV; records kept whole get the input's header.
    fn encode_table(&self, table: Table, raw_header: Option<&[u8]>) -> Result<Vec<u8>> {
        let d = &self.dialect;
        match table {
            Table::Frame(df) => encode::encode_table(&df, d, self.row_index)
                .map_err(|e| Error::Internal(e.to_string())),
            Table::Records(rows) => {
                let mut out = Vec::new();
                if let Some(raw) = raw_header {
                    let mut fields = vec![raw.to_vec()];
                    if self.row_index {
                        fields.insert(0, b"row_index".to_vec());
                    }
                    out = line(&fields, d.delimiter);
                }
                let mut index = itoa::Buffer::new();
                for (row, bytes) in rows {
                    if self.row_index {
                        out.extend_from_slice(index.format(row).as_bytes());
                        out.push(d.delimiter);
                    }
                    out.extend_from_slice(&bytes);
                    out.push(b'\n');
                }
                Ok(out)
            }
        }
    }
}

/// `--by row`: each record is copied unchanged and the new fields appended to it.
struct RowJob {
    ctx: Context,
    plan: Plan,
    only_results: bool,
}

impl RowJob {
    /// `[row_index,]` the input's header `[,new names]`, or only the new names.
    fn header(&self, raw: &[u8]) -> Vec<u8> {
        let d = &self.ctx.dialect;
        let mut fields: Vec<Vec<u8>> = Vec::new();
        if self.ctx.row_index {
            fields.push(b"row_index".to_vec());
        }
        if !self.only_results {
            fields.push(raw.to_vec());
        }
        for name in self.plan.output_names() {
            let mut f = Vec::new();
            encode::push_text(&mut f, name.as_bytes(), d);
            fields.push(f);
        }
        line(&fields, d.delimiter)
    }

    /// Runs the chain on the parsed columns of `height` rows; returns the new columns.
    fn run_chain(&self, height: usize, columns: Vec<Float64Chunked>) -> PolarsResult<Vec<Series>> {
        let mut slots: Vec<Series> = columns.into_iter().map(|c| c.into_series()).collect();
        let mut outputs = Vec::new();
        for call in &self.plan.calls {
            let Function::Row(kernel) = &call.function else {
                unreachable!("row plans hold row functions")
            };
            let inputs = call
                .inputs
                .iter()
                .zip(&call.input_names)
                .map(|(&s, name)| {
                    Ok(slots[s]
                        .cast(&DataType::Float64)?
                        .f64()?
                        .clone()
                        .with_name(name.into()))
                })
                .collect::<PolarsResult<Vec<_>>>()?;
            for (out, name) in kernel(&inputs)?.into_iter().zip(&call.outputs) {
                let out = out.with_name(name.into());
                if out.len() != height {
                    polars_bail!(ShapeMismatch: "{} returned {} values for {height} rows", call.builtin.name, out.len());
                }
                slots.push(out.clone());
                outputs.push(out);
            }
        }
        Ok(outputs)
    }
}

impl Job for RowJob {
    type Part = Vec<u8>;

    fn process(&self, chunk: &Chunk) -> Result<Vec<u8>> {
        let Parsed {
            records,
            columns,
            rejected,
        } = self.ctx.read(chunk)?;
        if records.is_empty() {
            return Ok(Vec::new());
        }
        let outputs = self
            .run_chain(records.len(), columns)
            .map_err(|e| self.ctx.chunk_err(chunk, e.to_string()))?;
        let d = &self.ctx.dialect;
        let encoded = outputs
            .iter()
            .map(|s| encode::encode(s, d))
            .collect::<PolarsResult<Vec<_>>>()
            .map_err(|e| self.ctx.chunk_err(chunk, e.to_string()))?;
        let mut out =
            Vec::with_capacity(chunk.bytes.len() + records.len() * (1 + 4 * encoded.len()));
        let mut index = itoa::Buffer::new();
        let mut skipped = rejected.iter().peekable();
        let mut row = chunk.first_row;
        for (i, r) in records.iter().enumerate() {
            let mut first = true;
            if self.ctx.row_index {
                // Input row numbers count the skipped rows too.
                while skipped.next_if(|s| s.span.start < r.start).is_some() {
                    row += 1;
                }
                out.extend_from_slice(index.format(row).as_bytes());
                row += 1;
                first = false;
            }
            if !self.only_results {
                if !first {
                    out.push(d.delimiter);
                }
                out.extend_from_slice(r.of(&chunk.bytes));
                first = false;
            }
            for e in &encoded {
                if !first {
                    out.push(d.delimiter);
                }
                out.extend_from_slice(e.field(i));
                first = false;
            }
            out.push(b'\n');
        }
        Ok(out)
    }

    fn panicked(&self, chunk: &Chunk, message: String) -> Error {
        self.ctx
            .chunk_err(chunk, format!("a worker panicked: {message}"))
    }
}

/// `--by column`: the mergeable state of every selected column.
struct ColumnJob {
    ctx: Context,
}

impl Job for ColumnJob {
    type Part = Vec<Moments>;

    fn process(&self, chunk: &Chunk) -> Result<Vec<Moments>> {
        let parsed = self.ctx.read(chunk)?;
        Ok(parsed.columns.iter().map(Moments::of).collect())
    }

    fn panicked(&self, chunk: &Chunk, message: String) -> Error {
        self.ctx
            .chunk_err(chunk, format!("a worker panicked: {message}"))
    }
}

/// One row per selected column: its name, then one value per column function.
fn column_table(plan: &Plan, names: &[String], total: &[Moments]) -> PolarsResult<DataFrame> {
    use crate::functions::column::Stat;
    let mut columns = vec![Column::new("column".into(), names)];
    for call in &plan.calls {
        let Function::Column(stat) = &call.function else {
            unreachable!("column plans hold column functions")
        };
        let name = call.builtin.name.into();
        columns.push(match stat {
            Stat::Float(f) => Column::new(name, total.iter().map(f).collect::<Vec<_>>()),
            Stat::Count(f) => Column::new(name, total.iter().map(f).collect::<Vec<_>>()),
        });
    }
    DataFrame::new(names.len(), columns)
}

/// `--by frame`: the partial state of the frame function over each partition.
struct FrameJob {
    ctx: Context,
    function: FrameFn,
}

impl FrameJob {
    /// The state of an input without rows.
    fn empty_state(&self) -> FrameState {
        let columns: Vec<Float64Chunked> = self
            .ctx
            .parser
            .selected()
            .iter()
            .map(|_| Float64Chunked::full_null("".into(), 0))
            .collect();
        self.function.partial(&Partition {
            columns: &columns,
            records: Vec::new(),
            first_row: 0,
        })
    }
}

impl Job for FrameJob {
    type Part = FrameState;

    fn process(&self, chunk: &Chunk) -> Result<FrameState> {
        let parsed = self.ctx.read(chunk)?;
        Ok(self.function.partial(&Partition {
            columns: &parsed.columns,
            records: parsed.records.iter().map(|r| r.of(&chunk.bytes)).collect(),
            first_row: chunk.first_row,
        }))
    }

    fn panicked(&self, chunk: &Chunk, message: String) -> Error {
        self.ctx
            .chunk_err(chunk, format!("a worker panicked: {message}"))
    }
}

/// Fields joined by the delimiter, ending with a line feed.
fn line(fields: &[Vec<u8>], delimiter: u8) -> Vec<u8> {
    let mut out = fields.join(&[delimiter][..]);
    out.push(b'\n');
    out
}
