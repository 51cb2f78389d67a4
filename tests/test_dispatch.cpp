// Dispatch: this binary is compiled without any -m flag, like a user's translation unit, and
// must still pick the best kernel path the CPU has, honour TRIT_ISA, and refuse (never
// SIGILL) a path the CPU lacks.
#include <gtest/gtest.h>

#include <trit/trit.hpp>

#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace {

// The CPU's feature flags as the kernel reports them: an independent source of truth. Only
// this architecture's line counts: under user-mode emulation /proc/cpuinfo is the host's.
std::set<std::string> cpuinfo_flags() {
#if defined(__aarch64__)
  const std::string key = "Features";
#else
  const std::string key = "flags";
#endif
  std::ifstream cpuinfo("/proc/cpuinfo");
  std::string line;
  while (std::getline(cpuinfo, line)) {
    if (line.rfind(key, 0) == 0) {
      std::istringstream words(line.substr(line.find(':') + 1));
      std::set<std::string> flags;
      for (std::string word; words >> word;) flags.insert(word);
      return flags;
    }
  }
  return {};
}

trit::Isa expected_best_from_cpuinfo(const std::set<std::string>& f) {
  const auto has = [&](const char* flag) { return f.count(flag) != 0; };
#if defined(__x86_64__)
  const bool avx512bw = has("avx512f") && has("avx512bw") && has("avx512vl");
  if (avx512bw && has("avx512_vnni")) return trit::Isa::avx512vnni;
  if (has("avx_vnni") && has("avx2")) return trit::Isa::avxvnni;
  if (avx512bw) return trit::Isa::avx512bw;
  if (has("avx2")) return trit::Isa::avx2;
#elif defined(__aarch64__)
  if (has("asimddp")) return trit::Isa::neon_dotprod;
  if (has("asimd")) return trit::Isa::neon;
#endif
  return trit::Isa::scalar;
}

TEST(Dispatch, PicksTheBestPathThisCpuHas) {
  if (std::getenv("TRIT_ISA") != nullptr) GTEST_SKIP() << "TRIT_ISA is set; the forced-path tests cover this run";
  const std::set<std::string> flags = cpuinfo_flags();
  if (flags.empty()) GTEST_SKIP() << "no /proc/cpuinfo flags to compare against";
  EXPECT_EQ(trit::isa_name(trit::best_isa()), std::string(trit::isa_name(expected_best_from_cpuinfo(flags))));
}

TEST(Dispatch, EnvironmentForcesAPath) {
  const char* expected = std::getenv("TRIT_EXPECT_ISA");
  if (expected == nullptr) GTEST_SKIP() << "run by the ctest entries dispatch.env_* with TRIT_ISA set";
  if (std::string(expected) == "error") {
    EXPECT_THROW(trit::best_isa(), trit::unsupported_isa_error);
  } else {
    EXPECT_EQ(std::string(trit::isa_name(trit::best_isa())), expected);
  }
}

TEST(Dispatch, UnsupportedPathsThrowInsteadOfCrashing) {
  float scale = 1.0f;
  const std::vector<std::int8_t> trits(8 * 40, 1);
  const trit::PackedMatrix w = trit::pack_trits(trit::matrix(trits.data(), 8, 40), &scale, 1);
  const std::vector<std::int8_t> x(40, 3);
  std::vector<float> y(8);
  int unsupported = 0;
  for (trit::Isa isa : trit::kAllIsas) {
    if (trit::isa_supported(isa)) continue;
    ++unsupported;
    try {
      trit::gemv(w, x.data(), 1.0f, y.data(), nullptr, {isa, 1});
      ADD_FAILURE() << trit::isa_name(isa) << " ran although it is unsupported here";
    } catch (const trit::unsupported_isa_error& e) {
      EXPECT_NE(std::string(e.what()).find(trit::isa_name(isa)), std::string::npos) << e.what();
    }
  }
  EXPECT_GT(unsupported, 0) << "no build supports both the x86 and the AArch64 paths";
}

TEST(Dispatch, IsaNamesRoundTrip) {
  for (trit::Isa isa : trit::kAllIsas) EXPECT_EQ(trit::parse_isa(trit::isa_name(isa)), isa);
  EXPECT_EQ(trit::parse_isa("auto"), trit::Isa::automatic);
  EXPECT_THROW(trit::parse_isa("avx1024"), std::invalid_argument);
}

TEST(Dispatch, SupportedPathsAreConsistentWithFeatures) {
  const trit::CpuFeatures& f = trit::cpu_features();
  EXPECT_TRUE(trit::isa_supported(trit::Isa::scalar));
  if (f.avx512vnni) {
    EXPECT_TRUE(f.avx512bw);
  }
  if (f.avx512bw || f.avxvnni) {
    EXPECT_TRUE(f.avx2);
  }
  if (f.dotprod) {
    EXPECT_TRUE(f.neon);
  }
  EXPECT_TRUE(trit::isa_supported(trit::best_isa()));
}

// The table is the one list of paths: each row's kernels exist for every product it claims,
// and for no product it does not claim (a path without a product's kernels must say so in its
// row, so the fallback chain serves it).
template <class Product>
void expect_kernels_match_claims() {
  for (const trit::KernelPath& path : trit::kKernelPaths) {
    const bool claimed = (path.products & Product::kBit) != 0;
    const bool compiled = trit::detail::own_kernels<Product>(path.isa) != nullptr;
    bool expected = claimed && trit::detail::arch_compiled(path.arch);
#if !defined(TRIT_ENABLE_INT4)
    if (Product::kBit == trit::kProductLutInt4 && path.isa != trit::Isa::scalar) expected = false;
#endif
    EXPECT_EQ(compiled, expected) << path.name << " / " << Product::kName;
    if (compiled) {
      EXPECT_EQ(trit::detail::own_kernels<Product>(path.isa)->isa, path.isa) << path.name;
    }
  }
}

TEST(PathTable, EveryRowHasTheKernelsOfEveryProductItClaims) {
  expect_kernels_match_claims<trit::detail::Dense243Int8Product>();
  expect_kernels_match_claims<trit::detail::LutInt4Product>();
}

TEST(PathTable, NamesAreUniqueAndFallbackChainsEndAtScalar) {
  for (std::size_t i = 0; i < trit::kKernelPathCount; ++i) {
    for (std::size_t j = i + 1; j < trit::kKernelPathCount; ++j) {
      EXPECT_NE(std::string(trit::kKernelPaths[i].name), trit::kKernelPaths[j].name);
      EXPECT_NE(trit::kKernelPaths[i].isa, trit::kKernelPaths[j].isa);
    }
    trit::Isa isa = trit::kKernelPaths[i].isa;
    std::size_t steps = 0;
    while (isa != trit::Isa::scalar && steps <= trit::kKernelPathCount) {
      const trit::KernelPath* next = trit::find_path(trit::find_path(isa)->fallback);
      ASSERT_NE(next, nullptr) << trit::kKernelPaths[i].name;
      // A fallback needs no more than the path it serves: it runs wherever that path runs.
      EXPECT_EQ(next->needs & ~trit::find_path(isa)->needs, 0u) << trit::isa_name(isa) << " -> " << next->name;
      isa = next->isa;
      ++steps;
    }
    EXPECT_EQ(isa, trit::Isa::scalar) << trit::kKernelPaths[i].name << ": fallback chain does not reach scalar";
  }
  EXPECT_EQ(trit::kKernelPaths[trit::kKernelPathCount - 1].isa, trit::Isa::scalar);
}

TEST(PathTable, BestPathIsTheFirstSupportedRow) {
  if (std::getenv("TRIT_ISA") != nullptr) GTEST_SKIP() << "TRIT_ISA forces a path";
  for (const trit::KernelPath& path : trit::kKernelPaths) {
    if (trit::isa_supported(path.isa)) {
      EXPECT_EQ(trit::best_isa(), path.isa);
      return;
    }
  }
  ADD_FAILURE() << "no row is supported, not even scalar";
}

TEST(PathTable, EveryProductRunsOnEverySupportedPathThroughItsChain) {
  for (trit::Isa isa : trit::kAllIsas) {
    if (!trit::isa_supported(isa)) {
      EXPECT_THROW(trit::gemm_path(isa), trit::unsupported_isa_error) << trit::isa_name(isa);
      continue;
    }
    EXPECT_EQ(trit::gemm_path(isa), isa) << "every path has Dense243 x int8 kernels";
    EXPECT_TRUE(trit::has_own_kernels(trit::kProductLutInt4, trit::gemm_int4_path(isa))) << trit::isa_name(isa);
  }
}

TEST(PathTable, UnknownIsaValuesAreNotKernelPaths) {
  const trit::Isa bogus = static_cast<trit::Isa>(99);
  EXPECT_FALSE(trit::isa_supported(bogus));
  EXPECT_NE(trit::isa_unsupported_reason(bogus).find("not a kernel path"), std::string::npos)
      << trit::isa_unsupported_reason(bogus);
  EXPECT_STREQ(trit::isa_name(bogus), "unknown");
}

}  // namespace
