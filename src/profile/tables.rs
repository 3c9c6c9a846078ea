//! String and frame tables. Both are uncompressed and sit after the sample region; entries are
//! parsed eagerly (they are small: one per distinct string / frame), each bounded by the table's
//! end so a hostile length cannot make us read or allocate past the file.

use super::cursor::Cursor;
use super::error::{ProfileError, Region};
use super::header::Layout;
use serde::Serialize;

/// One deduplicated frame. `filename`/`funcname` index [`super::Profile::strings`]; they are
/// checked for every frame a sample uses (unused frames may hold anything, as in CPython).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Frame {
    pub filename: u32,
    pub funcname: u32,
    /// -1 = unknown (synthetic frames).
    pub lineno: i32,
    pub end_lineno: i32,
    pub column: i32,
    pub end_column: i32,
    /// Bytecode opcode when recorded with `--opcodes`.
    pub opcode: Option<u8>,
}

pub fn parse_strings(
    bytes: &[u8],
    layout: &Layout,
    big_endian: bool,
) -> Result<Vec<String>, ProfileError> {
    let start = layout.string_table_offset;
    let end = layout.frame_table_offset;
    let region = bytes.get(start as usize..end as usize).unwrap_or(&[]);
    let mut c = Cursor::new(region, start, Region::File, big_endian);
    // Capacity is safe: the count was checked against the bytes left in the file.
    let count = layout.meta.string_count;
    let mut out = Vec::with_capacity(count as usize);
    for index in 0..count {
        let offset = c.offset();
        let len = c.varint_u32("string length")?;
        let raw =
            c.bytes(len as usize, "string bytes")
                .map_err(|_| ProfileError::StringOverrun {
                    index,
                    offset,
                    len: len.into(),
                })?;
        out.push(String::from_utf8_lossy(raw).into_owned());
    }
    Ok(out)
}

pub fn parse_frames(
    bytes: &[u8],
    layout: &Layout,
    big_endian: bool,
) -> Result<Vec<Frame>, ProfileError> {
    let start = layout.frame_table_offset;
    let end = layout.tables_end;
    let region = bytes.get(start as usize..end as usize).unwrap_or(&[]);
    let mut c = Cursor::new(region, start, Region::File, big_endian);
    let count = layout.meta.frame_count;
    let mut out = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let filename = c.varint_u32("frame filename index")?;
        let funcname = c.varint_u32("frame funcname index")?;
        let lineno = c.zigzag("frame lineno")?;
        let end_delta = c.zigzag("frame end_lineno delta")?;
        let column = c.zigzag("frame column")?;
        let end_col_delta = c.zigzag("frame end_column delta")?;
        let opcode = c.u8("frame opcode")?;
        out.push(Frame {
            filename,
            funcname,
            lineno,
            end_lineno: if lineno == -1 {
                -1
            } else {
                lineno.wrapping_add(end_delta)
            },
            column,
            end_column: if column == -1 {
                -1
            } else {
                column.wrapping_add(end_col_delta)
            },
            opcode: (opcode != 255).then_some(opcode),
        });
    }
    Ok(out)
}
