// trit: what this CPU (and its OS) can run, detected once and cached. xsimd supplies the
// baseline architecture detection; CPUID + XGETBV add what xsimd 8.1 does not know (VNNI,
// AVX-VNNI, VBMI) and whether the OS saves the wide registers; getauxval gives NEON dotprod.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include <xsimd/config/xsimd_cpuid.hpp>

#include "trit/detail/target.hpp"
#include "trit/error.hpp"
#include "trit/paths/isa.hpp"
#include "trit/paths/path_table.hpp"
#include "trit/version.hpp"

#if defined(__x86_64__) || defined(_M_X64)
#define TRIT_ARCH_X86_64 1
#if defined(_MSC_VER)
#include <intrin.h>
#include <immintrin.h>
#else
#include <cpuid.h>
#endif
#else
#define TRIT_ARCH_X86_64 0
#endif

#if defined(__aarch64__)
#define TRIT_ARCH_AARCH64 1
#if defined(__linux__)
#include <sys/auxv.h>
#endif
#else
#define TRIT_ARCH_AARCH64 0
#endif

// Kernel families compiled into this build: they need target regions (GCC or clang).
#define TRIT_HAS_X86_KERNELS (TRIT_ARCH_X86_64 && TRIT_HAS_TARGET_REGIONS)
#define TRIT_HAS_NEON_KERNELS (TRIT_ARCH_AARCH64 && TRIT_HAS_TARGET_REGIONS)

TRIT_BEGIN_NAMESPACE

struct CpuFeatures {
  bool avx2 = false;        // AVX2 with OS-enabled YMM state
  bool avxvnni = false;     // VEX-encoded vpdpbusd on YMM (AVX-VNNI)
  bool avx512bw = false;    // AVX-512 F+BW+VL with OS-enabled ZMM and mask state
  bool avx512vnni = false;  // AVX-512 VNNI on top of avx512bw
  bool avx512vbmi = false;  // byte permutes on top of avx512bw
  bool neon = false;        // Advanced SIMD (always on aarch64)
  bool dotprod = false;     // sdot/udot (armv8.2-a dotprod)
};

namespace detail {

#if TRIT_ARCH_X86_64
inline void cpuid(unsigned leaf, unsigned subleaf, unsigned regs[4]) {
#if defined(_MSC_VER)
  int r[4];
  __cpuidex(r, static_cast<int>(leaf), static_cast<int>(subleaf));
  for (int i = 0; i < 4; ++i) regs[i] = static_cast<unsigned>(r[i]);
#else
  __cpuid_count(leaf, subleaf, regs[0], regs[1], regs[2], regs[3]);
#endif
}

inline std::uint64_t xgetbv0() {
#if defined(_MSC_VER)
  return _xgetbv(0);
#else
  unsigned lo = 0, hi = 0;
  __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<std::uint64_t>(hi) << 32) | lo;
#endif
}

inline CpuFeatures detect_x86() {
  CpuFeatures f;
  const auto xsimd_arch = xsimd::available_architectures();
  unsigned r1[4], r7[4] = {0, 0, 0, 0}, r7s1[4] = {0, 0, 0, 0};
  cpuid(0, 0, r1);
  const unsigned max_leaf = r1[0];
  cpuid(1, 0, r1);
  const bool osxsave = (r1[2] >> 27) & 1;
  if (!osxsave || max_leaf < 7) return f;
  cpuid(7, 0, r7);
  cpuid(7, 1, r7s1);
  const std::uint64_t xcr0 = xgetbv0();
  const bool ymm_state = (xcr0 & 0x6) == 0x6;            // XMM and YMM
  const bool zmm_state = (xcr0 & 0xE6) == 0xE6;          // plus opmask and both ZMM halves
  const bool cpu_avx2 = (r7[1] >> 5) & 1;
  const bool cpu_avx512f = (r7[1] >> 16) & 1;
  const bool cpu_avx512bw = (r7[1] >> 30) & 1;
  const bool cpu_avx512vl = (r7[1] >> 31) & 1;
  f.avx2 = cpu_avx2 && ymm_state && xsimd_arch.avx2;
  f.avxvnni = f.avx2 && ((r7s1[0] >> 4) & 1);
  f.avx512bw = f.avx2 && cpu_avx512f && cpu_avx512bw && cpu_avx512vl && zmm_state && xsimd_arch.avx512bw;
  f.avx512vnni = f.avx512bw && ((r7[2] >> 11) & 1);
  f.avx512vbmi = f.avx512bw && ((r7[2] >> 1) & 1);
  return f;
}
#endif

#if TRIT_ARCH_AARCH64
inline CpuFeatures detect_aarch64() {
  CpuFeatures f;
  f.neon = xsimd::available_architectures().neon64;
#if defined(__linux__)
  constexpr unsigned long kHwcapAsimddp = 1ul << 20;  // HWCAP_ASIMDDP in <asm/hwcap.h>
  f.dotprod = f.neon && (getauxval(AT_HWCAP) & kHwcapAsimddp) != 0;
#elif defined(__ARM_FEATURE_DOTPROD)
  f.dotprod = f.neon;
#endif
  return f;
}
#endif

inline CpuFeatures detect_cpu_features() {
#if TRIT_ARCH_X86_64
  return detect_x86();
#elif TRIT_ARCH_AARCH64
  return detect_aarch64();
#else
  return CpuFeatures{};
#endif
}

}  // namespace detail

// Detected on first use; C++11 guarantees the static is initialised exactly once, even when
// several threads call this concurrently.
inline const CpuFeatures& cpu_features() {
  static const CpuFeatures features = detail::detect_cpu_features();
  return features;
}

namespace detail {

// The CpuFeatureBit set of what this CPU has.
inline std::uint32_t feature_bits(const CpuFeatures& f) {
  return (f.avx2 ? kFeatureAvx2 : 0u) | (f.avxvnni ? kFeatureAvxVnni : 0u) | (f.avx512bw ? kFeatureAvx512Bw : 0u) |
         (f.avx512vnni ? kFeatureAvx512Vnni : 0u) | (f.avx512vbmi ? kFeatureAvx512Vbmi : 0u) |
         (f.neon ? kFeatureNeon : 0u) | (f.dotprod ? kFeatureDotprod : 0u);
}

inline std::uint32_t cpu_feature_bits() {
  static const std::uint32_t bits = feature_bits(cpu_features());
  return bits;
}

// Whether this build compiled the kernels of paths for the architecture.
constexpr bool arch_compiled(PathArch arch) {
  switch (arch) {
    case PathArch::portable: return true;
    case PathArch::x86_64: return TRIT_HAS_X86_KERNELS;
    case PathArch::aarch64: return TRIT_HAS_NEON_KERNELS;
  }
  return false;
}

constexpr const char* arch_name(PathArch arch) {
  return arch == PathArch::x86_64 ? "x86-64" : arch == PathArch::aarch64 ? "AArch64" : "portable";
}

constexpr bool arch_is_build_arch(PathArch arch) {
  return arch == PathArch::portable || (arch == PathArch::x86_64 && TRIT_ARCH_X86_64) ||
         (arch == PathArch::aarch64 && TRIT_ARCH_AARCH64);
}

}  // namespace detail

// Whether this build has kernels for the path and this CPU can run them. Isa::automatic is
// always supported (it resolves to a supported path).
inline bool isa_supported(Isa isa) {
  if (isa == Isa::automatic) return true;
  const KernelPath* path = find_path(isa);
  return path != nullptr && detail::arch_compiled(path->arch) &&
         (detail::cpu_feature_bits() & path->needs) == path->needs;
}

// Why isa_supported(isa) is false, in words for an error message or a skipped test.
inline std::string isa_unsupported_reason(Isa isa) {
  const KernelPath* path = find_path(isa);
  if (isa != Isa::automatic && path == nullptr) {
    return detail::concat("Isa(", static_cast<std::uint32_t>(isa), ") is not a kernel path");
  }
  if (path == nullptr || isa_supported(isa)) return "it is supported";
  if (!detail::arch_is_build_arch(path->arch)) {
    return detail::concat("an ", detail::arch_name(path->arch), " path, and this is not an ",
                          detail::arch_name(path->arch), " build");
  }
  if (!detail::arch_compiled(path->arch)) {
    return detail::concat("this build has no ", path->name, " kernels (the compiler lacks target regions)");
  }
  return detail::concat("this CPU (or its OS) lacks the instructions for ", path->name);
}

// Inverse of isa_name; throws std::invalid_argument listing the valid names.
inline Isa parse_isa(const std::string& name) {
  if (name == "auto") return Isa::automatic;
  std::string names = "auto";
  for (const KernelPath& path : kKernelPaths) {
    if (name == path.name) return path.isa;
    names += detail::concat(", ", path.name);
  }
  detail::throw_invalid_argument("parse_isa", "unknown kernel path '", name, "' (expected one of ", names, ")");
}

// The best path this CPU supports (the first supported row of the table), unless the
// TRIT_ISA environment variable names one (read once; an unknown name or a path the CPU
// lacks throws unsupported_isa_error on first use).
inline Isa best_isa() {
  static const Isa chosen = [] {
    if (const char* forced = std::getenv("TRIT_ISA")) {
      if (*forced != '\0') {
        Isa isa = Isa::automatic;
#if TRIT_EXCEPTIONS
        try {
          isa = parse_isa(forced);
        } catch (const std::invalid_argument& e) {
          detail::raise<unsupported_isa_error>("unsupported_isa_error",
                                               detail::concat("trit: TRIT_ISA=", forced, ": ", e.what()));
        }
#else
        bool known = std::string(forced) == "auto";
        for (const KernelPath& path : kKernelPaths) known = known || std::string(forced) == path.name;
        if (!known) {
          detail::raise<unsupported_isa_error>(
              "unsupported_isa_error", detail::concat("trit: TRIT_ISA=", forced, ": unknown kernel path"));
        }
        isa = parse_isa(forced);
#endif
        if (isa != Isa::automatic) {
          if (!isa_supported(isa)) {
            detail::raise<unsupported_isa_error>(
                "unsupported_isa_error", detail::concat("trit: TRIT_ISA=", forced, " is not supported here: ",
                                                        isa_unsupported_reason(isa)));
          }
          return isa;
        }
      }
    }
    for (const KernelPath& path : kKernelPaths) {
      if (isa_supported(path.isa)) return path.isa;
    }
    return Isa::scalar;
  }();
  return chosen;
}

TRIT_END_NAMESPACE
