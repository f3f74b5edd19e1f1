//! Saving and loading trained weights as `.safetensors`, bytes in and bytes out.
//!
//! A weights file is an ordinary safetensors file: every parameter is an F32 tensor, and the
//! header's `__metadata__` holds `{"format": "latent-lab", "format_version": "1", "spec": …,
//! "shape": …}` with the [`ModelSpec`] and the [`InputShape`] as JSON — and, for a table or a
//! series, `"normalisation": {"mean": […], "std": […]}` — so a file alone is enough to
//! rebuild its model and to score new data exactly as in training. A file without `shape`
//! (written before shapes were a parameter) is a model of 28 × 28 digits. Any safetensors
//! reader (Python's `safetensors`, the Rust crate) can open it.
//!
//! Loading never panics and never trusts the bytes: every failure is a [`WeightsError`] whose
//! one-line message says what is wrong and, where there is something to do, what to do.

use std::borrow::Cow;
use std::collections::HashMap;

use safetensors::tensor::Metadata;
use safetensors::{Dtype, SafeTensorError, SafeTensors, View};
use thiserror::Error;

use crate::data::{InputShape, Normalisation};
use crate::error::SpecError;
use crate::limits::quote;
use crate::model::ModelSpec;

/// What a weights file says about its model besides the tensors.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelInfo {
    pub spec: ModelSpec,
    /// The shape of one input row.
    pub shape: InputShape,
    /// The standardisation of a table's features or a series' channels, fitted on the
    /// training split; `None` for images.
    pub normalisation: Option<Normalisation>,
}

impl ModelInfo {
    /// A model of `spec` on images of 28 × 28 (the digits).
    pub fn digits(spec: ModelSpec) -> Self {
        ModelInfo { spec, shape: InputShape::default(), normalisation: None }
    }
}

/// Entries of a normalisation: a table's features, a series' channels, none for images.
pub fn normalised_groups(shape: &InputShape) -> Option<usize> {
    match *shape {
        InputShape::Image { .. } => None,
        InputShape::Vector { features } => Some(features),
        InputShape::Series { channels, .. } => Some(channels),
    }
}

/// Value of the `format` metadata key of a Latent Lab weights file.
pub const FORMAT: &str = "latent-lab";
/// Value of the `format_version` metadata key written (and the only one read) by this build.
pub const FORMAT_VERSION: &str = "1";

/// Largest weight magnitude accepted. A trained model's weights are a few units at most; a
/// value past this saturates every unit it feeds and, multiplied on, overflows f32 in use
/// (a file of f32::MAX values reads as finite). Subtler overflow is caught by running the
/// model on real digits when it is loaded ([`crate::train::check_in_use`]).
pub const MAX_WEIGHT: f32 = 1e6;

/// Bytes of the little-endian `u64` header length that starts every safetensors file.
const HEADER_LEN_BYTES: usize = 8;

/// A weights file that cannot be loaded, or tensors that do not fit the model.
#[derive(Debug, Error)]
pub enum WeightsError {
    #[error("the weights file is empty (0 bytes): choose a .safetensors file saved by Latent Lab")]
    Empty,
    /// A metadata entry besides the spec that does not describe the model.
    #[error("the weights file's metadata `{key}` is not valid: {message}")]
    Metadata { key: String, message: String },
    #[error(
        "not a valid safetensors file ({0}): the file is truncated, corrupt or of another \
         format; choose a .safetensors file saved by Latent Lab"
    )]
    Safetensors(SafeTensorError),
    #[error(
        "the weights file is truncated or corrupt: tensor `{name}` ends at byte {end} of the \
         data, which has only {len} bytes; save or download the file again"
    )]
    Truncated { name: String, end: u64, len: u64 },
    #[error(
        "not a Latent Lab weights file: {reason}; choose a .safetensors file saved by Latent Lab"
    )]
    NotLatentLab { reason: String },
    #[error(
        "weights file format version {found:?} is not supported (this build reads version \
         {FORMAT_VERSION:?}): update Latent Lab, or save the model again with this version"
    )]
    UnsupportedVersion { found: String },
    #[error("weights file: {0}")]
    Spec(SpecError),
    #[error(
        "tensor `{name}` has dtype {dtype}, but Latent Lab weights are F32: convert it to \
         float32 before loading"
    )]
    Dtype { name: String, dtype: String },
    #[error(
        "tensor `{name}` contains {value} (element {index}): the model had diverged when it was \
         saved; retrain it with a lower learning rate (optimizer.lr)"
    )]
    NonFinite { name: String, index: usize, value: f32 },
    #[error(
        "tensor `{name}` holds {value:e} (element {index}), far past any trained weight (at most \
         {MAX_WEIGHT:e} here): such values overflow in use; the file is corrupt or was saved \
         from a diverged model"
    )]
    Huge { name: String, index: usize, value: f32 },
    #[error(
        "tensor `{name}` is missing from the weights file, which has {}: the file was saved \
         from a different model",
        list_names(.found)
    )]
    Missing { name: String, found: Vec<String> },
    #[error("tensor `{name}` has shape {found:?}, but the model expects {expected:?}")]
    Shape { name: String, expected: Vec<usize>, found: Vec<usize> },
    #[error("tensor `{name}` has {found} values, but its shape {shape:?} needs {expected}")]
    Length { name: String, shape: Vec<usize>, expected: usize, found: usize },
    #[error(
        "tensor `{name}` appears more than once in the header: the file is corrupt or was \
         edited; save or download it again"
    )]
    Duplicate { name: String },
    #[error(
        "the metadata entry `{key}` appears more than once in the header: the file is corrupt \
         or was edited; save or download it again"
    )]
    DuplicateMetadata { key: String },
    #[error(
        "not a valid safetensors file (its header would be {} bytes, a Latent Lab header is at \
         most {}): the file is truncated, corrupt or of another format; choose a .safetensors \
         file saved by Latent Lab",
        crate::limits::group(usize::try_from(*.len).unwrap_or(usize::MAX)),
        crate::limits::group(MAX_HEADER_BYTES)
    )]
    HeaderTooLarge { len: u64 },
    #[error(
        "the weights overflow in use: {what} is {value}; the file is corrupt, or the model had \
         diverged when it was saved: retrain it with a lower learning rate (optimizer.lr)"
    )]
    Overflow { what: String, value: f32 },
    #[error(
        "unexpected tensor `{name}` in the weights file: the model built from its spec has no \
         such parameter; the file was saved from a different model"
    )]
    Extra { name: String },
}

/// The names a file has, for messages: at most 12 of them, each cut short if long.
fn list_names(names: &[String]) -> String {
    const SHOWN: usize = 12;
    if names.is_empty() {
        return "no tensors".to_string();
    }
    let quoted: Vec<String> = names.iter().take(SHOWN).map(|n| format!("`{}`", quote(n))).collect();
    let more = match names.len().checked_sub(SHOWN) {
        Some(rest) if rest > 0 => format!(" and {rest} more"),
        _ => String::new(),
    };
    format!("[{}]{more}", quoted.join(", "))
}

/// One named parameter tensor, row-major f32.
#[derive(Clone, Debug, PartialEq)]
pub struct Tensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub data: Vec<f32>,
}

/// A [`Tensor`] as the safetensors serialiser sees it: F32, little-endian.
struct F32View<'a>(&'a Tensor);

impl View for F32View<'_> {
    fn dtype(&self) -> Dtype {
        Dtype::F32
    }
    fn shape(&self) -> &[usize] {
        &self.0.shape
    }
    fn data(&self) -> Cow<'_, [u8]> {
        Cow::Owned(self.0.data.iter().flat_map(|x| x.to_le_bytes()).collect())
    }
    fn data_len(&self) -> usize {
        self.0.data.len() * size_of::<f32>()
    }
}

/// Serialises a model: tensors as F32, metadata
/// `{"format": "latent-lab", "format_version": "1", "spec": <spec JSON>, "shape": <shape JSON>}`
/// (and `"normalisation"` when there is one).
///
/// The file stores tensors sorted by name (safetensors' own order); [`load_weights`] returns
/// them in that order and [`match_tensors`] puts them back in model order.
///
/// # Panics
///
/// On a programming error in the caller: two tensors with the same name, or a tensor whose
/// data length is not the product of its shape.
pub fn save_weights(info: &ModelInfo, tensors: &[Tensor]) -> Vec<u8> {
    let mut seen = std::collections::HashSet::new();
    for t in tensors {
        assert!(seen.insert(t.name.as_str()), "save_weights: tensor `{}` appears twice", t.name);
        let expected = t.shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
        assert!(
            expected == Some(t.data.len()),
            "save_weights: tensor `{}` has {} values but shape {:?}",
            t.name,
            t.data.len(),
            t.shape
        );
    }
    let mut metadata = HashMap::from([
        ("format".to_string(), FORMAT.to_string()),
        ("format_version".to_string(), FORMAT_VERSION.to_string()),
        ("spec".to_string(), info.spec.to_json()),
        ("shape".to_string(), json(&info.shape)),
    ]);
    if let Some(n) = &info.normalisation {
        metadata.insert("normalisation".to_string(), json(n));
    }
    let views = tensors.iter().map(|t| (t.name.as_str(), F32View(t)));
    let bytes = safetensors::serialize(views, Some(metadata))
        .expect("checked tensors always serialise (the header is far below safetensors' limit)");
    canonical_header(bytes)
}

/// A metadata value as JSON.
fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).expect("shapes and normalisations serialise")
}

/// safetensors writes the metadata map in `HashMap` order, which changes from run to run.
/// The header is rewritten with every object's keys sorted (the same text, reordered, so the
/// same length), so one model always gives the same bytes: `make models` is reproducible
/// to the byte.
fn canonical_header(mut bytes: Vec<u8>) -> Vec<u8> {
    let len = u64::from_le_bytes(bytes[..HEADER_LEN_BYTES].try_into().expect("8 bytes"));
    let end = HEADER_LEN_BYTES + len as usize;
    let header: serde_json::Value =
        serde_json::from_slice(&bytes[HEADER_LEN_BYTES..end]).expect("safetensors wrote JSON");
    let text = serde_json::to_string(&sorted_keys(header)).expect("JSON values serialise");
    assert!(text.len() <= end - HEADER_LEN_BYTES, "a reordered header has the same length");
    bytes[HEADER_LEN_BYTES..HEADER_LEN_BYTES + text.len()].copy_from_slice(text.as_bytes());
    bytes[HEADER_LEN_BYTES + text.len()..end].fill(b' ');
    bytes
}

/// `v` with the keys of every object inserted in sorted order.
fn sorted_keys(v: serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(map) => {
            let mut entries: Vec<_> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            serde_json::Value::Object(
                entries.into_iter().map(|(k, v)| (k, sorted_keys(v))).collect(),
            )
        }
        serde_json::Value::Array(items) => {
            serde_json::Value::Array(items.into_iter().map(sorted_keys).collect())
        }
        other => other,
    }
}

/// Parses a file: header, metadata, spec (validated), every tensor (F32 only, finite values).
///
/// Tensors come back in file order (sorted by name for files written by [`save_weights`]).
pub fn load_weights(bytes: &[u8]) -> Result<(ModelInfo, Vec<Tensor>), WeightsError> {
    if bytes.is_empty() {
        return Err(WeightsError::Empty);
    }
    check_header(bytes)?;
    let (header_len, header) =
        SafeTensors::read_metadata(bytes).map_err(WeightsError::Safetensors)?;
    let info = read_info(&header)?;

    // `read_metadata` checked that the offsets tile the data section exactly.
    let data = HEADER_LEN_BYTES
        .checked_add(header_len)
        .and_then(|start| bytes.get(start..))
        .ok_or(WeightsError::Safetensors(SafeTensorError::InvalidHeaderLength))?;
    let mut tensors = Vec::new();
    for name in header.offset_keys() {
        let info = header.info(&name).ok_or_else(|| {
            WeightsError::Safetensors(SafeTensorError::TensorNotFound(quote(&name)))
        })?;
        if info.dtype != Dtype::F32 {
            return Err(WeightsError::Dtype { name: quote(&name), dtype: info.dtype.to_string() });
        }
        let (start, end) = info.data_offsets;
        let raw = data.get(start..end).ok_or_else(|| {
            WeightsError::Safetensors(SafeTensorError::InvalidOffset(quote(&name)))
        })?;
        let values: Vec<f32> = raw
            .chunks_exact(size_of::<f32>())
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect();
        if let Some((index, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
            return Err(WeightsError::NonFinite { name: quote(&name), index, value });
        }
        if let Some((index, &value)) = values.iter().enumerate().find(|(_, v)| v.abs() > MAX_WEIGHT)
        {
            return Err(WeightsError::Huge { name: quote(&name), index, value });
        }
        tensors.push(Tensor { name, shape: info.shape.clone(), data: values });
    }
    Ok((info, tensors))
}

/// Checks the header before the safetensors crate sees it: its length is sane, no tensor
/// or metadata entry is named twice (JSON readers keep the last of two equal keys, so a
/// repeated entry would silently hide another), and no tensor's data ends past the end of
/// the file — which names the tensor a truncated file lost; with absurd offsets the crate's
/// own bounds arithmetic overflows (a panic in debug builds). Headers that do not parse
/// here are left to safetensors to report.
fn check_header(bytes: &[u8]) -> Result<(), WeightsError> {
    let Some(len_bytes) = bytes.get(..HEADER_LEN_BYTES) else { return Ok(()) };
    let mut len = [0u8; HEADER_LEN_BYTES];
    len.copy_from_slice(len_bytes);
    let header_len = u64::from_le_bytes(len);
    if header_len > MAX_HEADER_BYTES as u64 {
        return Err(WeightsError::HeaderTooLarge { len: header_len });
    }
    let data_start = HEADER_LEN_BYTES + header_len as usize;
    let Some(header) = bytes.get(HEADER_LEN_BYTES..data_start) else { return Ok(()) };
    if let Ok(keys) = serde_json::from_slice::<HeaderKeys>(header) {
        if let Some(name) = first_repeat(&keys.tensors) {
            return Err(WeightsError::Duplicate { name: quote(name) });
        }
        if let Some(key) = first_repeat(&keys.metadata) {
            return Err(WeightsError::DuplicateMetadata { key: quote(key) });
        }
    }
    let Ok(serde_json::Value::Object(entries)) = serde_json::from_slice(header) else {
        return Ok(());
    };
    let data_len = (bytes.len() - data_start) as u64;
    for (name, entry) in entries {
        let end = entry.get("data_offsets").and_then(|o| o.get(1)).and_then(|e| e.as_u64());
        if let Some(end) = end.filter(|&end| end > data_len) {
            return Err(WeightsError::Truncated { name: quote(&name), end, len: data_len });
        }
    }
    Ok(())
}

/// Longest header accepted: a Latent Lab header is about 1 kB (safetensors allows 100 MB).
pub const MAX_HEADER_BYTES: usize = 1 << 20;

/// The keys of a safetensors header as written, repeats kept: the tensors' names and the
/// `__metadata__` object's keys.
struct HeaderKeys {
    tensors: Vec<String>,
    metadata: Vec<String>,
}

impl<'de> serde::Deserialize<'de> for HeaderKeys {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::{IgnoredAny, MapAccess, Visitor};
        /// The keys of one object, repeats kept; values skipped.
        struct Keys(Vec<String>);
        impl<'de> serde::Deserialize<'de> for Keys {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl<'de> Visitor<'de> for V {
                    type Value = Keys;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str("an object")
                    }
                    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Keys, A::Error> {
                        let mut keys = vec![];
                        while let Some(k) = map.next_key::<String>()? {
                            map.next_value::<IgnoredAny>()?;
                            keys.push(k);
                        }
                        Ok(Keys(keys))
                    }
                }
                d.deserialize_map(V)
            }
        }
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = HeaderKeys;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a safetensors header")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<HeaderKeys, A::Error> {
                let (mut tensors, mut metadata) = (vec![], vec![]);
                while let Some(k) = map.next_key::<String>()? {
                    if k == "__metadata__" {
                        metadata.extend(map.next_value::<Keys>()?.0);
                        metadata.push(k); // a second __metadata__ is a repeat too
                    } else {
                        map.next_value::<IgnoredAny>()?;
                        tensors.push(k);
                    }
                }
                Ok(HeaderKeys { tensors, metadata })
            }
        }
        d.deserialize_map(V)
    }
}

/// The first string that occurs twice in `items`.
fn first_repeat(items: &[String]) -> Option<&String> {
    let mut seen = std::collections::HashSet::with_capacity(items.len());
    items.iter().find(|s| !seen.insert(s.as_str()))
}

/// Reads and validates the Latent Lab entries of the header's `__metadata__`.
fn read_info(header: &Metadata) -> Result<ModelInfo, WeightsError> {
    let not_ours = |reason: &str| WeightsError::NotLatentLab { reason: reason.to_string() };
    let meta = header.metadata().as_ref().ok_or_else(|| not_ours("the file has no metadata"))?;
    match meta.get("format") {
        Some(format) if format == FORMAT => {}
        Some(other) => {
            return Err(not_ours(&format!(
                "its metadata `format` is {:?}, expected {FORMAT:?}",
                quote(other)
            )))
        }
        None => return Err(not_ours("its metadata has no `format` entry")),
    }
    if let Some(version) = meta.get("format_version") {
        if version != FORMAT_VERSION {
            return Err(WeightsError::UnsupportedVersion { found: quote(version) });
        }
    }
    let spec = meta.get("spec").ok_or_else(|| not_ours("its metadata has no `spec` entry"))?;
    let spec = ModelSpec::from_json(spec).map_err(WeightsError::Spec)?;
    let bad = |key: &str, message: String| WeightsError::Metadata { key: key.into(), message };
    let shape = match meta.get("shape") {
        None => InputShape::default(),
        Some(text) => serde_json::from_str::<InputShape>(text)
            .map_err(|e| bad("shape", quote(&e.to_string())))?,
    };
    shape.validate(crate::limits::MAX_INPUT).map_err(|m| bad("shape", m))?;
    let normalisation = match meta.get("normalisation") {
        None => None,
        Some(text) => Some(
            serde_json::from_str::<Normalisation>(text)
                .map_err(|e| bad("normalisation", quote(&e.to_string())))?,
        ),
    };
    match (normalised_groups(&shape), &normalisation) {
        (Some(groups), Some(n)) => n.validate(groups).map_err(|m| bad("normalisation", m))?,
        (Some(_), None) => {
            return Err(bad(
                "normalisation",
                format!(
                    "a model of a {} needs the mean and deviation it was trained with",
                    shape.row_name()
                ),
            ))
        }
        (None, Some(_)) => {
            return Err(bad("normalisation", "images are not standardised: drop the entry".into()))
        }
        (None, None) => {}
    }
    spec.validate_for(&shape).map_err(WeightsError::Spec)?;
    Ok(ModelInfo { spec, shape, normalisation })
}

/// Checks loaded tensors against what the model built from the spec expects (names and shapes,
/// in that order) and returns the data in the expected order.
///
/// Errors: a missing tensor (named, with the names the file has), a wrong shape (name, expected,
/// found), a data length that does not fit the shape, a repeated name, or an unexpected extra
/// tensor (named).
pub fn match_tensors(
    expected: &[(String, Vec<usize>)],
    tensors: Vec<Tensor>,
) -> Result<Vec<Vec<f32>>, WeightsError> {
    let file_names: Vec<String> = tensors.iter().map(|t| t.name.clone()).collect();
    let mut by_name = HashMap::with_capacity(tensors.len());
    for t in tensors {
        if by_name.contains_key(&t.name) {
            return Err(WeightsError::Duplicate { name: quote(&t.name) });
        }
        by_name.insert(t.name.clone(), t);
    }
    let mut out = Vec::with_capacity(expected.len());
    for (name, shape) in expected {
        let Some(t) = by_name.remove(name) else {
            return Err(WeightsError::Missing { name: name.clone(), found: file_names });
        };
        if &t.shape != shape {
            return Err(WeightsError::Shape {
                name: quote(&t.name),
                expected: shape.clone(),
                found: t.shape,
            });
        }
        let needed = shape.iter().try_fold(1usize, |n, &d| n.checked_mul(d));
        if needed != Some(t.data.len()) {
            return Err(WeightsError::Length {
                name: quote(&t.name),
                shape: t.shape,
                expected: needed.unwrap_or(usize::MAX),
                found: t.data.len(),
            });
        }
        out.push(t.data);
    }
    if let Some(name) = file_names.into_iter().find(|n| by_name.contains_key(n)) {
        return Err(WeightsError::Extra { name: quote(&name) });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ModelKind;
    use safetensors::tensor::TensorView;

    fn spec() -> ModelSpec {
        ModelSpec {
            kind: ModelKind::Ae,
            hidden: vec![5, 3],
            latent: 2,
            seed: 7,
            ..ModelSpec::default()
        }
    }

    /// Deterministic values with awkward bit patterns (subnormals, -0, extremes).
    fn values(n: usize, seed: u32) -> Vec<f32> {
        // Extremes the reader keeps bit for bit: zeros of both signs, subnormals, the largest
        // weights accepted.
        let special = [0.0, -0.0, f32::MIN_POSITIVE / 3.0, MAX_WEIGHT, -MAX_WEIGHT, 1e-45, -1.5];
        let mut state = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
        (0..n)
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                if i % 5 == 4 {
                    special[(state as usize) % special.len()]
                } else {
                    (state as f32 / u32::MAX as f32 - 0.5) * 4.0
                }
            })
            .collect()
    }

    fn tensor(name: &str, shape: &[usize], seed: u32) -> Tensor {
        let n = shape.iter().product();
        Tensor { name: name.to_string(), shape: shape.to_vec(), data: values(n, seed) }
    }

    fn model_tensors() -> Vec<Tensor> {
        vec![
            tensor("enc.0.weight", &[5, 7], 1),
            tensor("enc.0.bias", &[5], 2),
            tensor("enc.1.weight", &[3, 5], 3),
            tensor("code.bias", &[1], 4),
            tensor("scalar", &[], 5),
            tensor("empty", &[0, 4], 6),
            tensor("cube", &[2, 3, 1, 2], 7),
        ]
    }

    /// The same model saves to the same bytes every time, though safetensors keeps the
    /// metadata in a `HashMap` (a new iteration order for every map).
    #[test]
    fn saving_is_byte_for_byte_reproducible() {
        let first = save_weights(&ModelInfo::digits(spec()), &model_tensors());
        for _ in 0..20 {
            assert_eq!(save_weights(&ModelInfo::digits(spec()), &model_tensors()), first);
        }
        let (_, header) = SafeTensors::read_metadata(&first).unwrap();
        let metadata = header.metadata().as_ref().unwrap();
        assert_eq!(metadata.get("format").map(String::as_str), Some(FORMAT));
        let start = first.windows(14).position(|w| w == b"__metadata__\":").unwrap();
        let text = std::str::from_utf8(&first[start..start + 60]).unwrap();
        assert!(text.find("\"format\"") < text.find("\"format_version\""), "{text}");
    }

    fn expected_of(tensors: &[Tensor]) -> Vec<(String, Vec<usize>)> {
        tensors.iter().map(|t| (t.name.clone(), t.shape.clone())).collect()
    }

    fn small_file() -> Vec<u8> {
        save_weights(&ModelInfo::digits(spec()), &[tensor("w", &[2, 3], 1), tensor("b", &[2], 2)])
    }

    fn load_err(bytes: &[u8]) -> String {
        match load_weights(bytes) {
            Ok(_) => panic!("loading should fail"),
            Err(e) => e.to_string(),
        }
    }

    fn bits(data: &[f32]) -> Vec<u32> {
        data.iter().map(|x| x.to_bits()).collect()
    }

    /// A raw little-endian byte view of a tensor in any dtype, for hand-made files.
    fn raw_file(
        tensors: &[(&str, Dtype, Vec<usize>, Vec<u8>)],
        metadata: Option<&[(&str, &str)]>,
    ) -> Vec<u8> {
        let views: Vec<(&str, TensorView<'_>)> = tensors
            .iter()
            .map(|(name, dtype, shape, data)| {
                (*name, TensorView::new(*dtype, shape.clone(), data).unwrap())
            })
            .collect();
        let metadata =
            metadata.map(|m| m.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect());
        safetensors::serialize(views, metadata).unwrap()
    }

    fn f32_bytes(data: &[f32]) -> Vec<u8> {
        data.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    #[test]
    fn round_trip_is_bit_exact() {
        let tensors = model_tensors();
        let bytes = save_weights(&ModelInfo::digits(spec()), &tensors);
        let (loaded_spec, loaded) = load_weights(&bytes).unwrap();
        assert_eq!(loaded_spec, ModelInfo::digits(spec()));
        assert_eq!(loaded.len(), tensors.len());
        for t in &tensors {
            let l = loaded.iter().find(|l| l.name == t.name).unwrap();
            assert_eq!(l.shape, t.shape, "{}", t.name);
            assert_eq!(bits(&l.data), bits(&t.data), "{}", t.name);
        }
        let data = match_tensors(&expected_of(&tensors), loaded).unwrap();
        for (t, d) in tensors.iter().zip(&data) {
            assert_eq!(bits(d), bits(&t.data), "{}", t.name);
        }
    }

    #[test]
    fn shape_and_normalisation_travel_with_the_weights() {
        let table = ModelInfo {
            spec: ModelSpec { loss: crate::model::ReconLoss::Mse, ..spec() },
            shape: InputShape::Vector { features: 3 },
            normalisation: Some(Normalisation {
                mean: vec![1.0, -2.5, 0.0],
                std: vec![2.0, 0.5, 1.0],
            }),
        };
        let bytes = save_weights(&table, &[]);
        assert_eq!(load_weights(&bytes).unwrap().0, table);
        let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
        let meta = header.metadata().as_ref().unwrap();
        assert_eq!(meta["shape"], r#"{"type":"vector","features":3}"#);
        assert_eq!(meta["normalisation"], r#"{"mean":[1.0,-2.5,0.0],"std":[2.0,0.5,1.0]}"#);
        // A file without a shape is a model of 28 × 28 digits.
        let e = |info: &ModelInfo| load_err(&save_weights(info, &[]));
        let old = ModelInfo::digits(spec());
        assert_eq!(
            load_weights(&save_weights(&old, &[])).unwrap().0.shape,
            InputShape::image(28, 28)
        );
        // A table without its normalisation, one of another width, images with one.
        let msg = e(&ModelInfo { normalisation: None, ..table.clone() });
        assert!(msg.contains("`normalisation`") && msg.contains("mean and deviation"), "{msg}");
        let narrow = Normalisation { mean: vec![0.0], std: vec![1.0] };
        let msg = e(&ModelInfo { normalisation: Some(narrow.clone()), ..table.clone() });
        assert!(msg.contains("1 means") && msg.contains("3 features"), "{msg}");
        let msg = e(&ModelInfo { normalisation: Some(narrow), ..old.clone() });
        assert!(msg.contains("images are not standardised"), "{msg}");
        // A spec its shape cannot take: BCE on standardised rows.
        let msg = e(&ModelInfo { spec: spec(), ..table });
        assert!(msg.contains("`loss`") && msg.contains("mse for a table row"), "{msg}");
    }

    #[test]
    fn round_trip_of_a_model_without_tensors() {
        let (s, t) =
            load_weights(&save_weights(&ModelInfo::digits(ModelSpec::default()), &[])).unwrap();
        assert_eq!(s.spec, ModelSpec::default());
        assert!(t.is_empty());
    }

    #[test]
    fn readable_by_the_safetensors_crate() {
        let tensors = model_tensors();
        let bytes = save_weights(&ModelInfo::digits(spec()), &tensors);
        let st = SafeTensors::deserialize(&bytes).unwrap();
        assert_eq!(st.len(), tensors.len());
        let w = st.tensor("enc.0.weight").unwrap();
        assert_eq!(w.dtype(), Dtype::F32);
        assert_eq!(w.shape(), &[5, 7]);
        assert_eq!(w.data(), f32_bytes(&tensors[0].data).as_slice());

        let (_, header) = SafeTensors::read_metadata(&bytes).unwrap();
        let meta = header.metadata().as_ref().unwrap();
        assert_eq!(meta["format"], "latent-lab");
        assert_eq!(meta["format_version"], "1");
        assert_eq!(ModelSpec::from_json(&meta["spec"]).unwrap(), spec());
    }

    #[test]
    fn empty_file() {
        let e = load_err(&[]);
        assert!(e.contains("empty"), "{e}");
    }

    #[test]
    fn every_truncation_errors() {
        let bytes = small_file();
        for len in 0..bytes.len() {
            let e = load_err(&bytes[..len]);
            assert!(!e.is_empty());
        }
        let e = load_err(&bytes[..bytes.len() - 1]);
        assert!(e.contains("truncated") && e.contains("tensor `w`"), "{e}");
        let e = load_err(&bytes[..20]);
        assert!(e.contains("not a valid safetensors file (invalid header length)"), "{e}");
    }

    #[test]
    fn random_garbage() {
        let garbage: Vec<u8> = values(64, 99).iter().flat_map(|x| x.to_le_bytes()).collect();
        let e = load_err(&garbage);
        assert!(e.contains("not a valid safetensors file"), "{e}");
        let e = load_err(b"hello, this is not a weights file at all");
        assert!(e.contains("not a valid safetensors file"), "{e}");
    }

    #[test]
    fn header_longer_than_file() {
        let mut bytes = small_file();
        let too_long = bytes.len() as u64 + 100;
        bytes[..8].copy_from_slice(&too_long.to_le_bytes());
        let e = load_err(&bytes);
        assert!(e.contains("header length"), "{e}");
        bytes[..8].copy_from_slice(&u64::MAX.to_le_bytes());
        let e = load_err(&bytes);
        assert!(e.contains("header"), "{e}");
    }

    #[test]
    fn corrupt_header_json() {
        let mut bytes = small_file();
        bytes[8] = b'[';
        let e = load_err(&bytes);
        assert!(e.contains("invalid JSON in header"), "{e}");
        let mut bytes = small_file();
        bytes[9] = 0xff;
        let e = load_err(&bytes);
        assert!(e.contains("UTF-8"), "{e}");
    }

    #[test]
    fn offsets_past_the_end_are_an_error_not_an_overflow() {
        // Eight tensors whose offsets add up to almost 2^64 bytes: the safetensors crate's
        // own end-of-buffer arithmetic would overflow.
        let big = (1u64 << 61) - 1;
        let entries: Vec<String> = (0..8u64)
            .map(|i| {
                let (s, e) = (big * i, big * (i + 1));
                format!(r#""t{i}":{{"dtype":"U8","shape":[{big}],"data_offsets":[{s},{e}]}}"#)
            })
            .collect();
        let header = format!("{{{}}}", entries.join(","));
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend(header.as_bytes());
        let e = load_err(&bytes);
        assert!(e.contains("truncated or corrupt: tensor `t"), "{e}");
    }

    #[test]
    fn single_byte_corruptions_never_panic() {
        let bytes = small_file();
        for i in 0..bytes.len() {
            for v in [0u8, 0xff, b'0', b'9', b'"', b'{', b'}', b',', b'-', b'e', bytes[i] ^ 1] {
                let mut b = bytes.clone();
                b[i] = v;
                let _ = load_weights(&b);
            }
        }
    }

    #[test]
    fn missing_metadata() {
        let file = raw_file(&[("w", Dtype::F32, vec![2], f32_bytes(&[1.0, 2.0]))], None);
        let e = load_err(&file);
        assert!(e.contains("not a Latent Lab weights file") && e.contains("metadata"), "{e}");
    }

    #[test]
    fn metadata_without_spec() {
        let meta: &[(&str, &str)] = &[("format", "latent-lab"), ("format_version", "1")];
        let e = load_err(&raw_file(&[], Some(meta)));
        assert!(e.contains("not a Latent Lab weights file") && e.contains("`spec`"), "{e}");
    }

    #[test]
    fn metadata_of_another_format() {
        let e = load_err(&raw_file(&[], Some(&[("format", "pt")])));
        assert!(e.contains("not a Latent Lab weights file") && e.contains("\"pt\""), "{e}");
        let e = load_err(&raw_file(&[], Some(&[("spec", "{}")])));
        assert!(e.contains("not a Latent Lab weights file") && e.contains("`format`"), "{e}");
    }

    #[test]
    fn newer_format_version() {
        let meta: &[(&str, &str)] =
            &[("format", "latent-lab"), ("format_version", "2"), ("spec", "{}")];
        let e = load_err(&raw_file(&[], Some(meta)));
        assert!(e.contains("version \"2\"") && e.contains("update"), "{e}");
    }

    #[test]
    fn invalid_spec_names_the_field() {
        let meta: &[(&str, &str)] =
            &[("format", "latent-lab"), ("format_version", "1"), ("spec", r#"{"latent": 0}"#)];
        let e = load_err(&raw_file(&[], Some(meta)));
        assert!(e.contains("spec") && e.contains("`latent`"), "{e}");
        let meta: &[(&str, &str)] = &[("format", "latent-lab"), ("spec", "{not json")];
        let e = load_err(&raw_file(&[], Some(meta)));
        assert!(e.contains("invalid model spec"), "{e}");
        // The metadata's spec is read by the one spec parser: nothing after the object, and
        // an object it must be.
        for (spec, says) in
            [(r#"{"latent": 3} garbage"#, "trailing characters"), ("[]", "must be a JSON object")]
        {
            let meta: &[(&str, &str)] = &[("format", "latent-lab"), ("spec", spec)];
            let e = load_err(&raw_file(&[], Some(meta)));
            assert!(e.contains("weights file: invalid model spec") && e.contains(says), "{e}");
        }
    }

    #[test]
    fn f16_tensor_is_rejected_by_name() {
        let spec_json = spec().to_json();
        let meta: &[(&str, &str)] = &[("format", "latent-lab"), ("spec", &spec_json)];
        let half_ones = [0x00, 0x3c, 0x00, 0x3c, 0x00, 0x3c];
        let file = raw_file(
            &[
                ("enc.0.bias", Dtype::F32, vec![1], f32_bytes(&[0.5])),
                ("enc.0.weight", Dtype::F16, vec![3], half_ones.to_vec()),
            ],
            Some(meta),
        );
        let e = load_err(&file);
        assert!(e.contains("`enc.0.weight`") && e.contains("F16"), "{e}");
    }

    #[test]
    fn non_finite_values_are_rejected_by_name() {
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            let mut t = tensor("dec.1.weight", &[3, 4], 1);
            t.data[5] = bad;
            let bytes = save_weights(&ModelInfo::digits(spec()), &[tensor("a", &[2], 2), t]);
            let e = load_err(&bytes);
            assert!(e.contains("`dec.1.weight`") && e.contains("element 5"), "{e}");
            assert!(e.contains(&bad.to_string()) && e.contains("diverged"), "{e}");
        }
    }

    #[test]
    fn values_far_past_any_trained_weight_are_rejected_by_name() {
        for bad in [f32::MAX, -1e7] {
            let mut t = tensor("dec.1.weight", &[3, 4], 1);
            t.data[2] = bad;
            let e = load_err(&save_weights(&ModelInfo::digits(spec()), &[t]));
            assert!(e.contains("`dec.1.weight`") && e.contains("element 2"), "{e}");
            assert!(e.contains("overflow in use"), "{e}");
        }
        let mut t = tensor("dec.1.weight", &[3, 4], 1);
        t.data[2] = 1e5; // large, but not absurd
        assert!(load_weights(&save_weights(&ModelInfo::digits(spec()), &[t])).is_ok());
    }

    /// A file from a header written by hand (repeated keys are what serialisers never write).
    fn hand_made(header: &str, data_len: usize) -> Vec<u8> {
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header.as_bytes());
        bytes.resize(bytes.len() + data_len, 0);
        bytes
    }

    #[test]
    fn repeated_header_entries_are_refused() {
        let meta = format!(
            r#""__metadata__":{{"format":"latent-lab","format_version":"1","spec":{}}}"#,
            serde_json::to_string(&spec().to_json()).unwrap()
        );
        let entry =
            |a: usize| format!(r#"{{"dtype":"F32","shape":[1],"data_offsets":[{a},{}]}}"#, a + 4);
        let twice = hand_made(&format!(r#"{{"w":{},"w":{},{meta}}}"#, entry(0), entry(4)), 8);
        let e = load_err(&twice);
        assert!(e.contains("tensor `w` appears more than once"), "{e}");
        let meta_twice = hand_made(
            &format!(
                r#"{{"w":{},"__metadata__":{{"format":"latent-lab","format":"x"}}}}"#,
                entry(0)
            ),
            4,
        );
        let e = load_err(&meta_twice);
        assert!(e.contains("metadata entry `format` appears more than once"), "{e}");
        let two_metadata = hand_made(&format!(r#"{{{meta},{meta}}}"#), 0);
        assert!(load_err(&two_metadata).contains("appears more than once"));
        // The same header without the repeat reads.
        assert!(load_weights(&hand_made(&format!(r#"{{"w":{},{meta}}}"#, entry(0)), 4)).is_ok());
    }

    #[test]
    fn a_header_past_the_limit_is_refused_before_it_is_read() {
        let mut bytes = ((MAX_HEADER_BYTES + 1) as u64).to_le_bytes().to_vec();
        bytes.resize(MAX_HEADER_BYTES + 100, b' ');
        let e = load_err(&bytes);
        assert!(e.contains("1,048,577 bytes") && e.contains("not a valid safetensors file"), "{e}");
    }

    #[test]
    fn missing_tensor_names_it_and_lists_the_file() {
        let mut tensors = model_tensors();
        let expected = expected_of(&tensors);
        tensors.remove(2);
        let e = match_tensors(&expected, tensors).unwrap_err().to_string();
        assert!(e.contains("`enc.1.weight` is missing"), "{e}");
        assert!(e.contains("`enc.0.bias`") && e.contains("`cube`"), "{e}");
        let e = match_tensors(&expected, Vec::new()).unwrap_err().to_string();
        assert!(e.contains("`enc.0.weight`") && e.contains("no tensors"), "{e}");
    }

    #[test]
    fn wrong_shape_names_it() {
        let tensors = model_tensors();
        let mut expected = expected_of(&tensors);
        expected[2].1 = vec![5, 3];
        let e = match_tensors(&expected, tensors).unwrap_err().to_string();
        assert!(
            e.contains("`enc.1.weight`") && e.contains("[3, 5]") && e.contains("[5, 3]"),
            "{e}"
        );
    }

    #[test]
    fn extra_tensor_names_it() {
        let tensors = model_tensors();
        let mut expected = expected_of(&tensors);
        expected.remove(4);
        let e = match_tensors(&expected, tensors).unwrap_err().to_string();
        assert!(e.contains("unexpected tensor `scalar`"), "{e}");
    }

    #[test]
    fn inconsistent_or_repeated_tensors() {
        let mut tensors = model_tensors();
        let expected = expected_of(&tensors);
        tensors[1].data.pop();
        let e = match_tensors(&expected, tensors).unwrap_err().to_string();
        assert!(e.contains("`enc.0.bias`") && e.contains("4 values"), "{e}");
        let mut tensors = model_tensors();
        tensors.push(tensor("cube", &[2, 3, 1, 2], 8));
        let e = match_tensors(&expected, tensors).unwrap_err().to_string();
        assert!(e.contains("`cube`") && e.contains("more than once"), "{e}");
    }

    #[test]
    fn match_returns_model_order_whatever_the_file_order() {
        let tensors = model_tensors();
        let expected = expected_of(&tensors);
        let mut shuffled = tensors.clone();
        shuffled.reverse();
        let data = match_tensors(&expected, shuffled).unwrap();
        let want: Vec<Vec<f32>> = tensors.into_iter().map(|t| t.data).collect();
        assert_eq!(data.len(), want.len());
        for (d, w) in data.iter().zip(&want) {
            assert_eq!(bits(d), bits(w));
        }
    }

    #[test]
    #[should_panic(expected = "appears twice")]
    fn saving_duplicate_names_is_a_bug() {
        save_weights(&ModelInfo::digits(spec()), &[tensor("w", &[1], 1), tensor("w", &[1], 2)]);
    }
}
