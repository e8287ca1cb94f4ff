//! Delimited text (CSV, TSV): each row is `[row_index,]record[,new fields]`, the record's
//! bytes copied unchanged (or re-quoted for another delimiter), compressed in the worker
//! when asked. The header line is built here.

use polars::prelude::*;

use super::{Batch, Encoder, Layout, Writer};
use crate::compress::Codec;
use crate::dialect::Dialect;
use crate::encode::{self, Encoded, Tail};
use crate::error::Result;
use crate::parse::Span;
use crate::write::Output;

/// A piece of text output: the header line it belongs under, and its rows.
pub struct Text {
    pub header: Option<Vec<u8>>,
    pub body: Vec<u8>,
}

/// Encodes batches as delimited text.
pub struct Delimited {
    /// The input's dialect (how records are written) and the output's.
    input: Dialect,
    output: Dialect,
    layout: Layout,
}

impl Delimited {
    /// Text in the input's dialect, or with `delimiter` instead of the input's.
    pub fn new(input: &Dialect, delimiter: Option<u8>, layout: Layout) -> Delimited {
        let output = Dialect {
            delimiter: delimiter.unwrap_or(input.delimiter),
            ..input.clone()
        };
        Delimited {
            input: input.clone(),
            output,
            layout,
        }
    }

    /// The header line: `[row_index,]` the records' header `[,new column names]`.
    fn header(&self, batch: &Batch) -> Vec<u8> {
        let d = &self.output;
        let mut line = Vec::new();
        if self.layout.row_index {
            encode::push_text(&mut line, b"row_index", d);
            line.push(d.delimiter);
        }
        if let Some(r) = &batch.records {
            let span = Span {
                start: 0,
                end: r.header.len() as u32,
            };
            let record = (&r.header[..], span);
            encode::push_record(
                &mut Tail::new(&mut line),
                record,
                &self.input,
                d,
                d.delimiter,
            );
        }
        for c in &batch.columns {
            encode::push_text(&mut line, c.name().as_bytes(), d);
            line.push(d.delimiter);
        }
        // The last field's delimiter becomes the line ending.
        match line.last_mut() {
            Some(last) => *last = b'\n',
            None => line.push(b'\n'),
        }
        line
    }
}

impl Encoder for Delimited {
    type Piece = Text;

    fn encode(&self, batch: &Batch) -> PolarsResult<Text> {
        let d = &self.output;
        let index = match self.layout.row_index {
            true => Some(batch.index_text(d)?),
            false => None,
        };
        let encoded = batch
            .columns
            .iter()
            .map(|s| encode::encode(s, d))
            .collect::<PolarsResult<Vec<Encoded>>>()?;
        let records = batch.records.as_ref();
        // Exact when the records are copied as they are: their bytes, the new fields', and
        // a delimiter or line ending after each field.
        let fields = usize::from(index.is_some()) + usize::from(records.is_some()) + encoded.len();
        let size = records.map_or(0, |r| r.spans.iter().map(|s| s.len()).sum())
            + index
                .iter()
                .chain(&encoded)
                .map(Encoded::byte_len)
                .sum::<usize>()
            + batch.height * fields;
        let mut body = Vec::with_capacity(size + encode::SLACK);
        let (mut tail, sep) = (Tail::new(&mut body), d.delimiter);
        for i in 0..batch.height {
            // Each field, then a delimiter; the last delimiter becomes the line ending.
            if let Some(index) = &index {
                index.append_to(&mut tail, i, sep);
            }
            if let Some(r) = records {
                let record = (&r.bytes[..], r.spans[i]);
                encode::push_record(&mut tail, record, &self.input, d, sep);
            }
            for e in &encoded {
                e.append_to(&mut tail, i, sep);
            }
            match fields {
                0 => tail.push(b'\n'),
                _ => tail.set_last(b'\n'),
            }
        }
        drop(tail);
        let header = self.layout.header.then(|| self.header(batch));
        Ok(Text { header, body })
    }
}

/// Text compressed in the worker: the header and each body one gzip member or zstd frame,
/// so the pieces concatenated in order are one valid compressed stream.
pub struct Compressed {
    text: Delimited,
    codec: Codec,
}

impl Compressed {
    pub fn new(text: Delimited, codec: Codec) -> Compressed {
        Compressed { text, codec }
    }
}

impl Encoder for Compressed {
    type Piece = Text;

    fn encode(&self, batch: &Batch) -> PolarsResult<Text> {
        let Text { header, body } = self.text.encode(batch)?;
        let header = header.map(|h| self.codec.compress(&h)).transpose()?;
        let body = self.codec.compress(&body)?;
        Ok(Text { header, body })
    }
}

/// Writes text pieces: the first one's header line, then every body.
#[derive(Default)]
pub struct TextWriter;

impl Writer for TextWriter {
    type Piece = Text;

    fn write(&mut self, out: &mut Output, piece: Text, first: bool) -> Result<()> {
        if let (true, Some(header)) = (first, &piece.header) {
            out.write_all(header)?;
        }
        out.write_all(&piece.body)
    }

    fn finish(&mut self, _: &mut Output) -> Result<()> {
        Ok(())
    }
}
