// trit: the names of the kernel paths (instruction sets) a caller can ask for.
#pragma once

#include <cstdint>
#include <string>

#include "trit/error.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE

// A kernel path. `automatic` means the best path this CPU supports. Paths are not ordered:
// AVX-VNNI without AVX-512 exists, so "best" is a preference list, not a comparison.
enum class Isa : std::uint32_t {
  automatic = 0,
  scalar,
  avx2,
  avxvnni,
  avx512bw,
  avx512vnni,
  neon,
  neon_dotprod,
};

inline constexpr Isa kAllIsas[] = {Isa::scalar,     Isa::avx2, Isa::avxvnni,      Isa::avx512bw,
                                   Isa::avx512vnni, Isa::neon, Isa::neon_dotprod};

// The name used by TRIT_ISA, the benches and the tests.
inline const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::automatic: return "auto";
    case Isa::scalar: return "scalar";
    case Isa::avx2: return "avx2";
    case Isa::avxvnni: return "avxvnni";
    case Isa::avx512bw: return "avx512bw";
    case Isa::avx512vnni: return "avx512vnni";
    case Isa::neon: return "neon";
    case Isa::neon_dotprod: return "neon-dotprod";
  }
  return "unknown";
}

// Inverse of isa_name; throws std::invalid_argument listing the valid names.
inline Isa parse_isa(const std::string& name) {
  if (name == "auto") return Isa::automatic;
  for (Isa isa : kAllIsas) {
    if (name == isa_name(isa)) return isa;
  }
  detail::throw_invalid_argument("parse_isa", "unknown kernel path '", name,
                                 "' (expected auto, scalar, avx2, avxvnni, avx512bw, avx512vnni, neon or neon-dotprod)");
}

TRIT_END_NAMESPACE
