// trit: size arithmetic on untrusted numbers. Every size that comes from a caller or a file
// goes through these, so a product or sum that does not fit a size_t is an error, never a
// wrapped value that allocates too little.
#pragma once

#include <cstddef>
#include <utility>

#include "trit/error.hpp"
#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE
namespace detail {

// Whether a size came from the caller (std::invalid_argument) or from a file (format_error).
enum class SizeSource { argument, file };

template <class... Parts>
[[noreturn]] void throw_overflow(SizeSource source, const char* function, Parts&&... parts) {
  if (source == SizeSource::file) throw_format_error(function, std::forward<Parts>(parts)...);
  throw_invalid_argument(function, std::forward<Parts>(parts)...);
}

// a * b, or an error naming the function and what was being sized.
inline std::size_t checked_mul(std::size_t a, std::size_t b, const char* function, const char* what,
                               SizeSource source = SizeSource::argument) {
  std::size_t out = 0;
  if (__builtin_mul_overflow(a, b, &out)) throw_overflow(source, function, what, " overflows: ", a, " * ", b);
  return out;
}

inline std::size_t checked_add(std::size_t a, std::size_t b, const char* function, const char* what,
                               SizeSource source = SizeSource::argument) {
  std::size_t out = 0;
  if (__builtin_add_overflow(a, b, &out)) throw_overflow(source, function, what, " overflows: ", a, " + ", b);
  return out;
}

inline constexpr std::size_t align_up(std::size_t value, std::size_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

}  // namespace detail
TRIT_END_NAMESPACE
