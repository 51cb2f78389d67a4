// Files, sizes and the edges of the public entry points: one regression test for each defect
// the blob-v2 / atomic-save / map_file change fixed. Each test says what used to go wrong.
#include <trit/trit.hpp>
#include <trit/layers/bitlinear.hpp>

#include <gtest/gtest.h>

#include "test_support.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <limits>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

using trit::ScaleGranularity;
using trit_test::reseal;
using trit_test::throws_with;

trit::PackedMatrix random_packed(std::size_t rows, std::size_t cols, ScaleGranularity g, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> trit(-1, 1);
  std::uniform_real_distribution<float> scale(1e-3f, 4.0f);
  std::vector<std::int8_t> trits(rows * cols);
  for (auto& t : trits) t = static_cast<std::int8_t>(trit(rng));
  std::vector<float> scales(g == ScaleGranularity::per_row ? rows : 1);
  for (float& s : scales) s = scale(rng);
  return trit::pack_trits(trit::matrix(trits.data(), rows, cols), scales.data(), scales.size(), g);
}

std::vector<float> random_floats(std::size_t count, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> dist(0.0f, 1.0f);
  std::vector<float> v(count);
  for (float& x : v) x = dist(rng);
  return v;
}

::testing::AssertionResult same_matrix(const trit::PackedMatrixView& a, const trit::PackedMatrixView& b) {
  if (a.rows() != b.rows() || a.cols() != b.cols() || a.row_stride() != b.row_stride() ||
      a.granularity() != b.granularity()) {
    return ::testing::AssertionFailure() << "shapes differ";
  }
  if (std::memcmp(a.scales(), b.scales(), a.scale_count() * sizeof(float)) != 0) {
    return ::testing::AssertionFailure() << "scales differ";
  }
  if (std::memcmp(a.data(), b.data(), a.weight_bytes()) != 0) return ::testing::AssertionFailure() << "bytes differ";
  return ::testing::AssertionSuccess();
}

// A fresh private directory per test, removed (with whatever is left in it) at the end.
class TempDir {
 public:
  TempDir() {
    std::string pattern = ::testing::TempDir() + "trit_files_XXXXXX";
    if (::mkdtemp(&pattern[0]) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    for (const std::string& name : entries()) std::remove((path_ + "/" + name).c_str());
    ::rmdir(path_.c_str());
  }
  std::string file(const std::string& name) const { return path_ + "/" + name; }
  const std::string& path() const { return path_; }
  std::vector<std::string> entries() const {
    std::vector<std::string> names;
    if (DIR* dir = ::opendir(path_.c_str())) {
      while (const dirent* e = ::readdir(dir)) {
        const std::string name = e->d_name;
        if (name != "." && name != "..") names.push_back(name);
      }
      ::closedir(dir);
    }
    return names;
  }

 private:
  std::string path_;
};

void write_bytes(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

std::vector<std::uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Waits up to `seconds` for the child; kills it (SIGKILL) if it is still running. Returns the
// wait status, or -1 when the child had to be killed.
int wait_or_kill(pid_t child, double seconds) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  int status = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    const pid_t done = ::waitpid(child, &status, WNOHANG);
    if (done == child) return status;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(child, SIGKILL);
  ::waitpid(child, &status, 0);
  return -1;
}

// ---- (a) Sizes that do not fit a size_t ---------------------------------------------------------
// Defect: rows * row_stride (+ the tail slack) was computed unchecked, so these shapes wrapped
// to a tiny allocation and the constructor then wrote zero bytes far past it (heap overflow).

TEST(FilesSizes, PackedMatrixWhoseBufferSizeOverflowsThrows) {
  // SIZE_MAX rows of 1 byte: the product fits, adding the 64 bytes of tail slack wraps.
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [] { trit::PackedMatrix(std::numeric_limits<std::size_t>::max(), 5, ScaleGranularity::per_tensor); },
      "trit::PackedMatrix: buffer size overflows"));
  // 2^58 rows of 64 bytes: the product is 2^64, which wraps to 0.
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [] { trit::PackedMatrix(std::size_t{1} << 58, 320, ScaleGranularity::per_row); },
      "trit::PackedMatrix: rows * row_stride overflows"));
  // A view over such a shape is refused the same way.
  const std::uint8_t byte = trit::dense243::kZeroByte;
  const float scale = 1.0f;
  EXPECT_TRUE(throws_with<std::invalid_argument>(
      [&] {
        trit::PackedMatrixView(&byte, std::size_t{1} << 58, 320, 64, ScaleGranularity::per_tensor, &scale);
      },
      "rows * row_stride overflows"));
}

// ---- (b) Saving ----------------------------------------------------------------------------------
// Defect: save() wrote the destination in place through an ofstream and did not check every
// step, so a failing write could go unreported and a failed or interrupted save destroyed the
// file it was replacing.

TEST(FilesSave, ADeviceThatFailsEveryWriteIsAnIoError) {
  // A private node like /dev/full (char 1, 7): writing to the real /dev/full as root would
  // put the system's device node at risk if save ever replaced its destination.
  TempDir dir;
  const std::string full = dir.file("full");
  if (::mknod(full.c_str(), S_IFCHR | 0666, makedev(1, 7)) != 0) GTEST_SKIP() << "cannot create a device node here";
  const trit::PackedMatrix packed = random_packed(2, 10, ScaleGranularity::per_tensor, 1);
  EXPECT_TRUE(throws_with<trit::io_error>([&] { trit::save(packed, full); }, "trit::save: " + full + ": "));
  const trit::BitLinear layer(random_packed(2, 10, ScaleGranularity::per_tensor, 2));
  EXPECT_TRUE(throws_with<trit::io_error>([&] { layer.save(full); }, "trit::BitLinear::save: " + full + ": "));
  // The destination is still the device, and no temporary file is left beside it.
  struct stat info {};
  ASSERT_EQ(::stat(full.c_str(), &info), 0);
  EXPECT_TRUE(S_ISCHR(info.st_mode)) << "save replaced the device node with a regular file";
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"full"});
}

TEST(FilesSave, AFailedSaveLeavesThePreviousFileIntact) {
  TempDir dir;
  const std::string path = dir.file("weights.d243");
  const trit::PackedMatrix old_matrix = random_packed(3, 333, ScaleGranularity::per_row, 3);
  trit::save(old_matrix, path);
  const std::vector<std::uint8_t> old_bytes = read_bytes(path);
  ASSERT_EQ(old_bytes, trit::serialize(old_matrix));

  // A child process may write at most 4096 bytes to any file (RLIMIT_FSIZE; SIGXFSZ ignored
  // so the write fails with EFBIG instead of killing it) and tries to replace the file with a
  // matrix of about 140 KB. It exits 0 when save threw io_error, 1 when save returned, 2 for
  // any other exception.
  const trit::PackedMatrix new_matrix = random_packed(100, 6912, ScaleGranularity::per_row, 4);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::signal(SIGXFSZ, SIG_IGN);
    const rlimit limit{4096, 4096};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    int code = 1;
    try {
      trit::save(new_matrix, path);
    } catch (const trit::io_error&) {
      code = 0;
    } catch (...) {
      code = 2;
    }
    ::_exit(code);
  }
  const int status = wait_or_kill(child, 60.0);
  ASSERT_TRUE(WIFEXITED(status)) << "status " << status;
  EXPECT_EQ(WEXITSTATUS(status), 0) << "1: save did not report the failed write; 2: it threw something else";
  EXPECT_EQ(read_bytes(path), old_bytes);
  EXPECT_TRUE(same_matrix(trit::load(path), old_matrix));
  EXPECT_EQ(dir.entries(), std::vector<std::string>{"weights.d243"}) << "the temporary file was left behind";
}

TEST(FilesSave, ASaveKilledMidwayLeavesAWholeFile) {
  // A child saves two large matrices in turn, over and over, and is killed with SIGKILL at
  // some point. Whatever moment it died at, the file holds one of the two whole blobs (never
  // a mix or a prefix): the new bytes go to a temporary file that is renamed only once
  // complete and synced.
  TempDir dir;
  const std::string path = dir.file("weights.d243");
  const trit::PackedMatrix a = random_packed(200, 6912, ScaleGranularity::per_row, 5);
  const trit::PackedMatrix b = random_packed(200, 6912, ScaleGranularity::per_tensor, 6);
  trit::save(a, path);
  const std::vector<std::uint8_t> blob_a = trit::serialize(a), blob_b = trit::serialize(b);
  for (int round = 0; round < 3; ++round) {
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      for (int i = 0; i < 1000; ++i) trit::save(i % 2 == 0 ? b : a, path);
      ::_exit(0);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(30 + 40 * round));
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    const std::vector<std::uint8_t> now = read_bytes(path);
    EXPECT_TRUE(now == blob_a || now == blob_b) << "round " << round << ": a file of " << now.size() << " bytes";
    EXPECT_NO_THROW(trit::load(path));
  }
}

// ---- (c) Every header bit is protected -----------------------------------------------------------
// Defect: version 1's checksum covered the payload only, so a flipped header bit that kept the
// sizes consistent (the scale granularity, a field read as padding, the top-K ratio or the
// scheme of a layer) loaded silently as a different matrix or layer. FNV-1a changes with any
// change confined to one byte, so the whole blob is tried, header first.

TEST(FilesBlobHeader, EverySingleBitFlipOfAMatrixBlobIsRejected) {
  for (ScaleGranularity g : {ScaleGranularity::per_tensor, ScaleGranularity::per_row}) {
    const std::vector<std::uint8_t> good = trit::serialize(random_packed(3, 333, g, 7));
    ASSERT_NO_THROW(trit::deserialize(good));
    int accepted = 0;
    for (std::size_t bit = 0; bit < good.size() * 8; ++bit) {
      std::vector<std::uint8_t> blob = good;
      blob[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
      try {
        trit::deserialize(blob);
        ++accepted;
        ADD_FAILURE() << "bit " << bit << " (byte " << bit / 8 << ") flipped and the blob still loads";
      } catch (const trit::format_error&) {
      }
    }
    EXPECT_EQ(accepted, 0);
  }
}

TEST(FilesBlobHeader, EverySingleBitFlipOfALayerBlobIsRejected) {
  const std::vector<float> w = random_floats(5 * 100, 8);
  const std::vector<float> bias = random_floats(5, 9);
  for (trit::ActivationScheme scheme : {trit::ActivationScheme::int8_absmax, trit::ActivationScheme::int8_topk}) {
    trit::ActivationConfig config;
    config.scheme = scheme;
    config.topk_ratio = 0.5;
    const std::vector<std::uint8_t> good =
        trit::BitLinear::from_float(trit::matrix<const float>(w.data(), 5, 100), ScaleGranularity::per_row,
                                    bias.data(), config)
            .serialize();
    ASSERT_NO_THROW(trit::BitLinear::deserialize(good));
    int accepted = 0;
    for (std::size_t bit = 0; bit < good.size() * 8; ++bit) {
      std::vector<std::uint8_t> blob = good;
      blob[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
      try {
        trit::BitLinear::deserialize(blob);
        ++accepted;
        ADD_FAILURE() << "layer blob bit " << bit << " (byte " << bit / 8 << ") flipped and the blob still loads";
      } catch (const trit::format_error&) {
      }
    }
    EXPECT_EQ(accepted, 0);
  }
}

// ---- (d) Files that are not regular files ----------------------------------------------------------
// Defect: load() read its file to the end through a stream; /dev/zero never ends (the loader
// grew its buffer until memory ran out) and a directory failed with a misleading error.

TEST(FilesNotRegular, DevZeroAndADirectoryAreRefusedAtOnce) {
  TempDir dir;
  std::vector<std::string> paths = {dir.path()};
  struct stat info {};
  if (::stat("/dev/zero", &info) == 0 && S_ISCHR(info.st_mode)) paths.push_back("/dev/zero");
  const std::string zero = dir.file("zero");
  if (::mknod(zero.c_str(), S_IFCHR | 0666, makedev(1, 5)) == 0) paths.push_back(zero);
  ASSERT_GE(paths.size(), 2u) << "neither /dev/zero nor a private node like it is available";
  const auto start = std::chrono::steady_clock::now();
  for (const std::string& path : paths) {
    EXPECT_TRUE(throws_with<trit::io_error>([&] { trit::load(path); }, path + ": is not a regular file"));
    EXPECT_TRUE(throws_with<trit::io_error>([&] { trit::map_file(path); }, path + ": is not a regular file"));
    EXPECT_TRUE(throws_with<trit::io_error>([&] { trit::BitLinear::load(path); }, path + ": is not a regular file"));
  }
  // "At once": nothing is read. A generous bound; the old loader never returned.
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), 10.0);
}

TEST(FilesNotRegular, APipeIsRefusedWithoutWaitingForAWriter) {
  // MappedFile::open documents a pipe as refused; opening a FIFO for reading must not block
  // until some process opens it for writing. Run in a child so a hang cannot stop the suite.
  TempDir dir;
  const std::string fifo = dir.file("pipe");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    int code = 1;
    try {
      trit::load(fifo);
    } catch (const trit::io_error& e) {
      code = std::string(e.what()).find("is not a regular file") != std::string::npos ? 0 : 2;
    } catch (...) {
      code = 3;
    }
    ::_exit(code);
  }
  const int status = wait_or_kill(child, 5.0);
  ASSERT_NE(status, -1) << "load of a FIFO blocked (killed after 5 s)";
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

// ---- (e) map_file serves products from the mapping ---------------------------------------------------
// Defect: there was no way to use saved weights without copying them into a PackedMatrix; a
// model's weights existed twice in memory while loading.

TEST(FilesMap, AVersion2FileIsUsedInPlaceAndGivesTheReferenceProduct) {
  TempDir dir;
  for (ScaleGranularity g : {ScaleGranularity::per_tensor, ScaleGranularity::per_row}) {
    // 130 x 6912: rows with a tail group, and a last row that ends 64 bytes before the end of
    // the mapping (kernels may read into the tail slack, which the file carries).
    const std::size_t rows = 130, cols = 6912, tokens = 3;
    const trit::PackedMatrix packed = random_packed(rows, cols, g, 10);
    const std::string path = dir.file("mapped.d243");
    trit::save(packed, path);
    const trit::MappedMatrix mapped = trit::map_file(path);
    ASSERT_TRUE(mapped.copy.empty()) << "a version-2 blob was copied";
    ASSERT_EQ(mapped.file.size(), trit::serialize(packed).size());
    EXPECT_TRUE(mapped.file.contains(mapped.view.data()));
    EXPECT_TRUE(mapped.file.contains(mapped.view.data() + mapped.view.weight_bytes() - 1));
    EXPECT_TRUE(mapped.file.contains(mapped.view.scales()));
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(mapped.view.data()) % 64, 0u) << "rows are not 64-byte aligned";
    EXPECT_TRUE(same_matrix(mapped.view, packed));

    const std::vector<float> x = random_floats(tokens * cols, 11);
    const std::vector<float> bias = random_floats(rows, 12);
    const trit::QuantizedActivations q = trit::quantize_activations(trit::matrix<const float>(x.data(), tokens, cols));
    std::vector<float> expected(tokens * rows), got(tokens * rows);
    trit::ref::gemm_rows(packed, q, trit::matrix(expected.data(), tokens, rows), bias.data(), 0, rows);
    for (unsigned threads : {1u, 2u, 0u}) {
      trit::GemmOptions options;
      options.threads = threads;
      std::fill(got.begin(), got.end(), -1.0f);
      trit::gemm(mapped.view, q, trit::matrix(got.data(), tokens, rows), bias.data(), options);
      EXPECT_EQ(got, expected) << "threads " << threads;
    }
  }
}

// ModelFile::open releases every checked tensor's pages; a released range must read back the
// same bytes, and the product on a view into it must not change.
TEST(FilesMap, ReleasedPagesReadBackUnchanged) {
  TempDir dir;
  const std::size_t rows = 300, cols = 2560, tokens = 2;
  const trit::PackedMatrix packed = random_packed(rows, cols, ScaleGranularity::per_row, 13);
  const std::string path = dir.file("released.d243");
  trit::save(packed, path);
  const trit::MappedMatrix mapped = trit::map_file(path);
  const std::vector<std::uint8_t> before(mapped.file.data(), mapped.file.data() + mapped.file.size());
  mapped.file.release_pages(0, mapped.file.size());
  mapped.file.release_pages(4096 + 17, 3 * 4096);                          // not page-aligned
  mapped.file.release_pages(mapped.file.size() - 10, 1000);                // past the end: clipped
  mapped.file.release_pages(mapped.file.size() + 10, 1000);                // outside: nothing
  EXPECT_TRUE(std::equal(before.begin(), before.end(), mapped.file.data()));
  const std::vector<float> x = random_floats(tokens * cols, 14);
  const trit::QuantizedActivations q = trit::quantize_activations(trit::matrix<const float>(x.data(), tokens, cols));
  std::vector<float> expected(tokens * rows), got(tokens * rows);
  trit::ref::gemm_rows(packed, q, trit::matrix(expected.data(), tokens, rows), nullptr, 0, rows);
  mapped.file.release_pages(0, mapped.file.size());
  trit::gemm(mapped.view, q, trit::matrix(got.data(), tokens, rows));
  EXPECT_EQ(got, expected);
}

TEST(FilesMap, AVersion1FileIsCopiedOnceAndGivesTheSameProduct) {
  // Version 1 rows follow the scales unaligned, so map_file copies them.
  TempDir dir;
  const trit::PackedMatrix packed = random_packed(3, 5, ScaleGranularity::per_tensor, 13);
  std::vector<std::uint8_t> v1(64, 0);
  const std::vector<std::uint8_t> v2 = trit::serialize(packed);
  std::copy(v2.begin(), v2.begin() + 56, v1.begin());
  v1[8] = 1;                                                         // version 1
  v1[48] = 4 + 3;                                                    // payload: one scale, 3 rows of 1 byte
  v1.insert(v1.end(), v2.begin() + 64, v2.begin() + 68);             // the scale
  v1.insert(v1.end(), packed.data(), packed.data() + 3);             // the rows
  reseal(v1);
  const std::string path = dir.file("v1.d243");
  write_bytes(path, v1);
  const trit::MappedMatrix mapped = trit::map_file(path);
  EXPECT_FALSE(mapped.copy.empty());
  EXPECT_FALSE(mapped.file.contains(mapped.view.data()));
  EXPECT_TRUE(same_matrix(mapped.view, packed));
  const std::vector<float> x = random_floats(2 * 5, 14);
  const trit::QuantizedActivations q = trit::quantize_activations(trit::matrix<const float>(x.data(), 2, 5));
  std::vector<float> expected(2 * 3), got(2 * 3);
  trit::ref::gemm_rows(packed, q, trit::matrix(expected.data(), 2, 3), nullptr, 0, 3);
  trit::gemm(mapped.view, q, trit::matrix(got.data(), 2, 3));
  EXPECT_EQ(got, expected);
}

// ---- (f) map_file checks as much as load ----------------------------------------------------------
// A mapped file is used in place, so a check load makes and map_file skipped would let
// damaged bytes straight into the kernels.

TEST(FilesMap, RejectsEveryDamagedFileLoadRejects) {
  TempDir dir;
  const std::vector<std::uint8_t> good = trit::serialize(random_packed(3, 333, ScaleGranularity::per_row, 15));
  ASSERT_EQ(good.size(), 393u);  // scales 64..75, rows from 128, tail slack 329..392
  struct Damage {
    const char* name;
    std::vector<std::uint8_t> blob;
    const char* message;
  };
  std::vector<Damage> damages;
  auto add = [&](const char* name, std::vector<std::uint8_t> blob, bool seal, const char* message) {
    if (seal) reseal(blob);
    damages.push_back({name, std::move(blob), message});
  };
  {
    std::vector<std::uint8_t> b = good;
    b.pop_back();
    add("truncated", b, false, "blob holds 392 bytes, the header says 393 (truncated)");
  }
  {
    std::vector<std::uint8_t> b = good;
    b[200] ^= 0x01;
    add("payload bit", b, false, "checksum mismatch (header or payload damaged)");
  }
  {
    std::vector<std::uint8_t> b = good;
    b[40] = 0;  // per tensor: the sizes still agree
    add("granularity", b, false, "checksum mismatch (header or payload damaged)");
  }
  {
    std::vector<std::uint8_t> b = good;
    const float nan = std::numeric_limits<float>::quiet_NaN();
    std::memcpy(&b[68], &nan, 4);
    add("NaN scale", b, true, "scale 1 = nan is not a finite positive number");
  }
  {
    std::vector<std::uint8_t> b = good;
    b[100] = 7;
    add("alignment padding", b, true, "alignment padding byte 100 is not 0");
  }
  {
    std::vector<std::uint8_t> b = good;
    b[392] = 1;
    add("tail slack", b, true, "tail slack byte 392 is not 0");
  }
  {
    std::vector<std::uint8_t> b = good;
    b[128 + 67 + 3] = 20;
    add("invalid byte", b, true, "row 1 byte 3 = 20 is not a valid Dense243 byte");
  }
  {
    std::vector<std::uint8_t> b(good.begin(), good.begin() + 63);
    add("short header", b, false, "blob of 63 bytes is shorter than the 64-byte header");
  }
  // The message past the "trit::<function>: " prefix must be the same for load and map_file.
  const auto message_of = [](const auto& body) -> std::string {
    try {
      body();
    } catch (const trit::format_error& e) {
      const std::string what = e.what();
      const std::size_t colon = what.find(": ");
      return colon == std::string::npos ? what : what.substr(colon + 2);
    } catch (const std::exception& e) {
      return std::string("wrong exception type: ") + e.what();
    }
    return "no exception";
  };
  for (const Damage& d : damages) {
    const std::string path = dir.file("damaged.d243");
    write_bytes(path, d.blob);
    const std::string by_load = message_of([&] { trit::load(path); });
    const std::string by_map = message_of([&] { trit::map_file(path); });
    EXPECT_EQ(by_load, d.message) << d.name;
    EXPECT_EQ(by_map, d.message) << d.name;
  }
  // An empty file is refused too, not mapped.
  const std::string empty = dir.file("empty.d243");
  write_bytes(empty, {});
  EXPECT_TRUE(throws_with<trit::format_error>([&] { trit::map_file(empty); }, "blob of 0 bytes is shorter"));
  EXPECT_TRUE(throws_with<trit::format_error>([&] { trit::load(empty); }, "blob of 0 bytes is shorter"));
}

// ---- (g) A layer over borrowed weights ------------------------------------------------------------
// Defect: BitLinear only took an owned PackedMatrix, so serving from a mapped file meant a copy.

TEST(FilesMap, ABitLinearBorrowingAMappedViewEqualsOneOwningItsWeights) {
  TempDir dir;
  const std::size_t rows = 70, cols = 650, tokens = 4;
  const trit::PackedMatrix packed = random_packed(rows, cols, ScaleGranularity::per_row, 16);
  const std::string path = dir.file("layer_weights.d243");
  trit::save(packed, path);
  const trit::MappedMatrix mapped = trit::map_file(path);
  ASSERT_TRUE(mapped.copy.empty());
  const std::vector<float> bias = random_floats(rows, 17);
  const std::vector<float> x = random_floats(tokens * cols, 18);
  for (trit::ActivationScheme scheme :
       {trit::ActivationScheme::int8_absmax, trit::ActivationScheme::int4_absmax, trit::ActivationScheme::int4_absmean,
        trit::ActivationScheme::int8_topk}) {
    trit::ActivationConfig config;
    config.scheme = scheme;
    config.topk_ratio = 0.25;
    const trit::BitLinear borrowed(mapped.view, bias, config);
    const trit::BitLinear owned(random_packed(rows, cols, ScaleGranularity::per_row, 16), bias, config);
    EXPECT_TRUE(borrowed.borrows_weights());
    EXPECT_FALSE(owned.borrows_weights());
    if (!borrowed.uses_int4_kernels()) {
      // The int8 kernels read the mapping itself; the layer owns only its bias.
      EXPECT_EQ(borrowed.weights().data(), mapped.view.data()) << trit::scheme_name(scheme);
      EXPECT_EQ(borrowed.memory_bytes(), rows * sizeof(float)) << trit::scheme_name(scheme);
    }
    EXPECT_EQ(borrowed.weight_scales(), owned.weight_scales()) << trit::scheme_name(scheme);
    EXPECT_EQ(borrowed.forward(x), owned.forward(x)) << trit::scheme_name(scheme);
    EXPECT_EQ(borrowed.serialize(), owned.serialize()) << trit::scheme_name(scheme);
  }
}

// ---- (h) A non-finite bias -------------------------------------------------------------------------
// Defect: gemm added a NaN or infinite bias into every output of its row without a word, while
// BitLinear refused the same bias at construction.

TEST(FilesEdges, GemmRefusesANonFiniteBias) {
  const trit::PackedMatrix packed = random_packed(3, 40, ScaleGranularity::per_tensor, 19);
  const std::vector<float> x = random_floats(2 * 40, 20);
  const trit::QuantizedActivations q = trit::quantize_activations(trit::matrix<const float>(x.data(), 2, 40));
  for (float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                    -std::numeric_limits<float>::infinity()}) {
    const float bias[3] = {0.5f, bad, -1.0f};
    std::vector<float> y(2 * 3, 7.0f);
    EXPECT_TRUE(throws_with<std::invalid_argument>(
        [&] { trit::gemm(packed, q, trit::matrix(y.data(), 2, 3), bias); }, "trit::gemm: bias[1] = "))
        << bad;
    EXPECT_TRUE(throws_with<std::invalid_argument>(
        [&] { trit::gemm(packed, q, trit::matrix(y.data(), 2, 3), bias); }, " is not finite"))
        << bad;
    EXPECT_EQ(y, std::vector<float>(2 * 3, 7.0f)) << "y was written before the bias was checked";
  }
}

// ---- (i) Isa values and names that are not paths -----------------------------------------------------
// Defect: an Isa outside the table was described as a path of some architecture, and the
// messages disagreed on whether it existed.

TEST(FilesEdges, AnIsaOutsideTheTableIsNotAKernelPath) {
  const trit::Isa bogus = static_cast<trit::Isa>(99);
  EXPECT_FALSE(trit::isa_supported(bogus));
  EXPECT_EQ(trit::isa_unsupported_reason(bogus), "Isa(99) is not a kernel path");
  EXPECT_TRUE(throws_with<std::invalid_argument>([] { trit::parse_isa("avx1024"); },
                                                 "trit::parse_isa: unknown kernel path 'avx1024' (expected one of auto"));
  EXPECT_TRUE(throws_with<std::invalid_argument>([] { trit::parse_isa(""); }, "unknown kernel path ''"));
  EXPECT_EQ(trit::parse_isa("auto"), trit::Isa::automatic);
}

// ---- (j) Thread counts beyond the hardware --------------------------------------------------------
// Defect: threads = (unsigned)-1 (a -1 passed through) or 10000 asked the pool for that many
// workers; it created up to its cap of 255 threads, which lived as long as the process.

TEST(FilesEdges, HugeThreadCountsAreClampedToTheHardware) {
  const std::size_t rows = 1024, cols = 700, tokens = 2;
  const trit::PackedMatrix packed = random_packed(rows, cols, ScaleGranularity::per_row, 21);
  const std::vector<float> x = random_floats(tokens * cols, 22);
  const trit::QuantizedActivations q = trit::quantize_activations(trit::matrix<const float>(x.data(), tokens, cols));
  std::vector<float> one(tokens * rows);
  trit::GemmOptions single;
  single.threads = 1;
  trit::gemm(packed, q, trit::matrix(one.data(), tokens, rows), nullptr, single);
  for (unsigned threads : {static_cast<unsigned>(-1), 10000u}) {
    trit::GemmOptions options;
    options.threads = threads;
    std::vector<float> y(tokens * rows, -1.0f);
    trit::gemm(packed, q, trit::matrix(y.data(), tokens, rows), nullptr, options);
    EXPECT_EQ(y, one) << "threads " << threads;
  }
  // The threads of this process: the main one and the pool's workers (at most one per
  // hardware thread; gtest runs no threads of its own). Earlier tests' threads were joined.
  std::size_t tasks = 0;
  if (DIR* dir = ::opendir("/proc/self/task")) {
    while (const dirent* e = ::readdir(dir)) tasks += e->d_name[0] != '.';
    ::closedir(dir);
  } else {
    GTEST_SKIP() << "no /proc/self/task";
  }
  const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  EXPECT_GE(tasks, 1u);
  EXPECT_LE(tasks, hw + 2) << "hardware threads " << hw;
}

}  // namespace
