//! Robustness harness: arbitrary bytes and mutated real fixtures (bit flips, truncations,
//! splices, insertions) go through open + iterate + aggregate + collapse. Any outcome is fine
//! except a panic or a hang; errors must render. Cases are bounded so this runs in CI quickly;
//! raise PROPTEST_CASES to fuzz longer.

mod common;

use proptest::prelude::*;
use tachygate::aggregate::{aggregate, AggregateOptions, PathNormalizer};
use tachygate::profile::{collapsed, gap_stats, Profile};

/// Runs every consumer over the bytes; returns whether the whole file decoded.
fn exercise(bytes: Vec<u8>) -> bool {
    let p = match Profile::from_bytes(bytes) {
        Ok(p) => p,
        Err(e) => {
            let _ = e.to_string();
            return false;
        }
    };
    let _ = serde_json::to_string(p.meta()).unwrap();
    let mut ok = true;
    if let Ok(mut r) = p.samples() {
        let mut n = 0u64;
        while let Some(s) = r.next_sample() {
            match s {
                Ok(s) => {
                    n += 1;
                    assert!(s.stack.len() <= 256);
                    assert!(s.stack.iter().all(|&f| (f as usize) < p.frames().len()));
                }
                Err(e) => {
                    let _ = e.to_string();
                    ok = false;
                    break;
                }
            }
        }
        if ok {
            assert_eq!(n, p.meta().sample_count);
        }
    }
    let mut set = globset::GlobSetBuilder::new();
    set.add(globset::Glob::new("*:work").unwrap());
    let opts = AggregateOptions {
        paths: PathNormalizer::new(Some("/tmp".into())),
        ignore: Some(set.build().unwrap()),
        keep_stacks: true,
    };
    let a = aggregate(&p, &opts);
    let c = collapsed::collapse(&p);
    let g = gap_stats(&p);
    assert_eq!(a.is_ok(), ok);
    assert_eq!(c.is_ok(), ok);
    assert_eq!(g.is_ok(), ok);
    ok
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(common::data_dir().join("profiles").join(name)).unwrap()
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(b[at..at + 8].try_into().unwrap())
}

/// Replaces the sample region of a little-endian file and fixes the offsets and footer size,
/// so mutations get past the structural checks and reach the sample decoder.
fn with_region(file: &[u8], region: &[u8]) -> Vec<u8> {
    let sto = u64_at(file, 0x28) as usize;
    let fto = u64_at(file, 0x30) as usize;
    let mut out = file[..64].to_vec();
    out.extend_from_slice(region);
    out.extend_from_slice(&file[sto..]);
    let new_sto = 64 + region.len();
    out[0x28..0x30].copy_from_slice(&(new_sto as u64).to_le_bytes());
    out[0x30..0x38].copy_from_slice(&((fto - sto + new_sto) as u64).to_le_bytes());
    let n = out.len();
    out[n - 24..n - 16].copy_from_slice(&(n as u64).to_le_bytes());
    out
}

fn region(file: &[u8]) -> Vec<u8> {
    file[64..u64_at(file, 0x28) as usize].to_vec()
}

#[derive(Debug, Clone)]
enum Mutation {
    Flip(usize, u8),
    Truncate(usize),
    Splice(usize, usize, usize),
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 0u8..8).prop_map(|(i, b)| Mutation::Flip(i, b)),
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<usize>(), 1usize..64)
            .prop_map(|(a, b, n)| Mutation::Splice(a, b, n)),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..16))
            .prop_map(|(i, v)| Mutation::Insert(i, v)),
        (any::<usize>(), 1usize..32).prop_map(|(i, n)| Mutation::Delete(i, n)),
    ]
}

fn apply(mut b: Vec<u8>, muts: &[Mutation]) -> Vec<u8> {
    for m in muts {
        if b.is_empty() {
            break;
        }
        let len = b.len();
        match m {
            Mutation::Flip(i, bit) => b[i % len] ^= 1 << bit,
            Mutation::Truncate(i) => b.truncate(i % len),
            Mutation::Splice(from, to, n) => {
                let from = from % len;
                let to = to % len;
                let n = (*n).min(len - from).min(len - to);
                let chunk = b[from..from + n].to_vec();
                b[to..to + n].copy_from_slice(&chunk);
            }
            Mutation::Insert(i, v) => {
                let i = i % (len + 1);
                b.splice(i..i, v.iter().copied());
            }
            Mutation::Delete(i, n) => {
                let i = i % len;
                let end = (i + n).min(len);
                b.drain(i..end);
            }
        }
    }
    b
}

/// 1500 per property by default (a few seconds); `PROPTEST_CASES=100000` for a long run.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1500)
}

const FIXTURES: &[&str] = &[
    "cpu_raw.bin",
    "cpu_zstd.bin",
    "wall_threads.bin",
    "deep_recursion.bin",
    "native_opcodes.bin",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        exercise(bytes);
    }

    #[test]
    fn arbitrary_bytes_behind_a_valid_magic_never_panic(
        big in any::<bool>(),
        mut bytes in prop::collection::vec(any::<u8>(), 96..600),
    ) {
        bytes[0..4].copy_from_slice(if big { b"TACH" } else { b"HCAT" });
        bytes[4..8].copy_from_slice(&if big { 1u32.to_be_bytes() } else { 1u32.to_le_bytes() });
        exercise(bytes);
    }

    #[test]
    fn mutated_whole_fixtures_never_panic(
        which in 0..FIXTURES.len(),
        muts in prop::collection::vec(mutation(), 1..6),
    ) {
        exercise(apply(fixture(FIXTURES[which]), &muts));
    }

    #[test]
    fn mutated_raw_sample_regions_never_panic(
        muts in prop::collection::vec(mutation(), 1..6),
    ) {
        let f = fixture("cpu_raw.bin");
        let r = apply(region(&f), &muts);
        exercise(with_region(&f, &r));
    }

    #[test]
    fn mutated_decompressed_regions_never_panic(
        which in 0..FIXTURES.len(),
        muts in prop::collection::vec(mutation(), 1..6),
    ) {
        let f = fixture(FIXTURES[which]);
        let zstd = u32::from_le_bytes(f[0x38..0x3C].try_into().unwrap()) == 1;
        let records = if zstd { zstd::decode_all(&region(&f)[..]).unwrap() } else { region(&f) };
        let r = apply(records, &muts);
        let r = if zstd { zstd::encode_all(&r[..], 1).unwrap() } else { r };
        exercise(with_region(&f, &r));
    }
}

#[test]
fn unmutated_fixtures_decode_through_the_harness() {
    // Guards the harness itself: if the rebuild helpers broke files, the mutation properties
    // above would only ever exercise the error paths.
    for name in FIXTURES {
        let f = fixture(name);
        assert!(exercise(f.clone()), "{name}");
        assert!(exercise(with_region(&f, &region(&f))), "{name}");
    }
}
