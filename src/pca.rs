//! Principal component analysis: the linear baseline an autoencoder is measured against. A
//! linear autoencoder with an MSE loss learns the same subspace, so an autoencoder earns its
//! nonlinearity only where it reconstructs better than PCA of the same width.
//!
//! The covariance is accumulated in f64 by nalgebra's GEMM and diagonalised by its symmetric
//! eigensolver.

use nalgebra::{DMatrix, SymmetricEigen};

use crate::error::{Error, Result};

/// The top `k` principal directions of a set of rows.
#[derive(Clone, Debug, PartialEq)]
pub struct Pca {
    /// The rows' mean, `d` values.
    pub mean: Vec<f64>,
    /// `k` unit directions of `d` values, by decreasing variance.
    pub components: Vec<Vec<f64>>,
    /// The variance along each component (its eigenvalue).
    pub variances: Vec<f64>,
}

impl Pca {
    /// Fits `k` components to `rows` (n × `d`, n ≥ 2).
    pub fn fit(rows: &[f32], d: usize, k: usize) -> Result<Pca> {
        let n = rows.len().checked_div(d).unwrap_or(0);
        if d == 0 || n < 2 || !rows.len().is_multiple_of(d) {
            return Err(Error::Input(format!(
                "PCA needs at least two whole rows of {d} values, got {} values",
                rows.len()
            )));
        }
        if k == 0 || k > d {
            return Err(Error::Input(format!("PCA of {k} components on rows of {d} values")));
        }
        let mut mean = vec![0f64; d];
        for row in rows.chunks_exact(d) {
            for (m, &v) in mean.iter_mut().zip(row) {
                *m += f64::from(v);
            }
        }
        mean.iter_mut().for_each(|m| *m /= n as f64);
        // Σ (x − mean)(x − mean)ᵀ a block of rows at a time: the block is d × rows in
        // nalgebra's column-major order (one row of data per column), and C·Cᵀ is a GEMM.
        const BLOCK: usize = 1024;
        let mut cov = DMatrix::<f64>::zeros(d, d);
        for block in rows.chunks(BLOCK * d) {
            let centred = DMatrix::from_iterator(
                d,
                block.len() / d,
                block.iter().enumerate().map(|(i, &v)| f64::from(v) - mean[i % d]),
            );
            cov.gemm(1.0 / (n - 1) as f64, &centred, &centred.transpose(), 1.0);
        }
        let eig = SymmetricEigen::new(cov);
        let mut order: Vec<usize> = (0..d).collect();
        order.sort_by(|&a, &b| eig.eigenvalues[b].total_cmp(&eig.eigenvalues[a]));
        let components = order[..k]
            .iter()
            .map(|&j| eig.eigenvectors.column(j).iter().copied().collect())
            .collect();
        let variances = order[..k].iter().map(|&j| eig.eigenvalues[j].max(0.0)).collect();
        Ok(Pca { mean, components, variances })
    }

    /// The first `k` components alone (as a fit of `k` would give them).
    pub fn truncated(&self, k: usize) -> Pca {
        let k = k.min(self.components.len());
        Pca {
            mean: self.mean.clone(),
            components: self.components[..k].to_vec(),
            variances: self.variances[..k].to_vec(),
        }
    }

    /// Width of a row.
    pub fn width(&self) -> usize {
        self.mean.len()
    }

    /// The coordinates of each row along the components (n × k).
    pub fn encode(&self, rows: &[f32]) -> Vec<f32> {
        let d = self.width();
        let mut out = Vec::with_capacity(rows.len() / d * self.components.len());
        for row in rows.chunks_exact(d) {
            for c in &self.components {
                let dot: f64 = row
                    .iter()
                    .zip(&self.mean)
                    .zip(c)
                    .map(|((&v, m), w)| (f64::from(v) - m) * w)
                    .sum();
                out.push(dot as f32);
            }
        }
        out
    }

    /// Each row projected onto the components and back: the best reconstruction of the rows
    /// from `k` numbers that any linear map can give.
    pub fn reconstruct(&self, rows: &[f32]) -> Vec<f32> {
        let d = self.width();
        let codes = self.encode(rows);
        let mut out = Vec::with_capacity(rows.len());
        for code in codes.chunks_exact(self.components.len()) {
            for j in 0..d {
                let v: f64 = self.mean[j]
                    + code
                        .iter()
                        .zip(&self.components)
                        .map(|(&z, c)| f64::from(z) * c[j])
                        .sum::<f64>();
                out.push(v as f32);
            }
        }
        out
    }

    /// The MSE per value of reconstructing `rows` from the first k components, for every k
    /// from 1 to the number fitted: one decomposition gives the whole curve. The components
    /// are orthonormal, so the error of a row is its centred squared norm less the squares of
    /// its first k coordinates.
    pub fn mse_by_width(&self, rows: &[f32]) -> Vec<f64> {
        let d = self.width();
        let mut se = vec![0f64; self.components.len()];
        let mut centred = vec![0f64; d];
        for row in rows.chunks_exact(d) {
            for ((c, &v), m) in centred.iter_mut().zip(row).zip(&self.mean) {
                *c = f64::from(v) - m;
            }
            // In f64 throughout: the error left at full rank is a difference of near equals.
            let mut left: f64 = centred.iter().map(|c| c * c).sum();
            for (s, component) in se.iter_mut().zip(&self.components) {
                let z: f64 = centred.iter().zip(component).map(|(c, w)| c * w).sum();
                left -= z * z;
                *s += left.max(0.0);
            }
        }
        se.iter().map(|s| s / rows.len().max(1) as f64).collect()
    }

    /// Mean squared error per value of reconstructing `rows`.
    pub fn mse(&self, rows: &[f32]) -> f64 {
        let back = self.reconstruct(rows);
        let se: f64 = back.iter().zip(rows).map(|(&a, &b)| f64::from(a - b).powi(2)).sum();
        se / rows.len().max(1) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_plane_the_rows_lie_in() {
        // Points on the plane z = x + 2y (3-D), with a mean offset: two components reconstruct
        // them exactly; one leaves the smaller spread as error.
        let mut rows = vec![];
        for i in 0..50 {
            let (x, y) = ((i % 7) as f32 - 3.0, 0.25 * ((i * 3) % 5) as f32);
            rows.extend([x + 10.0, y - 4.0, x + 2.0 * y + 1.0]);
        }
        let two = Pca::fit(&rows, 3, 2).unwrap();
        assert!(two.mse(&rows) < 1e-10, "{}", two.mse(&rows));
        let mean_x: f64 = rows.iter().step_by(3).map(|&v| f64::from(v)).sum::<f64>() / 50.0;
        assert!((two.mean[0] - mean_x).abs() < 1e-9);
        for c in &two.components {
            let norm: f64 = c.iter().map(|v| v * v).sum();
            assert!((norm - 1.0).abs() < 1e-9);
            // Every component lies in the plane: its normal (1, 2, −1) is orthogonal to it.
            assert!((c[0] + 2.0 * c[1] - c[2]).abs() < 1e-9, "{c:?}");
        }
        assert!(two.variances[0] >= two.variances[1]);
        let one = Pca::fit(&rows, 3, 1).unwrap();
        assert!(one.mse(&rows) > 0.01);
        assert!(Pca::fit(&rows, 3, 4).is_err());
        // The curve from one fit: k = 1 as fitted alone, k = 2 exact.
        let curve = two.mse_by_width(&rows);
        assert_eq!(curve.len(), 2);
        assert!((curve[0] - one.mse(&rows)).abs() < 1e-6 * one.mse(&rows), "{curve:?}");
        assert!(curve[1] < 1e-9, "{curve:?}");
        assert!(Pca::fit(&rows[..3], 3, 1).is_err());
    }

    #[test]
    fn agrees_with_the_singular_value_decomposition_of_the_centred_rows() {
        // A reference by another algorithm: the right singular vectors of the centred rows are
        // the principal directions, and σ² / (n − 1) their variances.
        let (n, d) = (200, 9);
        let rows: Vec<f32> = (0..n * d)
            .map(|i| {
                crate::rng::normal(11, 2, 0, i as u32) * (1.0 + (i % d) as f32) + (i % d) as f32
            })
            .collect();
        let pca = Pca::fit(&rows, d, 4).unwrap();
        let centred = DMatrix::from_fn(n, d, |i, j| f64::from(rows[i * d + j]) - pca.mean[j]);
        let svd = nalgebra::SVD::new(centred, false, true);
        let v_t = svd.v_t.unwrap();
        let mut order: Vec<usize> = (0..d).collect();
        order.sort_by(|&a, &b| svd.singular_values[b].total_cmp(&svd.singular_values[a]));
        for (c, &j) in order[..4].iter().enumerate() {
            let sigma = svd.singular_values[j];
            let variance = sigma * sigma / (n - 1) as f64;
            assert!(
                (pca.variances[c] - variance).abs() < 1e-9 * variance,
                "{c}: {} vs {variance}",
                pca.variances[c]
            );
            // The same direction up to its sign.
            let dot: f64 =
                pca.components[c].iter().zip(v_t.row(j).iter()).map(|(a, b)| a * b).sum();
            assert!((dot.abs() - 1.0).abs() < 1e-9, "component {c}: |cos| = {}", dot.abs());
        }
    }

    #[test]
    fn the_curve_of_one_fit_is_each_width_fitted_alone() {
        // 300 rows of 12 values with decreasing spread per direction.
        let (n, d) = (300, 12);
        let rows: Vec<f32> = (0..n * d)
            .map(|i| crate::rng::normal(4, 1, 0, i as u32) * (1.0 + (d - i % d) as f32) / 4.0)
            .collect();
        let eight = Pca::fit(&rows, d, 8).unwrap();
        let curve = eight.mse_by_width(&rows);
        for (j, &mse) in curve.iter().enumerate() {
            let alone = Pca::fit(&rows, d, j + 1).unwrap();
            assert!(
                (mse - alone.mse(&rows)).abs() < 1e-5 * mse,
                "k = {}: {mse} vs {alone:?}",
                j + 1
            );
            // The first j + 1 components of the wider fit are that fit.
            assert_eq!(eight.truncated(j + 1), alone);
        }
        assert!(curve.windows(2).all(|w| w[1] < w[0]), "{curve:?}");
    }
}
