// trit::trit_compiled: the Dense243 x int8 products (gemm, gemm_int32, gemv, gemm_rows,
// BitLinear's int8 schemes), with every kernel family this build compiles for them: x86
// (avx2, avxvnni, avx512bw, avx512vnni) or NEON (neon, neon-dotprod), and scalar. The driver
// entry points are instantiated from the same templates a header-only build uses
// (driver/driver.hpp), matching the `extern template` declarations of trit/api.hpp.
#include "trit/api.hpp"
#include "trit/driver/driver.hpp"

TRIT_BEGIN_NAMESPACE
namespace detail {
template Isa product_path<Dense243Int8Product>(Isa);
template void run_product<Dense243Int8Product, GemmProblem>(const GemmProblem&, Isa, unsigned);
template void run_product_rows<Dense243Int8Product, GemmProblem>(const GemmProblem&, Isa, std::size_t, std::size_t);
}  // namespace detail
TRIT_END_NAMESPACE
