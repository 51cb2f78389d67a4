// trit: the driver's entry points as the public products call them, declared without the
// kernels. Their definitions are templates in driver/driver.hpp: a header-only build
// instantiates them where they are called; trit/api.hpp declares them `extern template` and
// trit::trit_compiled (src/) instantiates them once, from the same definitions, so both
// modes can be mixed in one program without an ODR clash.
#pragma once

#include <cstddef>

#include "trit/paths/isa.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE
namespace detail {

struct Dense243Int8Product;
struct TwoBitInt8Product;
struct LutInt4Product;

// The path a Product runs on when `requested` is asked for (driver.hpp).
template <class Product>
Isa product_path(Isa requested);

// The whole product on `threads` threads (0: one per hardware thread) on the kernels
// product_path picks for `isa`.
template <class Product, class Problem>
void run_product(const Problem& problem, Isa isa, unsigned threads);

// Output rows [m0, m1) of the product on the calling thread.
template <class Product, class Problem>
void run_product_rows(const Problem& problem, Isa isa, std::size_t m0, std::size_t m1);

}  // namespace detail
TRIT_END_NAMESPACE
