//! The CPU executor's threads (`ops::par`): a run of training steps with a worker waiting
//! beside it returns what it computed, lets a panic through and leaves no worker waiting,
//! and many such runs at once, on threads of their own, all finish with their own answers.
//!
//! One test, so that no other `hot` call of this process runs meanwhile.

use latent_lab::ops::par;
use std::sync::mpsc;
use std::time::Duration;

/// Σ i² over 0..n, by halves split down to 1,024 values, each split a rayon join.
fn squares(lo: u64, hi: u64) -> u64 {
    if hi - lo <= 1024 {
        return (lo..hi).map(|i| i * i).sum();
    }
    let mid = lo + (hi - lo) / 2;
    let (mut a, mut b) = (0, 0);
    par::join(|| a = squares(lo, mid), || b = squares(mid, hi));
    a + b
}

fn sum_of_squares(n: u64) -> u64 {
    (n - 1) * n * (2 * n - 1) / 6
}

#[test]
fn hot_runs_return_their_results_let_panics_through_and_all_finish_side_by_side() {
    // The result of `f`, with its splits run by the waiting worker or the calling one.
    assert_eq!(par::hot(|| squares(0, 1 << 20)), sum_of_squares(1 << 20));
    assert!(!par::waiting(), "the waiting worker outlived its run");

    // A panic inside the run reaches the caller, and the next run still gets its worker.
    let panicked = std::panic::catch_unwind(|| par::hot(|| -> u64 { panic!("a step failed") }));
    assert!(panicked.is_err(), "the panic was swallowed");
    assert!(!par::waiting(), "a panicking run left its worker waiting");
    assert_eq!(par::hot(|| squares(0, 4096)), sum_of_squares(4096));

    // Eight trainers at once (as `cargo test` runs tests), each run nested in the pool's
    // work: every one finishes, within a minute, with its own answer.
    let (tx, rx) = mpsc::channel();
    for t in 0..8u64 {
        let tx = tx.clone();
        std::thread::spawn(move || {
            for r in 0..20 {
                let n = (1 << 16) + 4096 * t + r;
                let got = par::hot(|| squares(0, n));
                tx.send((t, n, got)).expect("the test is listening");
            }
        });
    }
    drop(tx);
    let mut finished = 0;
    loop {
        match rx.recv_timeout(Duration::from_secs(60)) {
            Ok((t, n, got)) => {
                assert_eq!(got, sum_of_squares(n), "trainer {t}, n = {n}");
                finished += 1;
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                panic!("{finished} of 160 runs finished within a minute of the last")
            }
        }
    }
    assert_eq!(finished, 160);
    assert!(!par::waiting(), "a worker still waits after every run returned");
}
