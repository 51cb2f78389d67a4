// trit: version numbers, the versioned inline namespace, and the checks every trit header
// makes of the compiler it is given (each public header includes this one).
#pragma once

// MSVC keeps __cplusplus at 199711L unless /Zc:__cplusplus is given; _MSVC_LANG is its real value.
#if defined(_MSVC_LANG) && _MSVC_LANG > __cplusplus
#define TRIT_CPLUSPLUS _MSVC_LANG
#else
#define TRIT_CPLUSPLUS __cplusplus
#endif
#if TRIT_CPLUSPLUS < 201703L
#error "trit needs C++17 or later: compile with -std=c++17 (GCC, Clang) or /std:c++17 (MSVC), or link the trit::trit CMake target, which asks for it"
// A missing header is fatal, so the compiler stops here instead of going on to report every
// C++17 construct in the headers that follow, which would bury the message above.
#include <trit_stops_here_because_it_needs_cxx17>
#endif

// trit promises results bit-identical to its scalar reference on every kernel path, and
// rejects NaN and infinite scales and biases. -ffast-math (and -Ofast) lets the compiler
// reassociate float sums, contract them into FMAs and assume no NaN or infinity exists, which
// makes the vector paths disagree with the reference and removes the NaN checks. A program
// that accepts both may define TRIT_ALLOW_FAST_MATH before including trit.
#if defined(__FAST_MATH__) && !defined(TRIT_ALLOW_FAST_MATH)
#error "trit: -ffast-math (or -Ofast) breaks trit's bit-exactness promise (vector paths no longer match the scalar reference) and compiles out its NaN/infinity checks; build trit's translation units without it, or define TRIT_ALLOW_FAST_MATH to accept both"
#endif

#define TRIT_VERSION_MAJOR 0
#define TRIT_VERSION_MINOR 1
#define TRIT_VERSION_PATCH 0

// Public API lives in trit::v1 (inline), so a future ABI break can add v2 beside it and
// two different trit versions linked into one program cannot silently mix symbols.
#define TRIT_BEGIN_NAMESPACE namespace trit { inline namespace v1 {
#define TRIT_END_NAMESPACE } }
