//! Data generators shared by the criterion benches and the side-by-side scripts.

/// A deterministic numeric CSV that looks like a flow export: `cols` columns mixing counts, rates with
/// several decimals and occasional empty (null) fields. About `rows * cols * 8` bytes.
pub fn flow_like_csv(rows: usize, cols: usize, seed: u64) -> Vec<u8> {
    let mut s = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut next = || {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        s
    };
    let mut out = Vec::with_capacity(rows * cols * 9);
    for j in 0..cols {
        if j > 0 {
            out.push(b',');
        }
        out.extend_from_slice(format!("feature_{j}").as_bytes());
    }
    out.push(b'\n');
    for _ in 0..rows {
        for j in 0..cols {
            if j > 0 {
                out.push(b',');
            }
            let r = next();
            match j % 4 {
                0 => out.extend_from_slice((r % 100_000).to_string().as_bytes()),
                1 => out.extend_from_slice(format!("{:.3}", (r % 1_000_000) as f64 / 7.0).as_bytes()),
                2 if r % 50 == 0 => {}
                2 => out.extend_from_slice((r % 1500).to_string().as_bytes()),
                _ => out.extend_from_slice(format!("{:.6}", (r % 1000) as f64 / 1000.0).as_bytes()),
            }
        }
        out.push(b'\n');
    }
    out
}
