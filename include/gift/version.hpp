#pragma once
/// \file gift/version.hpp
/// \brief The library version: the one place it is defined.
///
/// CMake (`cmake/GiftVersion.cmake`) and Conan (`conanfile.py`) read these three lines, so a
/// release bumps the version here and nowhere else.

/// Major version: incompatible API changes.
#define GIFT_VERSION_MAJOR 0
/// Minor version: compatible additions (before 1.0, also breaking changes).
#define GIFT_VERSION_MINOR 1
/// Patch version: fixes.
#define GIFT_VERSION_PATCH 0

/// Version as a single comparable integer, e.g. 0.1.0 -> 100.
#define GIFT_VERSION (GIFT_VERSION_MAJOR * 10000 + GIFT_VERSION_MINOR * 100 + GIFT_VERSION_PATCH)

/// \cond INTERNAL
#define GIFT_DETAIL_STRINGIFY2(x) #x
#define GIFT_DETAIL_STRINGIFY(x) GIFT_DETAIL_STRINGIFY2(x)
/// \endcond

/// The version as a string literal, built from the three numbers above.
#define GIFT_VERSION_STRING                                                                        \
  GIFT_DETAIL_STRINGIFY(GIFT_VERSION_MAJOR)                                                        \
  "." GIFT_DETAIL_STRINGIFY(GIFT_VERSION_MINOR) "." GIFT_DETAIL_STRINGIFY(GIFT_VERSION_PATCH)

namespace gift {
/// The library version as `major.minor.patch` text.
inline constexpr const char* version_string = GIFT_VERSION_STRING;
}  // namespace gift
