//! The rows skipped with `--on-bad-rows skip`: counted, and with `--rejects FILE` written
//! there as CSV `file,line,reason,record`, chunk by chunk in the order chunks are released.

use std::path::Path;

use crate::dialect::Dialect;
use crate::encode;
use crate::error::Result;
use crate::parse::Rejected;
use crate::write::Output;

/// The skipped rows of one chunk: how many, and their lines for the rejects file.
#[derive(Default)]
pub struct RejectLines {
    pub count: u64,
    pub text: Vec<u8>,
}

/// The rejects of a run: the count, and the file when one was asked for.
pub struct Rejects {
    count: u64,
    file: Option<Output>,
}

impl Rejects {
    /// Creates the rejects file (with its header) when there is one.
    pub fn create(path: Option<&Path>, d: &Dialect) -> Result<Rejects> {
        let file = match path {
            Some(p) => {
                let mut out = Output::create(Some(p))?;
                let mut header = Vec::new();
                encode::push_names(&mut header, ["file", "line", "reason", "record"], d);
                out.write_all(&header)?;
                Some(out)
            }
            None => None,
        };
        Ok(Rejects { count: 0, file })
    }

    pub fn write(&mut self, lines: RejectLines) -> Result<()> {
        self.count += lines.count;
        match &mut self.file {
            Some(out) => out.write_all(&lines.text),
            None => Ok(()),
        }
    }

    /// Reports the count on stderr and moves the rejects file into place.
    pub fn commit(self, inputs: &[String]) -> Result<()> {
        let n = self.count;
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
        match self.file {
            Some(out) => out.commit(),
            None => Ok(()),
        }
    }
}

/// The rejected records of a chunk of input `path` (`bytes`, from line `first_line`) as
/// lines of the rejects file, or only their count when `text` is false.
pub fn lines(
    path: &str,
    first_line: u64,
    bytes: &[u8],
    rejected: &[Rejected],
    width: usize,
    d: &Dialect,
    text: bool,
) -> RejectLines {
    let mut out = Vec::new();
    let mut num = itoa::Buffer::new();
    for r in rejected.iter().filter(|_| text) {
        let reason = format!("expected {width} fields, found {}", r.found);
        let fields = [
            path.as_bytes(),
            num.format(first_line + r.line).as_bytes(),
            reason.as_bytes(),
            r.span.of(bytes),
        ];
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                out.push(d.delimiter);
            }
            encode::push_text(&mut out, f, d);
        }
        out.push(b'\n');
    }
    RejectLines {
        count: rejected.len() as u64,
        text: out,
    }
}
