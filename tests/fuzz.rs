//! Property tests over every reader of outside bytes and text: the weights reader, the spec
//! parser, the lab-data reader, the CSV reader and the IDX readers. Each gets random input,
//! and mutations of a valid file (bit flips, overwritten, inserted and deleted bytes,
//! truncations, edits of the header's JSON) — and must never panic, must keep its memory
//! bounded (a counting allocator measures each case), must give short messages, and what it
//! accepts must be sound.
//!
//! `cargo test` runs a fixed budget of 2,000 cases per reader; `make fuzz` runs 100,000
//! (`LATENT_LAB_FUZZ_CASES` sets it).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::io::Write;

use latent_lab::data::{
    decode_lab_file, encode_lab_data, read_csv, read_idx_dataset, read_idx_images, read_idx_labels,
    Dataset, LabFile, Split, MNIST_SHAPE,
};
use latent_lab::model::{ModelKind, ModelSpec, Program};
use latent_lab::weights::{load_weights, match_tensors, save_weights, Tensor, MAX_WEIGHT};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use serde_json::Value;

// ── memory: the bytes each thread holds, and the most it held ───────────────────────────

struct Counting;

thread_local! {
    static HELD: Cell<usize> = const { Cell::new(0) };
    static PEAK: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let _ = HELD.try_with(|h| {
                let now = h.get() + layout.size();
                h.set(now);
                let _ = PEAK.try_with(|p| p.set(p.get().max(now)));
            });
        }
        p
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        let _ = HELD.try_with(|h| h.set(h.get().saturating_sub(layout.size())));
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f` and returns the most memory it held at once beyond what was held before.
fn peak_of<T>(f: impl FnOnce() -> T) -> (T, usize) {
    let base = HELD.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let out = f();
    (out, PEAK.with(Cell::get) - base)
}

/// The memory a reader may use for an input of `len` bytes: a little working room and a
/// small multiple of the input (the readers copy and widen bytes to f32; nothing more).
fn memory_bound(len: usize) -> usize {
    (4 << 20) + 48 * len
}

/// Longest message accepted from a reader (hostile values are quoted short).
const MAX_MESSAGE: usize = 2048;

fn cases() -> u32 {
    std::env::var("LATENT_LAB_FUZZ_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(2_000)
}

fn runner() -> TestRunner {
    TestRunner::new(Config { cases: cases(), failure_persistence: None, ..Config::default() })
}

/// Runs `check` on `cases()` inputs of `strategy`; prints how the cases ended (accepted,
/// or refused by which message), so a run shows how deep the inputs reached.
fn fuzz<S: Strategy>(
    name: &str,
    strategy: S,
    check: impl Fn(S::Value) -> Result<String, TestCaseError>,
) where
    S::Value: std::fmt::Debug,
{
    let outcomes = std::cell::RefCell::new(std::collections::BTreeMap::<String, usize>::new());
    let mut runner = runner();
    let result = runner.run(&strategy, |v| {
        let outcome = check(v)?;
        *outcomes.borrow_mut().entry(outcome).or_default() += 1;
        Ok(())
    });
    if let Err(e) = result {
        panic!("{name}: {e}");
    }
    let mut tally: Vec<(String, usize)> = outcomes.into_inner().into_iter().collect();
    tally.sort_by_key(|t| std::cmp::Reverse(t.1));
    let shown: Vec<String> = tally.iter().take(8).map(|(k, n)| format!("{n} {k}")).collect();
    let accepted: usize =
        tally.iter().filter(|(k, _)| k.starts_with("accepted")).map(|t| t.1).sum();
    eprintln!(
        "{name}: {} cases, no panic, memory and messages bounded; {accepted} accepted; {} \
         kinds of outcome: {}",
        cases(),
        tally.len(),
        shown.join(" | ")
    );
}

/// The kind of a refusal, for the tally: its message without the quoted values and the
/// numbers, so that refusals of the same kind count together.
fn kind_of(message: &str) -> String {
    let mut head = String::new();
    let mut quoted = None;
    for c in message.chars() {
        match (quoted, c) {
            (None, '`' | '"') => {
                quoted = Some(c);
                head.push('…');
            }
            (Some(q), _) if c == q => quoted = None,
            (Some(_), _) => {}
            (None, c) if !c.is_ascii_digit() => head.push(c),
            _ => {}
        }
        if head.chars().count() >= 72 {
            break;
        }
    }
    format!("refused: {}", head.trim_end())
}

// ── mutations of a valid file ───────────────────────────────────────────────────────────

#[derive(Clone, Debug)]
enum Mutation {
    Flip(prop::sample::Index, u8),
    Set(prop::sample::Index, u8),
    Insert(prop::sample::Index, Vec<u8>),
    Delete(prop::sample::Index, usize),
    Truncate(prop::sample::Index),
    /// A run of bytes copied from one place of the file over another.
    Splice(prop::sample::Index, prop::sample::Index, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let index = any::<prop::sample::Index>;
    prop_oneof![
        4 => (index(), 0..8u8).prop_map(|(i, b)| Mutation::Flip(i, b)),
        3 => (index(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        1 => (index(), prop::collection::vec(any::<u8>(), 1..16)).prop_map(|(i, b)| Mutation::Insert(i, b)),
        1 => (index(), 1..64usize).prop_map(|(i, n)| Mutation::Delete(i, n)),
        1 => index().prop_map(Mutation::Truncate),
        1 => (index(), index(), 1..32usize).prop_map(|(a, b, n)| Mutation::Splice(a, b, n)),
    ]
}

/// `bytes` with the mutations applied; `focus` bytes at the start (a header) are hit as
/// often as all the rest, where the parsing is.
fn mutate(mut bytes: Vec<u8>, mutations: &[Mutation], focus: usize) -> Vec<u8> {
    for m in mutations {
        if bytes.is_empty() {
            break;
        }
        let at = |i: &prop::sample::Index, len: usize| {
            let n = if focus > 0 && i.index(2) == 0 { focus.min(len) } else { len };
            i.index(n.max(1))
        };
        match m {
            Mutation::Flip(i, bit) => {
                let k = at(i, bytes.len());
                bytes[k] ^= 1 << bit;
            }
            Mutation::Set(i, b) => {
                let k = at(i, bytes.len());
                bytes[k] = *b;
            }
            Mutation::Insert(i, b) => {
                let k = at(i, bytes.len());
                bytes.splice(k..k, b.iter().copied());
            }
            Mutation::Delete(i, n) => {
                let k = at(i, bytes.len());
                let end = (k + n).min(bytes.len());
                bytes.drain(k..end);
            }
            Mutation::Truncate(i) => {
                let k = i.index(bytes.len());
                bytes.truncate(k);
            }
            Mutation::Splice(a, b, n) => {
                let (from, to) = (a.index(bytes.len()), at(b, bytes.len()));
                let run: Vec<u8> = bytes[from..(from + n).min(bytes.len())].to_vec();
                let end = (to + run.len()).min(bytes.len());
                bytes.splice(to..end, run);
            }
        }
    }
    bytes
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    prop::collection::vec(mutation(), 1..6)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

// ── JSON values, biased towards specs ───────────────────────────────────────────────────

const FIELDS: &[&str] = &[
    "kind",
    "hidden",
    "decoder_hidden",
    "activation",
    "latent",
    "loss",
    "beta",
    "noise",
    "sparsity",
    "contractive",
    "channels",
    "optimizer",
    "batch_size",
    "seed",
    "amount",
    "penalty",
    "target",
    "weight",
    "lr",
    "beta1",
    "beta2",
    "eps",
];
const WORDS: &[&str] = &[
    "vae",
    "ae",
    "dae",
    "sparse",
    "contractive",
    "cvae",
    "conv_ae",
    "conv_vae",
    "relu",
    "leaky_relu",
    "tanh",
    "sigmoid",
    "bce",
    "mse",
    "gaussian",
    "mask",
    "salt_pepper",
    "kl",
    "l1",
];

fn json_value() -> impl Strategy<Value = Value> {
    let number = prop_oneof![
        (0..5000u64).prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        prop::num::f64::ANY
            .prop_map(|x| serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)),
        prop::sample::select(vec![0.0, 1.0, 1e-3, 0.5, 2.5, -1.0, 1e300, 4096.0, 4097.0, 1024.0])
            .prop_map(Value::from),
    ];
    let string = prop_oneof![
        prop::sample::select(WORDS).prop_map(Value::from),
        "[a-z_]{0,12}".prop_map(Value::from),
        any::<String>().prop_map(Value::from),
    ];
    let leaf = prop_oneof![Just(Value::Null), any::<bool>().prop_map(Value::from), number, string];
    leaf.prop_recursive(4, 48, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec(
                (prop_oneof![4 => prop::sample::select(FIELDS).prop_map(String::from), 1 => any::<String>()], inner),
                0..8
            )
            .prop_map(|entries| Value::Object(entries.into_iter().collect())),
        ]
    })
}

/// Text that may be a spec: JSON of a value, with a chance of garbage after it or of
/// being cut short, or arbitrary text.
fn spec_text() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => (json_value(), prop_oneof![3 => Just(String::new()), 1 => any::<String>()], any::<prop::sample::Index>(), any::<bool>())
            .prop_map(|(v, tail, cut, do_cut)| {
                let mut text = format!("{v}{tail}");
                if do_cut && !text.is_empty() {
                    let mut k = cut.index(text.len());
                    while !text.is_char_boundary(k) {
                        k -= 1;
                    }
                    text.truncate(k);
                }
                text
            }),
        1 => any::<String>(),
        1 => "[\\[\\]{}:,\" 0-9a-z.e+-]{0,64}",
    ]
}

/// A refusal's message is short; returns its kind for the tally.
fn refused(what: &str, message: &str) -> Result<String, TestCaseError> {
    prop_assert!(
        message.len() <= MAX_MESSAGE,
        "{what}: a {}-byte message: {}…",
        message.len(),
        message.chars().take(200).collect::<String>()
    );
    Ok(kind_of(message))
}

// ── the readers ─────────────────────────────────────────────────────────────────────────

/// A spec as the engine reads it: if accepted, it is valid, round-trips through JSON and
/// its Program builds or is refused by the budget — never a panic.
fn check_spec(text: &str) -> Result<String, TestCaseError> {
    let (result, peak) = peak_of(|| ModelSpec::from_json(text));
    prop_assert!(
        peak <= memory_bound(text.len()),
        "{peak} bytes held for {} bytes of text",
        text.len()
    );
    match result {
        Ok(spec) => {
            prop_assert!(spec.validate().is_ok());
            prop_assert_eq!(ModelSpec::from_json(&spec.to_json()).unwrap(), spec.clone());
            match Program::build(&spec, &MNIST_SHAPE) {
                Ok(_) => Ok("accepted".into()),
                Err(e) => refused("Program::build", &e.to_string()),
            }
        }
        Err(e) => refused("from_json", &e.to_string()),
    }
}

#[test]
fn the_spec_parser_survives_random_and_hostile_text() {
    fuzz("spec parser", spec_text(), |text| check_spec(&text));
}

#[test]
fn the_spec_parser_survives_mutated_specs() {
    let valid: Vec<String> =
        ModelKind::ALL.iter().map(|&k| ModelSpec::of_kind(k).to_json()).collect();
    let strategy = (prop::sample::select(valid), mutations());
    fuzz("spec parser (mutated specs)", strategy, |(text, m)| {
        let bytes = mutate(text.into_bytes(), &m, 0);
        check_spec(&String::from_utf8_lossy(&bytes))
    });
}

/// A small valid weights file of `kind`.
fn weights_file(kind: ModelKind) -> Vec<u8> {
    let spec = ModelSpec {
        kind,
        hidden: vec![3],
        latent: 2,
        channels: vec![2],
        ..ModelSpec::of_kind(kind)
    };
    let program = Program::build(&spec, &MNIST_SHAPE).unwrap();
    let tensors: Vec<Tensor> = program
        .params
        .iter()
        .zip(program.initial_params())
        .map(|(p, data)| Tensor { name: p.name.clone(), shape: p.shape.clone(), data })
        .collect();
    save_weights(&latent_lab::weights::ModelInfo::digits(spec), &tensors)
}

/// Weights as the engine reads them: the file, the spec in it, the tensors against the
/// model that spec builds. What is accepted is finite and within the reader's bound.
fn check_weights(bytes: &[u8]) -> Result<String, TestCaseError> {
    let (result, peak) = peak_of(|| {
        let (spec, tensors) = load_weights(bytes)?;
        let program = Program::build(&spec.spec, &spec.shape)
            .map_err(latent_lab::weights::WeightsError::Spec)?;
        match_tensors(&program.param_shapes(), tensors)
    });
    prop_assert!(
        peak <= memory_bound(bytes.len()),
        "{peak} bytes held for a {}-byte file",
        bytes.len()
    );
    match result {
        Ok(values) => {
            for v in values.iter().flatten() {
                prop_assert!(v.is_finite() && v.abs() <= MAX_WEIGHT, "accepted {v}");
            }
            Ok("accepted".into())
        }
        Err(e) => refused("weights", &e.to_string()),
    }
}

#[test]
fn the_weights_reader_survives_mutated_files() {
    let files: Vec<Vec<u8>> = [ModelKind::Vae, ModelKind::Ae, ModelKind::ConvAe, ModelKind::Cvae]
        .iter()
        .map(|&k| weights_file(k))
        .collect();
    let strategy = (prop::sample::select(files), mutations());
    fuzz("weights reader (mutated files)", strategy, |(file, m)| {
        let header = 8 + u64::from_le_bytes(file[..8].try_into().unwrap()) as usize;
        check_weights(&mutate(file, &m, header))
    });
}

/// A tensor as a header may describe it: a model's or a random name, a dtype, a small shape.
fn tensor_entry() -> impl Strategy<Value = (String, &'static str, Vec<u64>)> {
    let names = prop_oneof![
        4 => prop::sample::select(vec![
            "encoder.0.weight", "encoder.0.bias", "encoder.1.weight", "encoder.1.bias",
            "decoder.0.weight", "decoder.0.bias", "decoder.1.weight", "decoder.1.bias",
        ])
        .prop_map(String::from),
        1 => any::<String>(),
    ];
    let dtype =
        prop::sample::select(vec!["F32", "F32", "F32", "F32", "F16", "BF16", "F64", "I64", "U8"]);
    let dim = prop_oneof![0..6u64, Just(2), Just(3), Just(4), Just(784)];
    (names, dtype, prop::collection::vec(dim, 0..3))
}

fn dtype_bytes(dtype: &str) -> u64 {
    match dtype {
        "F64" | "I64" => 8,
        "F16" | "BF16" => 2,
        "U8" => 1,
        _ => 4,
    }
}

#[test]
fn the_weights_reader_survives_random_headers() {
    // Tensors laid end to end over random data (now and then an offset is off), and a spec
    // (valid or not) in the metadata: past the safetensors checks into Latent Lab's own.
    let valid_spec = ModelSpec { hidden: vec![3], latent: 2, ..ModelSpec::default() }.to_json();
    let spec = prop_oneof![2 => Just(valid_spec), 1 => spec_text()];
    let tensors = prop::collection::vec(tensor_entry(), 0..10);
    let strategy = (tensors, spec, any::<u64>(), any::<prop::sample::Index>(), any::<u32>());
    fuzz("weights reader (random headers)", strategy, |(tensors, spec, seed, off, values)| {
        let mut header = serde_json::Map::new();
        let mut end = 0u64;
        for (k, (name, dtype, shape)) in tensors.iter().enumerate() {
            if header.contains_key(name) {
                continue; // JSON keeps one of two equal keys: the other's bytes would be a gap
            }
            let len = shape.iter().product::<u64>() * dtype_bytes(dtype);
            let start = if seed % 5 == 0 && off.index(tensors.len()) == k { end + 4 } else { end };
            end = start + len;
            let entry =
                serde_json::json!({"dtype": dtype, "shape": shape, "data_offsets": [start, end]});
            header.insert(name.clone(), entry);
        }
        let meta = serde_json::json!({"format": "latent-lab", "format_version": "1", "spec": spec});
        header.insert("__metadata__".into(), meta);
        let text = Value::Object(header).to_string();
        let mut bytes = (text.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(text.as_bytes());
        // Values: mostly small floats, sometimes any bit pattern (NaN, huge, subnormal).
        let mut state = u64::from(values) | 1;
        for _ in 0..end.div_ceil(4) {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let v = if state % 7 == 0 {
                f32::from_bits(state as u32)
            } else {
                (state % 1000) as f32 / 1000.0 - 0.5
            };
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        bytes.truncate(8 + text.len() + end as usize);
        check_weights(&bytes)
    });
}

#[test]
fn the_weights_reader_survives_random_bytes() {
    fuzz("weights reader (random bytes)", prop::collection::vec(any::<u8>(), 0..512), |b| {
        check_weights(&b)
    });
}

fn small_split() -> Split {
    let set = |n: usize, seed: u8| {
        Dataset::images(
            MNIST_SHAPE,
            (0..n * 784).map(|i| (i as u8).wrapping_mul(seed)).collect(),
            (0..n).map(|i| (i % 10) as u8).collect(),
        )
    };
    Split { train: set(6, 3), test: set(3, 7), normalisation: None }
}

fn check_lab_data(bytes: &[u8]) -> Result<String, TestCaseError> {
    let (result, peak) = peak_of(|| decode_lab_file(bytes));
    prop_assert!(
        peak <= memory_bound(bytes.len().max(8_000)),
        "{peak} bytes held for {} bytes",
        bytes.len()
    );
    match result {
        Ok(LabFile::Rows(split)) => {
            for set in [&split.train, &split.test] {
                prop_assert_eq!(set.values.len() % set.shape.size(), 0);
                prop_assert!(set.labels.is_empty() || set.labels.len() == set.len());
                prop_assert!(set.labels.iter().all(|&l| l <= 9));
            }
            Ok("accepted".into())
        }
        Ok(LabFile::Series(series)) => {
            for s in [&series.train, &series.test] {
                prop_assert_eq!(s.values.len() % s.channels, 0);
                prop_assert!(s.labels.is_empty() || s.labels.len() == s.steps());
            }
            Ok("accepted".into())
        }
        Err(e) => refused("lab data", &e.to_string()),
    }
}

#[test]
fn the_lab_data_reader_survives_mutated_files() {
    let gz = encode_lab_data(&small_split());
    let plain = {
        let mut out = vec![];
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut out).unwrap();
        out
    };
    let strategy = (prop::sample::select(vec![gz, plain]), mutations());
    fuzz("lab-data reader (mutated files)", strategy, |(file, m)| {
        check_lab_data(&mutate(file, &m, 24))
    });
    // Mutated before compression: valid gzip around a broken file.
    let plain = {
        let mut out = vec![];
        std::io::Read::read_to_end(
            &mut flate2::read::GzDecoder::new(&encode_lab_data(&small_split())[..]),
            &mut out,
        )
        .unwrap();
        out
    };
    fuzz("lab-data reader (broken files, gzipped)", mutations(), |m| {
        check_lab_data(&gzip(&mutate(plain.clone(), &m, 24)))
    });
}

fn idx_images(n: u32) -> Vec<u8> {
    let mut out =
        [0x0000_0803u32, n, 28, 28].iter().flat_map(|v| v.to_be_bytes()).collect::<Vec<u8>>();
    out.extend((0..n as usize * 784).map(|i| (i * 7) as u8));
    out
}

fn idx_labels(n: u32) -> Vec<u8> {
    let mut out = [0x0000_0801u32, n].iter().flat_map(|v| v.to_be_bytes()).collect::<Vec<u8>>();
    out.extend((0..n).map(|i| (i % 10) as u8));
    out
}

#[test]
fn the_idx_readers_survive_mutated_files() {
    let files = vec![idx_images(3), gzip(&idx_images(3)), idx_labels(5), gzip(&idx_labels(5))];
    let strategy = (prop::sample::select(files), mutations());
    fuzz("IDX readers (mutated files)", strategy, |(file, m)| {
        let bytes = mutate(file, &m, 16);
        let (results, peak) = peak_of(|| {
            (
                read_idx_images(&bytes),
                read_idx_labels(&bytes),
                read_idx_dataset(&bytes, &idx_labels(3)),
            )
        });
        prop_assert!(peak <= memory_bound(bytes.len().max(8_000)), "{peak} bytes held");
        if let Ok(images) = &results.0 {
            prop_assert_eq!(images.len() % 784, 0);
        }
        if let Ok(labels) = &results.1 {
            prop_assert!(labels.iter().all(|&l| l <= 9));
        }
        let mut outcome = String::new();
        for r in [results.0.map(|_| ()), results.1.map(|_| ()), results.2.map(|_| ())] {
            outcome += &match r {
                Ok(()) => "accepted".to_string(),
                Err(e) => refused("IDX", &e.to_string())?,
            };
            outcome += "; ";
        }
        Ok(outcome)
    });
}

fn check_csv(bytes: &[u8]) -> Result<String, TestCaseError> {
    let (result, peak) = peak_of(|| read_csv(bytes));
    prop_assert!(peak <= memory_bound(bytes.len()), "{peak} bytes held for {} bytes", bytes.len());
    match result {
        Ok(t) => {
            prop_assert!(!t.columns.is_empty() && t.rows() > 0);
            prop_assert_eq!(t.values.len(), t.rows() * t.columns.len());
            prop_assert!(t.values.iter().all(|v| v.is_finite()));
            Ok("accepted".into())
        }
        Err(e) => refused("CSV", &e.to_string()),
    }
}

#[test]
fn the_csv_reader_survives_random_and_mutated_tables() {
    let token = prop_oneof![
        "-?[0-9]{1,4}(\\.[0-9]{1,3})?(e-?[0-9])?",
        Just(",".to_string()),
        Just("\n".to_string()),
        Just("\r\n".to_string()),
        Just("\"".to_string()),
        prop::sample::select(vec![
            "nan", "inf", "-inf", "NaN", " ", "amount", "time", "é", "\u{0}", "1e39"
        ])
        .prop_map(String::from),
        any::<String>(),
    ];
    let text = prop::collection::vec(token, 0..64).prop_map(|t| t.concat());
    fuzz("CSV reader (random text)", text, |t| check_csv(t.as_bytes()));
    let table = b"amount,time,label\n1.5,2,0\n-3e2,4,1\n0.25,8,0\n7,9.5,1\n".to_vec();
    let files = vec![table.clone(), gzip(&table)];
    fuzz("CSV reader (mutated tables)", (prop::sample::select(files), mutations()), |(f, m)| {
        check_csv(&mutate(f, &m, 0))
    });
}
