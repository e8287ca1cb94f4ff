use polars::prelude::*;
use std::io::Cursor;
use std::time::Instant;
fn main() {
    let bytes = std::fs::read("/tmp/big/20m.csv").unwrap();
    let nl = bytes.iter().position(|&b| b == b'\n').unwrap() + 1;
    let body = &bytes[nl..];
    let chunk: usize = std::env::var("CHUNK")
        .map(|v| v.parse().unwrap())
        .unwrap_or(4 << 20);
    let schema: Schema = (0..5)
        .map(|i| Field::new(format!("c{i}").into(), DataType::Int64))
        .collect();
    let schema = Arc::new(schema);
    for variant in ["plain", "lossy", "proj", "nthreads1", "all"] {
        let t = Instant::now();
        let mut rows = 0;
        let mut start = 0;
        while start < body.len() {
            let mut end = (start + chunk).min(body.len());
            while end < body.len() && body[end - 1] != b'\n' {
                end += 1;
            }
            let mut o = CsvReadOptions::default()
                .with_has_header(false)
                .with_schema(Some(schema.clone()));
            match variant {
                "lossy" => o = o.map_parse_options(|p| p.with_encoding(CsvEncoding::LossyUtf8)),
                "proj" => o = o.with_projection(Some(Arc::new(vec![0, 1, 2, 3, 4]))),
                "nthreads1" => o = o.with_n_threads(Some(1)),
                "all" => {
                    o = o
                        .with_n_threads(Some(1))
                        .with_projection(Some(Arc::new(vec![0, 1, 2, 3, 4])))
                        .map_parse_options(|p| p.with_encoding(CsvEncoding::LossyUtf8))
                }
                _ => {}
            }
            let df = o
                .into_reader_with_file_handle(Cursor::new(&body[start..end]))
                .finish()
                .unwrap();
            rows += df.height();
            start = end;
        }
        println!("{variant}: {rows} rows {:.3} s", t.elapsed().as_secs_f64());
    }
}
