#pragma once
// Locating the real model and the reference dumps written by the Python scripts (ctest fixtures).
// A missing file fails the test with a message that says what to install, unless the environment
// sets GIFT_ALLOW_MISSING_MODEL=1: then the whole test program exits 77, which ctest reports as
// skipped.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace gift_test {

/// Value of environment variable `name`, or "".
inline std::string env(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

/// Checks that every path exists; otherwise skips the program (exit 77) when missing files are
/// allowed, or prints `how_to_fix` and fails (exit 1). Call first thing, from a global fixture.
inline void require_files_or_skip(const std::vector<std::filesystem::path>& paths, const std::string& how_to_fix) {
  for (const auto& path : paths) {
    if (!path.empty() && std::filesystem::exists(path)) continue;
    const bool allowed = env("GIFT_ALLOW_MISSING_MODEL") == "1";
    // Built with append rather than "'" + string: GCC 12 reports a false -Wrestrict on the latter.
    std::string what = "a required file (its path is not set: configure with cmake so that GIFT_SMOLLM2_GGUF and "
                       "GIFT_IO_REFERENCE_DIR are passed)";
    if (!path.empty()) {
      what.assign(1, '\'');
      what.append(path.string()).append(1, '\'');
    }
    std::fprintf(stderr, "%s: missing %s. %s\n", allowed ? "SKIP" : "ERROR", what.c_str(), how_to_fix.c_str());
    std::fflush(stderr);
    std::exit(allowed ? 77 : 1);
  }
}

/// All of a little-endian float32 file.
inline std::vector<float> read_floats(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path.string());
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<float> out(bytes.size() / 4);
  std::memcpy(out.data(), bytes.data(), out.size() * 4);
  return out;
}

/// Where the Python fixtures write (the test's binary folder, set by CMake).
inline std::filesystem::path reference_dir() { return env("GIFT_IO_REFERENCE_DIR"); }

}  // namespace gift_test
