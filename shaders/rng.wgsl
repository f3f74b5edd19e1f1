// rng.wgsl — the counter-based RNG, identical to src/rng.rs.
// Every draw is a pure function of (seed, stream, counter, index), so the GPU and the CPU
// executor draw the same numbers. Prepended to the kernels that need it (see src/shaders.rs).

const STREAM_BATCH: u32 = 1u;
const STREAM_EPS: u32 = 2u;
const STREAM_NOISE: u32 = 5u;

fn pcg_hash(v: u32) -> u32 {
    let state = v * 747796405u + 2891336453u;
    let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
    return (word >> 22u) ^ word;
}

fn random_u32(seed: u32, stream: u32, counter: u32, index: u32) -> u32 {
    return pcg_hash(index ^ pcg_hash(counter ^ pcg_hash(stream ^ pcg_hash(seed))));
}

fn random_uniform(seed: u32, stream: u32, counter: u32, index: u32) -> f32 {
    return f32(random_u32(seed, stream, counter, index) >> 8u) * (1.0 / 16777216.0);
}

fn random_normal(seed: u32, stream: u32, counter: u32, index: u32) -> f32 {
    let i = index * 2u;
    let u1 = f32((random_u32(seed, stream, counter, i) >> 8u) + 1u) * (1.0 / 16777216.0);
    let u2 = random_uniform(seed, stream, counter, i + 1u);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

// A bijection of [0, n) chosen by (seed, epoch): 4 Feistel rounds with cycle-walking.
fn permute(i: u32, n: u32, seed: u32, epoch: u32) -> u32 {
    let bits = 32u - countLeadingZeros(max(n, 2u) - 1u);
    let half = (bits + 1u) / 2u;
    let mask = (1u << half) - 1u;
    var x = i;
    loop {
        var left = x >> half;
        var right = x & mask;
        for (var round = 0u; round < 4u; round++) {
            let f = random_u32(seed, STREAM_BATCH, epoch, right ^ (round << 24u)) & mask;
            let next = left ^ f;
            left = right;
            right = next;
        }
        x = (left << half) | right;
        if (x < n) {
            break;
        }
    }
    return x;
}

fn batch_index(seed: u32, step: u32, row: u32, batch: u32, n: u32) -> u32 {
    let position = step * batch + row;
    return permute(position % n, n, seed, position / n);
}
