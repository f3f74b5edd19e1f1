// Two principal components of latent codes, for drawing codes wider than 2 on a plane.
// Pure: no DOM. Power iteration with deflation is plenty for Z ≤ 32.

/**
 * `points`: Float32Array n×dim (row-major). Returns {mean, components: [pc1, pc2],
 * variances: [λ1, λ2]}; each component is a unit Float64Array of length dim.
 */
export function pca2(points, n, dim, iterations = 100) {
  const mean = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) mean[j] += points[i * dim + j];
  for (let j = 0; j < dim; j++) mean[j] /= Math.max(1, n);
  // Covariance (dim × dim), then its two leading eigenvectors.
  const cov = new Float64Array(dim * dim);
  const d = new Float64Array(dim);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < dim; j++) d[j] = points[i * dim + j] - mean[j];
    for (let a = 0; a < dim; a++) for (let b = a; b < dim; b++) cov[a * dim + b] += d[a] * d[b];
  }
  for (let a = 0; a < dim; a++) {
    for (let b = a; b < dim; b++) {
      cov[a * dim + b] /= Math.max(1, n - 1);
      cov[b * dim + a] = cov[a * dim + b];
    }
  }
  const components = [];
  const variances = [];
  for (let k = 0; k < 2; k++) {
    // A fixed, non-degenerate start keeps the result (and its sign) reproducible.
    let v = Float64Array.from({ length: dim }, (_, j) => 1 + j / dim);
    for (const c of components) deflate(v, c);
    let lambda = 0;
    for (let it = 0; it < iterations; it++) {
      const w = mulVec(cov, v, dim);
      for (const c of components) deflate(w, c);
      const norm = Math.hypot(...w);
      if (!(norm > 1e-12)) break;
      for (let j = 0; j < dim; j++) v[j] = w[j] / norm;
      lambda = norm;
    }
    normalise(v);
    // Sign convention: the largest entry is positive, so the picture does not flip on refresh.
    let big = 0;
    for (let j = 1; j < dim; j++) if (Math.abs(v[j]) > Math.abs(v[big])) big = j;
    if (v[big] < 0) for (let j = 0; j < dim; j++) v[j] = -v[j];
    components.push(v);
    variances.push(lambda);
  }
  return { mean, components, variances };
}

/** Projects row `i` of `points` (n×dim) onto the two components: [x, y]. */
export function project(pca, points, i, dim) {
  const [c1, c2] = pca.components;
  let x = 0;
  let y = 0;
  for (let j = 0; j < dim; j++) {
    const d = points[i * dim + j] - pca.mean[j];
    x += d * c1[j];
    y += d * c2[j];
  }
  return [x, y];
}

/**
 * The 2×2 covariance, in the projection's plane, of a diagonal Gaussian with variances
 * `vars` (length dim): [[a, b], [b, c]].
 */
export function projectDiagonal(pca, vars) {
  const [c1, c2] = pca.components;
  let a = 0;
  let b = 0;
  let c = 0;
  for (let j = 0; j < vars.length; j++) {
    a += vars[j] * c1[j] * c1[j];
    b += vars[j] * c1[j] * c2[j];
    c += vars[j] * c2[j] * c2[j];
  }
  return [
    [a, b],
    [b, c],
  ];
}

/** Semi-axes and rotation of the 1-σ ellipse of a 2×2 covariance: {rx, ry, angle}. */
export function ellipse([[a, b], [, c]]) {
  const tr = (a + c) / 2;
  const det = Math.sqrt(Math.max(0, ((a - c) / 2) ** 2 + b * b));
  const l1 = tr + det;
  const l2 = Math.max(0, tr - det);
  const angle = b === 0 && a >= c ? 0 : Math.atan2(l1 - a, b);
  return { rx: Math.sqrt(l1), ry: Math.sqrt(l2), angle: b === 0 && a < c ? Math.PI / 2 : angle };
}

function mulVec(m, v, dim) {
  const out = new Float64Array(dim);
  for (let a = 0; a < dim; a++) {
    let s = 0;
    for (let b = 0; b < dim; b++) s += m[a * dim + b] * v[b];
    out[a] = s;
  }
  return out;
}

function deflate(v, c) {
  let dot = 0;
  for (let j = 0; j < v.length; j++) dot += v[j] * c[j];
  for (let j = 0; j < v.length; j++) v[j] -= dot * c[j];
}

function normalise(v) {
  const norm = Math.hypot(...v) || 1;
  for (let j = 0; j < v.length; j++) v[j] /= norm;
}
