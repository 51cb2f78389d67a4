// trit::trit_compiled: the LutWeights x int4 products (gemm_int4 and its variants, BitLinear's
// int4 schemes), with every int4 kernel family this build compiles: x86 (avx2, avx512bw with
// VBMI) or NEON when TRIT_ENABLE_INT4 is on, and scalar always.
#include "trit/api.hpp"
#include "trit/driver/driver.hpp"

TRIT_BEGIN_NAMESPACE
namespace detail {
template Isa product_path<LutInt4Product>(Isa);
template void run_product<LutInt4Product, LutInt4Problem>(const LutInt4Problem&, Isa, unsigned);
template void run_product_rows<LutInt4Product, LutInt4Problem>(const LutInt4Problem&, Isa, std::size_t, std::size_t);
}  // namespace detail
TRIT_END_NAMESPACE
