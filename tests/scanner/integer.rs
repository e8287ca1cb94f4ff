//! The fast `integer` against the reference: every string of up to four characters from
//! `0-9+- ` (and some other bytes), random longer ones, and the 2^53 and 18/19-digit limits.

use dfpar::parse::integer::{integer, reference};
use proptest::prelude::*;

fn same(s: &[u8]) {
    assert_eq!(integer(s), reference(s), "{:?}", String::from_utf8_lossy(s));
}

/// Every string over `alphabet` of length at most `max`.
fn all_strings(alphabet: &[u8], max: usize, mut f: impl FnMut(&[u8])) {
    let mut s = Vec::new();
    fn rec(alphabet: &[u8], max: usize, s: &mut Vec<u8>, f: &mut dyn FnMut(&[u8])) {
        f(s);
        if s.len() < max {
            for &c in alphabet {
                s.push(c);
                rec(alphabet, max, s, f);
                s.pop();
            }
        }
    }
    rec(alphabet, max, &mut s, &mut f);
}

#[test]
fn exhaustive_short_strings() {
    all_strings(b"0123456789+- ", 4, same);
    all_strings(b"09/:+-.\x00\x80\xff", 4, same);
}

#[test]
fn limits() {
    let exact = 1u64 << 53;
    for v in [
        exact - 1,
        exact,
        exact + 1,
        999_999_999_999_999_999,
        10u64.pow(17),
    ] {
        for sign in ["", "+", "-"] {
            same(format!("{sign}{v}").as_bytes());
            same(format!("{sign}0{v}").as_bytes());
            same(format!("{sign}00{v}").as_bytes());
        }
    }
    for n in 0..=22 {
        let ones = "1".repeat(n);
        let zeros_one = format!("{}1", "0".repeat(n));
        let nines = "9".repeat(n);
        for s in [ones, zeros_one, nines] {
            for sign in ["", "-", "+"] {
                same(format!("{sign}{s}").as_bytes());
            }
        }
    }
    assert_eq!(integer(b"000000000000000001"), Some(1));
    assert_eq!(integer(b"0000000000000000001"), None);
    assert_eq!(integer(b"-9007199254740992"), Some(-9007199254740992));
    assert_eq!(integer(b"9007199254740993"), None);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20000))]

    #[test]
    fn random_digit_strings(sign in "[+-]?", digits in "[0-9]{0,21}", bad in any::<Option<(prop::sample::Index, u8)>>()) {
        let mut s = format!("{sign}{digits}").into_bytes();
        if let Some((at, b)) = bad {
            if !s.is_empty() {
                let i = at.index(s.len());
                s[i] = b;
            }
        }
        same(&s);
    }

    #[test]
    fn random_bytes(s in prop::collection::vec(any::<u8>(), 0..24)) {
        same(&s);
    }
}
