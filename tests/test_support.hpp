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

// The version-2 checksum (FORMAT.md section 5): FNV-1a 64 over the whole blob, header and
// payload, with the 8 checksum bytes at 56..63 read as zero.
inline std::uint64_t whole_blob_checksum(const std::vector<std::uint8_t>& blob) {
  std::vector<std::uint8_t> copy = blob;
  for (int i = 0; i < 8; ++i) copy[56 + i] = 0;
  return fnv1a64(copy.data(), copy.size());
}

// Rewrites a blob's checksum field after the test damaged it, so the check under test (not
// the checksum) is the one that fires. The blob's own version field decides the rule:
// version 1 summed the payload only (a matrix blob kept the sum at 56, a layer blob at 40);
// version 2 sums the whole blob into bytes 56..63.
inline void reseal(std::vector<std::uint8_t>& blob) {
  const std::uint32_t version = static_cast<std::uint32_t>(blob[8]) | static_cast<std::uint32_t>(blob[9]) << 8 |
                                static_cast<std::uint32_t>(blob[10]) << 16 | static_cast<std::uint32_t>(blob[11]) << 24;
  const bool layer = std::string(blob.begin(), blob.begin() + 8) == "TRITBLIN";
  std::uint64_t sum = 0;
  std::size_t at = 56;
  if (version == 1) {
    sum = fnv1a64(blob.data() + 64, blob.size() - 64);
    if (layer) at = 40;
  } else {
    sum = whole_blob_checksum(blob);
  }
  for (int i = 0; i < 8; ++i) blob[at + i] = static_cast<std::uint8_t>(sum >> (8 * i));
}

}  // namespace trit_test
