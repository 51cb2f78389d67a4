// trit: the exceptions public entry points throw, the error handler that replaces them
// without exceptions, and the helpers that build their messages.
//
// Every error trit reports goes through detail::raise below:
// - with exceptions (the default), it throws std::invalid_argument, format_error,
//   unsupported_isa_error, io_error or std::bad_array_new_length, as each function documents;
// - without exceptions (-fno-exceptions, or TRIT_NO_EXCEPTIONS defined before including trit),
//   it calls the handler installed with trit::set_error_handler(handler) as
//   handler(kind, message), kind being the name of the exception it would have thrown
//   ("invalid_argument", "format_error", "unsupported_isa_error", "io_error",
//   "bad_array_new_length") and message its what(). The handler must not return: it may
//   exit, abort or longjmp out (memory and files trit held at that point are then leaked). If
//   it returns, or none is installed, trit prints "trit: <kind>: <message>" to stderr and
//   calls std::abort().
// Every translation unit of a program must agree on the mode (as with the standard library).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <new>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "trit/version.hpp"

#if !defined(TRIT_NO_EXCEPTIONS) && (defined(__cpp_exceptions) || defined(__EXCEPTIONS) || defined(_CPPUNWIND))
#define TRIT_EXCEPTIONS 1
#else
#define TRIT_EXCEPTIONS 0
#endif

TRIT_BEGIN_NAMESPACE

// What trit calls for an error when built without exceptions: kind names the exception that
// would have been thrown, message is its what(). Must not return.
using ErrorHandler = void (*)(const char* kind, const char* message);

namespace detail {
inline std::atomic<ErrorHandler>& error_handler_slot() {
  static std::atomic<ErrorHandler> slot{nullptr};
  return slot;
}
}  // namespace detail

// Installs the handler called for every error in a build without exceptions (null restores
// the default: the message to stderr, then std::abort()); returns the previous one. Has no
// effect on a build with exceptions, which throws. Thread-safe.
inline ErrorHandler set_error_handler(ErrorHandler handler) noexcept {
  return detail::error_handler_slot().exchange(handler);
}

// The installed handler, or null for the default.
inline ErrorHandler get_error_handler() noexcept { return detail::error_handler_slot().load(); }

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

// The handler, then the default: message to stderr, abort.
[[noreturn]] inline void report_error(const char* kind, const char* message) noexcept {
  if (const ErrorHandler handler = get_error_handler()) handler(kind, message);
  std::fprintf(stderr, "trit: %s: %s\n", kind, message);
  std::fflush(stderr);
  std::abort();
}

// The one place trit reports an error: throws Exception(message) with exceptions (an
// Exception without a message constructor is thrown default-constructed), else reports
// (kind, message) to the error handler.
template <class Exception>
[[noreturn]] void raise(const char* kind, const std::string& message) {
#if TRIT_EXCEPTIONS
  (void)kind;
  if constexpr (std::is_constructible<Exception, const std::string&>::value) {
    throw Exception(message);
  } else {
    throw Exception();
  }
#else
  report_error(kind, message.c_str());
#endif
}

template <class... Parts>
std::string concat(Parts&&... parts) {
  std::ostringstream out;
  (out << ... << std::forward<Parts>(parts));
  return out.str();
}

// Argument checks at public entry points: the message names the function and the argument.
template <class... Parts>
[[noreturn]] void throw_invalid_argument(const char* function, Parts&&... parts) {
  raise<std::invalid_argument>("invalid_argument", concat("trit::", function, ": ", std::forward<Parts>(parts)...));
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
  raise<format_error>("format_error", concat("trit::", function, ": ", std::forward<Parts>(parts)...));
}

}  // namespace detail

TRIT_END_NAMESPACE
