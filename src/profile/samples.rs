//! Streaming sample decoder. Records are decoded in file order with per-thread state (the
//! writer emits them out of time order), straight from the raw region or through a streaming
//! zstd decoder with a fixed-size window, so memory depends on the number of threads and the
//! window, never on the number of samples.

use super::cursor::Cursor;
use super::error::{ProfileError, Region};
use super::header::{Compression, HEADER_SIZE};
use super::stack_tree::{StackTree, TransitionMap, ROOT};
use super::Profile;
use std::collections::HashMap;

/// The writer cuts stacks to the innermost 256 frames; deeper ones are corrupt.
pub const MAX_DEPTH: usize = 256;
/// CPython refuses to decompress sample regions beyond this.
pub const MAX_DECOMPRESSED: u64 = 1 << 30;
/// Longest possible non-REPEAT record: 13-byte prefix, four 10-byte varints and a status byte,
/// 256 frame indices of up to 10 bytes each (padded varints are legal).
const MAX_RECORD: usize = 13 + 10 + 1 + 10 + 10 + MAX_DEPTH * 10;
/// Longest REPEAT entry: 10-byte delta varint and the status byte.
const MAX_REPEAT_ENTRY: usize = 11;
/// Free space at the front of each decompressed chunk: the reader moves the unread tail of the
/// previous chunk (always shorter than the record it needs) there instead of copying the new
/// chunk after it.
const HEAD: usize = MAX_RECORD;
/// Transitions remembered (each a few words); beyond this, stacks are rebuilt and interned
/// directly, so neither hostile files nor profiles whose stacks rarely repeat grow the cache
/// without bound. Repetitive profiles need far fewer (the benchmark profile: about 9,000).
const TRANSITION_CACHE_CAP: usize = 1 << 16;
/// And at most this many key bytes (4 MiB), since hostile keys can be long.
const TRANSITION_CACHE_BYTES: usize = 4 << 20;

const ENC_REPEAT: u8 = 0;
const ENC_FULL: u8 = 1;
const ENC_SUFFIX: u8 = 2;
const ENC_POP_PUSH: u8 = 3;

/// One thread-sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample<'a> {
    pub thread_id: u64,
    pub interpreter_id: u32,
    /// Status flags (1 HAS_GIL, 2 ON_CPU, 4 UNKNOWN, 8 GIL_REQUESTED, 16 HAS_EXCEPTION,
    /// 32 MAIN_THREAD).
    pub status: u8,
    /// Absolute sample time, microseconds on the profiler's monotonic clock.
    pub timestamp_us: u64,
    /// Samples this item stands for (currently always 1: REPEAT entries each carry their own
    /// timestamp and status, so they are yielded one by one).
    pub weight: u64,
    /// Frame-table indices, innermost first (profiler frames included; see
    /// [`Profile::is_profiler_frame`]).
    pub stack: &'a [u32],
    /// Dense index of the stack's contents within one reader (0, 1, ... in order of first
    /// appearance; 0 is the empty stack): equal ids if and only if equal stacks. Consumers can
    /// count by it without hashing stacks; [`SampleReader::stack`] maps it back.
    pub stack_id: u64,
}

struct ThreadState {
    thread_id: u64,
    interpreter_id: u32,
    ts: u64,
    /// Current stack, as a node of `SampleReader::stacks`.
    cur: u32,
}

/// Where the compressed sample region comes from.
pub(super) enum RegionInput {
    /// The whole file, shared with the [`Profile`] (not copied).
    Bytes(std::sync::Arc<Vec<u8>>),
    /// The file itself, read in `INPUT_CHUNK` pieces (large files; see [`Profile::open`]).
    File(std::sync::Arc<std::fs::File>),
}

const INPUT_CHUNK: usize = 256 * 1024;

struct ZstdSource {
    dec: zstd::stream::raw::Decoder<'static>,
    input: RegionInput,
    /// For [`RegionInput::File`]: file bytes from offset `window_start`.
    window: Vec<u8>,
    window_start: usize,
    /// The frame is the file's bytes `in_pos..in_end`.
    in_pos: usize,
    in_end: usize,
    /// File offset of the region's end, for errors.
    report_end: u64,
    done: bool,
    total_out: u64,
    cap: u64,
}

impl ZstdSource {
    /// Decompresses into `out`; Ok(0) means the frame ended (and nothing follows it).
    fn fill(&mut self, out: &mut [u8]) -> Result<usize, ProfileError> {
        use zstd::stream::raw::{InBuffer, Operation, OutBuffer};
        let end = self.report_end;
        if self.done || out.is_empty() {
            return Ok(0);
        }
        loop {
            let rest = match &self.input {
                RegionInput::Bytes(b) => b.get(self.in_pos..self.in_end).unwrap_or(&[]),
                RegionInput::File(f) => {
                    // `in_pos` only grows, and the window is refilled from it once consumed.
                    if self.in_pos >= self.window_start + self.window.len()
                        && self.in_pos < self.in_end
                    {
                        use std::os::unix::fs::FileExt;
                        let n = INPUT_CHUNK.min(self.in_end - self.in_pos);
                        self.window.resize(n, 0);
                        self.window_start = self.in_pos;
                        f.read_exact_at(&mut self.window, self.in_pos as u64)
                            .map_err(|e| ProfileError::Zstd {
                                end,
                                reason: format!("cannot read the sample region: {e}"),
                            })?;
                    }
                    let from = (self.in_pos - self.window_start).min(self.window.len());
                    &self.window[from..]
                }
            };
            let mut inb = InBuffer::around(rest);
            let mut outb = OutBuffer::around(&mut *out);
            let hint = self
                .dec
                .run(&mut inb, &mut outb)
                .map_err(|e| ProfileError::Zstd {
                    end,
                    reason: e.to_string(),
                })?;
            let read = inb.pos();
            let written = outb.pos();
            self.in_pos += read;
            self.total_out += written as u64;
            if self.total_out > self.cap {
                return Err(ProfileError::DecompressedTooLarge { limit: self.cap });
            }
            if hint == 0 {
                self.done = true;
                let extra = self.in_end.saturating_sub(self.in_pos);
                if extra > 0 {
                    return Err(ProfileError::TrailingZstdData {
                        end,
                        extra: extra as u64,
                    });
                }
                return Ok(written);
            }
            if written > 0 {
                return Ok(written);
            }
            if read == 0 {
                // No progress with output space available: the input is exhausted mid-frame.
                return Err(ProfileError::IncompleteZstdFrame { end });
            }
        }
    }
}

/// Chunks of decompressed sample records, from the decompression thread.
enum Chunk {
    Data(Vec<u8>),
    Done,
    Failed(ProfileError),
}

const CHUNK: usize = 128 * 1024;
const PIPE_BUFFERS: usize = 4;

/// Decompresses on a second thread so zstd overlaps with record decoding: the reader's cost
/// is then mostly its own. Memory is bounded by `PIPE_BUFFERS` chunks in flight. Dropping the
/// pipe disconnects both channels, which ends the thread at its next send or receive.
struct ZstdPipe {
    rx: std::sync::mpsc::Receiver<Chunk>,
    recycle: std::sync::mpsc::Sender<Vec<u8>>,
    done: bool,
    end: u64,
}

impl ZstdPipe {
    fn spawn(mut src: ZstdSource, end: u64) -> Result<ZstdPipe, ProfileError> {
        use std::sync::mpsc::{channel, sync_channel, TryRecvError};
        let (tx, rx) = sync_channel::<Chunk>(PIPE_BUFFERS - 2);
        let (recycle, recycle_rx) = channel::<Vec<u8>>();
        std::thread::Builder::new()
            .name("tachygate-zstd".into())
            .spawn(move || {
                let mut allocated = 0;
                loop {
                    let mut buf = match recycle_rx.try_recv() {
                        Ok(b) => b,
                        Err(TryRecvError::Empty) if allocated < PIPE_BUFFERS => {
                            allocated += 1;
                            Vec::with_capacity(CHUNK)
                        }
                        Err(TryRecvError::Empty) => match recycle_rx.recv() {
                            Ok(b) => b,
                            Err(_) => return,
                        },
                        Err(TryRecvError::Disconnected) => return,
                    };
                    // Recycled buffers come back at full length: zero only new ones.
                    buf.resize(HEAD + CHUNK, 0);
                    let mut n = HEAD;
                    let mut finished = false;
                    while n < HEAD + CHUNK {
                        match src.fill(&mut buf[n..]) {
                            Ok(0) => {
                                finished = true;
                                break;
                            }
                            Ok(k) => n += k,
                            Err(e) => {
                                let _ = tx.send(Chunk::Failed(e));
                                return;
                            }
                        }
                    }
                    buf.truncate(n);
                    if n > HEAD && tx.send(Chunk::Data(buf)).is_err() {
                        return;
                    }
                    if finished {
                        let _ = tx.send(Chunk::Done);
                        return;
                    }
                }
            })
            .map_err(|e| ProfileError::Zstd {
                end,
                reason: format!("cannot start the decompression thread: {e}"),
            })?;
        Ok(ZstdPipe {
            rx,
            recycle,
            done: false,
            end,
        })
    }

    fn recycle(&mut self, used: Vec<u8>) {
        if used.capacity() > 0 {
            let _ = self.recycle.send(used);
        }
    }

    /// The next chunk (decompressed bytes from `HEAD` on), `None` at the end of the frame.
    fn next_chunk(&mut self) -> Result<Option<Vec<u8>>, ProfileError> {
        if self.done {
            return Ok(None);
        }
        match self.rx.recv() {
            Ok(Chunk::Data(b)) => Ok(Some(b)),
            Ok(Chunk::Done) => {
                self.done = true;
                Ok(None)
            }
            Ok(Chunk::Failed(e)) => {
                self.done = true;
                Err(e)
            }
            Err(_) => {
                self.done = true;
                Err(ProfileError::Zstd {
                    end: self.end,
                    reason: "the decompression thread stopped unexpectedly".into(),
                })
            }
        }
    }
}

/// Streams the samples of a [`Profile`]; see [`Profile::samples`].
pub struct SampleReader<'p> {
    profile: &'p Profile,
    /// Raw region (uncompressed profiles).
    raw: &'p [u8],
    zstd: Option<ZstdPipe>,
    buf: Vec<u8>,
    pos: usize,
    end: usize,
    /// Stream offset of `buf[0]` (zstd) or of `raw[0]` relative to the region (always 0).
    window_base: u64,
    region: Region,
    /// Added to stream offsets when reporting: 64 for raw regions (file offsets), 0 for zstd.
    report_base: u64,
    eof: bool,
    threads: Vec<ThreadState>,
    thread_slots: HashMap<(u64, u32), usize>,
    last_slot: usize,
    scratch: Vec<u32>,
    /// Every distinct stack seen so far, as a prefix tree (memory grows with distinct stack
    /// prefixes, not samples).
    stacks: StackTree,
    /// The current sample's frames, filled only by [`SampleReader::next_sample`].
    frames_buf: Vec<u32>,
    /// Transition cache: (previous stack id, encoding, raw record body after the status byte)
    /// -> new stack id. Most records repeat a change seen before on the same stack, so a lookup
    /// keyed by the record's few bytes replaces decoding, validating and re-interning the stack.
    trans: TransitionMap,
    pending_repeat: u64,
    repeat_slot: usize,
    decoded: u64,
    finished: bool,
}

impl<'p> SampleReader<'p> {
    /// `range` is the sample region within `bytes` (the profile's file bytes).
    pub(super) fn new(
        profile: &'p Profile,
        input: RegionInput,
        range: std::ops::Range<usize>,
        cap: u64,
    ) -> Result<Self, ProfileError> {
        let region: &'p [u8] = profile.sample_region();
        let (raw, zstd, buf, reg, report_base, end) = match profile.meta().compression {
            Compression::None => (
                region,
                None,
                Vec::new(),
                Region::File,
                HEADER_SIZE,
                region.len(),
            ),
            Compression::Zstd => {
                let dec = zstd::stream::raw::Decoder::new().map_err(|e| ProfileError::Zstd {
                    end: HEADER_SIZE + region.len() as u64,
                    reason: e.to_string(),
                })?;
                let src = ZstdSource {
                    dec,
                    in_pos: range.start,
                    in_end: range.end,
                    report_end: HEADER_SIZE + region.len() as u64,
                    input,
                    window: Vec::new(),
                    window_start: 0,
                    done: false,
                    total_out: 0,
                    cap,
                };
                let end = HEADER_SIZE + region.len() as u64;
                (
                    &[][..],
                    Some(ZstdPipe::spawn(src, end)?),
                    Vec::new(),
                    Region::DecompressedSamples,
                    0,
                    0,
                )
            }
        };
        let eof = zstd.is_none();
        // Node 0 (ROOT): the empty stack every thread starts with.
        let stacks = StackTree::new();
        Ok(SampleReader {
            profile,
            raw,
            zstd,
            buf,
            pos: 0,
            end,
            window_base: 0,
            region: reg,
            report_base,
            eof,
            threads: Vec::new(),
            thread_slots: HashMap::new(),
            last_slot: usize::MAX,
            scratch: Vec::with_capacity(MAX_DEPTH),
            stacks,
            frames_buf: Vec::with_capacity(MAX_DEPTH),
            trans: TransitionMap::new(),
            pending_repeat: 0,
            repeat_slot: 0,
            decoded: 0,
            finished: false,
        })
    }

    /// The stack with id `stack_id` (see [`Sample::stack_id`]), innermost first.
    pub fn stack(&self, stack_id: u64) -> Option<Vec<u32>> {
        let id = u32::try_from(stack_id).ok()?;
        ((id as usize) < self.stacks.len()).then(|| self.stacks.frames(id).collect())
    }

    /// The prefix tree of every stack seen so far: stack ids are its node ids.
    pub fn stack_tree(&self) -> &StackTree {
        &self.stacks
    }

    /// Number of distinct stacks and stack prefixes seen so far (valid ids are
    /// `0..distinct_stacks()`).
    pub fn distinct_stacks(&self) -> usize {
        self.stacks.len()
    }

    /// Thread-samples decoded so far.
    pub fn decoded(&self) -> u64 {
        self.decoded
    }

    /// Next sample, `None` at the end; after an error the reader is finished.
    #[allow(clippy::should_implement_trait)]
    pub fn next_sample(&mut self) -> Option<Result<Sample<'_>, ProfileError>> {
        if self.finished {
            return None;
        }
        match self.advance() {
            Ok(Some((slot, status))) => {
                let t = &self.threads[slot];
                self.frames_buf.clear();
                self.frames_buf.extend(self.stacks.frames(t.cur));
                Some(Ok(Sample {
                    thread_id: t.thread_id,
                    interpreter_id: t.interpreter_id,
                    status,
                    timestamp_us: t.ts,
                    weight: 1,
                    stack: &self.frames_buf,
                    stack_id: u64::from(t.cur),
                }))
            }
            Ok(None) => {
                self.finished = true;
                None
            }
            Err(e) => {
                self.finished = true;
                Some(Err(e))
            }
        }
    }

    /// Like [`SampleReader::next_sample`] but yields only (thread id, stack id) of each
    /// thread-sample (weight 1), for consumers that count by stack id: it skips walking the
    /// stack's frames, a chain of cache misses per sample.
    pub fn next_stack_id(&mut self) -> Option<Result<(u64, u64), ProfileError>> {
        self.next_light().map(|r| r.map(|(tid, _, sid)| (tid, sid)))
    }

    /// Like [`SampleReader::next_stack_id`] but with the thread's slot instead of its id:
    /// (slot, stack id). Slots are dense (0, 1, ... in order of first appearance, fewer than
    /// the header's thread count) and name a (thread id, interpreter id) pair, see
    /// [`SampleReader::slot_thread`]; consumers index arrays by them instead of hashing ids.
    #[inline]
    pub fn next_slot_stack(&mut self) -> Option<Result<(u32, u32), ProfileError>> {
        if self.finished {
            return None;
        }
        match self.advance() {
            Ok(Some((slot, _))) => Some(Ok((slot as u32, self.threads[slot].cur))),
            Ok(None) => {
                self.finished = true;
                None
            }
            Err(e) => {
                self.finished = true;
                Some(Err(e))
            }
        }
    }

    /// (thread id, interpreter id) of a slot from [`SampleReader::next_slot_stack`].
    pub fn slot_thread(&self, slot: u32) -> Option<(u64, u32)> {
        self.threads
            .get(slot as usize)
            .map(|t| (t.thread_id, t.interpreter_id))
    }

    /// Like [`SampleReader::next_stack_id`], also with the sample's timestamp:
    /// (thread id, timestamp in µs, stack id).
    pub fn next_light(&mut self) -> Option<Result<(u64, u64, u64), ProfileError>> {
        if self.finished {
            return None;
        }
        match self.advance() {
            Ok(Some((slot, _))) => {
                let t = &self.threads[slot];
                Some(Ok((t.thread_id, t.ts, u64::from(t.cur))))
            }
            Ok(None) => {
                self.finished = true;
                None
            }
            Err(e) => {
                self.finished = true;
                Some(Err(e))
            }
        }
    }

    /// Makes at least `n` bytes available at `pos`, unless the stream ends first.
    #[inline(always)]
    fn ensure(&mut self, n: usize) -> Result<(), ProfileError> {
        if self.eof || self.end - self.pos >= n {
            return Ok(());
        }
        self.refill(n)
    }

    #[inline(never)]
    fn refill(&mut self, n: usize) -> Result<(), ProfileError> {
        let Some(src) = self.zstd.as_mut() else {
            return Ok(());
        };
        // Callers need at most HEAD bytes, so the unread tail (shorter than what was asked
        // for) fits in front of the next chunk: only it is copied, never a whole chunk.
        debug_assert!(n <= HEAD);
        while self.end - self.pos < n {
            let used = std::mem::take(&mut self.buf);
            let Some(mut chunk) = src.next_chunk()? else {
                self.buf = used;
                self.eof = true;
                break;
            };
            let left = self.end - self.pos;
            let start = HEAD - left;
            chunk[start..HEAD].copy_from_slice(&used[self.pos..self.end]);
            // Stream offset of the new buf[0]; wraps below zero for the first chunk, which
            // is fine: only window_base + pos is ever used.
            self.window_base = self
                .window_base
                .wrapping_add(self.pos as u64)
                .wrapping_sub(start as u64);
            self.pos = start;
            self.end = chunk.len();
            self.buf = chunk;
            src.recycle(used);
        }
        Ok(())
    }

    fn cursor_base(&self) -> u64 {
        self.report_base
            .wrapping_add(self.window_base)
            .wrapping_add(self.pos as u64)
    }

    /// Decodes up to the next sample; returns its thread slot and status. The common cases
    /// are inlined into the caller's loop; everything else goes through
    /// [`SampleReader::advance_slow`].
    #[inline(always)]
    fn advance(&mut self) -> Result<Option<(usize, u8)>, ProfileError> {
        if self.pending_repeat > 0 {
            if let Some(r) = self.fast_repeat_entry() {
                return Ok(Some(r));
            }
            return self.advance_slow();
        }
        match self.fast_record() {
            Fast::Hit(r) => Ok(Some(r)),
            Fast::Repeat => match self.fast_repeat_entry() {
                Some(r) => Ok(Some(r)),
                None => self.advance_slow(),
            },
            Fast::Miss(m) => self.decode_miss(m),
            Fast::Other => self.advance_slow(),
        }
    }

    /// A record the fast path parsed up to a transition-cache miss: decoded from its body on,
    /// without parsing it again.
    #[inline(never)]
    fn decode_miss(&mut self, m: Miss) -> Result<Option<(usize, u8)>, ProfileError> {
        self.last_slot = m.slot;
        self.decode_body(
            m.slot,
            m.encoding,
            m.delta,
            m.status,
            m.body_start,
            Some(m.len),
        )
    }

    /// [`SampleReader::advance`] through the checked decoder (after making a whole record
    /// available, which may bring the record back to the fast path).
    #[inline(never)]
    fn advance_slow(&mut self) -> Result<Option<(usize, u8)>, ProfileError> {
        loop {
            if self.pending_repeat > 0 {
                return self.repeat_entry().map(Some);
            }
            self.ensure(MAX_RECORD)?;
            match self.fast_record() {
                Fast::Hit(r) => return Ok(Some(r)),
                // The REPEAT's prefix and count are consumed: its first entry is next.
                Fast::Repeat => continue,
                Fast::Miss(m) => return self.decode_miss(m),
                Fast::Other => {}
            }
            if self.pos == self.end {
                let expected = self.profile.meta().sample_count;
                if self.decoded != expected {
                    return Err(ProfileError::SampleCountMismatch {
                        decoded: self.decoded,
                        expected,
                    });
                }
                return Ok(None);
            }
            if let Some(r) = self.record()? {
                return Ok(Some(r));
            }
        }
    }

    /// The bytes from `pos` on that are in memory.
    #[inline(always)]
    fn window(&self) -> &[u8] {
        if self.zstd.is_some() {
            self.buf.get(self.pos..self.end).unwrap_or(&[])
        } else {
            self.raw.get(self.pos..self.end).unwrap_or(&[])
        }
    }

    /// The common record, decoded without the checked cursor: a thread seen before, short
    /// varints, and a transition already in the cache (so its frames were validated when it
    /// was first decoded). Anything else is left to [`SampleReader::record`], which reports
    /// errors; nothing is changed then. The low-cardinality benchmark in docs/decoder.md
    /// measured this path against the checked one alone.
    #[inline(always)]
    fn fast_record(&mut self) -> Fast {
        let data = self.window();
        let Some(head) = data.get(..13) else {
            return Fast::Other;
        };
        let encoding = head[12];
        if encoding > ENC_POP_PUSH {
            return Fast::Other;
        }
        let mut tid = [0u8; 8];
        tid.copy_from_slice(&head[..8]);
        let mut interp = [0u8; 4];
        interp.copy_from_slice(&head[8..12]);
        let (thread_id, interpreter_id) = if self.profile.big_endian() {
            (u64::from_be_bytes(tid), u32::from_be_bytes(interp))
        } else {
            (u64::from_le_bytes(tid), u32::from_le_bytes(interp))
        };
        let Some(slot) = self.known_slot(thread_id, interpreter_id) else {
            return Fast::Other;
        };
        let mut p = 13;
        if encoding == ENC_REPEAT {
            // As `record` does it: the count is a u32, checked against the bytes left once the
            // end of the stream is known; empty REPEATs are left to it.
            let Some(count) = short_varint(data, &mut p) else {
                return Fast::Other;
            };
            if count == 0
                || count > u64::from(u32::MAX)
                || (self.eof && count > (data.len() - p) as u64 / 2)
            {
                return Fast::Other;
            }
            self.pos += p;
            self.pending_repeat = count;
            self.repeat_slot = slot;
            self.last_slot = slot;
            return Fast::Repeat;
        }
        let Some(delta) = short_varint(data, &mut p) else {
            return Fast::Other;
        };
        let Some(&status) = data.get(p) else {
            return Fast::Other;
        };
        p += 1;
        let body = &data[p..];
        let Some(len) = body_span(encoding, body) else {
            return Fast::Other;
        };
        let prev = self.threads[slot].cur;
        let Some(new_id) = self
            .trans
            .get_in(transition_prev(prev, encoding), encoding, body, len)
        else {
            return Fast::Miss(Miss {
                slot,
                encoding,
                delta,
                status,
                body_start: p,
                len,
            });
        };
        let t = &mut self.threads[slot];
        t.cur = new_id;
        t.ts = t.ts.wrapping_add(delta);
        self.last_slot = slot;
        self.pos += p + len;
        self.decoded += 1;
        Fast::Hit((slot, status))
    }

    /// A REPEAT entry with a short delta, without the checked cursor; `None` leaves it to
    /// [`SampleReader::repeat_entry`].
    #[inline(always)]
    fn fast_repeat_entry(&mut self) -> Option<(usize, u8)> {
        let data = self.window();
        let mut p = 0;
        let delta = short_varint(data, &mut p)?;
        let &status = data.get(p)?;
        self.pos += p + 1;
        self.pending_repeat -= 1;
        let slot = self.repeat_slot;
        let t = &mut self.threads[slot];
        t.ts = t.ts.wrapping_add(delta);
        self.decoded += 1;
        Some((slot, status))
    }

    /// The slot of a thread seen before, if it is the last one used or one of a few.
    #[inline(always)]
    fn known_slot(&self, thread_id: u64, interpreter_id: u32) -> Option<usize> {
        if let Some(t) = self.threads.get(self.last_slot) {
            if t.thread_id == thread_id && t.interpreter_id == interpreter_id {
                return Some(self.last_slot);
            }
        }
        if self.threads.len() > 16 {
            return None;
        }
        self.threads
            .iter()
            .position(|t| t.thread_id == thread_id && t.interpreter_id == interpreter_id)
    }

    fn repeat_entry(&mut self) -> Result<(usize, u8), ProfileError> {
        self.ensure(MAX_REPEAT_ENTRY)?;
        let base = self.cursor_base();
        let (region, big) = (self.region, self.profile.big_endian());
        let data = if self.zstd.is_some() {
            &self.buf[self.pos..self.end]
        } else {
            &self.raw[self.pos..self.end]
        };
        let mut c = Cursor::new(data, base, region, big);
        let delta = c.varint("REPEAT timestamp delta")?;
        let status = c.u8("REPEAT status")?;
        self.pos += c.pos();
        self.pending_repeat -= 1;
        let slot = self.repeat_slot;
        let t = &mut self.threads[slot];
        t.ts = t.ts.wrapping_add(delta);
        self.decoded += 1;
        Ok((slot, status))
    }

    fn slot_for(
        &mut self,
        thread_id: u64,
        interpreter_id: u32,
        offset: u64,
    ) -> Result<usize, ProfileError> {
        if let Some(t) = self.threads.get(self.last_slot) {
            if t.thread_id == thread_id && t.interpreter_id == interpreter_id {
                return Ok(self.last_slot);
            }
        }
        // Few threads is the norm: a linear scan beats hashing the key.
        let found = if self.threads.len() <= 16 {
            self.threads
                .iter()
                .position(|t| t.thread_id == thread_id && t.interpreter_id == interpreter_id)
        } else {
            self.thread_slots.get(&(thread_id, interpreter_id)).copied()
        };
        let slot = match found {
            Some(s) => s,
            None => {
                let thread_count = self.profile.meta().thread_count;
                if self.threads.len() >= thread_count as usize {
                    return Err(ProfileError::TooManyThreads {
                        region: self.region,
                        offset,
                        thread_count,
                        thread_id,
                        interpreter_id,
                    });
                }
                let s = self.threads.len();
                self.threads.push(ThreadState {
                    thread_id,
                    interpreter_id,
                    ts: self.profile.meta().start_time_us,
                    cur: 0,
                });
                self.thread_slots.insert((thread_id, interpreter_id), s);
                s
            }
        };
        self.last_slot = slot;
        Ok(slot)
    }

    /// Decodes one record. Returns the first sample it holds, or `None` for an empty REPEAT.
    fn record(&mut self) -> Result<Option<(usize, u8)>, ProfileError> {
        let base = self.cursor_base();
        let region = self.region;
        let big = self.profile.big_endian();
        let stream_known_end = self.eof;
        // Field-level borrows: the cursor reads `raw`/`buf` while thread state is updated.
        let data = if self.zstd.is_some() {
            &self.buf[self.pos..self.end]
        } else {
            &self.raw[self.pos..self.end]
        };
        let mut c = Cursor::new(data, base, region, big);
        if c.remaining() < 13 {
            return Err(ProfileError::Truncated {
                region,
                offset: base,
                what: "record prefix (13 bytes); trailing garbage in the sample region",
            });
        }
        let thread_id = c.u64("thread id")?;
        let interpreter_id = c.u32("interpreter id")?;
        let enc_offset = c.offset();
        let encoding = c.u8("encoding")?;
        if encoding > ENC_POP_PUSH {
            return Err(ProfileError::BadEncoding {
                region,
                offset: enc_offset,
                encoding,
            });
        }
        // Resolve the thread after the encoding check, as the reference reader does.
        let prefix_len = c.pos();
        let slot = self.slot_for(thread_id, interpreter_id, base)?;
        let data = if self.zstd.is_some() {
            &self.buf[self.pos..self.end]
        } else {
            &self.raw[self.pos..self.end]
        };
        let mut c = Cursor::new(data, base, region, big);
        c.bytes(prefix_len, "record prefix")?;

        if encoding == ENC_REPEAT {
            let count_offset = c.offset();
            let count = u64::from(c.varint_u32("REPEAT count")?);
            // Raw regions (and zstd once fully buffered) know exactly what is left.
            if self.zstd.is_none() || stream_known_end {
                let remaining = c.remaining() as u64;
                if count > remaining / 2 {
                    return Err(ProfileError::RepeatCountTooLarge {
                        region,
                        offset: count_offset,
                        count,
                        remaining,
                    });
                }
            }
            self.pos += c.pos();
            if count == 0 {
                return Ok(None);
            }
            self.pending_repeat = count;
            self.repeat_slot = slot;
            return self.repeat_entry().map(Some);
        }

        let delta = c.varint("timestamp delta")?;
        let status = c.u8("status")?;
        let prev = self.threads[slot].cur;
        // Fast path: the same record body applied to the same stack was decoded and validated
        // before, so its result is cached by the body's raw bytes; no index decoding, checking
        // or stack hashing.
        let body_start = c.pos();
        let span = body_span(encoding, c.rest());
        if let Some(len) = span {
            let kp = transition_prev(prev, encoding);
            if let Some(new_id) = self.trans.get_in(kp, encoding, c.rest(), len) {
                let t = &mut self.threads[slot];
                t.cur = new_id;
                t.ts = t.ts.wrapping_add(delta);
                self.pos += body_start + len;
                self.decoded += 1;
                return Ok(Some((slot, status)));
            }
        }
        self.decode_body(slot, encoding, delta, status, body_start, span)
    }

    /// The rest of a non-REPEAT record whose transition is not cached: its body starts at
    /// `pos + body_start`; `span` is [`body_span`]'s length for it. Decodes and checks the
    /// counts and frame indices, interns the new stack and caches the transition.
    fn decode_body(
        &mut self,
        slot: usize,
        encoding: u8,
        delta: u64,
        status: u8,
        body_start: usize,
        span: Option<usize>,
    ) -> Result<Option<(usize, u8)>, ProfileError> {
        let base = self.cursor_base();
        let region = self.region;
        let big = self.profile.big_endian();
        let data = if self.zstd.is_some() {
            &self.buf[self.pos..self.end]
        } else {
            &self.raw[self.pos..self.end]
        };
        let mut c = Cursor::new(data, base, region, big);
        c.advance(body_start);
        let frame_count = self.profile.frames().len() as u32;
        let prev = self.threads[slot].cur;
        let previous = self.stacks.depth(prev);
        self.scratch.clear();
        let keep_from = match encoding {
            ENC_FULL => {
                let off = c.offset();
                let depth = c.varint("stack depth")?;
                check_depth(depth, region, off)?;
                read_indices(&mut c, depth, &mut self.scratch, self.profile, frame_count)?;
                None
            }
            ENC_SUFFIX => {
                let off = c.offset();
                let shared = c.varint("SUFFIX shared count")?;
                let push = c.varint("SUFFIX push count")?;
                if shared > previous as u64 {
                    return Err(ProfileError::SharedTooLarge {
                        region,
                        offset: off,
                        shared,
                        previous,
                    });
                }
                let depth = shared.saturating_add(push);
                check_depth(depth, region, off)?;
                read_indices(&mut c, push, &mut self.scratch, self.profile, frame_count)?;
                // Keeps the outermost `shared` frames.
                Some(previous - shared as usize)
            }
            _ => {
                let off = c.offset();
                let pop = c.varint("POP_PUSH pop count")?;
                let push = c.varint("POP_PUSH push count")?;
                let from = usize::try_from(pop).unwrap_or(usize::MAX).min(previous);
                let depth = ((previous - from) as u64).saturating_add(push);
                check_depth(depth, region, off)?;
                read_indices(&mut c, push, &mut self.scratch, self.profile, frame_count)?;
                Some(from)
            }
        };
        // The cursor borrows the window; finish with it before touching the stack tables.
        let consumed = c.pos();
        // `scratch` holds the pushed frames innermost first; they go on top of what is kept.
        let base = match keep_from {
            None => ROOT,
            Some(from) => self.stacks.ancestor(prev, from),
        };
        let new_id = self.stacks.extend(base, &self.scratch);
        // Cache the result only if the fast path's span is exactly what was decoded (it is,
        // unless a varint was malformed, in which case decoding failed above anyway).
        if span == Some(consumed - body_start)
            && self.trans.len() < TRANSITION_CACHE_CAP
            && self.trans.arena_bytes() < TRANSITION_CACHE_BYTES
        {
            let kp = transition_prev(prev, encoding);
            let body = if self.zstd.is_some() {
                &self.buf[self.pos + body_start..self.pos + consumed]
            } else {
                &self.raw[self.pos + body_start..self.pos + consumed]
            };
            self.trans.insert(kp, encoding, body, new_id);
        }
        let t = &mut self.threads[slot];
        t.cur = new_id;
        t.ts = t.ts.wrapping_add(delta);
        self.pos += consumed;
        self.decoded += 1;
        Ok(Some((slot, status)))
    }
}

/// Outcome of [`SampleReader::fast_record`].
enum Fast {
    /// Decoded: (thread slot, status).
    Hit((usize, u8)),
    /// A non-empty REPEAT record's prefix and count were consumed; its entries follow.
    Repeat,
    /// Well-formed up to the body, whose transition is not cached.
    Miss(Miss),
    /// Not the common form (or the data ends): the checked decoder decides.
    Other,
}

/// What the fast path parsed of a record whose transition missed the cache.
struct Miss {
    slot: usize,
    encoding: u8,
    delta: u64,
    status: u8,
    /// Offset of the body from `pos`.
    body_start: usize,
    /// The body's length by [`body_span`].
    len: usize,
}

/// A varint of at most 9 bytes (no overflow possible) at `data[*p..]`, advancing `p`; `None`
/// (and `p` unspecified) for longer ones or when the data ends.
#[inline(always)]
fn short_varint(data: &[u8], p: &mut usize) -> Option<u64> {
    let mut value = 0u64;
    let mut shift = 0;
    loop {
        let &b = data.get(*p)?;
        *p += 1;
        value |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return Some(value);
        }
        shift += 7;
        if shift > 56 {
            return None;
        }
    }
}

/// Length of a non-REPEAT record's body (the counts and frame indices after the status byte),
/// found by counting varint terminators, or `None` when the counts are not short varints, the
/// depth is impossible or the data ends first: the checked decoder then decides.
#[inline(always)]
fn body_span(encoding: u8, b: &[u8]) -> Option<usize> {
    let mut p = 0;
    let n = if encoding == ENC_FULL {
        short_count(b, &mut p)?
    } else {
        short_count(b, &mut p)?;
        short_count(b, &mut p)?
    };
    if n > MAX_DEPTH as u64 {
        return None;
    }
    // Skip `n` varints: a varint ends at each byte below 0x80; eight bytes at a time while the
    // word holds fewer terminators than are left.
    let mut left = n as u32;
    while left > 0 {
        if let Some(w) = b.get(p..p + 8) {
            let mut a = [0u8; 8];
            a.copy_from_slice(w);
            // Terminator flags as one bit per byte, summed by a multiply (no popcnt in the
            // baseline x86-64 target).
            let flags = (!u64::from_le_bytes(a) >> 7) & 0x0101_0101_0101_0101;
            let ends = (flags.wrapping_mul(0x0101_0101_0101_0101) >> 56) as u32;
            if ends < left {
                left -= ends;
                p += 8;
                continue;
            }
            // The last varint ends in this word: at its `left`-th terminator (left <= 8).
            let mut f = flags;
            for _ in 1..left {
                f &= f - 1;
            }
            return Some(p + (f.trailing_zeros() / 8) as usize + 1);
        }
        let &x = b.get(p)?;
        p += 1;
        if x < 0x80 {
            left -= 1;
        }
    }
    Some(p)
}

/// A 1- or 2-byte varint at `b[*p..]` (the counts [`body_span`] accepts), advancing `p`.
#[inline(always)]
fn short_count(b: &[u8], p: &mut usize) -> Option<u64> {
    let &x = b.get(*p)?;
    if x < 0x80 {
        *p += 1;
        return Some(u64::from(x));
    }
    let &y = b.get(*p + 1)?;
    if y < 0x80 {
        *p += 2;
        return Some(u64::from(x & 0x7f) | u64::from(y) << 7);
    }
    None
}

/// The previous stack as part of a transition-cache key: none for FULL records, which do not
/// depend on it.
#[inline]
fn transition_prev(prev: u32, encoding: u8) -> u32 {
    if encoding == ENC_FULL {
        u32::MAX
    } else {
        prev
    }
}

/// Stacks deeper than the writer's limit are corrupt (CPython cuts stacks to the innermost 256).
#[inline]
fn check_depth(depth: u64, region: Region, offset: u64) -> Result<(), ProfileError> {
    if depth > MAX_DEPTH as u64 {
        return Err(ProfileError::DepthTooLarge {
            region,
            offset,
            depth,
        });
    }
    Ok(())
}

#[inline]
fn read_indices(
    c: &mut Cursor<'_>,
    n: u64,
    out: &mut Vec<u32>,
    profile: &Profile,
    frame_count: u32,
) -> Result<(), ProfileError> {
    // Callers bound `n` by MAX_DEPTH, so this reservation is small.
    out.reserve(n as usize);
    // In the normal case every frame names valid strings and only the range check matters.
    let limit = if profile.all_frames_usable() {
        frame_count
    } else {
        0
    };
    let mut left = n;
    while left > 0 {
        // Tight loop over 1- and 2-byte indices with a local position; anything else (longer
        // varints, unusable frames, errors, the end of the data) goes through the checked cursor.
        let rest = c.rest();
        let mut p = 0;
        while left > 0 {
            let (index, len) = match rest.get(p) {
                Some(&b) if b < 0x80 => (u32::from(b), 1),
                Some(&b) => match rest.get(p + 1) {
                    Some(&b2) if b2 < 0x80 => (u32::from(b & 0x7f) | u32::from(b2) << 7, 2),
                    _ => break,
                },
                None => break,
            };
            if index >= limit && !profile.frame_usable(index) {
                break;
            }
            out.push(index);
            p += len;
            left -= 1;
        }
        c.advance(p);
        if left == 0 {
            break;
        }
        let off = c.offset();
        let index = c.varint_u32("frame index")?;
        if !profile.frame_usable(index) {
            return Err(unusable_frame(c, off, index, profile, frame_count));
        }
        out.push(index);
        left -= 1;
    }
    Ok(())
}

#[cold]
fn unusable_frame(
    c: &Cursor<'_>,
    offset: u64,
    index: u32,
    profile: &Profile,
    frame_count: u32,
) -> ProfileError {
    match profile.bad_string_ref(index) {
        Some(bad) if index < frame_count => ProfileError::StringIndexOutOfRange {
            region: c.region(),
            offset,
            frame: index,
            index: bad,
            string_count: profile.strings().len() as u32,
        },
        _ => ProfileError::FrameIndexOutOfRange {
            region: c.region(),
            offset,
            index,
            frame_count,
        },
    }
}
