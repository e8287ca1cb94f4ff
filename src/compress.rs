//! Compressed inputs and outputs: gzip, zstd, bzip2 and xz streams decoded as they are
//! read (by extension or magic bytes); gzip and zstd outputs encoded one member per piece.

use std::io::{self, BufRead, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A compression format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Codec {
    Gzip,
    Zstd,
    Bzip2,
    Xz,
}

impl Codec {
    /// The codec a file name's last extension names.
    pub fn by_extension(path: &Path) -> Option<Codec> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "gz" | "gzip" => Some(Codec::Gzip),
            "zst" | "zstd" => Some(Codec::Zstd),
            "bz2" => Some(Codec::Bzip2),
            "xz" => Some(Codec::Xz),
            _ => None,
        }
    }

    /// The codec whose magic bytes start `head`.
    pub fn sniff(head: &[u8]) -> Option<Codec> {
        if head.starts_with(&[0x1f, 0x8b]) {
            Some(Codec::Gzip)
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Some(Codec::Zstd)
        } else if head.starts_with(b"BZh") {
            Some(Codec::Bzip2)
        } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
            Some(Codec::Xz)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Codec::Gzip => "gzip",
            Codec::Zstd => "zstd",
            Codec::Bzip2 => "bzip2",
            Codec::Xz => "xz",
        }
    }

    /// The input decoded as it is read. Concatenated members (pigz, bgzip, `cat a.gz
    /// b.gz`) are read whole.
    pub fn decoder<R: BufRead + Send + 'static>(self, r: R) -> io::Result<Box<dyn Read + Send>> {
        Ok(match self {
            Codec::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(r)),
            Codec::Zstd => Box::new(zstd::stream::read::Decoder::with_buffer(r)?),
            Codec::Bzip2 => Box::new(bzip2::bufread::MultiBzDecoder::new(r)),
            Codec::Xz => Box::new(liblzma::bufread::XzDecoder::new_multi_decoder(r)),
        })
    }

    /// `bytes` as one member (gzip) or frame (zstd); empty input gives empty output, so
    /// that concatenated pieces stay a valid stream.
    pub fn compress(self, bytes: &[u8]) -> io::Result<Vec<u8>> {
        if bytes.is_empty() {
            return Ok(Vec::new());
        }
        match self {
            Codec::Gzip => {
                use std::io::Write;
                let out = Vec::with_capacity(bytes.len() / 3);
                let mut e = flate2::write::GzEncoder::new(out, flate2::Compression::default());
                e.write_all(bytes)?;
                e.finish()
            }
            Codec::Zstd => zstd::bulk::compress(bytes, zstd::DEFAULT_COMPRESSION_LEVEL),
            Codec::Bzip2 | Codec::Xz => Err(io::Error::other(format!(
                "{} output is not written by dfpar",
                self.name()
            ))),
        }
    }

    /// Whether dfpar writes this format (gzip and zstd: each piece compressed in its worker).
    pub fn writable(self) -> bool {
        matches!(self, Codec::Gzip | Codec::Zstd)
    }
}

/// A buffered reader that counts the bytes taken from it (the compressed bytes of an input,
/// as the decoder consumes them).
pub struct Counted<R> {
    inner: R,
    pub count: Arc<AtomicU64>,
}

impl<R> Counted<R> {
    pub fn new(inner: R) -> Counted<R> {
        Counted {
            inner,
            count: Arc::default(),
        }
    }
}

impl<R: BufRead> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

impl<R: BufRead> BufRead for Counted<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, n: usize) {
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        self.inner.consume(n);
    }
}

/// The plain stream's buffer: std's default size, the size of the first read that
/// `read_to_end` asks for (it then asks for more), so that only a fill's short last read,
/// cut by the `take` limit, goes through it.
const SNIFF: usize = 8 * 1024;

/// A stream opened by [`open`]: the reader and, when it is compressed, its codec and the
/// count of raw bytes decoded so far (for progress).
pub type Decoded = (Box<dyn Read + Send>, Option<(Codec, Arc<AtomicU64>)>);

/// Opens a stream, decoding it when its name's extension or its first bytes say it is
/// compressed. Plain text is read through no wrapper but a small buffer (for the sniff), so
/// that the splitter's reads, almost all of at least its size, go straight from the file
/// into memory not zeroed first: with a 1 MiB buffer, every read was copied through it. A
/// decoder reads through a buffer of 1 MiB.
pub fn open<R: Read + Send + 'static>(raw: R, name: Option<&Path>) -> io::Result<Decoded> {
    let mut buffered = io::BufReader::with_capacity(SNIFF, raw);
    let head = buffered.fill_buf()?;
    let codec = name
        .and_then(Codec::by_extension)
        .or_else(|| Codec::sniff(head));
    Ok(match codec {
        Some(c) => {
            let counted = Counted::new(io::BufReader::with_capacity(1 << 20, buffered));
            let count = counted.count.clone();
            (c.decoder(counted)?, Some((c, count)))
        }
        None => (Box::new(buffered), None),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_written_apart_read_back_as_one_stream() {
        for codec in [Codec::Gzip, Codec::Zstd] {
            let mut stream = codec.compress(b"a,b\n1,2\n").unwrap();
            stream.extend(codec.compress(b"").unwrap());
            stream.extend(codec.compress(b"3,4\n").unwrap());
            assert_eq!(Codec::sniff(&stream), Some(codec));
            let size = stream.len() as u64;
            let (mut r, found) = open(io::Cursor::new(stream), None).unwrap();
            let (found, count) = found.unwrap();
            assert_eq!(found, codec);
            let mut text = String::new();
            r.read_to_string(&mut text).unwrap();
            assert_eq!(text, "a,b\n1,2\n3,4\n");
            assert_eq!(
                count.load(Ordering::Relaxed),
                size,
                "{codec:?}: every byte counted"
            );
        }
    }

    #[test]
    fn plain_text_is_read_as_it_is() {
        let (mut r, codec) = open(
            io::Cursor::new(b"x,y\n".to_vec()),
            Some(Path::new("in.csv")),
        )
        .unwrap();
        let mut text = String::new();
        r.read_to_string(&mut text).unwrap();
        assert_eq!((text.as_str(), codec.is_none()), ("x,y\n", true));
    }
}
