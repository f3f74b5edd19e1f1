//! What one model and one request may cost, checked before anything is allocated.
//!
//! A spec is checked against a [`Budget`] when it is validated (its parameters) and when its
//! Program is built (its activation memory); every inference request is checked when it
//! arrives (its rows); every reader is checked before it decompresses or parses (its bytes).
//! The checks live in the engine, so the page and the command line refuse the same things
//! with the same messages — the command line only has more room ([`Budget::NATIVE`] against
//! [`Budget::BROWSER`]; [`Budget::HERE`] is the one this build enforces).
//!
//! Every refusal says the limit, the value and how to get under it.

use std::fmt;

/// Limits of one build: the browser's (wasm) or the command line's (native).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Budget {
    /// Where these limits apply, for messages: "in the browser", "on the command line".
    pub place: &'static str,
    /// Trainable parameters of one model. Each costs 16 bytes while it trains (its value,
    /// its gradient and Adam's two moments) and 4 more for the checkpoint kept for rollback.
    pub parameters: usize,
    /// Bytes of the activations of one model: the training step's (B rows, forward values
    /// and their gradients) and the inference buffers' ([`crate::model::INFER_ROWS`] rows).
    pub activation_bytes: usize,
    /// Bytes of the largest single tensor: WebGPU's default storage-buffer binding limit
    /// (128 MiB) in the browser, the 1 GiB the native GPU context asks for on the CLI.
    pub tensor_bytes: usize,
    /// Rows of one inference request (encode, decode, reconstruct, sample).
    pub request_rows: usize,
    /// Bytes of one CSV table.
    pub csv_bytes: usize,
    /// Bytes of one data set once decompressed (lab data, IDX files).
    pub data_bytes: usize,
}

const MIB: usize = 1 << 20;

/// Most values in one input row (an image's pixels over its channels, a table row's
/// features, a window's points): 128 × 128, or three planes of 64 × 64.
pub const MAX_INPUT: usize = 16_384;

impl Budget {
    /// The page's limits: a model that a phone's browser holds. At the limits the engine
    /// needs about 64 MB for the parameters and their optimizer state and at most 128 MiB
    /// for activations.
    pub const BROWSER: Budget = Budget {
        place: "in the browser",
        parameters: 4_000_000,
        activation_bytes: 128 * MIB,
        tensor_bytes: 128 * MIB,
        request_rows: 10_000,
        csv_bytes: 32 * MIB,
        data_bytes: 256 * MIB,
    };

    /// The command line's limits: 16× the browser's parameters and activations, 8× its
    /// largest tensor, 10× its rows per request, 32× its CSV and 8× its data size.
    pub const NATIVE: Budget = Budget {
        place: "on the command line",
        parameters: 64_000_000,
        activation_bytes: 2048 * MIB,
        tensor_bytes: 1024 * MIB,
        request_rows: 100_000,
        csv_bytes: 1024 * MIB,
        data_bytes: 2048 * MIB,
    };

    /// The budget this build enforces.
    #[cfg(target_arch = "wasm32")]
    pub const HERE: Budget = Budget::BROWSER;
    /// The budget this build enforces.
    #[cfg(not(target_arch = "wasm32"))]
    pub const HERE: Budget = Budget::NATIVE;

    /// The budget that applies elsewhere, for the "the command line allows …" hint.
    fn other(&self) -> Option<&'static Budget> {
        (*self == Budget::BROWSER).then_some(&Budget::NATIVE)
    }

    /// Refuses `rows` rows of one request of `what` (e.g. "decode") above the limit.
    pub fn check_rows(&self, what: &str, rows: usize) -> Result<(), OverBudget> {
        if rows <= self.request_rows {
            return Ok(());
        }
        Err(OverBudget {
            what: format!("{what} asks for {} rows", group(rows)),
            limit: format!("{} rows per request {}", group(self.request_rows), self.place),
            advice: "send the rows in several smaller requests".into(),
        })
    }

    /// Refuses a byte count above `limit` for a file of `what`, before it is read.
    pub fn check_bytes(
        &self,
        what: &str,
        bytes: usize,
        limit: usize,
        advice: &str,
    ) -> Result<(), OverBudget> {
        if bytes <= limit {
            return Ok(());
        }
        Err(OverBudget {
            what: format!("{what} is {}", bytes_text(bytes)),
            limit: format!("{} {}", bytes_text(limit), self.place),
            advice: advice.into(),
        })
    }

    /// The advice for a model too large here: how to shrink it, and whether the command
    /// line would take it.
    pub fn model_advice(&self, fits_elsewhere: bool, shrink: &str) -> String {
        match self.other() {
            Some(other) if fits_elsewhere => {
                format!("{shrink}; or train it {}, which takes it", other.place)
            }
            _ => shrink.to_string(),
        }
    }
}

/// A request or a model over a [`Budget`]: what it asks, the limit, how to get under it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OverBudget {
    pub what: String,
    pub limit: String,
    pub advice: String,
}

impl fmt::Display for OverBudget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}; the limit is {}: {}", self.what, self.limit, self.advice)
    }
}

impl std::error::Error for OverBudget {}

/// 1234567 → "1,234,567".
pub fn group(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A byte count for people, in binary units as the limits are set: "512 bytes",
/// "3.2 MiB", "1.50 GiB".
pub fn bytes_text(n: usize) -> String {
    let x = n as f64;
    let k = 1024.0;
    if x < k {
        format!("{n} bytes")
    } else if x < k * k {
        format!("{:.1} KiB", x / k)
    } else if x < k * k * k {
        format!("{:.1} MiB", x / (k * k))
    } else {
        format!("{:.2} GiB", x / (k * k * k))
    }
}

/// Most characters of an outside value quoted in a message.
pub const QUOTE_CHARS: usize = 48;

/// An outside value as a message quotes it: whole when short, else its first
/// [`QUOTE_CHARS`] characters and how long it was — a hostile 10-million-character value
/// makes a one-line message, not a 10 MB one.
pub fn quote(text: &str) -> String {
    let count = text.chars().count();
    if count <= QUOTE_CHARS {
        return text.to_string();
    }
    let head: String = text.chars().take(QUOTE_CHARS).collect();
    format!("{head}… ({} characters)", group(count))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_bytes_read_well() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(1000), "1,000");
        assert_eq!(group(174_325_520), "174,325,520");
        assert_eq!(bytes_text(512), "512 bytes");
        assert_eq!(bytes_text(33_554_432), "32.0 MiB");
        assert_eq!(bytes_text(3 << 29), "1.50 GiB");
    }

    #[test]
    fn long_values_are_cut_and_say_their_length() {
        assert_eq!(quote("vae"), "vae");
        let long = "x".repeat(10_000_000);
        let q = quote(&long);
        assert!(q.len() < 100, "{q}");
        assert!(q.ends_with("(10,000,000 characters)"), "{q}");
        // Multi-byte characters are cut on a character boundary.
        let q = quote(&"é".repeat(100));
        assert!(q.starts_with(&"é".repeat(QUOTE_CHARS)), "{q}");
    }

    #[test]
    fn rows_over_the_limit_name_limit_value_and_advice() {
        let b = Budget::BROWSER;
        assert!(b.check_rows("decode", 10_000).is_ok());
        let e = b.check_rows("decode", 1_400_000).unwrap_err().to_string();
        assert!(e.contains("1,400,000 rows") && e.contains("10,000"), "{e}");
        assert!(e.contains("in the browser") && e.contains("smaller requests"), "{e}");
    }

    #[test]
    fn the_command_line_allows_more_than_the_browser() {
        let (b, n) = (Budget::BROWSER, Budget::NATIVE);
        assert!(n.parameters > b.parameters && n.activation_bytes > b.activation_bytes);
        assert!(n.request_rows > b.request_rows && n.csv_bytes > b.csv_bytes);
        assert!(b.tensor_bytes <= b.activation_bytes);
    }
}
