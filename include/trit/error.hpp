// trit: the exceptions public entry points throw, and the helpers that build their messages.
#pragma once

#include <cstddef>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

#include "trit/version.hpp"

TRIT_BEGIN_NAMESPACE

// Raised for a malformed serialized blob or an invalid packed byte: data, not the caller's
// arguments, is wrong.
class format_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Raised when a kernel path is requested that this build or this CPU cannot run.
class unsupported_isa_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {

template <class... Parts>
std::string concat(Parts&&... parts) {
  std::ostringstream out;
  (out << ... << std::forward<Parts>(parts));
  return out.str();
}

// Argument checks at public entry points: the message names the function and the argument.
template <class... Parts>
[[noreturn]] void throw_invalid_argument(const char* function, Parts&&... parts) {
  throw std::invalid_argument(concat("trit::", function, ": ", std::forward<Parts>(parts)...));
}

template <class... Parts>
void require(bool condition, const char* function, Parts&&... parts) {
  if (!condition) throw_invalid_argument(function, std::forward<Parts>(parts)...);
}

// Scales (weight and activation) must be finite and > 0; NaN fails both comparisons.
inline bool is_finite_positive(float v) { return v > 0.0f && v <= 3.4028234e38f; }

// Checks the per-token scales of an activations view.
inline void check_token_scales(const float* scales, std::size_t tokens, const char* function) {
  for (std::size_t n = 0; n < tokens; ++n) {
    require(is_finite_positive(scales[n]), function, "x.scales[", n, "] = ", scales[n],
            " is not a finite positive number");
  }
}

template <class... Parts>
[[noreturn]] void throw_format_error(const char* function, Parts&&... parts) {
  throw format_error(concat("trit::", function, ": ", std::forward<Parts>(parts)...));
}

}  // namespace detail

TRIT_END_NAMESPACE
