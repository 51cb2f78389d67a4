// Helpers shared by the io tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iterator>
#include <string>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include <trit/io.hpp>
#include <trit/trit.hpp>

namespace trit_io_test {

inline std::vector<std::uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void write_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
}

// A directory of this process's own, so parallel test runs never share a file.
inline std::string temp_dir() {
  static const std::string dir = [] {
    const char* base = std::getenv("TMPDIR");
    const std::string path = std::string(base != nullptr && *base != '\0' ? base : "/tmp") + "/trit_io_" + std::to_string(::getpid());
    ::mkdir(path.c_str(), 0700);
    return path;
  }();
  return dir;
}

// The fixtures directory, or "" (the test then skips).
inline std::string fixtures() {
  const char* dir = std::getenv("TRIT_IO_FIXTURES");
  if (dir == nullptr) return "";
  std::ifstream probe(std::string(dir) + "/tq2_0.gguf");
  return probe ? dir : "";
}

#define TRIT_REQUIRE_FIXTURES()                                                                            \
  const std::string fx = trit_io_test::fixtures();                                                       \
  if (fx.empty()) GTEST_SKIP() << "no fixtures: configure with -DTRIT_IO_PYTHON (scripts/test-io.sh does)"

struct Expected {
  std::vector<std::int8_t> trits;
  std::vector<float> scales;
};

inline Expected expected(const std::string& fx, const std::string& fixture, const std::string& tensor) {
  Expected e;
  const auto trits = read_bytes(fx + "/expected/" + fixture + "__" + tensor + ".trits");
  e.trits.assign(trits.begin(), trits.end());
  const auto scales = read_bytes(fx + "/expected/" + fixture + "__" + tensor + ".scales");
  e.scales.resize(scales.size() / 4);
  std::memcpy(e.scales.data(), scales.data(), scales.size());
  return e;
}

inline std::vector<std::int8_t> trits_of(const trit::PackedMatrixView& view) {
  std::vector<std::int8_t> out(view.rows() * view.cols());
  trit::unpack_trits(view, trit::matrix(out.data(), view.rows(), view.cols()));
  return out;
}

inline std::uint32_t bits(float f) {
  std::uint32_t b;
  std::memcpy(&b, &f, 4);
  return b;
}

// Asserts exact trits and bit-identical scales.
inline void expect_matrix(const trit::PackedMatrixView& view, const Expected& e, const std::string& what) {
  SCOPED_TRACE(what);
  ASSERT_EQ(view.rows() * view.cols(), e.trits.size());
  EXPECT_EQ(trits_of(view), e.trits);
  ASSERT_EQ(view.scale_count(), e.scales.size());
  for (std::size_t i = 0; i < e.scales.size(); ++i) EXPECT_EQ(bits(view.scales()[i]), bits(e.scales[i])) << "scale " << i;
}

// Runs f, which must throw E whose message contains every one of `parts`.
template <class E>
void expect_error(const std::function<void()>& f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "no exception";
  } catch (const E& e) {
    const std::string message = e.what();
    for (const auto& part : parts) EXPECT_NE(message.find(part), std::string::npos) << "\"" << part << "\" not in: " << message;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type: " << e.what();
  }
}

// Whether f throws only one of trit's documented error types (never crashes).
inline bool throws_clean_error(const std::function<void()>& f, std::string* message = nullptr) {
  try {
    f();
    return false;
  } catch (const trit::format_error& e) {
    if (message) *message = e.what();
    return true;
  } catch (const trit::io_error& e) {
    if (message) *message = e.what();
    return true;
  } catch (const std::invalid_argument& e) {
    if (message) *message = e.what();
    return true;
  }
}

}  // namespace trit_io_test
