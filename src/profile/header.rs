//! Fixed-size parts of the file: the 64-byte header, the 32-byte footer and the optional
//! 56-byte stats trailer. These decide the byte order and where everything else lives, so
//! every offset and count is checked against the file size here, before any table is read.

use super::cursor::Cursor;
use super::error::{ProfileError, Region};
use serde::Serialize;

pub const HEADER_SIZE: u64 = 64;
pub const FOOTER_SIZE: u64 = 32;
pub const TRAILER_SIZE: u64 = 56;
const MAGIC_LE: [u8; 4] = *b"HCAT";
const MAGIC_BE: [u8; 4] = *b"TACH";

/// Byte order of the fixed-width fields (the writer's native order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ByteOrder {
    Little,
    Big,
}

/// Sample-region compression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Compression {
    None,
    Zstd,
}

/// Sampling mode stored in the profiling config word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Unknown,
    Wall,
    Cpu,
    Gil,
    All,
    Exception,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Unknown => "unknown",
            Mode::Wall => "wall",
            Mode::Cpu => "cpu",
            Mode::Gil => "gil",
            Mode::All => "all",
            Mode::Exception => "exception",
        }
    }
}

/// Capture features recorded by the profiler (`None` in [`ProfileMeta`] when not recorded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct Features {
    pub all_threads: bool,
    pub native: bool,
    pub gc: bool,
    pub opcodes: bool,
    pub blocking: bool,
}

/// Measured sampler statistics from the stats trailer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Stats {
    pub duration_s: f64,
    pub sample_rate: f64,
    /// Percent of sampling attempts that failed, when recorded.
    pub error_rate_pct: Option<f64>,
    pub missed_samples: Option<f64>,
}

/// Everything about a profile except its tables and samples.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProfileMeta {
    /// `major.minor.micro` of the profiled interpreter.
    pub python_version: String,
    /// Monotonic clock, microseconds.
    pub start_time_us: u64,
    pub interval_us: u64,
    /// Total thread-samples the header promises (checked while iterating).
    pub sample_count: u64,
    pub thread_count: u32,
    pub mode: Mode,
    pub features: Option<Features>,
    pub compression: Compression,
    pub byte_order: ByteOrder,
    pub stats: Option<Stats>,
    pub file_size: u64,
    pub string_count: u32,
    pub frame_count: u32,
}

/// Parsed fixed-size structure plus where the variable parts are.
#[derive(Debug, Clone)]
pub struct Layout {
    pub meta: ProfileMeta,
    pub string_table_offset: u64,
    pub frame_table_offset: u64,
    /// Where the frame table must end: the stats trailer or the footer.
    pub tables_end: u64,
}

pub fn parse(bytes: &[u8]) -> Result<Layout, ProfileError> {
    let len = bytes.len() as u64;
    if len < HEADER_SIZE {
        return Err(ProfileError::TooShort {
            len,
            needed: HEADER_SIZE,
        });
    }
    let magic: [u8; 4] = [bytes[0], bytes[1], bytes[2], bytes[3]];
    let big_endian = match magic {
        MAGIC_LE => false,
        MAGIC_BE => true,
        found => return Err(ProfileError::BadMagic { found }),
    };
    let mut c = Cursor::new(bytes, 0, Region::File, big_endian);
    c.u32("magic")?;
    let version = c.u32("version")?;
    if version != 1 {
        return Err(ProfileError::UnsupportedVersion { version });
    }
    let py = c.bytes(4, "python version")?;
    let python_version = format!("{}.{}.{}", py[0], py[1], py[2]);
    let start_time_us = c.u64("start time")?;
    let interval_us = c.u64("sample interval")?;
    let sample_count = c.u64("sample count")?;
    let thread_count = c.u32("thread count")?;
    let string_table_offset = c.u64("string table offset")?;
    let frame_table_offset = c.u64("frame table offset")?;
    let compression = if c.u32("compression")? == 1 {
        Compression::Zstd
    } else {
        Compression::None
    };
    let (mode, features) = profiling_config(c.u32("profiling config")?)?;
    let footer = parse_footer(bytes, big_endian)?;
    let (string_count, frame_count, footer_start) =
        (footer.string_count, footer.frame_count, footer.start);

    let stats = parse_trailer(bytes, big_endian)?;
    let tables_end = if stats.is_some() {
        footer_start - TRAILER_SIZE
    } else {
        footer_start
    };
    check_tables(
        len,
        &footer,
        string_table_offset,
        frame_table_offset,
        tables_end,
    )?;

    Ok(Layout {
        meta: ProfileMeta {
            python_version,
            start_time_us,
            interval_us,
            sample_count,
            thread_count,
            mode,
            features,
            compression,
            byte_order: if big_endian {
                ByteOrder::Big
            } else {
                ByteOrder::Little
            },
            stats,
            file_size: len,
            string_count,
            frame_count,
        },
        string_table_offset,
        frame_table_offset,
        tables_end,
    })
}

/// The sampling mode (low 3 bits) and, when bit 3 is set, the feature flags above bit 4.
fn profiling_config(config: u32) -> Result<(Mode, Option<Features>), ProfileError> {
    let mode = match config & 7 {
        0 => Mode::Unknown,
        1 => Mode::Wall,
        2 => Mode::Cpu,
        3 => Mode::Gil,
        4 => Mode::All,
        5 => Mode::Exception,
        bits => return Err(ProfileError::BadMode { bits }),
    };
    let features = (config & 8 != 0).then(|| {
        let f = config >> 4;
        Features {
            all_threads: f & 1 != 0,
            native: f & 2 != 0,
            gc: f & 4 != 0,
            opcodes: f & 8 != 0,
            blocking: f & 16 != 0,
        }
    });
    Ok((mode, features))
}

/// The fixed footer at the end of the file.
struct Footer {
    start: u64,
    string_count: u32,
    frame_count: u32,
}

fn parse_footer(bytes: &[u8], big_endian: bool) -> Result<Footer, ProfileError> {
    let len = bytes.len() as u64;
    if len < HEADER_SIZE + FOOTER_SIZE {
        return Err(ProfileError::TooShort {
            len,
            needed: HEADER_SIZE + FOOTER_SIZE,
        });
    }
    let start = len - FOOTER_SIZE;
    let mut f = Cursor::new(&bytes[start as usize..], start, Region::File, big_endian);
    let string_count = f.u32("string count")?;
    let frame_count = f.u32("frame count")?;
    let recorded_size = f.u64("file size")?;
    if recorded_size != len {
        return Err(ProfileError::FileSizeMismatch {
            offset: start + 8,
            recorded: recorded_size,
            actual: len,
        });
    }
    Ok(Footer {
        start,
        string_count,
        frame_count,
    })
}

/// The tables' offsets lie inside the file in order, and the footer's counts fit in the room
/// the tables have.
fn check_tables(
    len: u64,
    footer: &Footer,
    string_table_offset: u64,
    frame_table_offset: u64,
    tables_end: u64,
) -> Result<(), ProfileError> {
    let (string_count, frame_count, footer_start) =
        (footer.string_count, footer.frame_count, footer.start);
    if string_table_offset < HEADER_SIZE || string_table_offset > len {
        return Err(ProfileError::OffsetOutOfRange {
            what: "string table offset",
            value: string_table_offset,
            offset: 0x28,
            bound: format!("must be within {HEADER_SIZE}..={len}"),
        });
    }
    if frame_table_offset < string_table_offset || frame_table_offset > tables_end {
        return Err(ProfileError::OffsetOutOfRange {
            what: "frame table offset",
            value: frame_table_offset,
            offset: 0x30,
            bound: format!("must be within {string_table_offset}..={tables_end}"),
        });
    }
    // Each string needs at least its 1-byte length; each frame at least 7 bytes.
    let string_room = len - string_table_offset;
    if u64::from(string_count) > string_room {
        return Err(ProfileError::CountTooLarge {
            what: "string",
            count: string_count.into(),
            offset: footer_start,
            available: string_room,
        });
    }
    let frame_room = len - frame_table_offset;
    if u64::from(frame_count) > frame_room / 7 {
        return Err(ProfileError::CountTooLarge {
            what: "frame",
            count: frame_count.into(),
            offset: footer_start + 4,
            available: frame_room,
        });
    }
    Ok(())
}

fn parse_trailer(bytes: &[u8], big_endian: bool) -> Result<Option<Stats>, ProfileError> {
    let len = bytes.len() as u64;
    if len < HEADER_SIZE + FOOTER_SIZE + TRAILER_SIZE {
        return Ok(None);
    }
    let start = len - FOOTER_SIZE - TRAILER_SIZE;
    let t = &bytes[start as usize..(len - FOOTER_SIZE) as usize];
    if &t[40..48] != b"TACHSTAT" {
        return Ok(None);
    }
    let bad = |reason: String| ProfileError::BadStats {
        offset: start,
        reason,
    };
    let mut c = Cursor::new(t, start, Region::File, big_endian);
    let duration_s = c.f64("stats duration")?;
    let sample_rate = c.f64("stats sample rate")?;
    let error_rate = c.f64("stats error rate")?;
    let missed = c.f64("stats missed samples")?;
    let present = c.u32("stats present bits")?;
    let _reserved = c.u32("stats reserved")?;
    c.bytes(8, "stats magic")?;
    let version = c.u32("stats version")?;
    let size = c.u32("stats size")?;
    if version != 1 {
        return Err(bad(format!("stats version {version}, expected 1")));
    }
    if u64::from(size) != TRAILER_SIZE {
        return Err(bad(format!("stats size {size}, expected {TRAILER_SIZE}")));
    }
    let nonneg = |name: &str, v: f64| {
        if v.is_finite() && v >= 0.0 {
            Ok(v)
        } else {
            Err(bad(format!("{name} is {v}, must be finite and >= 0")))
        }
    };
    let duration_s = nonneg("duration", duration_s)?;
    let sample_rate = nonneg("sample rate", sample_rate)?;
    let error_rate_pct = if present & 1 != 0 {
        Some(nonneg("error rate", error_rate)?)
    } else {
        None
    };
    let missed_samples = if present & 2 != 0 {
        if !missed.is_finite() {
            return Err(bad(format!("missed samples is {missed}, must be finite")));
        }
        Some(missed)
    } else {
        None
    };
    Ok(Some(Stats {
        duration_s,
        sample_rate,
        error_rate_pct,
        missed_samples,
    }))
}
