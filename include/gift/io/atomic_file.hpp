#pragma once
/// \file gift/io/atomic_file.hpp
/// \brief Writes a file so that readers see either the old contents or the complete new ones:
/// the bytes go to a temporary file in the same folder, are flushed to disk, and the temporary
/// file is renamed over the target (an atomic replacement on POSIX file systems).

#include <gift/error.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>
#include <system_error>

#if defined(__unix__) || defined(__APPLE__)
#include <unistd.h>
#endif

namespace gift::io {

/// Replaces (or creates) `path` with `bytes` atomically. On failure the target is untouched, the
/// temporary file is removed and `gift::error` names the path and the system error.
inline void write_file_atomically(const std::filesystem::path& path, std::span<const std::byte> bytes) {
  namespace fs = std::filesystem;
  const fs::path folder = path.has_parent_path() ? path.parent_path() : fs::path(".");
  // A name no other writer uses at the same time: process, time and a per-process counter.
  static std::atomic<unsigned long> counter{0};
  const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
#if defined(__unix__) || defined(__APPLE__)
  const long process = static_cast<long>(::getpid());
#else
  const long process = 0;
#endif
  const fs::path temporary = folder / detail::concat(".", path.filename().string(), ".tmp.", process, ".", stamp,
                                                     ".", counter.fetch_add(1));
  std::FILE* out = std::fopen(temporary.string().c_str(), "wb");
  detail::require(out != nullptr, "gift::io::write_file_atomically: cannot create '", temporary.string(), "': ",
                  std::strerror(errno), "; check that the folder exists and is writable");
  bool ok = bytes.empty() || std::fwrite(bytes.data(), 1, bytes.size(), out) == bytes.size();
  ok = std::fflush(out) == 0 && ok;
#if defined(__unix__) || defined(__APPLE__)
  ok = ::fsync(::fileno(out)) == 0 && ok;  // the data must be on disk before the name points at it
#endif
  const int saved = errno;
  ok = std::fclose(out) == 0 && ok;
  if (!ok) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw error(detail::concat("gift::io::write_file_atomically: writing ", bytes.size(), " bytes to '",
                               temporary.string(), "' failed: ", std::strerror(saved),
                               "; check the free disk space"));
  }
  std::error_code renamed;
  fs::rename(temporary, path, renamed);
  if (renamed) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw error(detail::concat("gift::io::write_file_atomically: cannot rename '", temporary.string(), "' to '",
                               path.string(), "': ", renamed.message()));
  }
}

}  // namespace gift::io
