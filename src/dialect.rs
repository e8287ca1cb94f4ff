//! The CSV dialect shared by every stage: delimiter, quote, header and null markers.
//! One value of this type travels from the command line to the reader, parser and writer.

/// How the input CSV is written; the output uses the same delimiter and quote.
#[derive(Clone, Debug)]
pub struct Dialect {
    pub delimiter: u8,
    pub quote: u8,
    pub has_header: bool,
    /// Field texts read as null, besides the empty field.
    pub null_values: Vec<String>,
    /// Numbers are written with a decimal comma (`21,5`), read and written so.
    pub decimal_comma: bool,
}

impl Default for Dialect {
    fn default() -> Self {
        Dialect {
            delimiter: b',',
            quote: b'"',
            has_header: true,
            null_values: Vec::new(),
            decimal_comma: false,
        }
    }
}

impl Dialect {
    /// True when a field's raw text stands for a missing value.
    pub fn is_null(&self, field: &[u8]) -> bool {
        field.is_empty() || self.null_values.iter().any(|n| n.as_bytes() == field)
    }
}
