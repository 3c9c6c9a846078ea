//! Decoder unit tests: semantics on hand-made files, one test per rejection the format notes
//! (section 9) require, and byte-order equivalence on real fixtures.

use super::testutil::{to_big_endian, varint, Builder, FrameSpec};
use super::*;

type Decoded = Vec<(u64, u8, u64, Vec<u32>)>;

fn decode(bytes: Vec<u8>) -> Result<Decoded, ProfileError> {
    let p = Profile::from_bytes(bytes)?;
    let mut r = p.samples()?;
    let mut v = Vec::new();
    while let Some(s) = r.next_sample() {
        let s = s?;
        v.push((s.thread_id, s.status, s.timestamp_us, s.stack.to_vec()));
    }
    Ok(v)
}

fn err(bytes: Vec<u8>) -> ProfileError {
    match decode(bytes) {
        Ok(v) => panic!("expected an error, decoded {} samples", v.len()),
        Err(e) => e,
    }
}

/// Every encoding, two threads.
fn sample_builder() -> Builder {
    let mut b = Builder::default();
    b.full(7, 5, 1, &[1, 0])
        .repeat(7, &[(3, 1), (4, 33)])
        .full(8, 2, 0, &[0])
        .suffix(7, 2, 1, &[2, 1])
        .pop_push(7, 1, 2, &[1])
        .pop_push(7, 1, 9, &[0])
        .repeat(8, &[(6, 0)]);
    b
}

fn expected_samples() -> Decoded {
    vec![
        (7, 1, 1005, vec![1, 0]),
        (7, 1, 1008, vec![1, 0]),
        (7, 33, 1012, vec![1, 0]),
        (8, 0, 1002, vec![0]),
        (7, 0, 1014, vec![2, 1, 0]),
        (7, 0, 1015, vec![1, 0]),
        (7, 0, 1016, vec![0]),
        (8, 0, 1008, vec![0]),
    ]
}

#[test]
fn decodes_every_record_encoding_with_per_thread_state() {
    assert_eq!(
        decode(sample_builder().build()).unwrap(),
        expected_samples()
    );
}

#[test]
fn zstd_and_big_endian_decode_identically() {
    for (zstd, big) in [(true, false), (false, true), (true, true)] {
        let mut b = sample_builder();
        b.zstd = zstd;
        b.big_endian = big;
        // Records must be re-emitted for big-endian prefixes.
        if big {
            b.records.clear();
            b.threads.clear();
            b.samples = 0;
            b.full(7, 5, 1, &[1, 0])
                .repeat(7, &[(3, 1), (4, 33)])
                .full(8, 2, 0, &[0])
                .suffix(7, 2, 1, &[2, 1])
                .pop_push(7, 1, 2, &[1])
                .pop_push(7, 1, 9, &[0])
                .repeat(8, &[(6, 0)]);
        }
        assert_eq!(
            decode(b.build()).unwrap(),
            expected_samples(),
            "zstd={zstd} big={big}"
        );
    }
}

/// The same records many times over: from the second round on every record takes the fast
/// path (known thread, cached transition, REPEATs), which must decode exactly what the checked
/// path decodes, in every byte order and compression; `next_slot_stack` agrees with
/// `next_sample`.
#[test]
fn repeated_records_take_the_fast_path_and_decode_identically() {
    const ROUNDS: u64 = 40;
    let mut expected = Vec::new();
    for k in 0..ROUNDS {
        expected.extend(expected_samples().into_iter().map(|(tid, st, ts, stack)| {
            let per_round = if tid == 7 { 16 } else { 8 };
            (tid, st, ts + per_round * k, stack)
        }));
    }
    for (zstd, big) in [(false, false), (true, false), (false, true), (true, true)] {
        let mut b = Builder {
            zstd,
            big_endian: big,
            ..Default::default()
        };
        for _ in 0..ROUNDS {
            b.full(7, 5, 1, &[1, 0])
                .repeat(7, &[(3, 1), (4, 33)])
                .full(8, 2, 0, &[0])
                .suffix(7, 2, 1, &[2, 1])
                .pop_push(7, 1, 2, &[1])
                .pop_push(7, 1, 9, &[0])
                .repeat(8, &[(6, 0)]);
        }
        let bytes = b.build();
        assert_eq!(
            decode(bytes.clone()).unwrap(),
            expected,
            "zstd={zstd} big={big}"
        );
        let p = Profile::from_bytes(bytes).unwrap();
        let mut r = p.samples().unwrap();
        let mut light = Vec::new();
        while let Some(s) = r.next_slot_stack() {
            let (slot, sid) = s.unwrap();
            let (tid, _) = r.slot_thread(slot).unwrap();
            light.push((tid, r.stack(u64::from(sid)).unwrap()));
        }
        let want: Vec<(u64, Vec<u32>)> = expected.iter().map(|e| (e.0, e.3.clone())).collect();
        assert_eq!(light, want, "zstd={zstd} big={big}");
    }
}

#[test]
fn metadata_from_header_and_trailer() {
    let mut b = sample_builder();
    b.config = 0xF9; // wall -a --native --opcodes
    let p = Profile::from_bytes(b.build()).unwrap();
    let m = p.meta();
    assert_eq!(m.python_version, "3.15.2");
    assert_eq!(m.mode, Mode::Wall);
    assert_eq!(m.sample_count, 8);
    assert_eq!(m.thread_count, 2);
    let f = m.features.unwrap();
    assert!(f.all_threads && f.native && f.gc && f.opcodes && !f.blocking);
    let s = m.stats.unwrap();
    assert_eq!(s.duration_s, 1.5);
    assert_eq!(s.error_rate_pct, Some(1.25));
    assert_eq!(p.frames()[1].end_lineno, 22);
    assert_eq!(p.frames()[1].end_column, 12);
    assert_eq!(p.frames()[1].opcode, None);
    assert!(p.is_profiler_frame(2));
    assert!(!p.is_profiler_frame(0));
    assert!(!p.is_profiler_frame(99));
}

#[test]
fn absent_stats_trailer_is_none() {
    let mut b = sample_builder();
    b.stats = None;
    assert!(Profile::from_bytes(b.build())
        .unwrap()
        .meta()
        .stats
        .is_none());
}

#[test]
fn zstd_stream_larger_than_the_window_decodes_like_raw() {
    let mut b = Builder::default();
    for i in 0..30_000u64 {
        let depth = 5 + (i % 40) as usize;
        let frames: Vec<u32> = (0..depth).map(|d| ((i as usize + d) % 2) as u32).collect();
        b.full(100 + i % 3, 1, 0, &frames);
        if i % 7 == 0 {
            b.repeat(100 + i % 3, &[(1, 0); 20]);
        }
    }
    assert!(b.records.len() > 3 * 256 * 1024);
    let raw = decode(b.build()).unwrap();
    b.zstd = true;
    assert_eq!(decode(b.build()).unwrap(), raw);
}

#[test]
fn a_large_zstd_file_opened_from_disk_streams_its_region_and_decodes_like_in_memory() {
    // Pseudo-random stacks over 200 frames: the compressed region exceeds STREAM_REGION_MIN.
    let mut b = Builder {
        frames: (0..200)
            .map(|i| FrameSpec {
                filename: 0,
                funcname: 1 + (i % 2),
                lineno: i as i32,
                opcode: 255,
            })
            .collect(),
        ..Builder::default()
    };
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..6_000u64 {
        let frames: Vec<u32> = (0..30)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x % 200) as u32
            })
            .collect();
        b.full(100 + i % 3, 1, 0, &frames);
    }
    b.zstd = true;
    let bytes = b.build();
    assert!(bytes.len() as u64 > super::STREAM_REGION_MIN + 64 + 4096);
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("big.bin");
    std::fs::write(&path, &bytes).unwrap();
    let read = |p: &Profile| {
        let mut r = p.samples().unwrap();
        let mut v = Vec::new();
        while let Some(s) = r.next_sample() {
            let s = s.unwrap();
            v.push((s.thread_id, s.timestamp_us, s.stack.to_vec()));
        }
        v
    };
    let from_disk = Profile::open(&path).unwrap();
    assert!(from_disk.file.is_some(), "the region should be streamed");
    let in_memory = Profile::from_bytes(bytes.clone()).unwrap();
    assert_eq!(read(&from_disk), read(&in_memory));
    assert_eq!(read(&from_disk).len(), 6_000);
    // A region cut short on disk is an incomplete frame, not a panic.
    let mut cut = bytes.clone();
    let sto = u64::from_le_bytes(cut[40..48].try_into().unwrap()) as usize;
    cut[sto - 100..sto].fill(0);
    std::fs::write(&path, &cut).unwrap();
    let p = Profile::open(&path).unwrap();
    let mut r = p.samples().unwrap();
    let mut failed = false;
    while let Some(s) = r.next_sample() {
        failed |= s.is_err();
    }
    assert!(failed, "corrupt zstd data must be reported");
}

// ---- Rejections (format notes section 9) ----

#[test]
fn rejects_file_shorter_than_header() {
    assert!(matches!(
        err(vec![0; 10]),
        ProfileError::TooShort { len: 10, .. }
    ));
}

#[test]
fn rejects_file_without_room_for_footer() {
    let mut v = sample_builder().build();
    v.truncate(80);
    assert!(matches!(err(v), ProfileError::TooShort { .. }));
}

#[test]
fn rejects_truncated_file_by_footer_size() {
    let mut v = sample_builder().build();
    let n = v.len();
    v.drain(n - 40..n - 33);
    assert!(matches!(
        err(v),
        ProfileError::FileSizeMismatch { .. } | ProfileError::BadMagic { .. }
    ));
}

#[test]
fn rejects_bad_magic() {
    let mut v = sample_builder().build();
    v[0..4].copy_from_slice(b"PK\x03\x04");
    assert!(matches!(err(v), ProfileError::BadMagic { .. }));
}

#[test]
fn rejects_unknown_version() {
    let mut b = sample_builder();
    b.version = 2;
    assert!(matches!(
        err(b.build()),
        ProfileError::UnsupportedVersion { version: 2 }
    ));
}

#[test]
fn rejects_mode_bits_6_and_7() {
    for bits in [6, 7] {
        let mut b = sample_builder();
        b.config = 0x48 | bits;
        assert!(
            matches!(err(b.build()), ProfileError::BadMode { .. }),
            "{bits}"
        );
    }
    let mut b = sample_builder();
    b.config = 0x48 | 5;
    assert_eq!(
        Profile::from_bytes(b.build()).unwrap().meta().mode,
        Mode::Exception
    );
}

#[test]
fn rejects_string_table_offset_out_of_range() {
    for off in [0, 63, 1 << 40] {
        let mut b = sample_builder();
        b.offsets.0 = Some(off);
        assert!(
            matches!(
                err(b.build()),
                ProfileError::OffsetOutOfRange {
                    what: "string table offset",
                    ..
                }
            ),
            "{off}"
        );
    }
}

#[test]
fn rejects_frame_table_offset_out_of_range() {
    for off in [64, u64::MAX] {
        let mut b = sample_builder();
        b.offsets.1 = Some(off);
        assert!(
            matches!(
                err(b.build()),
                ProfileError::OffsetOutOfRange {
                    what: "frame table offset",
                    ..
                }
            ),
            "{off}"
        );
    }
}

#[test]
fn rejects_string_count_larger_than_the_file() {
    let mut b = sample_builder();
    b.counts.0 = Some(u32::MAX);
    assert!(matches!(
        err(b.build()),
        ProfileError::CountTooLarge { what: "string", .. }
    ));
}

#[test]
fn rejects_frame_count_larger_than_the_file() {
    let mut b = sample_builder();
    b.counts.1 = Some(1_000);
    assert!(matches!(
        err(b.build()),
        ProfileError::CountTooLarge { what: "frame", .. }
    ));
}

#[test]
fn rejects_string_running_past_its_table() {
    let mut b = sample_builder();
    b.strings.push(Vec::new());
    // Claim one more string than written: the last "string" then reads frame-table bytes or
    // runs out; either way it must not be accepted silently as the right count.
    let mut v = b.build();
    // Corrupt the last string's length byte (0) into 0x7f: past the table end.
    let sto = 64 + b.records.len();
    let len_pos = sto + b.strings[..5].iter().map(|s| 1 + s.len()).sum::<usize>();
    v[len_pos] = 0x7f;
    assert!(matches!(
        err(v),
        ProfileError::StringOverrun { index: 5, .. }
    ));
}

#[test]
fn replaces_invalid_utf8_in_strings() {
    let mut b = sample_builder();
    b.strings[1] = b"ma\xffin".to_vec();
    let p = Profile::from_bytes(b.build()).unwrap();
    assert_eq!(p.strings()[1], "ma\u{fffd}in");
}

#[test]
fn rejects_varint_with_an_eleventh_byte() {
    let mut b = sample_builder();
    let mut body = vec![0x80; 10];
    body.push(0x00);
    b.raw(7, 1, &body);
    assert!(matches!(err(b.build()), ProfileError::VarintTooLong { .. }));
}

#[test]
fn rejects_frame_index_above_u32() {
    let mut b = sample_builder();
    let mut body = vec![1, 0, 1];
    varint(&mut body, 1 << 32);
    b.raw(7, 1, &body);
    assert!(matches!(
        err(b.build()),
        ProfileError::U32Overflow {
            what: "frame index",
            ..
        }
    ));
}

#[test]
fn rejects_frame_index_out_of_range() {
    let mut b = sample_builder();
    b.full(7, 1, 0, &[3]);
    match err(b.build()) {
        ProfileError::FrameIndexOutOfRange {
            index: 3,
            frame_count: 3,
            region: Region::File,
            ..
        } => {}
        e => panic!("{e}"),
    }
}

#[test]
fn rejects_string_index_out_of_range_only_when_a_sample_uses_the_frame() {
    let mut b = sample_builder();
    b.frames.push(FrameSpec {
        filename: 50,
        funcname: 1,
        lineno: 1,
        opcode: 255,
    });
    // Unused: fine.
    assert_eq!(decode(b.build()).unwrap().len(), 8);
    b.full(7, 1, 0, &[3]);
    assert!(matches!(
        err(b.build()),
        ProfileError::StringIndexOutOfRange {
            index: 50,
            frame: 3,
            ..
        }
    ));
}

#[test]
fn rejects_full_depth_over_256() {
    let mut b = sample_builder();
    b.full(7, 1, 0, &[0; 257]);
    assert!(matches!(
        err(b.build()),
        ProfileError::DepthTooLarge { depth: 257, .. }
    ));
    let mut ok = sample_builder();
    ok.full(7, 1, 0, &[0; 256]);
    assert!(decode(ok.build()).is_ok());
}

#[test]
fn rejects_suffix_and_pop_push_growing_past_256() {
    let mut b = sample_builder();
    b.full(7, 1, 0, &[0; 200]).suffix(7, 1, 200, &[1; 57]);
    assert!(matches!(
        err(b.build()),
        ProfileError::DepthTooLarge { depth: 257, .. }
    ));
    let mut b = sample_builder();
    b.full(7, 1, 0, &[0; 200]).pop_push(7, 1, 0, &[1; 57]);
    assert!(matches!(
        err(b.build()),
        ProfileError::DepthTooLarge { depth: 257, .. }
    ));
}

#[test]
fn rejects_suffix_sharing_more_than_the_previous_stack() {
    let mut b = sample_builder();
    b.full(9, 1, 0, &[0, 1]).suffix(9, 1, 3, &[]);
    assert!(matches!(
        err(b.build()),
        ProfileError::SharedTooLarge {
            shared: 3,
            previous: 2,
            ..
        }
    ));
}

#[test]
fn rejects_repeat_count_larger_than_remaining_bytes() {
    let mut b = sample_builder();
    let mut body = Vec::new();
    varint(&mut body, 1000);
    body.extend_from_slice(&[1, 0, 1, 0]);
    b.raw(7, 0, &body);
    assert!(matches!(
        err(b.build()),
        ProfileError::RepeatCountTooLarge { count: 1000, .. }
    ));
}

#[test]
fn rejects_repeat_count_too_large_in_zstd_stream() {
    let mut b = sample_builder();
    let mut body = Vec::new();
    varint(&mut body, 1000);
    body.extend_from_slice(&[1, 0, 1, 0]);
    b.raw(7, 0, &body);
    b.zstd = true;
    assert!(matches!(
        err(b.build()),
        ProfileError::RepeatCountTooLarge {
            region: Region::DecompressedSamples,
            ..
        }
    ));
}

#[test]
fn rejects_encoding_above_3_naming_its_offset() {
    let mut b = Builder::default();
    b.raw(7, 4, &[0, 0, 0]);
    match err(b.build()) {
        ProfileError::BadEncoding {
            encoding: 4,
            offset: 76,
            region: Region::File,
        } => {}
        e => panic!("{e}"),
    }
}

#[test]
fn rejects_sample_total_mismatch() {
    for n in [7, 9] {
        let mut b = sample_builder();
        b.sample_count = Some(n);
        assert!(
            matches!(
                err(b.build()),
                ProfileError::SampleCountMismatch { decoded: 8, .. }
            ),
            "{n}"
        );
    }
}

#[test]
fn rejects_incomplete_zstd_frame() {
    let mut b = sample_builder();
    let full = zstd::encode_all(&b.records[..], 3).unwrap();
    b.zstd = true;
    b.region = Some(full[..full.len() - 3].to_vec());
    assert!(matches!(
        err(b.build()),
        ProfileError::IncompleteZstdFrame { .. }
    ));
    b.region = Some(Vec::new());
    assert!(matches!(
        err(b.build()),
        ProfileError::IncompleteZstdFrame { .. }
    ));
}

#[test]
fn rejects_decompressed_region_above_the_cap() {
    let mut b = Builder::default();
    for _ in 0..20_000 {
        b.full(1, 1, 0, &[0, 1, 0, 1]);
    }
    b.zstd = true;
    let p = Profile::from_bytes(b.build()).unwrap();
    let mut r = p.samples_capped(64 * 1024).unwrap();
    let e = loop {
        match r.next_sample() {
            Some(Ok(_)) => continue,
            Some(Err(e)) => break e,
            None => panic!("cap not enforced"),
        }
    };
    assert!(
        matches!(e, ProfileError::DecompressedTooLarge { limit: 65536 }),
        "{e}"
    );
    // The same file is fine under the real cap.
    assert_eq!(decode(b.build()).unwrap().len(), 20_000);
}

#[test]
fn rejects_data_after_the_zstd_frame() {
    let mut b = sample_builder();
    let mut r = zstd::encode_all(&b.records[..], 3).unwrap();
    r.extend_from_slice(b"junk");
    b.zstd = true;
    b.region = Some(r);
    assert!(matches!(
        err(b.build()),
        ProfileError::TrailingZstdData { extra: 4, .. }
    ));
}

#[test]
fn rejects_corrupt_zstd_data() {
    let mut b = sample_builder();
    b.zstd = true;
    b.region = Some(b"\x28\xb5\x2f\xfd this is not zstd".to_vec());
    assert!(matches!(
        err(b.build()),
        ProfileError::Zstd { .. } | ProfileError::IncompleteZstdFrame { .. }
    ));
}

#[test]
fn rejects_trailing_garbage_in_the_sample_region() {
    let mut b = sample_builder();
    b.records.extend_from_slice(&[0, 0, 0, 0, 0]);
    assert!(matches!(err(b.build()), ProfileError::Truncated { offset, .. } if offset > 64));
}

#[test]
fn rejects_truncated_record_body() {
    let mut b = sample_builder();
    b.raw(7, 1, &[1, 0, 3, 0]);
    assert!(matches!(
        err(b.build()),
        ProfileError::Truncated {
            what: "frame index",
            ..
        }
    ));
}

#[test]
fn rejects_more_threads_than_thread_count() {
    let mut b = sample_builder();
    b.thread_count = Some(1);
    assert!(matches!(
        err(b.build()),
        ProfileError::TooManyThreads {
            thread_count: 1,
            thread_id: 8,
            ..
        }
    ));
}

#[test]
fn rejects_non_finite_or_negative_stats() {
    for stats in [
        (f64::NAN, 1.0, 0.0, 0.0, 3),
        (1.0, -1.0, 0.0, 0.0, 3),
        (1.0, 1.0, f64::INFINITY, 0.0, 1),
        (1.0, 1.0, 0.0, f64::NAN, 2),
    ] {
        let mut b = sample_builder();
        b.stats = Some(stats);
        assert!(
            matches!(err(b.build()), ProfileError::BadStats { .. }),
            "{stats:?}"
        );
    }
    // Invalid values behind a cleared "present" bit are ignored.
    let mut b = sample_builder();
    b.stats = Some((1.0, 1.0, f64::NAN, f64::NAN, 0));
    let m = Profile::from_bytes(b.build()).unwrap().meta().clone();
    assert_eq!(m.stats.unwrap().error_rate_pct, None);
}

#[test]
fn open_error_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.bin");
    std::fs::write(&p, b"nope").unwrap();
    let e = Profile::open(&p).unwrap_err().to_string();
    assert!(e.contains("x.bin") && e.contains("too short"), "{e}");
    let e = Profile::open(&dir.path().join("missing.bin"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("missing.bin"), "{e}");
}

// ---- Stacks and helpers ----

#[test]
fn collapse_drops_profiler_frames_and_empty_stacks() {
    let mut b = Builder::default();
    b.full(1, 1, 0, &[1, 0, 2])
        .full(1, 1, 0, &[2])
        .full(1, 1, 0, &[1, 0]);
    let p = Profile::from_bytes(b.build()).unwrap();
    let lines = collapsed::collapse(&p).unwrap();
    assert_eq!(
        lines,
        vec![collapsed::CollapsedLine {
            text: "tid:1;main.py:main:10;main.py:work:20".into(),
            count: 2
        }]
    );
}

#[test]
fn gap_stats_over_distinct_pass_timestamps() {
    let mut b = Builder::default();
    // Two threads sampled in the same passes (t = 1100, 1200, 1300, 1700).
    b.full(1, 100, 0, &[0])
        .full(2, 100, 0, &[0])
        .repeat(1, &[(100, 0), (100, 0), (400, 0)])
        .repeat(2, &[(100, 0), (100, 0), (400, 0)]);
    let p = Profile::from_bytes(b.build()).unwrap();
    let g = gap_stats(&p).unwrap();
    assert_eq!(g.median_us, 100.0);
    assert_eq!(g.p99_us, 400.0);
    assert_eq!(g.max_us, 400.0);
}

fn fixture(name: &str) -> Vec<u8> {
    let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/profiles")
        .join(name);
    std::fs::read(p).unwrap()
}

#[test]
fn big_endian_conversion_of_real_fixtures_decodes_identically() {
    for name in [
        "cpu_zstd.bin",
        "cpu_raw.bin",
        "wall_threads.bin",
        "deep_recursion.bin",
    ] {
        let le = fixture(name);
        let be = to_big_endian(&le);
        assert_ne!(le, be);
        let pl = Profile::from_bytes(le.clone()).unwrap();
        let pb = Profile::from_bytes(be.clone()).unwrap();
        assert_eq!(pb.meta().byte_order, ByteOrder::Big, "{name}");
        let mut ml = pl.meta().clone();
        ml.byte_order = ByteOrder::Big;
        ml.file_size = pb.meta().file_size;
        assert_eq!(&ml, pb.meta(), "{name}");
        assert_eq!(pl.strings(), pb.strings());
        assert_eq!(pl.frames(), pb.frames());
        assert_eq!(decode(le).unwrap(), decode(be).unwrap(), "{name}");
        assert_eq!(
            collapsed::collapse(&pl).unwrap(),
            collapsed::collapse(&pb).unwrap()
        );
    }
}

// ---- Model-based check of stack reconstruction (including the transition cache) ----

#[derive(Debug, Clone)]
enum Op {
    Full(u64, Vec<u32>),
    Suffix(u64, usize, Vec<u32>),
    PopPush(u64, usize, Vec<u32>),
    Repeat(u64, usize),
}

fn ops() -> impl proptest::strategy::Strategy<Value = Vec<Op>> {
    use proptest::prelude::*;
    let frames = || prop::collection::vec(0u32..3, 0..6);
    let op = prop_oneof![
        (0u64..3, frames()).prop_map(|(t, f)| Op::Full(t, f)),
        (0u64..3, 0usize..8, frames()).prop_map(|(t, s, f)| Op::Suffix(t, s, f)),
        (0u64..3, 0usize..8, frames()).prop_map(|(t, p, f)| Op::PopPush(t, p, f)),
        (0u64..3, 1usize..4).prop_map(|(t, n)| Op::Repeat(t, n)),
    ];
    prop::collection::vec(op, 1..60)
}

/// Writes the ops (skipping SUFFIXes that would be invalid) and returns the expected
/// (thread, stack) per sample from a naive model.
fn model(ops: &[Op]) -> (Builder, Vec<(u64, Vec<u32>)>) {
    let mut b = Builder::default();
    let mut state: std::collections::HashMap<u64, Vec<u32>> = Default::default();
    let mut want = Vec::new();
    for op in ops {
        match op {
            Op::Full(t, f) => {
                b.full(*t, 1, 0, f);
                state.insert(*t, f.clone());
            }
            Op::Suffix(t, shared, f) => {
                let old = state.entry(*t).or_default();
                if *shared > old.len() {
                    continue;
                }
                b.suffix(*t, 1, *shared as u64, f);
                let mut new = f.clone();
                new.extend_from_slice(&old[old.len() - shared..]);
                *old = new;
            }
            Op::PopPush(t, pop, f) => {
                let old = state.entry(*t).or_default();
                b.pop_push(*t, 1, *pop as u64, f);
                let mut new = f.clone();
                new.extend_from_slice(&old[(*pop).min(old.len())..]);
                *old = new;
            }
            Op::Repeat(t, n) => {
                state.entry(*t).or_default();
                b.repeat(*t, &vec![(1, 0); *n]);
                for _ in 1..*n {
                    want.push((*t, state[t].clone()));
                }
            }
        }
        want.push((op_thread(op), state[&op_thread(op)].clone()));
    }
    (b, want)
}

fn op_thread(op: &Op) -> u64 {
    match op {
        Op::Full(t, _) | Op::Suffix(t, _, _) | Op::PopPush(t, _, _) | Op::Repeat(t, _) => *t,
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig { cases: 300, ..Default::default() })]

    #[test]
    fn reconstructed_stacks_and_ids_match_a_naive_model(ops in ops()) {
        let (b, want) = model(&ops);
        let p = Profile::from_bytes(b.build()).unwrap();
        let mut r = p.samples().unwrap();
        let mut got = Vec::new();
        let mut ids: Vec<(u64, Vec<u32>)> = Vec::new();
        while let Some(s) = r.next_sample() {
            let s = s.unwrap();
            got.push((s.thread_id, s.stack.to_vec()));
            ids.push((s.stack_id, s.stack.to_vec()));
        }
        proptest::prop_assert_eq!(&got, &want);
        // Ids are equal exactly when stacks are, and map back to the stack.
        for (a_id, a) in &ids {
            proptest::prop_assert_eq!(r.stack(*a_id).unwrap(), a.clone());
            for (b_id, bb) in &ids {
                proptest::prop_assert_eq!(a_id == b_id, a == bb);
            }
        }
    }
}

#[test]
fn stacks_stay_correct_beyond_the_transition_cache_cap() {
    // More distinct transitions than the cache holds: later ones take the uncached path.
    let mut b = Builder {
        frames: (0..700)
            .map(|i| FrameSpec {
                filename: 0,
                funcname: 1,
                lineno: i,
                opcode: 255,
            })
            .collect(),
        ..Builder::default()
    };
    b.full(1, 1, 0, &[0, 1, 2]);
    let mut want = vec![vec![0, 1, 2]];
    for i in 0..300_000u32 {
        let push = [i % 700, (i / 700) % 700];
        b.pop_push(1, 1, 2, &push);
        let prev = want.last().unwrap();
        let mut new = push.to_vec();
        new.extend_from_slice(&prev[2.min(prev.len())..]);
        want.push(new);
    }
    let p = Profile::from_bytes(b.build()).unwrap();
    let mut r = p.samples().unwrap();
    let mut i = 0;
    while let Some(s) = r.next_sample() {
        assert_eq!(s.unwrap().stack, &want[i][..], "sample {i}");
        i += 1;
    }
    assert_eq!(i, want.len());
}

#[test]
fn cached_transitions_across_zstd_chunk_boundaries_match_the_model() {
    // A repeating mix of all encodings over several decompressed chunks: most records hit the
    // raw-bytes transition cache, and many straddle a chunk boundary.
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    let pattern: Vec<Op> = (0..500)
        .map(|_| {
            let t = next(3);
            let f: Vec<u32> = (0..next(6)).map(|_| next(3) as u32).collect();
            match next(4) {
                0 => Op::Full(t, f),
                1 => Op::Suffix(t, next(8) as usize, f),
                2 => Op::PopPush(t, next(8) as usize, f),
                _ => Op::Repeat(t, 1 + next(3) as usize),
            }
        })
        .collect();
    let ops: Vec<Op> = pattern.iter().cycle().take(100_000).cloned().collect();
    let (mut b, want) = model(&ops);
    b.zstd = true;
    assert!(b.records.len() > 4 * 128 * 1024);
    let p = Profile::from_bytes(b.build()).unwrap();
    let mut r = p.samples().unwrap();
    let mut got = Vec::new();
    while let Some(s) = r.next_sample() {
        let s = s.unwrap();
        got.push((s.thread_id, s.stack.to_vec()));
    }
    assert_eq!(got, want);
}
