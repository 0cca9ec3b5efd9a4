//! Run-time selection of the widest vector unit. Hot searches are written once as `#[inline(always)]`
//! generic functions and called through [`run`], which executes them inside a wrapper compiled with
//! AVX-512 or AVX2 enabled when the CPU has it, so the distance and bound loops use 8 or 4 lanes. No
//! fused multiply-add is used, so every distance is the same bit pattern on every path.

#![allow(unsafe_code)] // the instruction-set wrappers; the only `unsafe` of the crate

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Isa {
    Base,
    #[cfg(target_arch = "x86_64")]
    Avx2,
    #[cfg(target_arch = "x86_64")]
    Avx512,
}

fn isa() -> Isa {
    static ISA: std::sync::OnceLock<Isa> = std::sync::OnceLock::new();
    *ISA.get_or_init(|| {
        // OUTFLOW_SIMD=base|avx2 caps the instruction set (for benchmarks and debugging).
        let cap = std::env::var("OUTFLOW_SIMD").unwrap_or_default();
        if cap == "base" {
            return Isa::Base;
        }
        #[cfg(target_arch = "x86_64")]
        {
            if cap == "avx2" && std::arch::is_x86_feature_detected!("avx2") {
                return Isa::Avx2;
            }
            if std::arch::is_x86_feature_detected!("avx512f") {
                return Isa::Avx512;
            }
            if std::arch::is_x86_feature_detected!("avx2") {
                return Isa::Avx2;
            }
        }
        Isa::Base
    })
}

/// A unit of hot work. Implementations mark `run` `#[inline(always)]` so that it is compiled inside
/// the instruction-set wrapper (closures are not reliably inlined into `#[target_feature]` functions).
pub(crate) trait Job {
    type Output;
    fn run(self) -> Self::Output;
}

/// Runs `job` compiled for the best instruction set of this CPU.
#[inline(always)]
pub(crate) fn run<J: Job>(job: J) -> J::Output {
    match isa() {
        #[cfg(target_arch = "x86_64")]
        // SAFETY: AVX-512F was detected at run time.
        Isa::Avx512 => unsafe { avx512(job) },
        #[cfg(target_arch = "x86_64")]
        // SAFETY: AVX2 was detected at run time.
        Isa::Avx2 => unsafe { avx2(job) },
        Isa::Base => job.run(),
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn avx512<J: Job>(job: J) -> J::Output {
    job.run()
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn avx2<J: Job>(job: J) -> J::Output {
    job.run()
}
