// Built with -fno-exceptions: every trit error reaches the handler set with
// trit::set_error_handler as (kind, message). This handler records both and longjmps back.
#include <trit/trit.hpp>

#include <csetjmp>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#if TRIT_EXCEPTIONS
#error "this test must be built without exceptions (-fno-exceptions)"
#endif

namespace {

std::jmp_buf back;
std::string seen_kind, seen_message;
int failures = 0;

void record(const char* kind, const char* message) {
  seen_kind = kind;
  seen_message = message;
  std::longjmp(back, 1);
}

// Runs `call`, which must report an error of `kind` whose message contains `text`.
template <class Call>
void expect_error(const char* name, const char* kind, const char* text, const Call& call) {
  seen_kind.clear();
  seen_message.clear();
  if (setjmp(back) == 0) {
    call();
    std::printf("FAILED %s: no error reported\n", name);
    ++failures;
    return;
  }
  if (seen_kind != kind || seen_message.find(text) == std::string::npos) {
    std::printf("FAILED %s: got (%s, %s), expected (%s, ...%s...)\n", name, seen_kind.c_str(),
                seen_message.c_str(), kind, text);
    ++failures;
    return;
  }
  std::printf("ok %s: %s: %s\n", name, seen_kind.c_str(), seen_message.c_str());
}

// For TRIT_ISA errors, raised while best_isa() initialises its cached choice: print and exit
// rather than jump out of a static initialisation.
void print_and_exit(const char* kind, const char* message) {
  std::printf("handler: %s: %s\n", kind, message);
  std::exit(0);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "best-isa") == 0) {
    trit::set_error_handler(print_and_exit);
    std::printf("best_isa returned %s\n", trit::isa_name(trit::best_isa()));
    return 1;
  }
  if (trit::get_error_handler() != nullptr) {
    std::printf("FAILED: a handler is installed before the program installs one\n");
    return 1;
  }
  trit::set_error_handler(record);
  if (trit::get_error_handler() != &record) {
    std::printf("FAILED: get_error_handler does not return the installed handler\n");
    return 1;
  }

  const std::size_t rows = 6, cols = 40;
  std::vector<float> w(rows * cols, 1.0f), x(cols, 0.5f);
  for (std::size_t i = 0; i < w.size(); i += 3) w[i] = -1.0f;
  const trit::PackedMatrix packed = trit::pack_weights(trit::matrix<const float>(w.data(), rows, cols));
  const trit::QuantizedActivations q = trit::quantize_activations(trit::matrix<const float>(x.data(), 1, cols));
  static std::vector<float> y(2 * rows);

  // A correct call still works, and reports nothing.
  trit::gemm(packed, q, trit::matrix(y.data(), 1, rows));

  expect_error("gemm with a wrong y shape", "invalid_argument", "trit::gemm: y: expected a 1x6 matrix, got 2x6",
               [&] { trit::gemm(packed, q, trit::matrix(y.data(), 2, rows)); });
  expect_error("deserialize of garbage", "format_error", "trit::deserialize", [] {
    static const std::vector<std::uint8_t> garbage(100, 7);
    (void)trit::deserialize(garbage);
  });
  expect_error("a path that is not in the table", "unsupported_isa_error", "is not supported here", [&] {
    trit::GemmOptions options;
    options.isa = static_cast<trit::Isa>(99);
    trit::gemm(packed, q, trit::matrix(y.data(), 1, rows), nullptr, options);
  });
  expect_error("load of a missing file", "io_error", "trit::", [] {
    (void)trit::load("/nonexistent-dir-for-trit-tests/none.trit");
  });
  expect_error("parse_isa", "invalid_argument", "unknown kernel path 'avx1024'", [] {
    (void)trit::parse_isa("avx1024");
  });

  // The previous handler comes back from set_error_handler, and null restores the default.
  if (trit::set_error_handler(nullptr) != &record || trit::get_error_handler() != nullptr) {
    std::printf("FAILED: set_error_handler(nullptr) does not restore the default\n");
    ++failures;
  }
  if (failures != 0) return 1;
  std::printf("no exceptions ok\n");
  return 0;
}
