//! The seeded stand-ins for the operating system's randomness and wall clock.
//!
//! A turmoil seed alone does not make a run replayable: socketioxide draws
//! session ids from `rand::rng()` and keys its sockets in std `HashMap`s, whose
//! hash keys come from `getrandom`. Both orders leak into the wire (broadcast
//! fan-out order decides which client draws which latency). So this module
//! interposes the libc symbols `getrandom`, `getentropy` and `clock_gettime`
//! for the whole executable.
//!
//! Unlike a process-global override, the seeded state here is *per thread*: a
//! thread that called [`seed_this_thread`] gets bytes from its own seeded
//! generator, every other thread gets the real thing. Every simulation runs on
//! a fresh OS thread (turmoil drives all its hosts from the calling thread), so
//! many seeds can run in parallel in one process and each stays replayable.
//!
//! Only `CLOCK_REALTIME` is simulated (the epoch plus turmoil's elapsed time, so
//! `SystemTime::now()` and hyper's `Date` header follow the simulation; also
//! while the harness builds the server app, see `with_wall_clock_at`). The
//! monotonic clocks stay real: tokio's paused clock already simulates them for
//! everything that runs inside a host.
#![allow(unsafe_code)]

use std::cell::{Cell, RefCell};
use std::ffi::c_void;
use std::sync::atomic::{AtomicPtr, Ordering};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

thread_local! {
    static SEEDED_RNG: RefCell<Option<StdRng>> = const { RefCell::new(None) };
    static SIMULATED_EPOCH: Cell<Option<Duration>> = const { Cell::new(None) };
    /// Simulated time the wall clock reads where turmoil's host clock cannot
    /// be trusted (see [`with_wall_clock_at`]).
    static PINNED_ELAPSED: Cell<Option<Duration>> = const { Cell::new(None) };
}

/// From now on, this thread's `getrandom` draws from a generator seeded with
/// `seed`, and its wall clock reads `epoch` plus simulated elapsed time while
/// inside a turmoil host.
pub fn seed_this_thread(seed: u64, epoch_since_unix: Duration) {
    SEEDED_RNG.with(|cell| *cell.borrow_mut() = Some(StdRng::seed_from_u64(seed)));
    SIMULATED_EPOCH.with(|cell| cell.set(Some(epoch_since_unix)));
}

/// Whether this thread's randomness is seeded.
pub fn is_this_thread_seeded() -> bool {
    SEEDED_RNG
        .try_with(|cell| cell.borrow().is_some())
        .unwrap_or(false)
}

/// Fills `dest` from this thread's seeded generator. False when the thread is
/// not seeded (or is tearing down its thread-locals): the caller then asks the
/// kernel.
fn fill_from_seeded(dest: &mut [u8]) -> bool {
    SEEDED_RNG
        .try_with(|cell| match cell.try_borrow_mut() {
            Ok(mut rng) => match rng.as_mut() {
                Some(rng) => {
                    rng.fill_bytes(dest);
                    true
                }
                None => false,
            },
            Err(_) => false,
        })
        .unwrap_or(false)
}

#[unsafe(no_mangle)]
#[inline(never)]
unsafe extern "C" fn getrandom(buf: *mut c_void, buflen: usize, flags: u32) -> isize {
    if !buf.is_null() && buflen > 0 {
        // SAFETY: the caller hands us a writable buffer of `buflen` bytes.
        let dest = unsafe { std::slice::from_raw_parts_mut(buf.cast::<u8>(), buflen) };
        if fill_from_seeded(dest) {
            return buflen as isize;
        }
    }
    // SAFETY: the raw syscall with the caller's own arguments.
    unsafe { libc::syscall(libc::SYS_getrandom, buf, buflen, flags) as isize }
}

#[unsafe(no_mangle)]
#[inline(never)]
unsafe extern "C" fn getentropy(buf: *mut c_void, buflen: usize) -> libc::c_int {
    if buflen > 256 {
        // SAFETY: errno is thread-local and always writable.
        unsafe { *libc::__errno_location() = libc::EIO };
        return -1;
    }
    let mut filled = 0;
    while filled < buflen {
        // SAFETY: `filled < buflen`, so the pointer stays inside the caller's buffer.
        let got = unsafe { getrandom(buf.cast::<u8>().add(filled).cast(), buflen - filled, 0) };
        if got < 0 {
            return -1;
        }
        filled += got as usize;
    }
    0
}

/// Runs `build` with this seeded thread's wall clock reading the epoch plus
/// `elapsed`. For code the harness runs between turmoil's steps, such as
/// building the server app: outside any host turmoil has no clock (the real
/// one would show), and while a bounce rebuilds a host its clock compares an
/// instant of the old runtime with the new runtime's clock, which started at
/// a real instant.
pub(crate) fn with_wall_clock_at<R>(elapsed: Duration, build: impl FnOnce() -> R) -> R {
    let outer = PINNED_ELAPSED.replace(Some(elapsed));
    let built = build();
    PINNED_ELAPSED.set(outer);
    built
}

/// The simulated wall clock, when this thread is inside a turmoil host or
/// pinned by [`with_wall_clock_at`].
fn simulated_realtime() -> Option<Duration> {
    let epoch = SIMULATED_EPOCH.try_with(Cell::get).ok().flatten()?;
    let pinned = PINNED_ELAPSED.try_with(Cell::get).ok().flatten();
    Some(epoch + pinned.or_else(turmoil::sim_elapsed)?)
}

type ClockGettime = unsafe extern "C" fn(libc::clockid_t, *mut libc::timespec) -> libc::c_int;

/// libc's own `clock_gettime` (vDSO-backed), found behind our interposer.
static NEXT_CLOCK_GETTIME: AtomicPtr<c_void> = AtomicPtr::new(std::ptr::null_mut());

fn real_clock_gettime(clock: libc::clockid_t, tp: *mut libc::timespec) -> libc::c_int {
    let mut next = NEXT_CLOCK_GETTIME.load(Ordering::Acquire);
    if next.is_null() {
        // SAFETY: dlsym with a NUL-terminated name; RTLD_NEXT skips this object.
        next = unsafe { libc::dlsym(libc::RTLD_NEXT, c"clock_gettime".as_ptr()) };
        NEXT_CLOCK_GETTIME.store(next, Ordering::Release);
    }
    if next.is_null() {
        // SAFETY: the raw syscall with the caller's own arguments.
        return unsafe { libc::syscall(libc::SYS_clock_gettime, clock, tp) as libc::c_int };
    }
    // SAFETY: `next` is libc's clock_gettime, which has this exact signature.
    unsafe { std::mem::transmute::<*mut c_void, ClockGettime>(next)(clock, tp) }
}

#[unsafe(no_mangle)]
#[inline(never)]
unsafe extern "C" fn clock_gettime(clock: libc::clockid_t, tp: *mut libc::timespec) -> libc::c_int {
    let is_realtime = clock == libc::CLOCK_REALTIME || clock == libc::CLOCK_REALTIME_COARSE;
    if is_realtime
        && !tp.is_null()
        && let Some(now) = simulated_realtime()
    {
        // SAFETY: `tp` is non-null and points to the caller's timespec.
        unsafe {
            tp.write(libc::timespec {
                tv_sec: now.as_secs() as libc::time_t,
                tv_nsec: now.subsec_nanos() as libc::c_long,
            });
        }
        return 0;
    }
    real_clock_gettime(clock, tp)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draw_on_fresh_thread(seed: Option<u64>) -> ([u8; 16], u64) {
        std::thread::spawn(move || {
            if let Some(seed) = seed {
                seed_this_thread(seed, Duration::ZERO);
            }
            let mut bytes = [0u8; 16];
            rand::fill(&mut bytes);
            // std's HashMap keys come from getrandom too.
            let hashed = std::hash::BuildHasher::hash_one(
                &std::collections::hash_map::RandomState::new(),
                7u8,
            );
            (bytes, hashed)
        })
        .join()
        .unwrap()
    }

    #[test]
    fn seeded_threads_draw_the_same_bytes_and_hash_keys() {
        assert_eq!(
            draw_on_fresh_thread(Some(42)),
            draw_on_fresh_thread(Some(42))
        );
        assert_ne!(
            draw_on_fresh_thread(Some(42)),
            draw_on_fresh_thread(Some(43))
        );
    }

    #[test]
    fn unseeded_threads_still_get_real_randomness() {
        assert_ne!(draw_on_fresh_thread(None), draw_on_fresh_thread(None));
    }

    #[test]
    fn wall_clock_is_real_outside_a_simulation() {
        std::thread::spawn(|| {
            seed_this_thread(1, Duration::from_secs(10));
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap();
            assert!(now > Duration::from_secs(1_700_000_000), "{now:?}");
        })
        .join()
        .unwrap();
    }
}
