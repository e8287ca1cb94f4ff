//! Property tests: every kernel (AVX2, SSE2, portable; quote-aware and quote-free loops)
//! gives the reference's exact callbacks, counts and split points on random CSV and bytes.

use dfpar::records::{
    count_lines_and_rows_with, for_each_record_with, for_each_table_window_with,
    last_record_end_with, reference, scan_selected_with, scan_with, Impl, Quotes, Record, Table,
};
use proptest::prelude::*;

/// One callback, as seen by the caller.
#[derive(Clone, Debug, PartialEq)]
enum Event {
    Field(usize, Vec<u8>, u64),
    Record(Record),
}

/// The callbacks and result of a scan whose callbacks fail at event `fail_at`.
type Trace = (Vec<Event>, Result<u64, usize>);

/// Pushes each event into `events`, and fails with `fail_at` at the `fail_at`-th.
fn recorder(
    events: &std::cell::RefCell<Vec<Event>>,
    fail_at: usize,
) -> impl Fn(Event) -> Result<(), usize> + '_ {
    move |e| {
        let mut ev = events.borrow_mut();
        ev.push(e);
        if ev.len() == fail_at {
            return Err(fail_at);
        }
        Ok(())
    }
}

fn reference_trace(chunk: &[u8], d: u8, q: u8, fail_at: usize) -> Trace {
    let events = std::cell::RefCell::new(Vec::new());
    let push = recorder(&events, fail_at);
    let r = reference::scan(
        chunk,
        d,
        q,
        |i, raw, line| push(Event::Field(i, raw.to_vec(), line)),
        |rec| push(Event::Record(rec)),
    );
    drop(push);
    (events.into_inner(), r)
}

fn fast_trace(
    imp: Impl,
    quotes: Quotes,
    chunk: &[u8],
    (d, q): (u8, u8),
    wanted: Option<&[bool]>,
    fail_at: usize,
) -> Trace {
    let events = std::cell::RefCell::new(Vec::new());
    let push = recorder(&events, fail_at);
    let field = |i, raw: &[u8], line| push(Event::Field(i, raw.to_vec(), line));
    let visit = |rec| push(Event::Record(rec));
    let r = match wanted {
        None => scan_with(imp, quotes, chunk, d, q, field, visit),
        Some(w) => scan_selected_with(imp, quotes, chunk, d, q, w, field, visit),
    };
    drop(push);
    (events.into_inner(), r)
}

/// The reference's trace with only the wanted fields (and its failure point moved to match).
fn reference_selected(chunk: &[u8], d: u8, q: u8, wanted: &[bool], fail_at: usize) -> Trace {
    let (all, result) = reference_trace(chunk, d, q, usize::MAX);
    let keep = |e: &Event| match e {
        Event::Field(i, ..) => wanted.get(*i) == Some(&true),
        Event::Record(_) => true,
    };
    let mut kept: Vec<Event> = all.into_iter().filter(keep).collect();
    if kept.len() >= fail_at {
        kept.truncate(fail_at);
        return (kept, Err(fail_at));
    }
    (kept, result.map_err(|_| unreachable!()))
}

/// The reference's trace when `chunk` is a table of records `width` wide: quote-free, no
/// `\r`, no blank line, every record of that width, in a dialect of distinct special bytes.
fn reference_table(chunk: &[u8], d: u8, q: u8, width: usize) -> Option<Vec<Event>> {
    let (events, _) = reference_trace(chunk, d, q, usize::MAX);
    let records: Vec<&Record> = events
        .iter()
        .filter_map(|e| match e {
            Event::Record(r) => Some(r),
            Event::Field(..) => None,
        })
        .collect();
    let lines = memchr::memchr_iter(b'\n', chunk).count();
    let unterminated = usize::from(!chunk.is_empty() && !chunk.ends_with(b"\n"));
    let special = [d, q, b'\n', b'\r'];
    let distinct = (0..4).all(|i| !special[i + 1..].contains(&special[i]));
    let table = width >= 2
        && distinct
        && !chunk.contains(&q)
        && !chunk.contains(&b'\r')
        && records.len() == lines + unterminated
        && records.iter().all(|r| r.fields == width);
    table.then_some(events)
}

/// The same trace from the table windows, or `None` when the chunk is not a table.
fn table_trace(imp: Impl, chunk: &[u8], dq: (u8, u8), width: usize) -> Option<Vec<Event>> {
    let mut events = Vec::new();
    let mut line = 0;
    let is_table = for_each_table_window_with(imp, chunk, dq, width, |t: Table| {
        let columns: Vec<Vec<&[u8]>> = (0..width).map(|j| t.column(j).collect()).collect();
        for (r, (start, end)) in t.records().enumerate() {
            for (j, column) in columns.iter().enumerate() {
                events.push(Event::Field(j, column[r].to_vec(), line));
            }
            let fields = width;
            events.push(Event::Record(Record {
                start,
                end,
                fields,
                line,
            }));
            line += 1;
        }
        assert_eq!(t.len(), columns[0].len());
        true
    });
    is_table.then_some(events)
}

fn impls() -> impl Iterator<Item = Impl> {
    Impl::ALL.into_iter().filter(|i| i.is_available())
}

/// Every fast function, with every kernel and quote mode, against the reference on `chunk`.
fn check(chunk: &[u8], d: u8, q: u8) {
    let want = reference_trace(chunk, d, q, usize::MAX);
    let events = want.0.len();
    let want_end = reference::last_record_end(chunk, q);
    let want_counts = reference::count_lines_and_rows(chunk, d, q);
    let selections: [&[bool]; 4] = [&[], &[false, true], &[true, false, true], &[true; 70]];
    for imp in impls() {
        let ctx = || {
            format!(
                "{imp:?} d={d:?} q={q:?} {:?}",
                String::from_utf8_lossy(chunk)
            )
        };
        assert_eq!(last_record_end_with(imp, chunk, q), want_end, "{}", ctx());
        for width in [2, 3, 5] {
            let got = table_trace(imp, chunk, (d, q), width);
            let want = reference_table(chunk, d, q, width);
            assert_eq!(got, want, "table {width} wide {}", ctx());
        }
        for quotes in [Quotes::Detect, Quotes::Always] {
            let counts = count_lines_and_rows_with(imp, quotes, chunk, d, q);
            assert_eq!(counts, want_counts, "{quotes:?} {}", ctx());
            let dq = (d, q);
            let got = fast_trace(imp, quotes, chunk, dq, None, usize::MAX);
            assert_eq!(got, want, "{quotes:?} {}", ctx());
            // Stopping at the first error, wherever it comes.
            for fail_at in [1, 2, events / 2, events].into_iter().filter(|&f| f > 0) {
                let got = fast_trace(imp, quotes, chunk, dq, None, fail_at);
                let want = reference_trace(chunk, d, q, fail_at);
                assert_eq!(got, want, "{quotes:?} fail at {fail_at} {}", ctx());
            }
            for wanted in selections {
                let got = fast_trace(imp, quotes, chunk, dq, Some(wanted), usize::MAX);
                let want = reference_selected(chunk, d, q, wanted, usize::MAX);
                assert_eq!(got, want, "{quotes:?} {wanted:?} {}", ctx());
                let got = fast_trace(imp, quotes, chunk, dq, Some(wanted), 3);
                let want = reference_selected(chunk, d, q, wanted, 3);
                assert_eq!(got, want, "{quotes:?} {wanted:?} fail at 3 {}", ctx());
            }
            let mut records = Vec::new();
            let lines = for_each_record_with(imp, quotes, chunk, d, q, &mut |r| {
                records.push(Event::Record(r));
                Ok::<(), ()>(())
            });
            let want_records: Vec<Event> = want
                .0
                .iter()
                .filter(|e| matches!(e, Event::Record(_)))
                .cloned()
                .collect();
            assert_eq!(
                (records, lines.ok()),
                (want_records, want.1.ok()),
                "{}",
                ctx()
            );
        }
    }
}

/// The dialects tried on random bytes: the usual, other delimiters and quotes from the
/// alphabet, and degenerate ones (which the fast code hands to the reference).
const DIALECTS: [(u8, u8); 8] = [
    (b',', b'"'),
    (b';', b'"'),
    (b'\t', b'"'),
    (b';', b'x'),
    (b'\t', b'.'),
    (b',', b','),
    (b'\r', b'"'),
    (b',', b'\n'),
];

/// A field: plain, quoted with delimiters, doubled quotes and line endings inside, or empty.
fn field(d: u8, q: u8) -> impl Strategy<Value = Vec<u8>> {
    let plain = "[0-9a-z. -]{0,6}".prop_map(String::into_bytes);
    let inner = prop::collection::vec(
        prop::sample::select(vec![b'a', b'1', d, b'\n', b'\r', q]),
        0..8,
    );
    let quoted = inner.prop_map(move |body| {
        let mut f = vec![q];
        for b in body {
            f.push(b);
            if b == q {
                f.push(q); // doubled
            }
        }
        f.push(q);
        f
    });
    // A quote in the middle of a field, and a lone unbalanced one.
    let odd = prop::sample::select(vec![vec![b'a', q, b'b'], vec![q], vec![q, q, q]]);
    prop_oneof![4 => plain, 3 => quoted, 1 => odd]
}

/// A CSV text: records of 1..6 fields ending in `\n` or `\r\n`, blank lines, maybe a final
/// record without a line ending.
fn csv(d: u8, q: u8, records: std::ops::Range<usize>) -> impl Strategy<Value = Vec<u8>> {
    let record = (prop::collection::vec(field(d, q), 1..6), 0..5u8);
    let all = prop::collection::vec(record, records);
    (all, any::<bool>()).prop_map(move |(records, unterminated)| {
        let mut out = Vec::new();
        for (fields, ending) in records {
            if ending == 4 {
                out.extend_from_slice(b"\r\n"); // a blank line, before the record
            }
            out.extend_from_slice(&fields.join(&d));
            out.extend_from_slice(if ending % 2 == 0 { b"\n" } else { b"\r\n" });
        }
        if unterminated {
            out.extend_from_slice(b"1,\"x");
        }
        out
    })
}

/// A quote-free table of `width` (2 to 5) fields, with one fault or none: a blank line, a
/// record one field short or long, a `\r\n`; maybe without the last line ending.
fn table_csv(records: std::ops::Range<usize>) -> impl Strategy<Value = (usize, u8, Vec<u8>)> {
    (2..6usize)
        .prop_flat_map(move |w| {
            let record = prop::collection::vec("[0-9a-z. -]{0,4}", w);
            let all = prop::collection::vec(record, records.clone());
            (
                Just(w),
                all,
                0..6u8,
                any::<prop::sample::Index>(),
                any::<bool>(),
            )
        })
        .prop_map(|(w, mut records, fault, at, unterminated)| {
            let at = at.index(records.len().max(1));
            match (fault, records.get_mut(at)) {
                (2, Some(r)) => drop(r.pop()),
                (3, Some(r)) => r.push("x".into()),
                _ => {}
            }
            let mut out = Vec::new();
            for (i, r) in records.iter().enumerate() {
                if i == at && fault == 1 {
                    out.push(b'\n');
                }
                out.extend_from_slice(r.join(",").as_bytes());
                out.extend_from_slice(if i == at && fault == 4 {
                    b"\r\n"
                } else {
                    b"\n"
                });
            }
            if unterminated && out.last() == Some(&b'\n') {
                out.pop();
            }
            (w, fault, out)
        })
}

fn alphabet_bytes(len: std::ops::Range<usize>) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop::sample::select(b"01,\"\n\r9x. -;\t\xef\xbb\xbf".to_vec()),
        len,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(600))]

    #[test]
    fn random_csv((dq, text) in prop::sample::select(vec![(b',', b'"'), (b';', b'"'), (b'\t', b'\'')])
        .prop_flat_map(|(d, q)| (Just((d, q)), csv(d, q, 0..30)))) {
        check(&text, dq.0, dq.1);
    }

    #[test]
    fn random_bytes(bytes in alphabet_bytes(0..200), dq in prop::sample::select(DIALECTS.to_vec())) {
        check(&bytes, dq.0, dq.1);
    }

    #[test]
    fn random_quoteless_bytes(bytes in prop::collection::vec(
            prop::sample::select(b"01,\n\r9 ;".to_vec()), 0..300)) {
        check(&bytes, b',', b'"');
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn long_csv(text in csv(b',', b'"', 300..700)) {
        prop_assume!(text.len() > 4096);
        check(&text, b',', b'"');
    }

    #[test]
    fn long_bytes(bytes in alphabet_bytes(4097..9000), dq in prop::sample::select(DIALECTS[..5].to_vec())) {
        check(&bytes, dq.0, dq.1);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(150))]

    #[test]
    fn tables((width, fault, text) in table_csv(0..2500)) {
        let want = reference_table(&text, b',', b'"', width);
        if fault == 0 || fault == 5 {
            prop_assert!(want.is_some(), "a table: {text:?}");
        }
        for imp in impls() {
            prop_assert_eq!(&table_trace(imp, &text, (b',', b'"'), width), &want, "{:?}", imp);
        }
    }
}

#[test]
fn specials_at_every_block_offset() {
    let templates: [&[u8]; 6] = [
        b"a,\"b,\nc\"\n\n1,2\r\n\"x\"\"y\",3",
        b"\r\n\r\n,\n\"\n\"\r\n",
        b"1\r\r\n2\n\r",
        b"\"unterminated,\n\r\nstill",
        b",,,\n,\r\n\"\"\"\"\n",
        b"x\"y\"z,\"\"\n\"\n\n\"",
    ];
    for t in templates {
        for pad in 0..140 {
            let mut text = vec![b'7'; pad];
            text.extend_from_slice(t);
            check(&text, b',', b'"');
            text.extend(std::iter::repeat_n(b'8', 200 - pad));
            check(&text, b',', b'"');
        }
    }
}

#[test]
fn known_cases() {
    for s in [
        &b""[..],
        b"\n",
        b"\r",
        b"\r\n",
        b"\"",
        b",",
        b"\n\n\r\n\r",
        b"a,\"b,\nc\"\n\n1,2\r\n\"x\"\"y\",3",
        b"a,\"b,c\"\r\n\n,\nx",
    ] {
        check(s, b',', b'"');
    }
}

#[test]
fn batch_boundaries() {
    // Stage 1 indexes 4096-byte batches: records, quotes and line endings across them.
    let pattern = b"12,\"a,\nb\",3\r\n\n\"x\"\"y\",,\n7;8\r\n";
    for len in [4095, 4096, 4097, 8190, 8191, 8192, 8193, 12289] {
        let text: Vec<u8> = pattern.iter().cycle().take(len).copied().collect();
        check(&text, b',', b'"');
        for last in [b'\n', b'\r', b'"', b','] {
            let mut t = text.clone();
            *t.last_mut().unwrap() = last;
            check(&t, b',', b'"');
            t[4095.min(len - 1)] = last;
            check(&t, b',', b'"');
        }
    }
}
