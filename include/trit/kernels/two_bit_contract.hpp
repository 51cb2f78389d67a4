// trit: the TwoBit x int8 product for the driver: the descriptor of a path's kernels
// (TwoBitInt8Kernels) and the product type the driver runs (TwoBitInt8Product); what a kernel
// is handed, TwoBitProblem, is in kernels/contract.hpp beside Dense243's. Kernels files
// specialise detail::KernelsFor<TwoBitInt8Product, Isa>.
#pragma once

#include <cstddef>
#include <cstdint>

#include "trit/kernels/contract.hpp"
#include "trit/kernels/path_kernels.hpp"
#include "trit/format/two_bit.hpp"
#include "trit/paths/path_table.hpp"
#include "trit/version.hpp"
#include "trit/views/activations.hpp"
#include "trit/views/matrix_ref.hpp"

TRIT_BEGIN_NAMESPACE
namespace detail {

using TwoBitInt8Kernels = Int8RowsKernels<TwoBitProblem>;

struct TwoBitInt8Product : Int8RowsProduct<TwoBitProblem> {
  using Problem = TwoBitProblem;
  static constexpr std::uint32_t kBit = kProductTwoBitInt8;
  static constexpr const char* kName = "two_bit x int8";
};

}  // namespace detail
TRIT_END_NAMESPACE
