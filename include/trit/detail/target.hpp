// trit: the one portability macro pair that opens and closes a compiler target region, so
// that kernels for an instruction set compile inside a user's ordinary translation unit
// (no -m flags). Include the intrinsics headers *before* opening a region.
//
//   TRIT_TARGET_BEGIN("avx2,fma")
//   namespace trit { namespace avx2 { ... } }
//   TRIT_TARGET_END
#pragma once

#define TRIT_PRAGMA(x) _Pragma(#x)

#if defined(__clang__)
#define TRIT_TARGET_BEGIN(target_string) \
  TRIT_PRAGMA(clang attribute push(__attribute__((target(target_string))), apply_to = function))
#define TRIT_TARGET_END TRIT_PRAGMA(clang attribute pop)
#define TRIT_HAS_TARGET_REGIONS 1
#elif defined(__GNUC__)
#define TRIT_TARGET_BEGIN(target_string) TRIT_PRAGMA(GCC push_options) TRIT_PRAGMA(GCC target(target_string))
#define TRIT_TARGET_END TRIT_PRAGMA(GCC pop_options)
#define TRIT_HAS_TARGET_REGIONS 1
#else
#define TRIT_TARGET_BEGIN(target_string)
#define TRIT_TARGET_END
#define TRIT_HAS_TARGET_REGIONS 0
#endif

#if defined(__GNUC__)
#define TRIT_RESTRICT __restrict__
#else
#define TRIT_RESTRICT
#endif

// Full unrolling of the small fixed loops over rows, chunks and digits in kernel bodies, so
// their arrays of vectors live in registers.
#if defined(__clang__) || defined(__GNUC__)
#define TRIT_UNROLL TRIT_PRAGMA(GCC unroll 16)
#else
#define TRIT_UNROLL
#endif
