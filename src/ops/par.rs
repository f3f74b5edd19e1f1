//! Two halves of a large element-wise loop (or, on AVX-512 CPUs, of a matrix product) at
//! once, natively: the loss and Adam are what remains of a step after the products, which
//! use every core. In wasm (one thread) and for small loops the halves run in turn. The
//! second half goes to rayon's pool, whose workers outlive the call: a fresh thread per
//! call cost tens of microseconds, dozens of times a step.

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

#[cfg(not(target_arch = "wasm32"))]
fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}
