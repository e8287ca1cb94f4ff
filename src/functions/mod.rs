//! The function registry: every builtin with its kind, typed parameters and description.
//! Each family lives in its own file (`row.rs`, `column.rs`, `frame.rs`) as one list.

pub mod column;
pub mod frame;
pub mod row;

use std::collections::BTreeMap;

use polars::prelude::{Float64Chunked, PolarsResult, Series};

use crate::error::{Error, Result};

/// What a function is applied to, chosen with `--by`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// Each row of a partition: adds columns of the same height.
    Row,
    /// Each selected column: reduces it to one value, merged across chunks.
    Column,
    /// The whole input: a table merged from the partitions.
    Frame,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Row => "row",
            Kind::Column => "column",
            Kind::Frame => "frame",
        }
    }
}

/// A typed parameter of a builtin; `default: None` means the parameter is required.
pub struct Param {
    pub name: &'static str,
    pub ty: ParamType,
    pub default: Option<&'static str>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParamType {
    /// A real number, for example `4` or `-0.5`.
    Number,
    /// A whole number >= 0.
    Count,
}

impl ParamType {
    fn expected(self) -> &'static str {
        match self {
            ParamType::Number => "a number",
            ParamType::Count => "a whole number >= 0",
        }
    }
}

/// A row kernel: the selected columns of a partition in, named output columns out.
pub type RowKernel = Box<dyn Fn(&[Float64Chunked]) -> PolarsResult<Vec<Series>> + Send + Sync>;

/// A built function, ready to run.
pub enum Function {
    Row(RowKernel),
    Column(column::Stat),
    Frame(Box<dyn frame::AnyFrameFunction>),
}

/// One entry of the registry.
pub struct Builtin {
    pub name: &'static str,
    pub kind: Kind,
    pub params: &'static [Param],
    pub about: &'static str,
    /// Names of the output columns, given the names of the columns the function reads.
    pub outputs: fn(&'static str, &[String]) -> Vec<String>,
    pub build: fn(&Args) -> Result<Function>,
}

impl std::fmt::Debug for Builtin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.kind.name(), self.name)
    }
}

/// The usual output naming: one column named after the function.
pub fn named_after_function(name: &'static str, _inputs: &[String]) -> Vec<String> {
    vec![name.to_string()]
}

/// Every builtin, family by family.
pub fn builtins() -> impl Iterator<Item = &'static Builtin> {
    row::BUILTINS
        .iter()
        .chain(column::BUILTINS)
        .chain(frame::BUILTINS)
}

/// Finds a builtin of `kind` by name; the error suggests close names.
pub fn lookup(kind: Kind, name: &str) -> Result<&'static Builtin> {
    if let Some(b) = builtins().find(|b| b.kind == kind && b.name == name) {
        return Ok(b);
    }
    if let Some(other) = builtins().find(|b| b.name == name) {
        return Err(Error::usage(format!(
            "'{name}' is a {} function; use it with --by {}",
            other.kind.name(),
            other.kind.name()
        )));
    }
    let mut close: Vec<&str> = builtins()
        .filter(|b| b.kind == kind && edit_distance(b.name, name) <= 2.max(name.len() / 3))
        .map(|b| b.name)
        .collect();
    close.dedup();
    let hint = if close.is_empty() {
        String::new()
    } else {
        format!(" (did you mean {}?)", close.join(", "))
    };
    Err(Error::usage(format!(
        "unknown {} function '{name}'{hint}; `dfpar list` shows them all",
        kind.name()
    )))
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// A parameter value after checking.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    Number(f64),
    Count(u64),
}

/// The checked parameters of one function call.
#[derive(Clone, Debug)]
pub struct Args {
    function: &'static str,
    values: BTreeMap<&'static str, Value>,
}

impl Args {
    /// Checks the `--arg` pairs meant for `builtin`: each name must be one of its
    /// parameters, each value of the parameter's type, and every required one present.
    pub fn check(builtin: &'static Builtin, given: &[(String, String)]) -> Result<Args> {
        let mut values = BTreeMap::new();
        for p in builtin.params {
            let text = given
                .iter()
                .rev()
                .find(|(k, _)| k == p.name)
                .map(|(_, v)| v.as_str())
                .or(p.default);
            let Some(text) = text else {
                return Err(Error::usage(format!(
                    "{} needs --arg {}=VALUE ({})",
                    builtin.name,
                    p.name,
                    p.ty.expected()
                )));
            };
            let value = match p.ty {
                ParamType::Number => text.trim().parse::<f64>().ok().map(Value::Number),
                ParamType::Count => text.trim().parse::<u64>().ok().map(Value::Count),
            };
            let Some(value) = value else {
                return Err(Error::usage(format!(
                    "--arg {}={text}: {} expects {} for '{}'",
                    p.name,
                    builtin.name,
                    p.ty.expected(),
                    p.name
                )));
            };
            values.insert(p.name, value);
        }
        Ok(Args {
            function: builtin.name,
            values,
        })
    }

    pub fn number(&self, name: &str) -> f64 {
        match self.values.get(name) {
            Some(Value::Number(v)) => *v,
            other => panic!(
                "{}: parameter {name} is not a number: {other:?}",
                self.function
            ),
        }
    }

    pub fn count(&self, name: &str) -> u64 {
        match self.values.get(name) {
            Some(Value::Count(v)) => *v,
            other => panic!(
                "{}: parameter {name} is not a count: {other:?}",
                self.function
            ),
        }
    }
}

/// The one-line signature `dfpar list` prints, e.g. `count_range(min, max)`.
pub fn signature(b: &Builtin) -> String {
    let params: Vec<String> = b
        .params
        .iter()
        .map(|p| match p.default {
            Some(d) => format!("{}={d}", p.name),
            None => p.name.to_string(),
        })
        .collect();
    if params.is_empty() {
        b.name.to_string()
    } else {
        format!("{}({})", b.name, params.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_within_a_kind() {
        let all: Vec<_> = builtins().map(|b| (b.kind.name(), b.name)).collect();
        let mut dedup = all.clone();
        dedup.sort();
        dedup.dedup();
        assert_eq!(all.len(), dedup.len());
    }

    #[test]
    fn unknown_function_suggests_close_names() {
        let err = lookup(Kind::Row, "count_rang").err().unwrap().to_string();
        assert!(err.contains("did you mean count_range"), "{err}");
        let err = lookup(Kind::Row, "describe").err().unwrap().to_string();
        assert!(err.contains("--by frame"), "{err}");
    }

    #[test]
    fn args_are_checked() {
        let b = lookup(Kind::Row, "count_range").unwrap();
        let ok = Args::check(b, &[("min".into(), "4".into()), ("max".into(), "8".into())]);
        assert_eq!(ok.unwrap().number("max"), 8.0);
        let missing = Args::check(b, &[("min".into(), "4".into())]).err().unwrap();
        assert!(missing.to_string().contains("needs --arg max"), "{missing}");
        let bad = Args::check(b, &[("min".into(), "x".into()), ("max".into(), "8".into())]);
        assert!(bad.err().unwrap().to_string().contains("expects a number"));
    }
}
