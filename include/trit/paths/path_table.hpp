// trit: the table of kernel paths. One row per path, in priority order (best first): its
// TRIT_ISA name, the CPU features it needs, the products it has kernels for, and the path
// that serves a product it lacks. Names, parsing, support, "why not", the best path and every
// per-product choice are loops over this table; adding a path is a row here plus its kernels
// file (kernels/<family>/...), which specialises detail::PathKernels for it.
#pragma once

#include <cstddef>
#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include "trit/paths/isa.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE

// CPU features a path (or one of its products) needs, as bits.
enum CpuFeatureBit : std::uint32_t {
  kFeatureAvx2 = 1u << 0,        // AVX2 with OS-enabled YMM state
  kFeatureAvxVnni = 1u << 1,     // VEX vpdpbusd (AVX-VNNI)
  kFeatureAvx512Bw = 1u << 2,    // AVX-512 F+BW+VL+DQ with OS-enabled ZMM and mask state
  kFeatureAvx512Vnni = 1u << 3,  // EVEX vpdpbusd
  kFeatureAvx512Vbmi = 1u << 4,  // byte permutes
  kFeatureNeon = 1u << 5,        // Advanced SIMD
  kFeatureDotprod = 1u << 6,     // sdot/udot (armv8.2-a dotprod)
};

// The products (weight layout x activation type) a path can run.
enum ProductBit : std::uint32_t {
  kProductDense243Int8 = 1u << 0,  // Dense243 weights x int8 activations
  kProductLutInt4 = 1u << 1,       // int4 lookup-table weights (LutWeights) x int4 activations
  kProductTwoBitInt8 = 1u << 2,    // TwoBit weights (2 bits per trit) x int8 activations
};

enum class PathArch : std::uint8_t { portable, x86_64, aarch64 };

struct KernelPath {
  Isa isa;
  const char* name;          // the TRIT_ISA spelling
  PathArch arch;             // the build architecture its kernels exist on
  std::uint32_t needs;       // CpuFeatureBit set
  std::uint32_t products;    // ProductBit set it has kernels for
  Isa fallback;              // serves the products this path lacks (scalar ends every chain)
  const char* instructions;  // in words, for reports
};

// Priority order: VNNI beats plain byte multiplies, wider beats narrower at equal
// instructions. The int4 kernels do not multiply, so VNNI rows fall back for int4.
inline constexpr KernelPath kKernelPaths[] = {
    {Isa::avx512vnni, "avx512vnni", PathArch::x86_64, kFeatureAvx2 | kFeatureAvx512Bw | kFeatureAvx512Vnni,
     kProductDense243Int8 | kProductTwoBitInt8, Isa::avx512bw, "512-bit EVEX vpdpbusd"},
    {Isa::avxvnni, "avxvnni", PathArch::x86_64, kFeatureAvx2 | kFeatureAvxVnni, kProductDense243Int8 | kProductTwoBitInt8, Isa::avx2,
     "256-bit VEX vpdpbusd"},
    {Isa::avx512bw, "avx512bw", PathArch::x86_64, kFeatureAvx2 | kFeatureAvx512Bw,
     kProductDense243Int8 | kProductLutInt4 | kProductTwoBitInt8, Isa::avx2, "512-bit vpmaddubsw + vpmaddwd"},
    {Isa::avx2, "avx2", PathArch::x86_64, kFeatureAvx2, kProductDense243Int8 | kProductLutInt4 | kProductTwoBitInt8, Isa::scalar,
     "256-bit vpmaddubsw + vpmaddwd"},
    {Isa::neon_dotprod, "neon-dotprod", PathArch::aarch64, kFeatureNeon | kFeatureDotprod, kProductDense243Int8 | kProductTwoBitInt8,
     Isa::neon, "sdot"},
    {Isa::neon, "neon", PathArch::aarch64, kFeatureNeon, kProductDense243Int8 | kProductLutInt4 | kProductTwoBitInt8, Isa::scalar,
     "smlal"},
    {Isa::scalar, "scalar", PathArch::portable, 0, kProductDense243Int8 | kProductLutInt4 | kProductTwoBitInt8, Isa::scalar,
     "the reference, in plain C++"},
};

inline constexpr std::size_t kKernelPathCount = sizeof(kKernelPaths) / sizeof(kKernelPaths[0]);

namespace detail {
template <std::size_t... I>
constexpr std::array<Isa, sizeof...(I)> table_isas(std::index_sequence<I...>) {
  return {kKernelPaths[I].isa...};
}
}  // namespace detail

// Every path, in the table's priority order (best first).
inline constexpr std::array<Isa, kKernelPathCount> kAllIsas =
    detail::table_isas(std::make_index_sequence<kKernelPathCount>{});

// The paths whose row lists the product (a ProductBit), in priority order.
inline std::vector<Isa> paths_with_product(std::uint32_t product) {
  std::vector<Isa> paths;
  for (const KernelPath& path : kKernelPaths) {
    if ((path.products & product) != 0) paths.push_back(path.isa);
  }
  return paths;
}

// The row of a path, or null for Isa::automatic and values outside the enum.
constexpr const KernelPath* find_path(Isa isa) {
  for (const KernelPath& path : kKernelPaths) {
    if (path.isa == isa) return &path;
  }
  return nullptr;
}

// The name used by TRIT_ISA, the benches and the tests.
constexpr const char* isa_name(Isa isa) {
  if (isa == Isa::automatic) return "auto";
  const KernelPath* path = find_path(isa);
  return path != nullptr ? path->name : "unknown";
}

TRIT_END_NAMESPACE
