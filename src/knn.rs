//! The encoder kept as a feature extractor: a k-nearest-neighbour classifier on codes, on raw
//! pixels or on PCA coordinates, trained on a few labelled rows. When labels are few, the
//! classifier is only as good as the space its distances are measured in; a code that groups
//! digits by class beats the pixels.
//!
//! Distances are squared Euclidean, ‖a‖² + ‖b‖² − 2a·b, with the cross terms of a block of
//! queries against every labelled row as one matrix product (matrixmultiply's sgemm).

use crate::error::{Error, Result};

/// Queries per block of the distance product: 256 × 1,000 distances is 1 MB.
const BLOCK: usize = 256;

/// Labelled rows to classify against: `rows` (n × `width`) with one label each.
pub struct Knn<'a> {
    rows: &'a [f32],
    labels: &'a [u8],
    width: usize,
    norms: Vec<f32>,
}

impl<'a> Knn<'a> {
    /// The classifier over `rows` (n × `width`, n ≥ 1) and their `labels` (n).
    pub fn new(rows: &'a [f32], labels: &'a [u8], width: usize) -> Result<Knn<'a>> {
        let n = labels.len();
        if width == 0 || n == 0 || rows.len() != n * width {
            return Err(Error::Input(format!(
                "k-NN needs one label per row of {width} values: {} values, {n} labels",
                rows.len()
            )));
        }
        let norms = rows.chunks_exact(width).map(|r| r.iter().map(|v| v * v).sum()).collect();
        Ok(Knn { rows, labels, width, norms })
    }

    /// The label of each query row (m × width): the most common among its `k` nearest
    /// labelled rows; a tie goes to the label whose nearest member is closest.
    pub fn classify(&self, queries: &[f32], k: usize) -> Vec<u8> {
        let (n, d) = (self.labels.len(), self.width);
        let k = k.clamp(1, n);
        let mut out = Vec::with_capacity(queries.len() / d);
        let mut cross = vec![0f32; BLOCK * n];
        let mut order: Vec<(f32, usize)> = Vec::with_capacity(n);
        for block in queries.chunks(BLOCK * d) {
            let m = block.len() / d;
            // cross[q, j] = query q · labelled row j.
            // SAFETY: the pointers and strides describe `block` (m × d, row-major), `rows`
            // (n × d, read transposed) and `cross` (m × n, row-major), all in bounds.
            unsafe {
                matrixmultiply::sgemm(
                    m,
                    d,
                    n,
                    1.0,
                    block.as_ptr(),
                    d as isize,
                    1,
                    self.rows.as_ptr(),
                    1,
                    d as isize,
                    0.0,
                    cross.as_mut_ptr(),
                    n as isize,
                    1,
                );
            }
            for (query, dots) in block.chunks_exact(d).zip(cross.chunks_exact(n)) {
                let qq: f32 = query.iter().map(|v| v * v).sum();
                order.clear();
                order.extend(dots.iter().zip(&self.norms).enumerate().map(|(j, (&dot, &nn))| {
                    // Rounding can take a distance of equal rows a little below zero.
                    ((qq + nn - 2.0 * dot).max(0.0), j)
                }));
                if k < n {
                    order.select_nth_unstable_by(k - 1, |a, b| {
                        a.0.total_cmp(&b.0).then(a.1.cmp(&b.1))
                    });
                }
                let nearest = &mut order[..k];
                nearest.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                out.push(vote(nearest.iter().map(|&(_, j)| self.labels[j])));
            }
        }
        out
    }

    /// The fraction of `queries` whose label [`Knn::classify`] gets right.
    pub fn accuracy(&self, queries: &[f32], labels: &[u8], k: usize) -> f64 {
        let guessed = self.classify(queries, k);
        let right = guessed.iter().zip(labels).filter(|(a, b)| a == b).count();
        right as f64 / guessed.len().max(1) as f64
    }
}

/// The `n` rows of `rows` (m × `width`) nearest to `query` (`width` values), nearest first,
/// leaving out row `skip` (the query itself, when it is one of them): (row, distance) pairs,
/// Euclidean distances. Ties go to the earlier row.
pub fn nearest(
    rows: &[f32],
    width: usize,
    query: &[f32],
    n: usize,
    skip: Option<usize>,
) -> Vec<(usize, f32)> {
    let mut order: Vec<(f32, usize)> = rows
        .chunks_exact(width)
        .enumerate()
        .filter(|&(j, _)| Some(j) != skip)
        .map(|(j, r)| (r.iter().zip(query).map(|(a, b)| (a - b) * (a - b)).sum::<f32>(), j))
        .collect();
    let n = n.min(order.len());
    if n == 0 {
        return vec![];
    }
    if n < order.len() {
        order.select_nth_unstable_by(n - 1, |a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    }
    order.truncate(n);
    order.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    order.into_iter().map(|(d2, j)| (j, d2.sqrt())).collect()
}

/// The most common label of `nearest` (nearest first); a tie goes to the label seen first.
fn vote(nearest: impl Iterator<Item = u8>) -> u8 {
    let mut counts = [0u32; 256];
    let mut first = [usize::MAX; 256];
    for (rank, label) in nearest.enumerate() {
        let l = usize::from(label);
        counts[l] += 1;
        first[l] = first[l].min(rank);
    }
    (0..=255u8)
        .filter(|&l| counts[usize::from(l)] > 0)
        .max_by(|&a, &b| {
            let (a, b) = (usize::from(a), usize::from(b));
            counts[a].cmp(&counts[b]).then(first[b].cmp(&first[a]))
        })
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same classifier as plain loops: every distance, a full sort, the same vote.
    fn by_hand(rows: &[f32], labels: &[u8], d: usize, query: &[f32], k: usize) -> u8 {
        let mut order: Vec<(f32, usize)> = rows
            .chunks_exact(d)
            .enumerate()
            .map(|(j, r)| (r.iter().zip(query).map(|(a, b)| (a - b) * (a - b)).sum(), j))
            .collect();
        order.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        vote(order[..k.min(rows.len() / d)].iter().map(|&(_, j)| labels[j]))
    }

    #[test]
    fn classifies_points_by_their_nearest_labelled_neighbours() {
        // Two clusters on a line: 0 near 0, 1 near 10; a point at 6 is a 1 for k = 1, but
        // its 3 nearest are 1, 0, 0 when the 1s are few.
        let rows = [0.0, 1.0, 2.0, 9.0];
        let labels = [0, 0, 0, 1];
        let knn = Knn::new(&rows, &labels, 1).unwrap();
        assert_eq!(knn.classify(&[6.0, -1.0, 9.5], 1), [1, 0, 1]);
        assert_eq!(knn.classify(&[6.0, 9.5], 3), [0, 0]);
        // k beyond the labelled rows is all of them.
        assert_eq!(knn.classify(&[9.0], 10), [0]);
        assert_eq!(knn.accuracy(&[6.0, -1.0, 9.5], &[1, 0, 0], 1), 2.0 / 3.0);
    }

    #[test]
    fn a_tie_goes_to_the_label_whose_member_is_nearest() {
        // k = 2 at 4: one 0 (at 5, distance 1) and one 1 (at 2, distance 2).
        let knn = Knn::new(&[2.0, 5.0], &[1, 0], 1).unwrap();
        assert_eq!(knn.classify(&[4.0], 2), [0]);
        assert_eq!(knn.classify(&[3.0], 2), [1]);
    }

    #[test]
    fn matches_the_plain_loops_over_several_blocks() {
        // 600 queries (three blocks of 256) against 137 labelled rows of 13 values.
        let (d, n, m) = (13, 137, 600);
        let value = |i: usize| crate::rng::uniform(3, 9, 0, i as u32) * 4.0 - 2.0;
        let rows: Vec<f32> = (0..n * d).map(value).collect();
        let labels: Vec<u8> =
            (0..n).map(|i| (crate::rng::random_u32(3, 10, 0, i as u32) % 10) as u8).collect();
        let queries: Vec<f32> = (0..m * d).map(|i| value(n * d + i)).collect();
        let knn = Knn::new(&rows, &labels, d).unwrap();
        for k in [1, 5] {
            let got = knn.classify(&queries, k);
            let want: Vec<u8> =
                queries.chunks_exact(d).map(|q| by_hand(&rows, &labels, d, q, k)).collect();
            assert_eq!(got, want, "k = {k}");
        }
    }

    #[test]
    fn finds_the_nearest_rows_in_order_without_the_query_itself() {
        // Rows on a line at 0, 1, …, 9 (width 2, y = 0); the query is row 4.
        let rows: Vec<f32> = (0..10).flat_map(|i| [i as f32, 0.0]).collect();
        let got = nearest(&rows, 2, &[4.0, 0.0], 3, Some(4));
        // 3 and 5 tie at 1 (the earlier first), then 2 and 6 tie at 2.
        assert_eq!(got, [(3, 1.0), (5, 1.0), (2, 2.0)]);
        assert_eq!(nearest(&rows, 2, &[4.0, 0.0], 1, None), [(4, 0.0)]);
        assert_eq!(nearest(&rows, 2, &[20.0, 0.0], 50, None).len(), 10);
        assert!(nearest(&rows, 2, &[0.0, 0.0], 0, None).is_empty());
    }

    #[test]
    fn refuses_rows_without_a_label_each() {
        assert!(Knn::new(&[1.0, 2.0, 3.0], &[0], 2).is_err());
        assert!(Knn::new(&[], &[], 2).is_err());
    }
}
