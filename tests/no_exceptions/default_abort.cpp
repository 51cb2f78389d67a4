// Built with -fno-exceptions: with no handler installed (or one that returns), an error prints
// "trit: <kind>: <message>" to stderr and aborts. Run by default_abort.cmake, which expects
// exactly that.
#include <trit/trit.hpp>

#include <cstdio>
#include <cstring>
#include <vector>

#if TRIT_EXCEPTIONS
#error "this test must be built without exceptions (-fno-exceptions)"
#endif

namespace {
void returns(const char* kind, const char*) { std::fprintf(stderr, "handler saw %s and returned\n", kind); }
}  // namespace

int main(int argc, char** argv) {
  if (argc > 1 && std::strcmp(argv[1], "returning-handler") == 0) trit::set_error_handler(returns);
  const std::size_t rows = 6, cols = 40;
  std::vector<float> w(rows * cols, 1.0f), x(cols, 0.5f), y(2 * rows);
  const trit::PackedMatrix packed = trit::pack_weights(trit::matrix<const float>(w.data(), rows, cols));
  const trit::QuantizedActivations q = trit::quantize_activations(trit::matrix<const float>(x.data(), 1, cols));
  trit::gemm(packed, q, trit::matrix(y.data(), 2, rows));
  std::printf("not reached: gemm returned after an error\n");
  return 0;
}
