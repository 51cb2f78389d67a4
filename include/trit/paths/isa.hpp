// trit: the names of the kernel paths (instruction sets) a caller can ask for. What each path
// needs and what it falls back to is in paths/path_table.hpp, the one list of paths.
#pragma once

#include <cstdint>

#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE

// A kernel path. `automatic` means the best path this CPU supports. Paths are not ordered:
// AVX-VNNI without AVX-512 exists, so "best" is the table's priority order, not a comparison.
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

TRIT_END_NAMESPACE
