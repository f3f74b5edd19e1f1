//! Two halves of a large element-wise loop at once, natively: the matrix products already use
//! every core (matrixmultiply's `threading`), and the loss and Adam are what remains of a
//! step. In wasm (one thread) and for small loops the halves run in turn.

/// Values below which a loop is not split: a thread costs tens of microseconds.
pub const MIN_SPLIT: usize = 1 << 16;

/// Runs `f(a)` and `f(b)`, on two threads when `split` holds and the machine has two cores.
pub fn both<A: Send, F: Fn(A) + Sync>(split: bool, a: A, b: A, f: F) {
    #[cfg(not(target_arch = "wasm32"))]
    if split && cores() > 1 {
        std::thread::scope(|s| {
            s.spawn(|| f(b));
            f(a);
        });
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
