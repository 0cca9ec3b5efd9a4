//! Run-time selection of the widest vector unit (as `outflow-cluster`'s `simd` module): the silhouette
//! kernel has AVX-512 and AVX2 + FMA versions written with `std::arch` intrinsics and a portable one.
//! Results may differ in the last bits between CPUs (fused multiply–adds), never between runs or
//! thread counts on one machine.
//!
//! An [`Isa`] can only be made by detection ([`Isa::detect`], [`Isa::supported`]), and the tokens
//! [`Avx512`] and [`Avx2Fma`] only from an `Isa` of that level, so a kernel that takes a token cannot
//! be called on a CPU without its instructions.

/// The instruction-set levels, for matching on [`Isa::level`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Level {
    /// Portable code.
    Base,
    #[cfg(target_arch = "x86_64")]
    /// AVX2 with FMA.
    Avx2Fma,
    #[cfg(target_arch = "x86_64")]
    /// AVX-512F.
    Avx512,
}

/// An instruction set this CPU runs (the field is private: only detection makes one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Isa(Level);

/// Proof that the CPU has AVX-512F.
#[cfg(target_arch = "x86_64")]
#[derive(Debug, Clone, Copy)]
pub(crate) struct Avx512(());

/// Proof that the CPU has AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[derive(Debug, Clone, Copy)]
pub(crate) struct Avx2Fma(());

impl Isa {
    /// The widest usable instruction set of this CPU, capped by `OUTFLOW_SIMD=base|avx2` (benchmarks,
    /// debugging).
    pub(crate) fn detect() -> Isa {
        static ISA: std::sync::OnceLock<Isa> = std::sync::OnceLock::new();
        *ISA.get_or_init(|| {
            let cap = std::env::var("OUTFLOW_SIMD").unwrap_or_default();
            let widest = Isa::supported().into_iter().last().unwrap_or(Isa(Level::Base));
            match cap.as_str() {
                "base" => Isa(Level::Base),
                #[cfg(target_arch = "x86_64")]
                "avx2" if widest.0 == Level::Avx512 => {
                    Isa::supported().into_iter().find(|i| i.0 == Level::Avx2Fma).unwrap_or(Isa(Level::Base))
                }
                _ => widest,
            }
        })
    }

    /// Every instruction set this CPU runs, narrowest first (the kernels' tests run each).
    pub(crate) fn supported() -> Vec<Isa> {
        #[allow(unused_mut)]
        let mut out = vec![Isa(Level::Base)];
        #[cfg(target_arch = "x86_64")]
        {
            let avx2 = std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma");
            if avx2 {
                out.push(Isa(Level::Avx2Fma));
                if std::arch::is_x86_feature_detected!("avx512f") {
                    out.push(Isa(Level::Avx512));
                }
            }
        }
        out
    }

    /// Its level.
    pub(crate) fn level(self) -> Level {
        self.0
    }

    /// The AVX-512 token, when this is the AVX-512 level.
    #[cfg(target_arch = "x86_64")]
    pub(crate) fn avx512(self) -> Option<Avx512> {
        (self.0 == Level::Avx512).then_some(Avx512(()))
    }

    /// The AVX2 + FMA token, when this is the AVX2 + FMA level.
    #[cfg(target_arch = "x86_64")]
    pub(crate) fn avx2_fma(self) -> Option<Avx2Fma> {
        (self.0 == Level::Avx2Fma).then_some(Avx2Fma(()))
    }
}
