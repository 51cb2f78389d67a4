// trit::trit_compiled: the TwoBit x int8 products (gemm, gemm_int32, gemv, gemm_rows on a
// TwoBitMatrixView, BitLinear's int8 schemes on TwoBit weights), with every kernel family this
// build compiles for them: x86 (avx2, avxvnni, avx512bw, avx512vnni) or NEON (neon,
// neon-dotprod), and scalar. Instantiated from the same templates a header-only build uses
// (driver/driver.hpp), matching the `extern template` declarations of trit/api.hpp.
#include "trit/api.hpp"
#include "trit/driver/driver.hpp"

TRIT_BEGIN_NAMESPACE
namespace detail {
template Isa product_path<TwoBitInt8Product>(Isa);
template void run_product<TwoBitInt8Product, TwoBitProblem>(const TwoBitProblem&, Isa, unsigned);
template void run_product_rows<TwoBitInt8Product, TwoBitProblem>(const TwoBitProblem&, Isa, std::size_t, std::size_t);
}  // namespace detail
TRIT_END_NAMESPACE
