//! A deterministic guard for `otp`'s throughput (benches/otp-bench.sh measures it, but on a
//! shared machine its figures move with the load): heap allocations per row, counted on the
//! reading side and the writing side. The hostile-file rewrite once made `otp` 40% slower
//! per row, much of it allocations (a fresh buffer per line and its regrowth, a fresh string
//! per JSON line and a copy of it); such a change fails here, whatever the machine's load.

use oathbulk::inventory::{Inventory, ReadOptions};
use oathbulk::otp::HashFunction;
use oathbulk::output::{Format, Output};
use oathbulk::record::{Otp, Record};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// Counts the allocations (and reallocations) of the current thread only: the test harness
/// runs other tests on other threads at the same time.
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn count() {
    // `try_with`: the slot may be gone while the thread shuts down.
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

// SAFETY: every call goes straight to the system allocator with the caller's arguments.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static COUNTING: Counting = Counting;

fn allocations_in(f: impl FnOnce()) -> u64 {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

const ROWS: usize = 2_000;
const WARM: usize = 200;

/// A file like benches/gen_csv.py writes: 160-bit seeds, both intervals, both hashes.
fn vendor_file() -> Vec<u8> {
    let mut text = String::from("upn,serial number,secret key,time interval,manufacturer,model,hash\n");
    for i in 0..ROWS {
        let seed = data_encoding::BASE32_NOPAD.encode(format!("seed-{i:015}").as_bytes());
        let interval = if i % 3 == 0 { 60 } else { 30 };
        let hash = if i % 8 == 0 { "sha256" } else { "sha1" };
        text.push_str(&format!("user{i}@contoso.com,SN{i:09},{seed},{interval},Contoso,OTP-C200,{hash}\n"));
    }
    text.into_bytes()
}

#[test]
fn reading_a_row_allocates_only_what_the_row_keeps() {
    let options = ReadOptions { require_secret: true, ..Default::default() };
    let mut rows = Inventory::from_reader(std::io::Cursor::new(vendor_file()), options).unwrap();
    // Buffers grow to their size on the first rows.
    for row in rows.by_ref().take(WARM) {
        row.unwrap();
    }
    let mut kept = Vec::with_capacity(ROWS);
    let n = allocations_in(|| kept.extend(rows.by_ref().map(Result::unwrap)));
    assert_eq!(kept.len(), ROWS - WARM);
    // A row owns five heap values: upn, serial, manufacturer, model, the decoded seed.
    // Anything more is per-row work the reader should not do (a line buffer, a cell copy).
    let per_row = n as f64 / kept.len() as f64;
    assert!(per_row <= 5.0, "{per_row:.2} allocations per row read (at most 5: the row's own fields)");
}

#[test]
fn writing_an_otp_record_allocates_nothing() {
    let mut out = Output::new(Box::new(std::io::sink()), Format::Json, false);
    let record = Record::Otp(Otp {
        line: 2,
        upn: "user0@contoso.com".into(),
        serial: "SN000000000".into(),
        code: "461012".into(),
        step: 28_333_333,
        time_interval: 60,
        hash: HashFunction::Sha256,
        valid_for: 40,
        at: 1_700_000_000,
        secret: None,
    });
    for _ in 0..WARM {
        out.emit(&record).unwrap();
    }
    let n = allocations_in(|| {
        for _ in 0..ROWS {
            out.emit(&record).unwrap();
        }
    });
    assert_eq!(n, 0, "{n} allocations for {ROWS} otp records (serialising reuses one line buffer)");
}
