//! Two halves of a large element-wise loop (or, on AVX-512 CPUs, of a matrix product) at
//! once, natively: the loss and Adam are what remains of a step after the products, which
//! use every core. In wasm (one thread) and for small loops the halves run in turn. The
//! second half goes to rayon's pool, whose workers outlive the call: a fresh thread per
//! call cost tens of microseconds, dozens of times a step. While the CPU executor trains,
//! a worker waits beside it for those halves instead of sleeping between them ([`hot`]).

/// Values below which a loop is not split: handing half of it to another thread costs more.
pub const MIN_SPLIT: usize = 1 << 16;

/// Runs `f(a)` and `f(b)`, on two threads when `split` holds and the machine has two cores.
pub fn both<A: Send, F: Fn(A) + Sync>(split: bool, a: A, b: A, f: F) {
    #[cfg(not(target_arch = "wasm32"))]
    if split && cores() > 1 {
        rayon::join(|| f(a), || f(b));
        return;
    }
    let _ = split;
    f(a);
    f(b);
}

/// Sets every value of `values` to zero, in two halves at once where it is large.
pub fn zero(values: &mut [f32]) {
    let half = values.len() / 2;
    let (a, b) = values.split_at_mut(half);
    both(half >= MIN_SPLIT, a, b, |v| v.fill(0.0));
}

/// Runs `a` and `b`, on two threads natively (rayon's `join`), in turn in wasm.
pub fn join<A: FnOnce() + Send, B: FnOnce() + Send>(a: A, b: B) {
    #[cfg(not(target_arch = "wasm32"))]
    rayon::join(a, b);
    #[cfg(target_arch = "wasm32")]
    {
        a();
        b();
    }
}

/// Whether a [`hot`] call's waiting worker is out: one at a time.
#[cfg(not(target_arch = "wasm32"))]
static WAITING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether some thread's [`hot`] has a worker waiting beside it now.
pub fn waiting() -> bool {
    #[cfg(not(target_arch = "wasm32"))]
    return WAITING.load(std::sync::atomic::Ordering::Acquire);
    #[cfg(target_arch = "wasm32")]
    false
}

/// Runs `f` (a run of training steps) on a worker of rayon's pool with another worker
/// waiting beside it for the second halves that `f`'s splits hand out, as OpenMP's threads
/// wait for PyTorch's: rayon's workers sleep after a few microseconds idle, and waking one
/// took 70 µs on average on a 2-core VM, a dozen times a step. The waiting worker runs
/// whatever work the pool has (`rayon::yield_now`) and otherwise yields its core to the
/// system. In wasm, on one core, or while another thread's `hot` runs, `f` runs as it is:
/// however many threads train at once (`cargo test`'s), one worker at most waits.
pub fn hot<R: Send>(f: impl FnOnce() -> R + Send) -> R {
    #[cfg(not(target_arch = "wasm32"))]
    {
        use std::sync::atomic::{AtomicBool, Ordering};
        /// Set on drop: when `f` returns or panics, and when `hot` does.
        struct Store<'a>(&'a AtomicBool, bool);
        impl Drop for Store<'_> {
            fn drop(&mut self) {
                self.0.store(self.1, Ordering::Release);
            }
        }
        let claimed =
            || WAITING.compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed).is_ok();
        if cores() > 1 && claimed() {
            let _release = Store(&WAITING, false);
            let done = AtomicBool::new(false);
            let (r, ()) = rayon::join(
                || {
                    let _done = Store(&done, true);
                    f()
                },
                || {
                    while !done.load(Ordering::Acquire) {
                        if rayon::yield_now() != Some(rayon::Yield::Executed) {
                            std::thread::yield_now();
                        }
                    }
                },
            );
            return r;
        }
    }
    f()
}

#[cfg(not(target_arch = "wasm32"))]
pub fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}
