//! The plan: resolves `--fn`, `--arg` and `--cols` against the registry and the input's
//! header before any work starts, so every usage mistake is reported up front.

use crate::error::{Error, Result};
use crate::functions::{self, Args, Builtin, Function, Kind};

/// One function call of the chain, resolved.
pub struct Call {
    pub builtin: &'static Builtin,
    pub function: Function,
    /// Slots (see `Plan::parsed`) of the columns it reads, and their names.
    pub inputs: Vec<usize>,
    pub input_names: Vec<String>,
    /// Names of the columns it adds (row functions).
    pub outputs: Vec<String>,
}

/// The resolved chain. Slot `i < parsed.len()` is input column `parsed[i]`; the slots after
/// them are the outputs of the calls, in order, so a later call can read an earlier one's.
pub struct Plan {
    pub calls: Vec<Call>,
    pub parsed: Vec<usize>,
}

impl Plan {
    /// Names of every column the chain adds, in order.
    pub fn output_names(&self) -> Vec<&str> {
        self.calls
            .iter()
            .flat_map(|c| c.outputs.iter().map(String::as_str))
            .collect()
    }
}

/// The command-line request, before it meets the input.
pub struct Request<'a> {
    pub kind: Kind,
    pub functions: &'a [String],
    pub args: &'a [(String, String)],
    pub cols: Option<&'a [String]>,
}

/// Resolves `req` against the input's column `names` and which of them are `numeric`.
pub fn plan(req: &Request, names: &[String], numeric: &[bool]) -> Result<Plan> {
    if req.functions.is_empty() {
        return Ok(Plan {
            calls: Vec::new(),
            parsed: Vec::new(),
        });
    }
    let builtins = req
        .functions
        .iter()
        .map(|f| functions::lookup(req.kind, f))
        .collect::<Result<Vec<_>>>()?;
    for (i, b) in builtins.iter().enumerate() {
        if builtins[..i].iter().any(|o| o.name == b.name) {
            return Err(Error::usage(format!("--fn {} is given twice", b.name)));
        }
    }
    if req.kind == Kind::Frame && builtins.len() > 1 {
        return Err(Error::usage(
            "--by frame takes one --fn (each makes a table of its own)",
        ));
    }
    let args = split_args(&builtins, req.args)?;

    // Pass 1: what each call reads, by input column or by an earlier call's output.
    let mut outputs_so_far: Vec<String> = Vec::new();
    let mut resolved = Vec::new();
    for (b, given) in builtins.iter().zip(args) {
        let function = (b.build)(&Args::check(b, &given)?)?;
        let reads = match &function {
            Function::Frame(f) => f.reads_columns(),
            _ => true,
        };
        let mut reads_from: Vec<(String, Source)> = Vec::new();
        if reads {
            let wanted = wanted_columns(req, names, numeric);
            for &name in &wanted {
                let source = if let Some(i) = names.iter().position(|n| n == name) {
                    if !numeric[i] {
                        return Err(Error::usage(format!(
                            "column '{name}' is not numeric (its first rows hold text); {} reads numbers",
                            b.name
                        )));
                    }
                    Source::Input(i)
                } else if let Some(k) = outputs_so_far.iter().position(|n| n == name) {
                    Source::Output(k)
                } else if req.kind == Kind::Row && is_later_output(&builtins, name, &wanted) {
                    continue; // made by a later call of the chain: not there yet
                } else {
                    return Err(Error::usage(format!(
                        "unknown column '{name}' in --cols (the input has: {})",
                        names.join(", ")
                    )));
                };
                reads_from.push((name.to_string(), source));
            }
            if reads_from.is_empty() {
                return Err(Error::usage(format!(
                    "{} has no numeric column to read; name columns with --cols",
                    b.name
                )));
            }
        }
        let input_names: Vec<String> = reads_from.iter().map(|(n, _)| n.clone()).collect();
        let outputs = (b.outputs)(b.name, &input_names);
        if req.kind == Kind::Row {
            outputs_so_far.extend(outputs.iter().cloned());
        }
        resolved.push((*b, function, reads_from, input_names, outputs));
    }

    // Pass 2: number the slots: parsed input columns first, then every output in order.
    let mut parsed: Vec<usize> = Vec::new();
    for (_, _, reads_from, _, _) in &resolved {
        for (_, source) in reads_from {
            if let Source::Input(i) = source {
                if !parsed.contains(i) {
                    parsed.push(*i);
                }
            }
        }
    }
    let calls = resolved
        .into_iter()
        .map(
            |(builtin, function, reads_from, input_names, outputs)| Call {
                builtin,
                function,
                inputs: reads_from
                    .iter()
                    .map(|(_, source)| match source {
                        Source::Input(i) => parsed.iter().position(|p| p == i).expect("parsed"),
                        Source::Output(k) => parsed.len() + k,
                    })
                    .collect(),
                input_names,
                outputs,
            },
        )
        .collect();
    Ok(Plan { calls, parsed })
}

/// The input columns `--cols` names (each checked to be numeric), or every numeric one.
pub fn selected_columns(req: &Request, names: &[String], numeric: &[bool]) -> Result<Vec<usize>> {
    let mut out = Vec::new();
    for name in wanted_columns(req, names, numeric) {
        let Some(i) = names.iter().position(|n| n == name) else {
            return Err(Error::usage(format!(
                "unknown column '{name}' in --cols (the input has: {})",
                names.join(", ")
            )));
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

/// Where a column read by a call comes from.
enum Source {
    /// Input column by index.
    Input(usize),
    /// The k-th output column of the chain.
    Output(usize),
}

/// The columns named with `--cols`, or by default every numeric input column.
fn wanted_columns<'a>(req: &Request<'a>, names: &'a [String], numeric: &[bool]) -> Vec<&'a str> {
    match req.cols {
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

/// Distributes `--arg` pairs: `fn.key=value` goes to that function, `key=value` to every
/// function of the chain that has a parameter `key`. Any other name is an error.
fn split_args(
    builtins: &[&'static Builtin],
    given: &[(String, String)],
) -> Result<Vec<Vec<(String, String)>>> {
    let mut per_call = vec![Vec::new(); builtins.len()];
    for (key, value) in given {
        let (target, param) = match key.split_once('.') {
            Some((f, p)) => (Some(f), p),
            None => (None, key.as_str()),
        };
        let mut used = false;
        for (i, b) in builtins.iter().enumerate() {
            if target.is_some_and(|t| t != b.name) {
                continue;
            }
            if b.params.iter().any(|p| p.name == param) {
                per_call[i].push((param.to_string(), value.clone()));
                used = true;
            }
        }
        if !used {
            let takes: Vec<String> = builtins
                .iter()
                .filter(|b| target.is_none_or(|t| t == b.name))
                .map(|b| {
                    let ps: Vec<&str> = b.params.iter().map(|p| p.name).collect();
                    if ps.is_empty() {
                        format!("{} takes no parameters", b.name)
                    } else {
                        format!("{} takes {}", b.name, ps.join(", "))
                    }
                })
                .collect();
            let takes = if takes.is_empty() {
                format!("no --fn {} in this run", target.unwrap_or_default())
            } else {
                takes.join("; ")
            };
            return Err(Error::usage(format!(
                "unknown parameter '{key}' in --arg ({takes})"
            )));
        }
    }
    Ok(per_call)
}
