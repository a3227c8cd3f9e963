#pragma once
/// \file version.hpp
/// \brief The library version: the one place it is defined.
///
/// CMake (`cmake/GiftVersion.cmake`) and Conan (`conanfile.py`) read these three lines, so a
/// release bumps the version here and nowhere else.

#define GIFT_VERSION_MAJOR 0
#define GIFT_VERSION_MINOR 1
#define GIFT_VERSION_PATCH 0

/// Version as a single comparable integer, e.g. 0.1.0 -> 100.
#define GIFT_VERSION (GIFT_VERSION_MAJOR * 10000 + GIFT_VERSION_MINOR * 100 + GIFT_VERSION_PATCH)

namespace gift {
/// The library version as `major.minor.patch` text.
inline constexpr const char* version_string = "0.1.0";
}  // namespace gift
