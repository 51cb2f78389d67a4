// trit: size arithmetic on untrusted numbers. Every size that comes from a caller or a file
// goes through these, so a product or sum that does not fit a size_t is an error, never a
// wrapped value that allocates too little.
#pragma once

#include <cstddef>
#include <limits>

#include "trit/error.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE
namespace detail {

inline bool mul_overflows(std::size_t a, std::size_t b, std::size_t* out) {
  return __builtin_mul_overflow(a, b, out);
}

inline bool add_overflows(std::size_t a, std::size_t b, std::size_t* out) {
  return __builtin_add_overflow(a, b, out);
}

// a * b, or std::invalid_argument naming the function and what was being sized.
inline std::size_t checked_mul(std::size_t a, std::size_t b, const char* function, const char* what) {
  std::size_t out = 0;
  if (mul_overflows(a, b, &out)) throw_invalid_argument(function, what, " overflows: ", a, " * ", b);
  return out;
}

inline std::size_t checked_add(std::size_t a, std::size_t b, const char* function, const char* what) {
  std::size_t out = 0;
  if (add_overflows(a, b, &out)) throw_invalid_argument(function, what, " overflows: ", a, " + ", b);
  return out;
}

// The same for data read from a file: format_error rather than invalid_argument.
inline std::size_t checked_mul_format(std::size_t a, std::size_t b, const char* function, const char* what) {
  std::size_t out = 0;
  if (mul_overflows(a, b, &out)) throw_format_error(function, what, " overflows: ", a, " * ", b);
  return out;
}

inline std::size_t checked_add_format(std::size_t a, std::size_t b, const char* function, const char* what) {
  std::size_t out = 0;
  if (add_overflows(a, b, &out)) throw_format_error(function, what, " overflows: ", a, " + ", b);
  return out;
}

inline constexpr std::size_t align_up(std::size_t value, std::size_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

}  // namespace detail
TRIT_END_NAMESPACE
