//! `--by column`: the mergeable moments of every selected column (and, for expressions,
//! the whole columns), merged across chunks and finished into one row per column.

use polars::prelude::*;

use super::reduce::ReduceJob;
use super::Env;
use crate::error::{Error, Result};
use crate::expr::{self, NamedExpr};
use crate::functions::column::{Moments, Stat};
use crate::functions::Function;
use crate::parse::Parsed;
use crate::read::Chunk;
use crate::sink::{Batch, Layout};

pub(super) struct ColumnJob<'a> {
    env: &'a Env<'a>,
    /// Column expressions: they need whole columns, so the parsed columns are kept.
    exprs: &'a [NamedExpr],
}

impl<'a> ColumnJob<'a> {
    pub(super) fn new(env: &'a Env<'a>, exprs: &'a [NamedExpr]) -> ColumnJob<'a> {
        ColumnJob { env, exprs }
    }

    /// One row per selected column: its name, then one value per column function.
    fn table(&self, total: &[Moments]) -> PolarsResult<DataFrame> {
        let names = &self.env.plan.parsed_names;
        let mut columns = vec![Column::new("column".into(), names)];
        for step in &self.env.plan.steps {
            let Function::Column(stat) = &step.function else {
                polars_bail!(InvalidOperation: "{} is not a column function", step.builtin.name);
            };
            let name = step.builtin.name.into();
            columns.push(match stat {
                Stat::Float(f) => Column::new(name, total.iter().map(f).collect::<Vec<_>>()),
                Stat::Count(f) => Column::new(name, total.iter().map(f).collect::<Vec<_>>()),
            });
        }
        DataFrame::new(names.len(), columns)
    }
}

/// The moments of each selected column, and the columns themselves for expressions.
pub(super) type ColumnState = (Vec<Moments>, Vec<Float64Chunked>);

impl ReduceJob for ColumnJob<'_> {
    type State = ColumnState;

    fn partial(&self, _: &Chunk, parsed: Parsed) -> Result<ColumnState> {
        let moments = parsed.columns.iter().map(Moments::of).collect();
        let columns = match self.exprs.is_empty() {
            true => Vec::new(),
            false => parsed.columns,
        };
        Ok((moments, columns))
    }

    fn merge(&self, (a, mut whole): ColumnState, (b, more): ColumnState) -> Result<ColumnState> {
        let moments = a.iter().zip(&b).map(|(a, b)| a.merge(b)).collect();
        for (acc, c) in whole.iter_mut().zip(&more) {
            acc.append(c).map_err(|e| Error::Internal(e.to_string()))?;
        }
        Ok((moments, whole))
    }

    fn save(&self, (moments, _): ColumnState) -> serde_json::Value {
        serde_json::to_value(moments).expect("moments are JSON")
    }

    fn load(&self, saved: serde_json::Value, _: u64) -> Result<ColumnState> {
        let moments = serde_json::from_value(saved).map_err(|e| saved_err(&e))?;
        Ok((moments, Vec::new()))
    }

    fn finish(&self, state: Option<ColumnState>) -> Result<(Batch<'static>, Layout)> {
        let n = self.env.plan.parsed.len();
        let (total, whole) = state.unwrap_or_else(|| (vec![Moments::default(); n], Vec::new()));
        let mut table = self
            .table(&total)
            .map_err(|e| Error::Internal(e.to_string()))?;
        for e in self.exprs {
            let values = column_exprs(e, &self.env.plan.parsed_names, &whole)
                .map_err(|err| Error::usage(format!("--expr '{} = {}': {err}", e.name, e.text)))?;
            table
                .with_column(values.with_name(e.name.as_str().into()).into_column())
                .map_err(|e| Error::Internal(e.to_string()))?;
        }
        Ok((Batch::table(table), self.env.layout(true)))
    }
}

/// A saved state that cannot be read back.
pub(super) fn saved_err(e: &serde_json::Error) -> Error {
    Error::Data {
        path: "<part>".into(),
        line: None,
        message: format!("the saved state cannot be read: {e}"),
    }
}

/// A column expression's value for each selected column, `_` standing for the column.
fn column_exprs(e: &NamedExpr, names: &[String], whole: &[Float64Chunked]) -> PolarsResult<Series> {
    let mut values: Option<Series> = None;
    for (i, name) in names.iter().enumerate() {
        let c = whole
            .get(i)
            .cloned()
            .unwrap_or_else(|| Float64Chunked::full_null(name.as_str().into(), 0));
        let df = DataFrame::new(
            c.len(),
            vec![c.with_name(name.as_str().into()).into_column()],
        )?;
        let one = NamedExpr {
            expr: expr::for_column(&e.expr, name),
            ..e.clone()
        };
        let out = expr::evaluate(&df, std::slice::from_ref(&one))?;
        let v = out[0].as_materialized_series().head(Some(1));
        match &mut values {
            Some(acc) => {
                acc.append(&v)?;
            }
            None => values = Some(v),
        }
    }
    Ok(values.unwrap_or_else(|| Series::new_empty("".into(), &DataType::Float64)))
}
