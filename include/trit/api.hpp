// trit: the public API without the kernels, for programs that link trit::trit_compiled.
//
// The same types and functions as trit/trit.hpp (every public type is the very same type,
// with the same layout), but the driver and the SIMD kernels are not included: the products
// (gemm, gemm_int32, gemv, gemm_rows on Dense243 or TwoBit weights, gemm_int4...,
// BitLinear::forward) call the driver
// entry points of driver/run.hpp, which this header declares `extern template` and
// trit::trit_compiled instantiates once, from the same template definitions a header-only
// build instantiates in each translation unit. So a translation unit compiles no kernel,
// and translation units using trit.hpp and api.hpp may be mixed in one program (or one
// translation unit) without an ODR clash.
//
// Not declared here: has_own_kernels and own_kernels_missing_reason (test helpers; include
// trit/trit.hpp for them).
#pragma once

#if !defined(TRIT_DECLARATIONS_ONLY)
#define TRIT_DECLARATIONS_ONLY 1
#define TRIT_API_DEFINED_DECLARATIONS_ONLY 1
#endif

#include "trit/version.hpp"
#include "trit/error.hpp"
#include "trit/views/matrix_ref.hpp"
#include "trit/views/activations.hpp"
#include "trit/views/int4_activations.hpp"
#include "trit/format/dense243.hpp"
#include "trit/format/packed_matrix.hpp"
#include "trit/format/pack.hpp"
#include "trit/format/lut_weights.hpp"
#include "trit/format/serialize.hpp"
#include "trit/format/two_bit.hpp"
#include "trit/quantize/quantize.hpp"
#include "trit/quantize/activations.hpp"
#include "trit/quantize/int4_activations.hpp"
#include "trit/reference/reference.hpp"
#include "trit/reference/int4.hpp"
#include "trit/reference/two_bit.hpp"
#include "trit/paths/isa.hpp"
#include "trit/paths/path_table.hpp"
#include "trit/paths/cpu_features.hpp"
#include "trit/kernels/contract.hpp"
#include "trit/driver/run.hpp"
#include "trit/driver/gemm.hpp"
#include "trit/driver/gemm_int4.hpp"
#include "trit/driver/two_bit.hpp"
#include "trit/layers/bitlinear.hpp"

#if defined(TRIT_API_DEFINED_DECLARATIONS_ONLY)
#undef TRIT_DECLARATIONS_ONLY
#undef TRIT_API_DEFINED_DECLARATIONS_ONLY
#endif

TRIT_BEGIN_NAMESPACE
namespace detail {
// Instantiated in trit::trit_compiled (src/), nowhere else.
extern template Isa product_path<Dense243Int8Product>(Isa);
extern template void run_product<Dense243Int8Product, GemmProblem>(const GemmProblem&, Isa, unsigned);
extern template void run_product_rows<Dense243Int8Product, GemmProblem>(const GemmProblem&, Isa, std::size_t,
                                                                       std::size_t);
extern template Isa product_path<TwoBitInt8Product>(Isa);
extern template void run_product<TwoBitInt8Product, TwoBitProblem>(const TwoBitProblem&, Isa, unsigned);
extern template void run_product_rows<TwoBitInt8Product, TwoBitProblem>(const TwoBitProblem&, Isa, std::size_t,
                                                                         std::size_t);
extern template Isa product_path<LutInt4Product>(Isa);
extern template void run_product<LutInt4Product, LutInt4Problem>(const LutInt4Problem&, Isa, unsigned);
extern template void run_product_rows<LutInt4Product, LutInt4Problem>(const LutInt4Problem&, Isa, std::size_t,
                                                                     std::size_t);
}  // namespace detail
TRIT_END_NAMESPACE
