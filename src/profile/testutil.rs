//! Test-only writer of valid (and deliberately broken) profiles, so every rejection can be
//! pinned with a small hand-made buffer, plus a little-endian -> big-endian converter for real
//! files (there is no big-endian machine to record one on).

use super::cursor::Cursor;
use super::error::Region;

pub fn varint(out: &mut Vec<u8>, mut v: u64) {
    loop {
        let b = (v & 0x7f) as u8;
        v >>= 7;
        if v == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

pub fn zigzag(out: &mut Vec<u8>, v: i32) {
    varint(out, u64::from(((v << 1) ^ (v >> 31)) as u32));
}

#[derive(Debug, Clone)]
pub struct FrameSpec {
    pub filename: u32,
    pub funcname: u32,
    pub lineno: i32,
    pub opcode: u8,
}

/// Builds a profile file. Defaults give a valid little-endian raw file with two frames.
#[derive(Debug, Clone)]
pub struct Builder {
    pub big_endian: bool,
    pub zstd: bool,
    pub version: u32,
    pub start_time_us: u64,
    pub interval_us: u64,
    /// `None`: the number of samples written.
    pub sample_count: Option<u64>,
    /// `None`: the number of distinct threads written.
    pub thread_count: Option<u32>,
    pub config: u32,
    pub strings: Vec<Vec<u8>>,
    pub frames: Vec<FrameSpec>,
    pub records: Vec<u8>,
    pub samples: u64,
    pub threads: Vec<(u64, u32)>,
    /// duration, rate, error rate, missed, present bits.
    pub stats: Option<(f64, f64, f64, f64, u32)>,
    /// Overrides applied after layout: (string_table_offset, frame_table_offset).
    pub offsets: (Option<u64>, Option<u64>),
    pub counts: (Option<u32>, Option<u32>),
    /// Replaces the sample region bytes as written (after compression).
    pub region: Option<Vec<u8>>,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            big_endian: false,
            zstd: false,
            version: 1,
            start_time_us: 1_000,
            interval_us: 100,
            sample_count: None,
            thread_count: None,
            config: 0x4A,
            strings: vec![
                b"/app/main.py".to_vec(),
                b"main".to_vec(),
                b"work".to_vec(),
                b"/py/_sync_coordinator.py".to_vec(),
                b"_run".to_vec(),
            ],
            frames: vec![
                FrameSpec {
                    filename: 0,
                    funcname: 1,
                    lineno: 10,
                    opcode: 255,
                },
                FrameSpec {
                    filename: 0,
                    funcname: 2,
                    lineno: 20,
                    opcode: 255,
                },
                FrameSpec {
                    filename: 3,
                    funcname: 4,
                    lineno: 5,
                    opcode: 255,
                },
            ],
            records: Vec::new(),
            samples: 0,
            threads: Vec::new(),
            stats: Some((1.5, 1000.0, 1.25, 0.0, 3)),
            offsets: (None, None),
            counts: (None, None),
            region: None,
        }
    }
}

impl Builder {
    fn prefix(&mut self, tid: u64, interp: u32, enc: u8) {
        if !self.threads.contains(&(tid, interp)) {
            self.threads.push((tid, interp));
        }
        let (t, i) = if self.big_endian {
            (tid.to_be_bytes(), interp.to_be_bytes())
        } else {
            (tid.to_le_bytes(), interp.to_le_bytes())
        };
        self.records.extend_from_slice(&t);
        self.records.extend_from_slice(&i);
        self.records.push(enc);
    }

    pub fn full(&mut self, tid: u64, delta: u64, status: u8, frames: &[u32]) -> &mut Self {
        self.prefix(tid, 0, 1);
        varint(&mut self.records, delta);
        self.records.push(status);
        varint(&mut self.records, frames.len() as u64);
        for &f in frames {
            varint(&mut self.records, u64::from(f));
        }
        self.samples += 1;
        self
    }

    pub fn suffix(&mut self, tid: u64, delta: u64, shared: u64, push: &[u32]) -> &mut Self {
        self.prefix(tid, 0, 2);
        varint(&mut self.records, delta);
        self.records.push(0);
        varint(&mut self.records, shared);
        varint(&mut self.records, push.len() as u64);
        for &f in push {
            varint(&mut self.records, u64::from(f));
        }
        self.samples += 1;
        self
    }

    pub fn pop_push(&mut self, tid: u64, delta: u64, pop: u64, push: &[u32]) -> &mut Self {
        self.prefix(tid, 0, 3);
        varint(&mut self.records, delta);
        self.records.push(0);
        varint(&mut self.records, pop);
        varint(&mut self.records, push.len() as u64);
        for &f in push {
            varint(&mut self.records, u64::from(f));
        }
        self.samples += 1;
        self
    }

    pub fn repeat(&mut self, tid: u64, entries: &[(u64, u8)]) -> &mut Self {
        self.prefix(tid, 0, 0);
        varint(&mut self.records, entries.len() as u64);
        for &(d, s) in entries {
            varint(&mut self.records, d);
            self.records.push(s);
        }
        self.samples += entries.len() as u64;
        self
    }

    /// Appends a record prefix for `tid` with an arbitrary encoding byte and body.
    pub fn raw(&mut self, tid: u64, enc: u8, body: &[u8]) -> &mut Self {
        self.prefix(tid, 0, enc);
        self.records.extend_from_slice(body);
        self
    }

    fn u32(&self, out: &mut Vec<u8>, v: u32) {
        out.extend_from_slice(&if self.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        });
    }

    fn u64(&self, out: &mut Vec<u8>, v: u64) {
        out.extend_from_slice(&if self.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        });
    }

    pub fn build(&self) -> Vec<u8> {
        let region = if let Some(r) = &self.region {
            r.clone()
        } else if self.zstd {
            zstd::encode_all(&self.records[..], 3).unwrap()
        } else {
            self.records.clone()
        };
        let mut tables = Vec::new();
        for s in &self.strings {
            varint(&mut tables, s.len() as u64);
            tables.extend_from_slice(s);
        }
        let sto = 64 + region.len() as u64;
        let fto = 64 + (region.len() + tables.len()) as u64;
        for f in &self.frames {
            varint(&mut tables, u64::from(f.filename));
            varint(&mut tables, u64::from(f.funcname));
            zigzag(&mut tables, f.lineno);
            zigzag(&mut tables, if f.lineno == -1 { 0 } else { 2 });
            zigzag(&mut tables, if f.lineno == -1 { -1 } else { 4 });
            zigzag(&mut tables, if f.lineno == -1 { 0 } else { 8 });
            tables.push(f.opcode);
        }
        let mut out = Vec::new();
        out.extend_from_slice(if self.big_endian { b"TACH" } else { b"HCAT" });
        self.u32(&mut out, self.version);
        out.extend_from_slice(&[3, 15, 2, 0]);
        self.u64(&mut out, self.start_time_us);
        self.u64(&mut out, self.interval_us);
        self.u64(&mut out, self.sample_count.unwrap_or(self.samples));
        self.u32(
            &mut out,
            self.thread_count.unwrap_or(self.threads.len() as u32),
        );
        self.u64(&mut out, self.offsets.0.unwrap_or(sto));
        self.u64(&mut out, self.offsets.1.unwrap_or(fto));
        self.u32(&mut out, u32::from(self.zstd));
        self.u32(&mut out, self.config);
        assert_eq!(out.len(), 64);
        out.extend_from_slice(&region);
        out.extend_from_slice(&tables);
        if let Some((d, r, e, m, present)) = self.stats {
            for v in [d, r, e, m] {
                self.u64(&mut out, v.to_bits());
            }
            self.u32(&mut out, present);
            self.u32(&mut out, 0);
            out.extend_from_slice(b"TACHSTAT");
            self.u32(&mut out, 1);
            self.u32(&mut out, 56);
        }
        self.u32(&mut out, self.counts.0.unwrap_or(self.strings.len() as u32));
        self.u32(&mut out, self.counts.1.unwrap_or(self.frames.len() as u32));
        let size = out.len() as u64 + 24;
        self.u64(&mut out, size);
        out.extend_from_slice(&[0; 16]);
        out
    }
}

fn swap_u32(b: &mut [u8], at: usize) {
    b[at..at + 4].reverse();
}

fn swap_u64(b: &mut [u8], at: usize) {
    b[at..at + 8].reverse();
}

/// Rewrites a valid little-endian profile as the big-endian writer would have written it:
/// magic, every fixed-width header/trailer/footer field and every record prefix swapped
/// (varints are byte-order independent). zstd regions are decompressed, converted and
/// recompressed, shifting the table offsets accordingly.
pub fn to_big_endian(le: &[u8]) -> Vec<u8> {
    assert_eq!(&le[0..4], b"HCAT");
    let rd64 = |at: usize| u64::from_le_bytes(le[at..at + 8].try_into().unwrap());
    let sto = rd64(0x28) as usize;
    let fto = rd64(0x30) as usize;
    let zstd = u32::from_le_bytes(le[0x38..0x3C].try_into().unwrap()) == 1;
    let mut records = if zstd {
        zstd::decode_all(&le[64..sto]).unwrap()
    } else {
        le[64..sto].to_vec()
    };
    // Walk the records to find each prefix.
    let mut pos = 0;
    while pos < records.len() {
        swap_u64(&mut records, pos);
        swap_u32(&mut records, pos + 8);
        let enc = records[pos + 12];
        let mut c = Cursor::new(&records[pos + 13..], 0, Region::File, false);
        match enc {
            0 => {
                let n = c.varint("n").unwrap();
                for _ in 0..n {
                    c.varint("d").unwrap();
                    c.u8("s").unwrap();
                }
            }
            1 => {
                c.varint("d").unwrap();
                c.u8("s").unwrap();
                let n = c.varint("n").unwrap();
                for _ in 0..n {
                    c.varint("f").unwrap();
                }
            }
            _ => {
                c.varint("d").unwrap();
                c.u8("s").unwrap();
                c.varint("a").unwrap();
                let n = c.varint("n").unwrap();
                for _ in 0..n {
                    c.varint("f").unwrap();
                }
            }
        }
        pos += 13 + c.pos();
    }
    let region = if zstd {
        zstd::encode_all(&records[..], 3).unwrap()
    } else {
        records
    };
    let shift = region.len() as i64 - (sto as i64 - 64);
    let mut out = le[..64].to_vec();
    out.extend_from_slice(&region);
    out.extend_from_slice(&le[sto..]);
    out[0..4].copy_from_slice(b"TACH");
    out[0x28..0x30].copy_from_slice(&((sto as i64 + shift) as u64).to_le_bytes());
    out[0x30..0x38].copy_from_slice(&((fto as i64 + shift) as u64).to_le_bytes());
    for at in [0x04, 0x24, 0x38, 0x3C] {
        swap_u32(&mut out, at);
    }
    for at in [0x0C, 0x14, 0x1C, 0x28, 0x30] {
        swap_u64(&mut out, at);
    }
    let n = out.len();
    let size = (n as u64).to_le_bytes();
    out[n - 24..n - 16].copy_from_slice(&size);
    swap_u32(&mut out, n - 32);
    swap_u32(&mut out, n - 28);
    swap_u64(&mut out, n - 24);
    if &out[n - 48..n - 40] == b"TACHSTAT" {
        let t = n - 88;
        for i in 0..4 {
            swap_u64(&mut out, t + 8 * i);
        }
        swap_u32(&mut out, t + 32);
        swap_u32(&mut out, t + 36);
        swap_u32(&mut out, t + 48);
        swap_u32(&mut out, t + 52);
    }
    out
}
