//! The autoencoder beside its linear baseline and beside the raw values, as the lesson on
//! dimensionality reduction compares them:
//!
//! - **Reconstruction:** PCA of the training rows at the code's width, and at every width
//!   (one decomposition), so the model's error is a point on PCA's curve: the fewest
//!   components that do as well are what the nonlinear code is worth in linear dimensions.
//! - **Separation:** the held-out rows in PCA's first two components and in the code (or its
//!   own first two components), each with the accuracy of a nearest-neighbour classifier in
//!   that plane.
//! - **Features:** the same classifier on the full code, on the raw values and on PCA of the
//!   code's width, trained on the first 10, 100 and 1,000 labelled training rows.
//!
//! What depends on the data alone (the decomposition, its curve and plane, the classifier on
//! raw values) is a [`Baseline`], made once per data set; a [`Comparison`] adds one model.

use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::knn::Knn;
use crate::pca::Pca;
use crate::train::KnnAccuracy;

/// Labelled training rows the classifiers are trained on, in turn.
pub const KNN_LABELS: [usize; 3] = [10, 100, 1000];

/// The widest rows a baseline is made for: every width of PCA is one `d × d` symmetric
/// eigenproblem (784 for the digits).
pub const MAX_VALUES: usize = 1024;

/// What a data set's comparisons share, whatever the model.
#[derive(Clone, Debug)]
pub struct Baseline {
    /// PCA of the training rows with every component.
    pub pca: Pca,
    /// PCA's MSE per value on the test rows at each width from 1 to the rows' width.
    pub curve: Vec<f64>,
    /// The test rows' first two PCA coordinates (n × 2; the second is 0 for rows of one
    /// value).
    pub plane: Vec<f32>,
    /// How many training rows the classifiers know: the first 1,000, or all if fewer; 0 when
    /// the data has no labels.
    pub labelled: usize,
    /// The classifier on the raw values: one accuracy per count of [`Baseline::counts`].
    pub values_knn: Vec<f64>,
    /// The classifier in PCA's plane, trained on `labelled` rows.
    pub plane_knn: Option<f64>,
    /// The test rows as floats (n × d): converted once, for every comparison.
    pub test_rows: Vec<f32>,
    /// The first `labelled` training rows as floats.
    pub labelled_rows: Vec<f32>,
}

/// One model beside the baseline.
#[derive(Clone, Debug)]
pub struct Comparison {
    /// The code's width.
    pub width: usize,
    /// The model's MSE per value on the test rows.
    pub model_mse: f64,
    /// PCA's at the code's width; `None` when the code is as wide as a row (PCA then
    /// rebuilds every row exactly).
    pub pca_mse: Option<f64>,
    /// The fewest PCA components whose MSE is no more than the model's.
    pub equivalent_k: Option<usize>,
    /// The classifiers, one row per count of [`Baseline::counts`] (empty without labels).
    pub knn: Vec<(usize, KnnAccuracy)>,
    /// The test rows' codes in a plane (n × 2): the code itself when it has two numbers,
    /// else its first two principal components (fitted on the test codes); `None` without
    /// codes (a conditional model's code is given the label).
    pub code_plane: Option<Vec<f32>>,
    /// Whether `code_plane` is a projection (the code has more than two numbers).
    pub code_projected: bool,
    /// The classifier in that plane, trained on the baseline's labelled rows.
    pub code_plane_knn: Option<f64>,
}

/// The codes of one model, as the comparison takes them.
pub struct Codes<'a> {
    /// Of the test rows (n × width).
    pub test: &'a [f32],
    /// Of the first [`Baseline::labelled`] training rows.
    pub labelled: &'a [f32],
}

impl Baseline {
    /// PCA of `train` at every width and what it gives on `test`; the classifiers when both
    /// have labels.
    pub fn new(train: &Dataset, test: &Dataset) -> Result<Baseline> {
        let d = train.shape.size();
        if d > MAX_VALUES {
            return Err(Error::Input(format!(
                "PCA beside the model is offered for rows of up to {MAX_VALUES} values; these \
                 have {d}"
            )));
        }
        if test.is_empty() {
            return Err(Error::Input("PCA beside the model needs held-out rows".into()));
        }
        let rows = train.rows_f32(0..train.len());
        let pca = Pca::fit(&rows, d, d)?;
        let test_rows = test.rows_f32(0..test.len());
        let curve = pca.mse_by_width(&test_rows);
        let two = pca.truncated(2);
        let plane = to_plane(&two.encode(&test_rows), two.components.len());
        let labelled = if train.has_labels() && test.has_labels() {
            train.len().min(KNN_LABELS[2])
        } else {
            0
        };
        let labelled_rows = rows[..labelled * d].to_vec();
        let (mut values_knn, mut plane_knn) = (vec![], None);
        if labelled > 0 {
            let counts: Vec<usize> = KNN_LABELS.into_iter().filter(|&n| n <= labelled).collect();
            values_knn =
                knn_by_count(&labelled_rows, &train.labels, &test_rows, &test.labels, d, &counts)?;
            let known_plane = to_plane(&two.encode(&labelled_rows), two.components.len());
            plane_knn = Some(
                knn_by_count(&known_plane, &train.labels, &plane, &test.labels, 2, &[labelled])?[0],
            );
        }
        Ok(Baseline {
            pca,
            curve,
            plane,
            labelled,
            values_knn,
            plane_knn,
            test_rows,
            labelled_rows,
        })
    }

    /// The counts of labelled rows the classifiers are trained on (of [`KNN_LABELS`], those the
    /// training split has).
    pub fn counts(&self) -> Vec<usize> {
        KNN_LABELS.into_iter().filter(|&n| n <= self.labelled).collect()
    }

    /// The fewest PCA components whose test MSE is no more than `mse`.
    pub fn equivalent_k(&self, mse: f64) -> Option<usize> {
        self.curve.iter().position(|&m| m <= mse).map(|k| k + 1)
    }

    /// `model` beside the baseline: its reconstructions of every test row (n × d, of
    /// [`Baseline::test_rows`]) and, unless it is conditional, its codes (`width` numbers a
    /// row) of those rows and of [`Baseline::labelled_rows`].
    pub fn compare(
        &self,
        train: &Dataset,
        test: &Dataset,
        width: usize,
        reconstructions: &[f32],
        codes: Option<Codes>,
    ) -> Result<Comparison> {
        let d = self.pca.width();
        let test_rows = &self.test_rows;
        if reconstructions.len() != test_rows.len() || width == 0 {
            return Err(Error::Input(format!(
                "a comparison needs a reconstruction of each of the {} test rows",
                test.len()
            )));
        }
        let se: f64 =
            reconstructions.iter().zip(test_rows).map(|(&a, &b)| f64::from(a - b).powi(2)).sum();
        let model_mse = se / test_rows.len() as f64;
        let pca_mse = (width < d).then(|| self.curve[width - 1]);
        let mut comparison = Comparison {
            width,
            model_mse,
            pca_mse,
            equivalent_k: self.equivalent_k(model_mse),
            knn: vec![],
            code_plane: None,
            code_projected: width > 2,
            code_plane_knn: None,
        };
        let Some(codes) = codes else { return Ok(comparison) };
        let n = self.labelled;
        if codes.test.len() != test.len() * width || codes.labelled.len() != n * width {
            return Err(Error::Input(format!(
                "a comparison needs the codes of the {} test rows and {n} labelled rows",
                test.len()
            )));
        }
        // The code's plane: itself, padded or projected onto its own first two components.
        let (code_plane, known_plane) = if width <= 2 {
            (to_plane(codes.test, width), to_plane(codes.labelled, width))
        } else {
            let own = Pca::fit(codes.test, width, 2)?;
            (to_plane(&own.encode(codes.test), 2), to_plane(&own.encode(codes.labelled), 2))
        };
        if n > 0 {
            let counts = self.counts();
            let at_width = self.pca.truncated(width.min(d));
            let k = at_width.components.len();
            let (pca_known, pca_test) =
                (at_width.encode(&self.labelled_rows), at_width.encode(test_rows));
            let by = |known: &[f32], queries: &[f32], w: usize| {
                knn_by_count(known, &train.labels, queries, &test.labels, w, &counts)
            };
            let code = by(codes.labelled, codes.test, width)?;
            let pca = by(&pca_known, &pca_test, k)?;
            comparison.knn = counts
                .iter()
                .enumerate()
                .map(|(i, &c)| {
                    (c, KnnAccuracy { code: code[i], pixels: self.values_knn[i], pca: pca[i] })
                })
                .collect();
            comparison.code_plane_knn = Some(
                knn_by_count(&known_plane, &train.labels, &code_plane, &test.labels, 2, &[n])?[0],
            );
        }
        comparison.code_plane = Some(code_plane);
        Ok(comparison)
    }
}

/// The accuracy of a 1-nearest-neighbour classifier of `queries` (labels `truth`) trained on
/// the first `n` rows of `known` (labels `labels`), for each `n` of `counts`; rows are
/// `width` numbers.
pub fn knn_by_count(
    known: &[f32],
    labels: &[u8],
    queries: &[f32],
    truth: &[u8],
    width: usize,
    counts: &[usize],
) -> Result<Vec<f64>> {
    counts
        .iter()
        .map(|&n| {
            if n * width > known.len() || n > labels.len() {
                return Err(Error::Input(format!(
                    "k-NN from {n} rows: only {} are labelled",
                    labels.len()
                )));
            }
            Ok(Knn::new(&known[..n * width], &labels[..n], width)?.accuracy(queries, truth, 1))
        })
        .collect()
}

/// The principal angles between the subspaces spanned by `a` and by `b` (each a list of
/// vectors of one length), in radians, smallest first: as many as the smaller subspace has
/// dimensions. 0 everywhere: the same subspace. The arccosines of the singular values of
/// Qaᵀ·Qb, Q an orthonormal basis of each (QR).
pub fn principal_angles(a: &[Vec<f64>], b: &[Vec<f64>]) -> Vec<f64> {
    let basis = |v: &[Vec<f64>]| {
        let d = v.first().map_or(0, Vec::len);
        nalgebra::DMatrix::from_fn(d, v.len(), |i, j| v[j][i]).qr().q()
    };
    let (qa, qb) = (basis(a), basis(b));
    if qa.nrows() == 0 || qa.nrows() != qb.nrows() {
        return vec![];
    }
    let mut cosines: Vec<f64> =
        (qa.transpose() * qb).singular_values().iter().map(|c| c.clamp(0.0, 1.0)).collect();
    cosines.sort_by(|x, y| y.total_cmp(x));
    cosines.truncate(a.len().min(b.len()));
    cosines.into_iter().map(f64::acos).collect()
}

/// The principal angles (radians, smallest first) between the subspace a linear model's
/// decoder maps its code onto and PCA's as many first components. `weight` is
/// `decoder.0.weight`, d × k (outputs × inputs, row-major): its k columns span the decoder's
/// subspace. A trained linear AE's angles fall towards 0 (Baldi & Hornik, 1989).
pub fn decoder_angles(weight: &[f32], d: usize, pca: &Pca) -> Vec<f64> {
    let k = weight.len().checked_div(d).unwrap_or(0).min(pca.components.len());
    if k == 0 || weight.len() != d * k {
        return vec![];
    }
    let columns: Vec<Vec<f64>> =
        (0..k).map(|j| (0..d).map(|i| f64::from(weight[i * k + j])).collect()).collect();
    principal_angles(&columns, &pca.components[..k])
}

/// Rows of `width` ≤ 2 numbers as points of a plane (a 1-number row on the x axis).
fn to_plane(rows: &[f32], width: usize) -> Vec<f32> {
    match width {
        2 => rows.to_vec(),
        1 => rows.iter().flat_map(|&x| [x, 0.0]).collect(),
        _ => rows.chunks_exact(width).flat_map(|r| [r[0], r[1]]).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{InputShape, Values};

    /// Rows of 6 values: two well-separated classes along the first direction, noise along the
    /// others that shrinks direction by direction.
    fn classes(n: usize, offset: u32) -> Dataset {
        let shape = InputShape::Vector { features: 6 };
        let labels: Vec<u8> = (0..n).map(|i| (i % 2) as u8).collect();
        let mut values = vec![];
        for (i, &l) in labels.iter().enumerate() {
            for j in 0..6 {
                let noise = crate::rng::normal(7, offset, 0, (i * 6 + j) as u32) / (1 + j) as f32;
                values.push(if j == 0 { 4.0 * f32::from(l) - 2.0 + 0.3 * noise } else { noise });
            }
        }
        Dataset { shape, values: Values::from(values), labels }
    }

    #[test]
    fn a_decoders_columns_are_compared_as_a_subspace() {
        // PCA of rows along e1 and e2 of 4 values; a decoder (4 × 2) whose columns mix e1 and
        // e2 spans the same plane, whatever its basis; one that maps onto e3 and e4 is
        // perpendicular to it.
        let rows: Vec<f32> = (0..200)
            .flat_map(|i| {
                let (a, b) = (crate::rng::normal(3, 1, 0, i), crate::rng::normal(3, 2, 0, i));
                [3.0 * a, b, 0.01 * a * b, 0.0]
            })
            .collect();
        let pca = Pca::fit(&rows, 4, 2).unwrap();
        let mixed = [2.0, 1.0, -1.0, 3.0, 0.0, 0.0, 0.0, 0.0];
        let angles = decoder_angles(&mixed, 4, &pca);
        assert_eq!(angles.len(), 2);
        assert!(angles.iter().all(|a| a.to_degrees() < 0.5), "{angles:?}");
        let off = [0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 1.0];
        let angles = decoder_angles(&off, 4, &pca);
        assert!(angles.iter().all(|a| (a.to_degrees() - 90.0).abs() < 0.5), "{angles:?}");
        // A weight that is not d × k has no columns to compare.
        assert!(decoder_angles(&mixed[..7], 4, &pca).is_empty());
    }

    #[test]
    fn places_a_model_on_pcas_curve_and_classifies_in_each_space() {
        let (train, test) = (classes(400, 1), classes(120, 2));
        let b = Baseline::new(&train, &test).unwrap();
        assert_eq!(b.curve.len(), 6);
        assert!(b.curve[5] < 1e-9, "{:?}", b.curve);
        assert_eq!(b.labelled, 400);
        assert_eq!(b.counts(), [10, 100]);
        // The classes differ along the first direction: every space separates them.
        assert!(b.values_knn.iter().all(|&a| a > 0.95), "{:?}", b.values_knn);
        assert!(b.plane_knn.unwrap() > 0.95);
        assert_eq!(b.plane.len(), 240);

        // A "model" whose code is the first PCA coordinate and whose reconstruction is PCA-1's:
        // it sits on the curve at k = 1.
        let one = b.pca.truncated(1);
        let test_rows = test.rows_f32(0..test.len());
        let back = one.reconstruct(&test_rows);
        let codes = one.encode(&test_rows);
        let known = one.encode(&train.rows_f32(0..400));
        let c = b
            .compare(&train, &test, 1, &back, Some(Codes { test: &codes, labelled: &known }))
            .unwrap();
        assert!((c.model_mse - b.curve[0]).abs() < 1e-6, "{} vs {:?}", c.model_mse, b.curve);
        assert!((c.pca_mse.unwrap() - b.curve[0]).abs() < 1e-12);
        // (In f32 the model's error may come out a hair under PCA-1's: then k = 2 is the first
        // width at or below it.)
        let want = if c.model_mse >= b.curve[0] { 1 } else { 2 };
        assert_eq!(c.equivalent_k, Some(want));
        assert_eq!(c.knn.len(), 2);
        for (n, acc) in &c.knn {
            // The code and PCA-1 are the same numbers here, so the same classifier.
            assert_eq!(acc.code, acc.pca, "{n}");
            assert_eq!(acc.pixels, b.values_knn[if *n == 10 { 0 } else { 1 }]);
        }
        let plane = c.code_plane.unwrap();
        assert_eq!(plane.len(), 240);
        assert!(plane.iter().skip(1).step_by(2).all(|&y| y == 0.0));
        assert!(!c.code_projected);

        // Without codes (a conditional model) the reconstruction figures alone.
        let c = b.compare(&train, &test, 1, &back, None).unwrap();
        assert!(c.knn.is_empty() && c.code_plane.is_none());
        // The wrong number of reconstructions is refused.
        assert!(b.compare(&train, &test, 1, &back[..6], None).is_err());
    }

    #[test]
    fn a_wide_code_is_shown_in_its_own_first_two_components() {
        let (train, test) = (classes(200, 3), classes(60, 4));
        let b = Baseline::new(&train, &test).unwrap();
        let four = b.pca.truncated(4);
        let test_rows = test.rows_f32(0..test.len());
        let codes = four.encode(&test_rows);
        let known = four.encode(&train.rows_f32(0..200));
        let c = b
            .compare(
                &train,
                &test,
                4,
                &four.reconstruct(&test_rows),
                Some(Codes { test: &codes, labelled: &known }),
            )
            .unwrap();
        assert!(c.code_projected);
        assert_eq!(c.equivalent_k, Some(4));
        // The plane is the test codes' own first two components, and it still separates the
        // classes.
        let own = Pca::fit(&codes, 4, 2).unwrap();
        assert_eq!(c.code_plane.unwrap(), own.encode(&codes));
        assert!(c.code_plane_knn.unwrap() > 0.95, "{:?}", c.code_plane_knn);
    }

    #[test]
    fn principal_angles_of_a_hand_case() {
        // span{e1, e2} and span{e1, (e2 + e3)/√2} in 3-D: the same first direction, then 45°.
        let r = std::f64::consts::FRAC_1_SQRT_2;
        let a = vec![vec![1.0, 0.0, 0.0], vec![0.0, 1.0, 0.0]];
        let b = vec![vec![2.0, 0.0, 0.0], vec![0.0, 3.0 * r, 3.0 * r]];
        let angles = principal_angles(&a, &b);
        assert_eq!(angles.len(), 2);
        assert!(angles[0].abs() < 1e-9, "{angles:?}");
        assert!((angles[1] - std::f64::consts::FRAC_PI_4).abs() < 1e-9, "{angles:?}");
        // A basis of the same plane that is neither unit nor orthogonal: no angle.
        let c = vec![vec![1.0, 1.0, 0.0], vec![1.0, -2.0, 0.0]];
        assert!(principal_angles(&a, &c).iter().all(|t| t.abs() < 1e-7));
    }

    #[test]
    fn refuses_rows_too_wide_to_decompose() {
        let shape = InputShape::Vector { features: MAX_VALUES + 1 };
        let values = Values::from(vec![0.5f32; 2 * (MAX_VALUES + 1)]);
        let wide = Dataset { shape, values, labels: vec![] };
        let e = Baseline::new(&wide, &wide).unwrap_err().to_string();
        assert!(e.contains("up to 1024 values"), "{e}");
    }
}
