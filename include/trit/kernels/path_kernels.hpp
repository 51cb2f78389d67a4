// trit: the products (weight layout x activation type) and where each path's kernels for a
// product are found. A kernels file specialises KernelsFor<Product, Isa> for the paths it
// implements; the driver looks them up by walking kKernelPaths, so the table stays the only
// list of paths.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>

#include "trit/kernels/contract.hpp"
#include "trit/kernels/lut_int4_common.hpp"
#include "trit/paths/path_table.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE
namespace detail {

struct Dense243Int8Product;
struct LutInt4Product;

// Null unless a kernels file provides the path's kernels for the product.
template <class Product, Isa path>
struct KernelsFor {
  static constexpr const typename Product::Kernels* value = nullptr;
};

template <class Product, std::size_t... I>
constexpr const typename Product::Kernels* kernels_in_table(Isa isa, std::index_sequence<I...>) {
  const typename Product::Kernels* found = nullptr;
  ((void)(kKernelPaths[I].isa == isa ? (found = KernelsFor<Product, kKernelPaths[I].isa>::value) : nullptr), ...);
  return found;
}

// The kernels the path itself has for the product (no fallback), or null.
template <class Product>
constexpr const typename Product::Kernels* own_kernels(Isa isa) {
  return kernels_in_table<Product>(isa, std::make_index_sequence<kKernelPathCount>{});
}

}  // namespace detail
TRIT_END_NAMESPACE
