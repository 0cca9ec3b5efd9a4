//! The x86-64 vector kernels: AVX-512 and AVX2 + FMA versions of the tile kernel and the AVX-512
//! symmetric pair kernel, written with `std::arch` intrinsics. Each takes the token of its instruction
//! set ([`Avx512`], [`Avx2Fma`]), which only run-time detection creates, so calling them is sound.

#![allow(unsafe_code)]

use super::kernel::{EXACT_BELOW, L, Prepared, R, Tile, direct, fix_up, flush};
use crate::simd::{Avx2Fma, Avx512};

/// Chunks `cb..ce` against one row tile with AVX-512.
pub(super) fn block_avx512(_: Avx512, pr: &Prepared, t: &Tile<'_>, cb: usize, ce: usize, out: &mut [f64]) {
    // SAFETY: the token proves AVX-512F was detected at run time.
    unsafe { block_avx512_impl(pr, t, cb, ce, out) }
}

/// Chunks `cb..ce` against one row tile with AVX2 + FMA.
pub(super) fn block_avx2(_: Avx2Fma, pr: &Prepared, t: &Tile<'_>, cb: usize, ce: usize, out: &mut [f64]) {
    // SAFETY: the token proves AVX2 and FMA were detected at run time.
    unsafe { block_avx2_impl(pr, t, cb, ce, out) }
}

/// The symmetric pair kernel (see `pair_block_avx512_impl`).
pub(super) fn pair_block_avx512(
    _: Avx512,
    pr: &Prepared,
    pa: (usize, usize),
    pb: (usize, usize),
    sa: &mut [f64],
    sb: &mut [f64],
    diag: bool,
) {
    // SAFETY: the token proves AVX-512F was detected at run time.
    unsafe { pair_block_avx512_impl(pr, pa, pb, sa, sb, diag) }
}

/// `√x` for `x > 0` (other lanes: garbage, masked by the callers): `rsqrt14` refined by two
/// Newton–Raphson steps (2⁻¹⁴ → ~2⁻²⁸ → a few ulps), then `x · x^(−1/2)` — about three times the
/// throughput of `vsqrtpd`, within ~4e-16 relative of the correctly rounded root.
#[target_feature(enable = "avx512f")]
#[inline]
fn sqrt_positive(x: std::arch::x86_64::__m512d) -> std::arch::x86_64::__m512d {
    use std::arch::x86_64::*;
    let half_x = _mm512_mul_pd(x, _mm512_set1_pd(0.5));
    let three_halves = _mm512_set1_pd(1.5);
    let mut y = _mm512_rsqrt14_pd(x);
    for _ in 0..2 {
        let t = _mm512_mul_pd(_mm512_mul_pd(half_x, y), y);
        y = _mm512_mul_pd(y, _mm512_sub_pd(three_halves, t));
    }
    _mm512_mul_pd(x, y)
}

/// Chunks `cb..ce` against one row tile with AVX-512: an 8 × 8 tile of dot products in eight `zmm`
/// accumulators, then distances, masked to the chunk's valid lanes.
#[target_feature(enable = "avx512f")]
unsafe fn block_avx512_impl(pr: &Prepared, t: &Tile<'_>, cb: usize, ce: usize, out: &mut [f64]) {
    use std::arch::x86_64::*;
    let (d, k) = (pr.d, pr.k);
    let mut acc = [[0.0f64; L]; R];
    let mut cur = pr.ccluster[cb];
    let zero = _mm512_setzero_pd();
    let two = _mm512_set1_pd(2.0);
    let thr = _mm512_set1_pd(EXACT_BELOW);
    for c in cb..ce {
        if pr.ccluster[c] != cur {
            flush(&mut acc, out, k, cur);
            cur = pr.ccluster[c];
        }
        let chunk = &pr.chunks[c * d * L..(c + 1) * d * L];
        let mut dot = [zero; R];
        for (rk, ck) in t.rows.chunks_exact(R).zip(chunk.chunks_exact(L)) {
            // SAFETY: `ck` holds L = 8 doubles.
            let cv = unsafe { _mm512_loadu_pd(ck.as_ptr()) };
            for r in 0..R {
                dot[r] = _mm512_fmadd_pd(_mm512_set1_pd(rk[r]), cv, dot[r]);
            }
        }
        // SAFETY: the chunk's L norms.
        let cn = unsafe { _mm512_loadu_pd(pr.cnorm.as_ptr().add(c * L)) };
        let valid: __mmask8 = if pr.cvalid[c] == L { 0xff } else { ((1u16 << pr.cvalid[c]) - 1) as u8 };
        let mut small = 0u64;
        for r in 0..R {
            let s = _mm512_add_pd(_mm512_set1_pd(t.norms[r]), cn);
            let d2 = _mm512_fnmadd_pd(two, dot[r], s);
            let tiny = _mm512_mask_cmp_pd_mask::<_CMP_LE_OQ>(valid, d2, _mm512_mul_pd(thr, s));
            let dist = sqrt_positive(d2);
            // SAFETY: acc[r] holds L = 8 doubles.
            unsafe {
                let a = _mm512_loadu_pd(acc[r].as_ptr());
                _mm512_storeu_pd(acc[r].as_mut_ptr(), _mm512_mask_add_pd(a, valid & !tiny, a, dist));
            }
            small |= (tiny as u64) << (r * L);
        }
        if small != 0 {
            fix_up(pr, t, c, small, &mut acc);
        }
    }
    flush(&mut acc, out, k, cur);
}

/// Chunks `cb..ce` against one row tile with AVX2 + FMA: two passes of 4 rows × 8 lanes (2 `ymm`).
#[target_feature(enable = "avx2,fma")]
#[allow(clippy::needless_range_loop)] // fixed-size register tiles read best with indices
unsafe fn block_avx2_impl(pr: &Prepared, t: &Tile<'_>, cb: usize, ce: usize, out: &mut [f64]) {
    use std::arch::x86_64::*;
    let (d, k) = (pr.d, pr.k);
    let mut acc = [[0.0f64; L]; R];
    let mut cur = pr.ccluster[cb];
    let zero = _mm256_setzero_pd();
    let two = _mm256_set1_pd(2.0);
    let thr = _mm256_set1_pd(EXACT_BELOW);
    let lane_lo = _mm256_set_epi64x(3, 2, 1, 0);
    let lane_hi = _mm256_set_epi64x(7, 6, 5, 4);
    for c in cb..ce {
        if pr.ccluster[c] != cur {
            flush(&mut acc, out, k, cur);
            cur = pr.ccluster[c];
        }
        let chunk = &pr.chunks[c * d * L..(c + 1) * d * L];
        let nv = _mm256_set1_epi64x(pr.cvalid[c] as i64);
        let valid = [
            _mm256_castsi256_pd(_mm256_cmpgt_epi64(nv, lane_lo)),
            _mm256_castsi256_pd(_mm256_cmpgt_epi64(nv, lane_hi)),
        ];
        // SAFETY: the chunk's L norms.
        let cn = unsafe {
            [_mm256_loadu_pd(pr.cnorm.as_ptr().add(c * L)), _mm256_loadu_pd(pr.cnorm.as_ptr().add(c * L + 4))]
        };
        let mut small = 0u64;
        for half in 0..2 {
            let mut dot = [[zero; 2]; 4];
            for (rk, ck) in t.rows.chunks_exact(R).zip(chunk.chunks_exact(L)) {
                // SAFETY: `ck` holds L = 8 doubles.
                let cv = unsafe { [_mm256_loadu_pd(ck.as_ptr()), _mm256_loadu_pd(ck.as_ptr().add(4))] };
                for r in 0..4 {
                    let b = _mm256_set1_pd(rk[half * 4 + r]);
                    dot[r][0] = _mm256_fmadd_pd(b, cv[0], dot[r][0]);
                    dot[r][1] = _mm256_fmadd_pd(b, cv[1], dot[r][1]);
                }
            }
            for r in 0..4 {
                let row = half * 4 + r;
                for h in 0..2 {
                    let s = _mm256_add_pd(_mm256_set1_pd(t.norms[row]), cn[h]);
                    let d2 = _mm256_fnmadd_pd(two, dot[r][h], s);
                    let tiny = _mm256_and_pd(_mm256_cmp_pd::<_CMP_LE_OQ>(d2, _mm256_mul_pd(thr, s)), valid[h]);
                    let keep = _mm256_andnot_pd(tiny, valid[h]);
                    let dist = _mm256_and_pd(_mm256_sqrt_pd(_mm256_max_pd(d2, zero)), keep);
                    // SAFETY: acc[row] holds L = 8 doubles.
                    unsafe {
                        let p = acc[row].as_mut_ptr().add(h * 4);
                        _mm256_storeu_pd(p, _mm256_add_pd(_mm256_loadu_pd(p), dist));
                    }
                    small |= (_mm256_movemask_pd(tiny) as u64) << (row * L + h * 4);
                }
            }
        }
        if small != 0 {
            fix_up(pr, t, c, small, &mut acc);
        }
    }
    flush(&mut acc, out, k, cur);
}

/// Distances between the chunks of panel `pa` (rows) and panel `pb` (columns), each unordered pair of
/// chunks once: row sums go to `sa` (panel `pa`'s points × clusters), column sums to `sb` (panel `pb`'s).
/// With `diag` the two panels are the same and only chunk pairs `a ≤ b` are visited (`a = b`: rows
/// only, the tile already holds both orders).
#[target_feature(enable = "avx512f")]
unsafe fn pair_block_avx512_impl(
    pr: &Prepared,
    pa: (usize, usize),
    pb: (usize, usize),
    sa: &mut [f64],
    sb: &mut [f64],
    diag: bool,
) {
    use std::arch::x86_64::*;
    let (d, k) = (pr.d, pr.k);
    let zero = _mm512_setzero_pd();
    let two = _mm512_set1_pd(2.0);
    let thr = _mm512_set1_pd(EXACT_BELOW);
    let nb = pb.1 - pb.0;
    let mut cols = vec![[0.0f64; L]; nb];
    let mut cur_a = pr.ccluster[pa.0];
    let lane_mask =
        |c: usize| -> __mmask8 { if pr.cvalid[c] == L { 0xff } else { ((1u16 << pr.cvalid[c]) - 1) as u8 } };
    let flush_cols = |cols: &mut [[f64; L]], sb: &mut [f64], c: usize| {
        for (i, col) in cols.iter_mut().enumerate() {
            let b = pb.0 + i;
            for (l, v) in col.iter().enumerate().take(pr.cvalid[b]) {
                sb[(i * L + l) * k + c] += v;
            }
            *col = [0.0; L];
        }
    };
    for a in pa.0..pa.1 {
        if pr.ccluster[a] != cur_a {
            flush_cols(&mut cols, sb, cur_a);
            cur_a = pr.ccluster[a];
        }
        let ta = &pr.chunks[a * d * L..(a + 1) * d * L];
        // SAFETY: the chunk's L norms.
        let na = unsafe { _mm512_loadu_pd(pr.cnorm.as_ptr().add(a * L)) };
        let mut na_r = [0.0f64; L];
        // SAFETY: L doubles.
        unsafe { _mm512_storeu_pd(na_r.as_mut_ptr(), na) };
        let valid_a = pr.cvalid[a];
        let mut rows = [[0.0f64; L]; R];
        let b0 = if diag { a } else { pb.0 };
        let mut cur_b = pr.ccluster[b0];
        for b in b0..pb.1 {
            if pr.ccluster[b] != cur_b {
                flush(&mut rows, &mut sa[(a - pa.0) * L * k..((a - pa.0) * L + valid_a) * k], k, cur_b);
                cur_b = pr.ccluster[b];
            }
            let tb = &pr.chunks[b * d * L..(b + 1) * d * L];
            let mut dot = [zero; R];
            for (rk, ck) in ta.chunks_exact(R).zip(tb.chunks_exact(L)) {
                // SAFETY: `ck` holds L = 8 doubles.
                let cv = unsafe { _mm512_loadu_pd(ck.as_ptr()) };
                for r in 0..R {
                    dot[r] = _mm512_fmadd_pd(_mm512_set1_pd(rk[r]), cv, dot[r]);
                }
            }
            // SAFETY: the chunk's L norms.
            let nbv = unsafe { _mm512_loadu_pd(pr.cnorm.as_ptr().add(b * L)) };
            let valid = lane_mask(b);
            let with_cols = !(diag && a == b);
            let mut small = 0u64;
            let mut colsum = zero;
            for r in 0..valid_a {
                let s = _mm512_add_pd(_mm512_set1_pd(na_r[r]), nbv);
                let d2 = _mm512_fnmadd_pd(two, dot[r], s);
                let tiny = _mm512_mask_cmp_pd_mask::<_CMP_LE_OQ>(valid, d2, _mm512_mul_pd(thr, s));
                let dist = _mm512_maskz_mov_pd(valid & !tiny, sqrt_positive(d2));
                // SAFETY: rows[r] holds L = 8 doubles.
                unsafe {
                    let acc = _mm512_loadu_pd(rows[r].as_ptr());
                    _mm512_storeu_pd(rows[r].as_mut_ptr(), _mm512_add_pd(acc, dist));
                }
                colsum = _mm512_add_pd(colsum, dist);
                small |= (tiny as u64) << (r * L);
            }
            if with_cols {
                let col = &mut cols[b - pb.0];
                // SAFETY: L doubles.
                unsafe { _mm512_storeu_pd(col.as_mut_ptr(), _mm512_add_pd(_mm512_loadu_pd(col.as_ptr()), colsum)) };
            }
            while small != 0 {
                let bit = small.trailing_zeros() as usize;
                small &= small - 1;
                let (r, l) = (bit / L, bit % L);
                let v = direct(pr, pr.cstart[a] + r, pr.cstart[b] + l);
                rows[r][l] += v;
                if with_cols {
                    cols[b - pb.0][l] += v;
                }
            }
        }
        flush(&mut rows, &mut sa[(a - pa.0) * L * k..((a - pa.0) * L + valid_a) * k], k, cur_b);
    }
    flush_cols(&mut cols, sb, cur_a);
}
