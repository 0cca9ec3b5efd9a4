//! Run-time selection of the widest vector unit (as `outflow-cluster`'s `simd` module): the silhouette
//! kernel has AVX-512 and AVX2 + FMA versions written with `std::arch` intrinsics and a portable one.
//! Results may differ in the last bits between CPUs (fused multiply–adds), never between runs or
//! thread counts on one machine.

/// The instruction set hot loops run with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Isa {
    /// Portable code.
    Base,
    #[cfg(target_arch = "x86_64")]
    /// AVX2 with FMA.
    Avx2Fma,
    #[cfg(target_arch = "x86_64")]
    /// AVX-512F.
    Avx512,
}

/// The widest usable instruction set of this CPU (capped by `OUTFLOW_SIMD`).
pub(crate) fn isa() -> Isa {
    static ISA: std::sync::OnceLock<Isa> = std::sync::OnceLock::new();
    *ISA.get_or_init(|| {
        // OUTFLOW_SIMD=base|avx2 caps the instruction set (benchmarks, debugging), as in outflow-cluster.
        let cap = std::env::var("OUTFLOW_SIMD").unwrap_or_default();
        if cap == "base" {
            return Isa::Base;
        }
        #[cfg(target_arch = "x86_64")]
        {
            let avx2 = std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma");
            if cap != "avx2" && avx2 && std::arch::is_x86_feature_detected!("avx512f") {
                return Isa::Avx512;
            }
            if avx2 {
                return Isa::Avx2Fma;
            }
        }
        Isa::Base
    })
}
