//! The plan: the request resolved against the input's header and inferred types, once,
//! before any chunk is read: which columns are parsed, what each function and expression
//! reads and writes, and the names of the new columns. Nothing after it decides columns.

use polars::prelude::{DataType, Schema, SchemaRef};

use crate::error::{Error, Result};
use crate::expr;
use crate::functions::{Builtin, Function, Kind};
use crate::infer::{self, Inferred};
use crate::request::{Call, Request, Work};

/// One function call of the chain, resolved.
pub struct Step {
    pub builtin: &'static Builtin,
    pub function: Function,
    /// Slots of the columns it reads (see [`Plan::parsed`]), and their names.
    pub inputs: Vec<usize>,
    pub input_names: Vec<String>,
    /// Names of the columns it adds (row functions).
    pub outputs: Vec<String>,
}

/// The input columns that expressions read: numeric ones come from the parser's columns
/// (integers typed back as Int64); text ones need polars to parse the records.
#[derive(Default)]
pub struct ExprInput {
    /// (name, input index, inferred integer)
    pub columns: Vec<(String, usize, bool)>,
    pub needs_text: bool,
}

/// The resolved request. Slot `i < parsed.len()` is input column `parsed[i]`; the slots
/// after them are the outputs of the steps, in order, so a later step can read an earlier one's.
pub struct Plan {
    pub steps: Vec<Step>,
    /// Input columns the parser reads as numbers, by index, in slot order.
    pub parsed: Vec<usize>,
    /// The names of the parsed columns, in slot order.
    pub parsed_names: Vec<String>,
    pub expr_input: ExprInput,
    /// The input's column names, and what their first rows hold.
    pub names: Vec<String>,
    pub kinds: Vec<Inferred>,
    /// The input's columns as polars types (for typed output and expressions).
    pub schema: SchemaRef,
}

impl Plan {
    /// Resolves `req` against the input's column `names` and what their first rows hold.
    pub fn new(req: &Request, names: &[String], kinds: &[Inferred]) -> Result<Plan> {
        let kinds = &typed(req, names, kinds)?;
        let numeric: Vec<bool> = kinds.iter().map(|k| k.is_numeric()).collect();
        let schema = infer::schema_of(names, kinds);
        let cols = req.cols.as_deref();
        let (steps, mut parsed) = match &req.work {
            Work::Columns { calls, .. } if calls.is_empty() => {
                (Vec::new(), selected_columns(cols, names, &numeric)?)
            }
            Work::Rows { calls, .. } => resolve(Kind::Row, calls, cols, names, &numeric)?,
            Work::Columns { calls, .. } => resolve(Kind::Column, calls, cols, names, &numeric)?,
            Work::Frame(call) => resolve(
                Kind::Frame,
                std::slice::from_ref(call),
                cols,
                names,
                &numeric,
            )?,
            Work::Python(_) => (Vec::new(), selected_columns(cols, names, &numeric)?),
            Work::Filter(_) | Work::Command(_) => (Vec::new(), Vec::new()),
        };
        let expr_input = check_exprs(req, &steps, names, kinds, &schema, &mut parsed)?;
        Ok(Plan {
            parsed_names: parsed.iter().map(|&i| names[i].clone()).collect(),
            steps,
            parsed,
            expr_input,
            names: names.to_vec(),
            kinds: kinds.to_vec(),
            schema: std::sync::Arc::new(schema),
        })
    }

    /// Names of every column the steps add, in order.
    pub fn output_names(&self) -> Vec<&str> {
        self.steps
            .iter()
            .flat_map(|c| c.outputs.iter().map(String::as_str))
            .collect()
    }
}

/// The inferred kinds with `--numeric` and `--text` applied.
fn typed(req: &Request, names: &[String], kinds: &[Inferred]) -> Result<Vec<Inferred>> {
    let mut kinds = kinds.to_vec();
    for (list, flag, kind) in [
        (&req.types.numeric, "--numeric", Inferred::Float),
        (&req.types.text, "--text", Inferred::Text),
    ] {
        for name in list {
            let Some(i) = names.iter().position(|n| n == name) else {
                return Err(Error::usage(format!(
                    "unknown column '{name}' in {flag} (the input has: {})",
                    names.join(", ")
                )));
            };
            if kind == Inferred::Text || !kinds[i].is_numeric() {
                kinds[i] = kind;
            }
        }
    }
    Ok(kinds)
}

/// Checks the expressions against the input's columns and the steps' outputs, and notes
/// the input columns they read (numeric ones are parsed: added to `parsed`).
fn check_exprs(
    req: &Request,
    steps: &[Step],
    names: &[String],
    kinds: &[Inferred],
    schema: &Schema,
    parsed: &mut Vec<usize>,
) -> Result<ExprInput> {
    let (exprs, filter) = match &req.work {
        Work::Columns { exprs, .. } => {
            let mut one = Schema::default();
            one.insert("_".into(), DataType::Float64);
            expr::check(exprs, None, &one)?;
            return Ok(ExprInput::default());
        }
        Work::Rows { exprs, .. } => (exprs.as_slice(), None),
        Work::Filter(f) => (&[][..], Some(f)),
        Work::Frame(_) | Work::Command(_) | Work::Python(_) => return Ok(ExprInput::default()),
    };
    let mut with_outputs = schema.clone();
    for step in steps {
        for name in &step.outputs {
            with_outputs.insert(name.as_str().into(), DataType::Float64);
        }
    }
    expr::check(
        exprs,
        filter.map(|f| (f.text.as_str(), &f.expr)),
        &with_outputs,
    )?;
    let mut input = ExprInput::default();
    let read = exprs.iter().map(|e| &e.expr).chain(filter.map(|f| &f.expr));
    for name in read.flat_map(expr::columns) {
        let Some(i) = names.iter().position(|n| *n == name) else {
            continue; // an output of --fn or of an earlier --expr
        };
        if input.columns.iter().any(|(n, _, _)| *n == name) {
            continue;
        }
        if kinds[i].is_numeric() {
            if !parsed.contains(&i) {
                parsed.push(i);
            }
        } else {
            input.needs_text = true;
        }
        input.columns.push((name, i, kinds[i] == Inferred::Integer));
    }
    Ok(input)
}

/// Where a column read by a step comes from.
enum Origin {
    /// Input column by index.
    Input(usize),
    /// The k-th output column of the chain.
    Output(usize),
}

/// Resolves the calls' columns: returns the steps and the input columns to parse.
fn resolve(
    kind: Kind,
    calls: &[Call],
    cols: Option<&[String]>,
    names: &[String],
    numeric: &[bool],
) -> Result<(Vec<Step>, Vec<usize>)> {
    let builtins: Vec<&'static Builtin> = calls.iter().map(|c| c.builtin).collect();
    // Pass 1: what each call reads, by input column or by an earlier call's output.
    let mut outputs_so_far: Vec<String> = Vec::new();
    let mut resolved = Vec::new();
    for call in calls {
        let b = call.builtin;
        let function = (b.build)(&call.args)?;
        let reads = match &function {
            Function::Frame(f) => f.reads_columns(),
            _ => true,
        };
        let origins = match reads {
            true => origins(kind, b, &builtins, cols, names, numeric, &outputs_so_far)?,
            false => Vec::new(),
        };
        let input_names: Vec<String> = origins.iter().map(|(n, _)| n.clone()).collect();
        let outputs = (b.outputs)(b.name, &input_names);
        if kind == Kind::Row {
            outputs_so_far.extend(outputs.iter().cloned());
        }
        resolved.push((b, function, origins, input_names, outputs));
    }
    // Pass 2: number the slots: parsed input columns first, then every output in order.
    let mut parsed: Vec<usize> = Vec::new();
    for (_, _, origins, _, _) in &resolved {
        for (_, origin) in origins {
            if let Origin::Input(i) = origin {
                if !parsed.contains(i) {
                    parsed.push(*i);
                }
            }
        }
    }
    let steps = resolved
        .into_iter()
        .map(|(builtin, function, origins, input_names, outputs)| Step {
            builtin,
            function,
            inputs: origins
                .iter()
                .map(|(_, origin)| match origin {
                    Origin::Input(i) => parsed.iter().position(|p| p == i).expect("parsed"),
                    Origin::Output(k) => parsed.len() + k,
                })
                .collect(),
            input_names,
            outputs,
        })
        .collect();
    Ok((steps, parsed))
}

/// The columns `b` reads: by name from the input, or from an earlier step's outputs.
fn origins(
    kind: Kind,
    b: &Builtin,
    builtins: &[&'static Builtin],
    cols: Option<&[String]>,
    names: &[String],
    numeric: &[bool],
    outputs_so_far: &[String],
) -> Result<Vec<(String, Origin)>> {
    let wanted = wanted_columns(cols, names, numeric);
    let mut out = Vec::new();
    for &name in &wanted {
        let origin = if let Some(i) = names.iter().position(|n| n == name) {
            if !numeric[i] {
                return Err(Error::usage(format!(
                    "column '{name}' is not numeric (its first rows hold text); {} reads numbers",
                    b.name
                )));
            }
            Origin::Input(i)
        } else if let Some(k) = outputs_so_far.iter().position(|n| n == name) {
            Origin::Output(k)
        } else if kind == Kind::Row && is_later_output(builtins, name, &wanted) {
            continue; // made by a later call of the chain: not there yet
        } else {
            return Err(unknown_column(name, names));
        };
        out.push((name.to_string(), origin));
    }
    if out.is_empty() {
        return Err(Error::usage(format!(
            "{} has no numeric column to read; name columns with --cols",
            b.name
        )));
    }
    Ok(out)
}

fn unknown_column(name: &str, names: &[String]) -> Error {
    Error::usage(format!(
        "unknown column '{name}' in --cols (the input has: {})",
        names.join(", ")
    ))
}

/// The input columns `--cols` names (each checked to be numeric), or every numeric one.
fn selected_columns(
    cols: Option<&[String]>,
    names: &[String],
    numeric: &[bool],
) -> Result<Vec<usize>> {
    let mut out = Vec::new();
    for name in wanted_columns(cols, names, numeric) {
        let Some(i) = names.iter().position(|n| n == name) else {
            return Err(unknown_column(name, names));
        };
        if !numeric[i] {
            return Err(Error::usage(format!(
                "column '{name}' is not numeric (its first rows hold text)"
            )));
        }
        out.push(i);
    }
    if out.is_empty() {
        return Err(Error::usage(
            "no numeric column to read; name columns with --cols",
        ));
    }
    Ok(out)
}

/// The columns named with `--cols`, or by default every numeric input column.
fn wanted_columns<'a>(
    cols: Option<&'a [String]>,
    names: &'a [String],
    numeric: &[bool],
) -> Vec<&'a str> {
    match cols {
        Some(cols) => cols.iter().map(String::as_str).collect(),
        None => names
            .iter()
            .zip(numeric)
            .filter(|(_, &n)| n)
            .map(|(s, _)| s.as_str())
            .collect(),
    }
}

/// True when `name` is among the columns some call of the chain adds.
fn is_later_output(builtins: &[&'static Builtin], name: &str, wanted: &[&str]) -> bool {
    let wanted: Vec<String> = wanted.iter().map(|s| s.to_string()).collect();
    builtins
        .iter()
        .any(|b| (b.outputs)(b.name, &wanted).iter().any(|n| n == name))
}
