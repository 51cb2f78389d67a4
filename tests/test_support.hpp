// Helpers shared by the test files: exception checks and the blob checksum, written here once
// and independently of the library's own code.
#pragma once

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <vector>

namespace trit_test {

// Passes when body throws Exception with `fragment` in its message.
template <class Exception, class Body>
::testing::AssertionResult throws_with(Body&& body, const std::string& fragment) {
  try {
    body();
  } catch (const Exception& e) {
    const std::string what = e.what();
    if (what.find(fragment) != std::string::npos) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "message \"" << what << "\" lacks \"" << fragment << "\"";
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "threw the wrong type: " << e.what();
  }
  return ::testing::AssertionFailure() << "did not throw";
}

// FNV-1a 64 as FORMAT.md specifies it, for building blobs by hand.
inline std::uint64_t fnv1a64(const std::uint8_t* data, std::size_t size) {
  std::uint64_t hash = 14695981039346656037ull;
  for (std::size_t i = 0; i < size; ++i) {
    hash ^= data[i];
    hash *= 1099511628211ull;
  }
  return hash;
}

// Rewrites a blob's checksum field after the test damaged its payload, so the check under
// test (not the checksum) is the one that fires.
inline void reseal(std::vector<std::uint8_t>& blob) {
  const std::uint64_t sum = fnv1a64(blob.data() + 64, blob.size() - 64);
  for (int i = 0; i < 8; ++i) blob[56 + i] = static_cast<std::uint8_t>(sum >> (8 * i));
}

}  // namespace trit_test
