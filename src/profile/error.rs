//! Typed decoding errors. Every variant says what is wrong and where: a byte offset into the
//! file, or (for the zstd-compressed sample region) into the decompressed sample stream, as the
//! variant's message states.

use std::path::PathBuf;

/// Where an offset points: the file itself, or the decompressed sample stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Region {
    File,
    /// Offsets count bytes of the decompressed sample records (the region starts at file offset 64).
    DecompressedSamples,
}

impl std::fmt::Display for Region {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Region::File => write!(f, "file offset"),
            Region::DecompressedSamples => write!(f, "decompressed sample-stream offset"),
        }
    }
}

/// Why a profile could not be decoded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    #[error("{path}: cannot read profile: {cause}")]
    Io {
        path: PathBuf,
        cause: std::io::Error,
    },
    /// Wraps any other error with the file it came from.
    #[error("{path}: {cause}")]
    InFile {
        path: PathBuf,
        cause: Box<ProfileError>,
    },
    #[error("file is {len} bytes, too short for a Tachyon profile (needs at least {needed}: header and footer); was the profiler interrupted?")]
    TooShort { len: u64, needed: u64 },
    #[error("bad magic {found:02x?} at file offset 0: not a Tachyon binary profile (expected \"HCAT\" or \"TACH\")")]
    BadMagic { found: [u8; 4] },
    #[error("unsupported format version {version} at file offset 4 (this decoder reads version 1, written by CPython 3.15)")]
    UnsupportedVersion { version: u32 },
    #[error(
        "invalid profiling mode bits {bits} in the config word at file offset 60 (valid: 0-5)"
    )]
    BadMode { bits: u32 },
    #[error("{what} {value} at file offset {offset} is out of range ({bound}); the file is corrupt or truncated")]
    OffsetOutOfRange {
        what: &'static str,
        value: u64,
        offset: u64,
        bound: String,
    },
    #[error("footer at file offset {offset} says the file is {recorded} bytes but it is {actual}; truncated or not a complete profile")]
    FileSizeMismatch {
        offset: u64,
        recorded: u64,
        actual: u64,
    },
    #[error("{what} count {count} (footer at file offset {offset}) is larger than the {available} bytes that could hold it")]
    CountTooLarge {
        what: &'static str,
        count: u64,
        offset: u64,
        available: u64,
    },
    #[error("unexpected end of data at {region} {offset} while reading {what}")]
    Truncated {
        region: Region,
        offset: u64,
        what: &'static str,
    },
    #[error("varint at {region} {offset} is longer than 10 bytes")]
    VarintTooLong { region: Region, offset: u64 },
    #[error("varint at {region} {offset} overflows 64 bits")]
    VarintOverflow { region: Region, offset: u64 },
    #[error("value {value} at {region} {offset} does not fit in 32 bits ({what})")]
    U32Overflow {
        region: Region,
        offset: u64,
        value: u64,
        what: &'static str,
    },
    #[error(
        "string {index} at file offset {offset} is {len} bytes, past the end of the string table"
    )]
    StringOverrun { index: u32, offset: u64, len: u64 },
    #[error("{what} table ends at file offset {end}, past {limit}")]
    TableOverrun {
        what: &'static str,
        end: u64,
        limit: u64,
    },
    #[error("invalid stats trailer at file offset {offset}: {reason}")]
    BadStats { offset: u64, reason: String },
    #[error("invalid record encoding {encoding} at {region} {offset} (valid: 0-3)")]
    BadEncoding {
        region: Region,
        offset: u64,
        encoding: u8,
    },
    #[error("more distinct threads than the header's thread_count {thread_count} (new thread {thread_id}/{interpreter_id} at {region} {offset})")]
    TooManyThreads {
        region: Region,
        offset: u64,
        thread_count: u32,
        thread_id: u64,
        interpreter_id: u32,
    },
    #[error("REPEAT count {count} at {region} {offset} is larger than the remaining {remaining} bytes allow")]
    RepeatCountTooLarge {
        region: Region,
        offset: u64,
        count: u64,
        remaining: u64,
    },
    #[error("stack depth {depth} at {region} {offset} exceeds the maximum of 256")]
    DepthTooLarge {
        region: Region,
        offset: u64,
        depth: u64,
    },
    #[error("SUFFIX record at {region} {offset} shares {shared} frames but the thread's previous stack has {previous}")]
    SharedTooLarge {
        region: Region,
        offset: u64,
        shared: u64,
        previous: usize,
    },
    #[error(
        "frame index {index} at {region} {offset} is out of range (frame table has {frame_count})"
    )]
    FrameIndexOutOfRange {
        region: Region,
        offset: u64,
        index: u32,
        frame_count: u32,
    },
    #[error("frame {frame} (used at {region} {offset}) names string {index}, out of range (string table has {string_count})")]
    StringIndexOutOfRange {
        region: Region,
        offset: u64,
        frame: u32,
        index: u32,
        string_count: u32,
    },
    #[error("sample region decoded to {decoded} samples but the header (file offset 28) says {expected}")]
    SampleCountMismatch { decoded: u64, expected: u64 },
    #[error("zstd sample region (file offsets 64..{end}) is invalid: {reason}")]
    Zstd { end: u64, reason: String },
    #[error("zstd sample region ends before its frame is complete (file offsets 64..{end}); the file is truncated or corrupt")]
    IncompleteZstdFrame { end: u64 },
    #[error("{extra} bytes of trailing data after the zstd frame in the sample region (file offsets 64..{end})")]
    TrailingZstdData { end: u64, extra: u64 },
    #[error("decompressed sample region exceeds the {limit}-byte cap")]
    DecompressedTooLarge { limit: u64 },
}

impl ProfileError {
    /// Attaches the file path unless the error already names it.
    pub fn with_path(self, path: &std::path::Path) -> ProfileError {
        match self {
            e @ (ProfileError::Io { .. } | ProfileError::InFile { .. }) => e,
            e => ProfileError::InFile {
                path: path.to_path_buf(),
                cause: Box::new(e),
            },
        }
    }
}
