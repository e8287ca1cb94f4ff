//! User expressions: `--expr 'NAME = SQL'` and `--where 'SQL'`, parsed and evaluated by
//! polars' SQL-expression support, vectorized over each chunk; checked before work starts.

use polars::prelude::*;

use crate::error::{Error, Result};

/// One `--expr`: the name of its output and the expression.
#[derive(Clone, Debug)]
pub struct NamedExpr {
    pub name: String,
    pub text: String,
    pub expr: Expr,
}

/// Parses `NAME = EXPRESSION`; `_` in the expression (column mode) is kept as a column
/// named `_` to be replaced per column.
pub fn parse_named(s: &str) -> Result<NamedExpr> {
    let bad = || {
        Error::usage(format!(
            "--expr '{s}': expected NAME = EXPRESSION, e.g. --expr 'hyp = sqrt(c0*c0 + c1*c1)'"
        ))
    };
    let (name, text) = s.split_once('=').ok_or_else(bad)?;
    let name = name.trim();
    let is_ident = name
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_alphanumeric() || c == '_');
    if !is_ident || text.trim().is_empty() {
        return Err(bad());
    }
    let text = text.trim().to_string();
    Ok(NamedExpr {
        name: name.to_string(),
        expr: parse(&text, "--expr")?,
        text,
    })
}

/// Parses a SQL scalar expression; the error quotes it with polars' reason.
pub fn parse(text: &str, flag: &str) -> Result<Expr> {
    polars::sql::sql_expr(text).map_err(|e| Error::usage(format!("{flag} '{text}': {}", clean(&e))))
}

/// polars' message without its error-kind prefix.
fn clean(e: &PolarsError) -> String {
    let s = e.to_string();
    s.split_once(": ")
        .map_or(s.clone(), |(_, rest)| rest.to_string())
}

/// The columns an expression reads, each once, in order of appearance.
pub fn columns(expr: &Expr) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for name in expr.clone().meta().root_names() {
        if !out.iter().any(|n| n == name.as_str()) {
            out.push(name.to_string());
        }
    }
    out
}

/// Checks that every column exists and the expressions evaluate, on an empty frame of
/// `schema`, so that a mistake is reported before any work starts.
pub fn check(exprs: &[NamedExpr], filter: Option<(&str, &Expr)>, schema: &Schema) -> Result<()> {
    let names: Vec<String> = schema.iter_names().map(|n| n.to_string()).collect();
    let mut known = names.clone();
    for e in exprs {
        for c in columns(&e.expr) {
            if !known.contains(&c) {
                return Err(Error::usage(format!(
                    "--expr '{} = {}': unknown column '{c}' (the input has: {})",
                    e.name,
                    e.text,
                    names.join(", ")
                )));
            }
        }
        known.push(e.name.clone());
    }
    if let Some((text, f)) = filter {
        for c in columns(f) {
            if !names.contains(&c) {
                return Err(Error::usage(format!(
                    "--where '{text}': unknown column '{c}' (the input has: {})",
                    names.join(", ")
                )));
            }
        }
    }
    let empty = DataFrame::empty_with_schema(schema);
    evaluate(&empty, exprs).map_err(|e| Error::usage(format!("--expr: {}", clean(&e))))?;
    if let Some((text, f)) = filter {
        mask(&empty, f).map_err(|e| Error::usage(format!("--where '{text}': {}", clean(&e))))?;
    }
    Ok(())
}

/// The expressions' columns over `df`, each one able to read the ones before it.
pub fn evaluate(df: &DataFrame, exprs: &[NamedExpr]) -> PolarsResult<Vec<Column>> {
    if exprs.is_empty() {
        return Ok(Vec::new());
    }
    let mut lf = df.clone().lazy();
    for e in exprs {
        lf = lf.with_column(e.expr.clone().alias(e.name.as_str()));
    }
    let names: Vec<Expr> = exprs.iter().map(|e| col(e.name.as_str())).collect();
    let out = lf.select(names).collect()?;
    Ok(out.columns().to_vec())
}

/// The rows of `df` for which `filter` is true (null counts as false).
pub fn mask(df: &DataFrame, filter: &Expr) -> PolarsResult<Vec<bool>> {
    let out = df
        .clone()
        .lazy()
        .select([filter
            .clone()
            .cast(DataType::Boolean)
            .fill_null(lit(false))
            .alias("keep")])
        .collect()?;
    let keep = out.columns()[0].bool()?.clone();
    Ok(keep.iter().map(|v| v.unwrap_or(false)).collect())
}

/// `expr` with the column `_` replaced by `name` (column mode: one expression per column).
pub fn for_column(expr: &Expr, name: &str) -> Expr {
    let name = name.to_string();
    expr.clone().map_expr(move |e| match e {
        Expr::Column(c) if c.as_str() == "_" => col(name.as_str()),
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_expressions_parse_and_evaluate() {
        let e = parse_named("hyp = sqrt(a*a + b*b)").unwrap();
        assert_eq!(e.name, "hyp");
        assert_eq!(columns(&e.expr), ["a", "b"]);
        let df = DataFrame::new(
            2,
            vec![
                Column::new("a".into(), [3.0, 5.0]),
                Column::new("b".into(), [4.0, 12.0]),
            ],
        )
        .unwrap();
        let out = evaluate(&df, &[e]).unwrap();
        let v: Vec<Option<f64>> = out[0].f64().unwrap().iter().collect();
        assert_eq!(v, [Some(5.0), Some(13.0)]);
        assert!(parse_named("no equals sign").is_err());
        assert!(parse_named("x = sqrt(").is_err());
        let keep = mask(&df, &parse("a > 4", "--where").unwrap()).unwrap();
        assert_eq!(keep, [false, true]);
    }
}
