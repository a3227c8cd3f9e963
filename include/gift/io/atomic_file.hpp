#pragma once
/// \file gift/io/atomic_file.hpp
/// \brief Writes a file so that readers see either the old contents or the complete new ones:
/// the bytes go to a temporary file in the same folder, are flushed to disk, and the temporary
/// file is renamed over the target (an atomic replacement on POSIX file systems).
///
/// Temporaries never outlive their writer for long: a program that calls
/// `remove_temporaries_on_signals()` removes the ones in flight on SIGINT, SIGTERM and SIGHUP, and
/// every write removes the temporaries that killed processes (SIGKILL, a crash) left beside the
/// same target — `.NAME.tmp.PID.*` whose process no longer exists.

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
#include <csignal>
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>
#endif

namespace gift::detail {

/// The temporaries being written right now, where a signal handler can find them: fixed slots
/// of plain characters (no allocation, nothing a handler may not touch).
struct temporary_registry {
  static constexpr int slots = 32;
  static constexpr std::size_t path_capacity = 4096;
  std::atomic<bool> used[slots] = {};
  char path[slots][path_capacity] = {};

  /// Claims a slot for `name`; -1 when none is free or the name is too long (the file is then
  /// still written, only not removed on a signal).
  int add(const std::string& name) {
    if (name.size() + 1 > path_capacity) return -1;
    for (int s = 0; s < slots; ++s) {
      bool expected = false;
      if (used[s].load() || !used[s].compare_exchange_strong(expected, true)) continue;
      std::memcpy(path[s], name.c_str(), name.size() + 1);
      return s;
    }
    return -1;
  }
  void remove(int slot) {
    if (slot >= 0) used[slot].store(false);
  }
};

inline temporary_registry& temporaries() {
  static temporary_registry registry;
  return registry;
}

#if defined(__unix__) || defined(__APPLE__)
/// Removes the registered temporaries, then dies of `signal` as the default action would.
extern "C" inline void remove_temporaries_and_reraise(int signal) {
  auto& registry = temporaries();
  for (int s = 0; s < temporary_registry::slots; ++s)
    if (registry.used[s].load()) ::unlink(registry.path[s]);
  std::signal(signal, SIG_DFL);
  std::raise(signal);
}

/// Whether the process `pid` is gone (a temporary it left can be removed).
inline bool process_is_gone(long pid) {
  return pid > 0 && ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
}
#endif

/// Removes `.NAME.tmp.PID.*` beside `path` whose process no longer exists. Best effort: a
/// folder that cannot be listed is left as it is.
inline void remove_stale_temporaries(const std::filesystem::path& folder, const std::string& filename) {
#if defined(__unix__) || defined(__APPLE__)
  namespace fs = std::filesystem;
  const std::string prefix = "." + filename + ".tmp.";
  std::error_code error_code;
  for (fs::directory_iterator it(folder, error_code), end; !error_code && it != end; it.increment(error_code)) {
    const std::string name = it->path().filename().string();
    if (name.rfind(prefix, 0) != 0) continue;
    const std::string rest = name.substr(prefix.size());
    const auto dot = rest.find('.');
    if (dot == std::string::npos || dot == 0) continue;
    long pid = 0;
    bool digits = true;
    for (std::size_t c = 0; c < dot; ++c) {
      if (rest[c] < '0' || rest[c] > '9' || pid > 1'000'000'000) {
        digits = false;
        break;
      }
      pid = pid * 10 + (rest[c] - '0');
    }
    if (!digits || pid == static_cast<long>(::getpid()) || !process_is_gone(pid)) continue;
    std::error_code ignored;
    fs::remove(it->path(), ignored);
  }
#else
  (void)folder;
  (void)filename;
#endif
}

}  // namespace gift::detail

namespace gift::io {

/// Installs handlers for SIGINT, SIGTERM and SIGHUP that remove the temporaries of writes in
/// flight and then end the process as the signal would have. For programs (the `gift` tool
/// calls it first thing); a library never installs handlers on its own.
inline void remove_temporaries_on_signals() {
#if defined(__unix__) || defined(__APPLE__)
  (void)gift::detail::temporaries();  // constructed before any handler can run
  struct sigaction action {};
  action.sa_handler = gift::detail::remove_temporaries_and_reraise;
  sigemptyset(&action.sa_mask);
  for (const int signal : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(signal, &action, nullptr);
#endif
}

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
  const fs::path temporary = folder / gift::detail::concat(".", path.filename().string(), ".tmp.", process, ".",
                                                           stamp, ".", counter.fetch_add(1));
  gift::detail::remove_stale_temporaries(folder, path.filename().string());
  // Registered before it exists, released after it is renamed or removed: a signal in between
  // removes it (unlinking a name that does not exist yet is harmless).
  struct registration {
    int slot;
    ~registration() { gift::detail::temporaries().remove(slot); }
  } registered{gift::detail::temporaries().add(temporary.string())};
  std::FILE* out = std::fopen(temporary.string().c_str(), "wb");
  gift::detail::require(out != nullptr, "gift::io::write_file_atomically: cannot create '", temporary.string(), "': ",
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
    throw error(gift::detail::concat("gift::io::write_file_atomically: writing ", bytes.size(), " bytes to '",
                               temporary.string(), "' failed: ", std::strerror(saved),
                               "; check the free disk space"));
  }
  std::error_code renamed;
  fs::rename(temporary, path, renamed);
  if (renamed) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw error(gift::detail::concat("gift::io::write_file_atomically: cannot rename '", temporary.string(), "' to '",
                               path.string(), "': ", renamed.message()));
  }
}

}  // namespace gift::io
