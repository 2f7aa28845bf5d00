//! How many heap bytes a simulation holds.
//!
//! A simulated run, its server and its clients included, runs on one
//! thread, so the heap bytes that thread allocated and has not freed are
//! what the run holds: the server's memory becomes observable, as it is not
//! over TCP. [`CountingAllocator`] keeps that count; a binary opts in by
//! installing it:
//!
//! ```
//! #[global_allocator]
//! static HEAP: siosim_harness::heap::CountingAllocator = siosim_harness::heap::CountingAllocator;
//! # fn main() {
//! let before = siosim_harness::heap::live_bytes_on_this_thread().expect("installed");
//! let held = vec![0u8; 4096];
//! let after = siosim_harness::heap::live_bytes_on_this_thread().expect("installed");
//! assert!(after - before >= 4096);
//! # drop(held);
//! # }
//! ```
//!
//! Without it [`live_bytes_on_this_thread`] is `None`, and what needs it
//! (the conformance suite's fan-out memory case) says so.

// A global allocator cannot be written without `unsafe`: this one forwards
// every call to the system allocator unchanged and only counts.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};

/// The system allocator, counting each thread's live bytes.
#[derive(Debug, Clone, Copy, Default)]
pub struct CountingAllocator;

/// Whether any allocation went through [`CountingAllocator`]: it is the
/// process's global allocator.
static INSTALLED: AtomicBool = AtomicBool::new(false);

thread_local! {
    /// Bytes allocated minus bytes freed on this thread. Memory freed on
    /// another thread than the one that allocated it moves between counts.
    static LIVE: Cell<i64> = const { Cell::new(0) };
}

fn count(delta: i64) {
    // `try_with`: during a thread's teardown the count is gone already.
    let _ = LIVE.try_with(|live| live.set(live.get() + delta));
}

fn bytes(layout: Layout) -> i64 {
    i64::try_from(layout.size()).unwrap_or(i64::MAX)
}

// SAFETY: every method forwards to `System` with the caller's arguments,
// so `System`'s guarantees are the caller's; counting allocates nothing.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        INSTALLED.store(true, Ordering::Relaxed);
        // SAFETY: forwarded unchanged (see the impl).
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            count(bytes(layout));
        }
        pointer
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        INSTALLED.store(true, Ordering::Relaxed);
        // SAFETY: forwarded unchanged (see the impl).
        let pointer = unsafe { System.alloc_zeroed(layout) };
        if !pointer.is_null() {
            count(bytes(layout));
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged (see the impl).
        unsafe { System.dealloc(pointer, layout) };
        count(-bytes(layout));
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged (see the impl).
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            count(i64::try_from(new_size).unwrap_or(i64::MAX) - bytes(layout));
        }
        moved
    }
}

/// The heap bytes this thread allocated and has not freed, or `None` when
/// [`CountingAllocator`] is not the process's global allocator.
pub fn live_bytes_on_this_thread() -> Option<i64> {
    if !INSTALLED.load(Ordering::Relaxed) {
        return None;
    }
    LIVE.try_with(Cell::get).ok()
}
