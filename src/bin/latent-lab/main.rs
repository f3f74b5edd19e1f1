//! `latent-lab`: the native command line of Latent Lab.
//!
//! * `train`  — train an AE or a VAE on MNIST (GPU or CPU) and save `.safetensors` weights;
//! * `eval`   — evaluate saved weights on the test (or train) split, one JSON line;
//! * `bench`  — steady-state training throughput, one JSON line;
//! * `sample` — decode draws of z ~ N(0, I) into a PNG grid;
//! * `anomaly` — train on normal rows only, score the test rows, print ROC/PR figures.
//!
//! Every failure prints one line `error: …` on stderr and exits with status 1 (argument
//! errors are clap's: a message and the usage, status 2).

mod anomaly;
mod args;
mod bench;
mod saved;
mod shared;
mod train;

use std::process::ExitCode;

use clap::Parser;

use args::{Cli, Command};
use shared::Failure;

fn main() -> ExitCode {
    // A panic is a bug, but the user still gets one line and status 1, not a backtrace dump.
    std::panic::set_hook(Box::new(|info| {
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_string());
        let at = info.location().map(|l| format!(" at {}:{}", l.file(), l.line()));
        eprintln!(
            "error: internal error: {}{}",
            shared::one_line(&message),
            at.unwrap_or_default()
        );
        std::process::exit(1);
    }));

    let cli = Cli::parse();
    let result = pollster::block_on(async {
        match cli.command {
            Command::Train(a) => train::run(a).await,
            Command::Eval(a) => saved::eval(a).await,
            Command::Bench(a) => bench::run(a).await,
            Command::Sample(a) => saved::sample(a).await,
            Command::Anomaly(a) => anomaly::run(a).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(message)) => {
            eprintln!("error: {}", shared::one_line(&message));
            ExitCode::FAILURE
        }
    }
}
