//! Decoder for CPython 3.15 Tachyon binary profiles (`profiling.sampling run --binary`).
//!
//! The format is described byte by byte in `docs/decoder.md` and the shared format notes; the
//! reference is CPython's own reader (`replay`), which this decoder matches: the same checks
//! (each a [`ProfileError`] variant naming the byte offset), the same sample stream and, via
//! [`collapsed`], byte-identical `--collapsed` output.
//!
//! Design: [`Profile::open`] validates the fixed-size parts and parses the string and frame
//! tables (small: one entry per distinct string/frame). Samples are never materialised:
//! [`Profile::samples`] streams them, decompressing zstd through a fixed window, so memory
//! grows with threads, frames and strings but not with the number of samples. Every count and
//! offset read from the file is checked against the bytes that could hold it before it is used.

pub mod collapsed;
mod cursor;
mod error;
mod header;
mod samples;
pub mod stack_tree;
mod tables;
#[cfg(test)]
mod tests;
#[cfg(test)]
pub(crate) mod testutil;

pub use error::{ProfileError, Region};
pub use header::{ByteOrder, Compression, Features, Mode, ProfileMeta, Stats};
pub use samples::{Sample, SampleReader, MAX_DECOMPRESSED, MAX_DEPTH};
pub use tables::Frame;

use std::path::Path;

/// File-name suffixes of the profiler's own frames, which `replay` drops from every stack.
pub const PROFILER_FRAME_SUFFIXES: &[&str] = &["_sync_coordinator.py"];

/// Whether a frame's filename belongs to the profiler itself (see [`PROFILER_FRAME_SUFFIXES`]).
pub fn is_profiler_filename(filename: &str) -> bool {
    PROFILER_FRAME_SUFFIXES
        .iter()
        .any(|s| filename.ends_with(s))
}

/// A decoded profile: metadata and tables in memory, samples streamed on demand.
#[derive(Debug)]
pub struct Profile {
    /// Shared with the decompression thread, which reads the sample region in place. For
    /// large zstd files opened from disk the sample region is not read here (see
    /// [`Profile::open`]): it stays untouched zero pages and `file` supplies it.
    bytes: std::sync::Arc<Vec<u8>>,
    file: Option<std::sync::Arc<std::fs::File>>,
    meta: ProfileMeta,
    strings: Vec<String>,
    frames: Vec<Frame>,
    /// Per frame: the first out-of-range string index it names, if any.
    bad_strings: Vec<Option<u32>>,
    usable: Vec<bool>,
    all_usable: bool,
    profiler_frames: Vec<bool>,
    sample_region_end: usize,
}

impl Profile {
    /// Reads and validates a profile file. Errors carry the path.
    ///
    /// A zstd sample region larger than [`STREAM_REGION_MIN`] is not read into memory: the
    /// decompression thread streams it from the file, so memory does not grow with the number
    /// of samples. Everything else (header, tables, trailer, footer) is read and validated here.
    pub fn open(path: &Path) -> Result<Profile, ProfileError> {
        let io = |source| ProfileError::Io {
            path: path.to_path_buf(),
            cause: source,
        };
        let file = std::fs::File::open(path).map_err(io)?;
        let (bytes, streamed) = read_profile_file(&file).map_err(io)?;
        let mut p = Profile::from_bytes(bytes).map_err(|e| e.with_path(path))?;
        if streamed {
            p.file = Some(std::sync::Arc::new(file));
        }
        Ok(p)
    }

    /// Validates a profile held in memory.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<Profile, ProfileError> {
        let layout = header::parse(&bytes)?;
        let big = layout.meta.byte_order == ByteOrder::Big;
        let strings = tables::parse_strings(&bytes, &layout, big)?;
        let frames = tables::parse_frames(&bytes, &layout, big)?;
        let n = strings.len() as u32;
        let bad_strings: Vec<Option<u32>> = frames
            .iter()
            .map(|f| {
                if f.filename >= n {
                    Some(f.filename)
                } else if f.funcname >= n {
                    Some(f.funcname)
                } else {
                    None
                }
            })
            .collect();
        let profiler_frames = frames
            .iter()
            .map(|f| {
                strings
                    .get(f.filename as usize)
                    .is_some_and(|s| is_profiler_filename(s))
            })
            .collect();
        let usable: Vec<bool> = bad_strings.iter().map(Option::is_none).collect();
        Ok(Profile {
            all_usable: usable.iter().all(|&u| u),
            usable,
            sample_region_end: layout.string_table_offset as usize,
            bytes: std::sync::Arc::new(bytes),
            file: None,
            meta: layout.meta,
            strings,
            frames,
            bad_strings,
            profiler_frames,
        })
    }

    pub fn meta(&self) -> &ProfileMeta {
        &self.meta
    }

    pub fn strings(&self) -> &[String] {
        &self.strings
    }

    pub fn frames(&self) -> &[Frame] {
        &self.frames
    }

    /// Streams the samples in file order. Each call starts from the beginning.
    pub fn samples(&self) -> Result<SampleReader<'_>, ProfileError> {
        self.samples_capped(MAX_DECOMPRESSED)
    }

    /// The sample region (raw or compressed), empty if the layout left none.
    pub(super) fn sample_region(&self) -> &[u8] {
        self.bytes
            .get(header::HEADER_SIZE as usize..self.sample_region_end)
            .unwrap_or(&[])
    }

    /// [`Profile::samples`] with a different decompressed-size cap (tests use a small one).
    pub(crate) fn samples_capped(&self, cap: u64) -> Result<SampleReader<'_>, ProfileError> {
        let range = header::HEADER_SIZE as usize..self.sample_region_end;
        let range = if self.bytes.get(range.clone()).is_some() {
            range
        } else {
            0..0
        };
        let input = match &self.file {
            Some(f) => samples::RegionInput::File(std::sync::Arc::clone(f)),
            None => samples::RegionInput::Bytes(std::sync::Arc::clone(&self.bytes)),
        };
        SampleReader::new(self, input, range, cap)
    }

    /// Whether frame `index` is one of the profiler's own frames, which `replay` drops.
    /// Out-of-range indices are not profiler frames.
    pub fn is_profiler_frame(&self, index: u32) -> bool {
        self.profiler_frames
            .get(index as usize)
            .copied()
            .unwrap_or(false)
    }

    /// Filename of a frame ("" if its index is out of range: only possible for frames that no
    /// sample uses, since the sample decoder rejects those).
    pub fn filename(&self, frame: &Frame) -> &str {
        self.strings
            .get(frame.filename as usize)
            .map_or("", String::as_str)
    }

    /// Function name of a frame (see [`Profile::filename`]).
    pub fn funcname(&self, frame: &Frame) -> &str {
        self.strings
            .get(frame.funcname as usize)
            .map_or("", String::as_str)
    }

    pub(crate) fn big_endian(&self) -> bool {
        self.meta.byte_order == ByteOrder::Big
    }

    /// Whether every frame names valid strings (the normal case): then a frame index only
    /// needs a range check.
    #[inline]
    pub(crate) fn all_frames_usable(&self) -> bool {
        self.all_usable
    }

    /// In range and naming valid strings: what every frame a sample uses must be.
    #[inline]
    pub(crate) fn frame_usable(&self, frame: u32) -> bool {
        self.usable.get(frame as usize).copied().unwrap_or(false)
    }

    pub(crate) fn bad_string_ref(&self, frame: u32) -> Option<u32> {
        self.bad_strings.get(frame as usize).copied().flatten()
    }
}

/// Zstd sample regions at least this large are streamed from the file instead of read whole.
/// (Smaller in unit tests, so they can build such files quickly.)
pub const STREAM_REGION_MIN: u64 = if cfg!(test) { 64 * 1024 } else { 1 << 20 };

/// The file's bytes, and whether the sample region was left out (all zeros, never written, so
/// its pages are never touched: a large zeroed allocation costs no resident memory until used).
/// Only a well-formed zstd header with a region of at least [`STREAM_REGION_MIN`] bytes leaves
/// it out; anything else is read whole, and validation reports what is wrong with it.
fn read_profile_file(file: &std::fs::File) -> std::io::Result<(Vec<u8>, bool)> {
    use std::io::Read;
    use std::os::unix::fs::FileExt;
    let len = file.metadata()?.len();
    let mut head = [0u8; header::HEADER_SIZE as usize];
    let region_end = if len >= header::HEADER_SIZE + STREAM_REGION_MIN {
        file.read_exact_at(&mut head, 0)?;
        let big = match &head[..4] {
            b"HCAT" => Some(false),
            b"TACH" => Some(true),
            _ => None,
        };
        big.and_then(|big| {
            let field = |at: usize, n: usize| {
                let b = &head[at..at + n];
                let mut v = 0u64;
                for i in 0..n {
                    let byte = if big { b[i] } else { b[n - 1 - i] };
                    v = v << 8 | u64::from(byte);
                }
                v
            };
            let (string_table, compression) = (field(40, 8), field(56, 4));
            (compression == 1
                && string_table <= len
                && string_table >= header::HEADER_SIZE + STREAM_REGION_MIN)
                .then_some(string_table)
        })
    } else {
        None
    };
    let Some(end) = region_end else {
        let mut bytes = Vec::new();
        (&*file).read_to_end(&mut bytes)?;
        return Ok((bytes, false));
    };
    let mut bytes = vec![0u8; len as usize];
    bytes[..head.len()].copy_from_slice(&head);
    file.read_exact_at(&mut bytes[end as usize..], end)?;
    Ok((bytes, true))
}

/// Statistics of the gaps between consecutive sampling passes (microseconds). Lives with the
/// decoder that measures it; the runner stores it in its run records.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize, Default)]
pub struct GapStats {
    pub median_us: f64,
    pub p99_us: f64,
    pub max_us: f64,
}

/// Gaps between consecutive sampling passes: distinct sample timestamps (threads sampled in one
/// pass share one) in time order. All zero with fewer than two passes.
pub fn gap_stats(profile: &Profile) -> Result<GapStats, ProfileError> {
    let mut times = Vec::new();
    let mut reader = profile.samples()?;
    let mut last = None;
    while let Some(s) = reader.next_light() {
        let (_, ts, _) = s?;
        // Cheap pre-dedup: REPEAT runs and same-pass threads arrive together.
        if last != Some(ts) {
            times.push(ts);
            last = Some(ts);
        }
    }
    times.sort_unstable();
    times.dedup();
    let mut gaps: Vec<u64> = times.windows(2).map(|w| w[1] - w[0]).collect();
    if gaps.is_empty() {
        return Ok(GapStats::default());
    }
    gaps.sort_unstable();
    Ok(GapStats {
        median_us: median(&gaps),
        p99_us: nearest_rank(&gaps, 0.99) as f64,
        max_us: gaps[gaps.len() - 1] as f64,
    })
}

fn median(sorted: &[u64]) -> f64 {
    let n = sorted.len();
    if n % 2 == 1 {
        sorted[n / 2] as f64
    } else {
        (sorted[n / 2 - 1] as f64 + sorted[n / 2] as f64) / 2.0
    }
}

/// Nearest-rank percentile of a non-empty sorted slice.
fn nearest_rank(sorted: &[u64], p: f64) -> u64 {
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}
