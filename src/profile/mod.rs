//! Decoder for CPython 3.15 Tachyon binary profiles (`profiling.sampling ... --binary`).
