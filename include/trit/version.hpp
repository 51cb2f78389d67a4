// trit: version numbers and the versioned inline namespace.
#pragma once

#define TRIT_VERSION_MAJOR 0
#define TRIT_VERSION_MINOR 1
#define TRIT_VERSION_PATCH 0

// Public API lives in trit::v1 (inline), so a future ABI break can add v2 beside it and
// two different trit versions linked into one program cannot silently mix symbols.
#define TRIT_BEGIN_NAMESPACE namespace trit { inline namespace v1 {
#define TRIT_END_NAMESPACE } }
