// trit: how many scales a weight matrix has.
#pragma once

#include <cstdint>

#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE

// One scale for the whole tensor (BitNet's choice and the default) or one per output row.
enum class ScaleGranularity : std::uint32_t { per_tensor = 0, per_row = 1 };

TRIT_END_NAMESPACE
