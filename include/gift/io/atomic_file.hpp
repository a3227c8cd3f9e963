#pragma once
/// \file gift/io/atomic_file.hpp
/// \brief Writes a file so that readers see either the old contents or the complete new ones:
/// the bytes go to a temporary file in the same folder, are flushed to disk, and the temporary
/// file is renamed over the target (an atomic replacement on POSIX file systems).
///
/// Only regular files are replaced: a target that is a symlink, a device node (`/dev/null`,
/// `/dev/full`), a FIFO, a socket or a folder is refused before anything is written
/// (`check_output_target`, which programs also call on their outputs before long work).
///
/// Temporaries never outlive their writer for long: a program that calls
/// `remove_temporaries_on_signals()` removes the ones in flight on SIGINT, SIGTERM and SIGHUP, and
/// every write removes the temporaries that killed processes (SIGKILL, a crash) left beside the
/// same target — `.NAME.tmp.PID.*` whose process no longer exists.

#include <gift/error.hpp>
#include <gift/io/fnv1a.hpp>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
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

/// What a temporary's name starts with for a target called `filename`: the name itself, or for a
/// long one its first bytes and a hash of the whole, so that `.STEM.tmp.PID.STAMP.COUNTER` stays
/// within NAME_MAX (255 bytes on Linux and macOS; the suffix needs fewer than 64 of them). The same
/// target always gets the same stem, so stale temporaries are found by the next writer.
[[nodiscard]] inline std::string temporary_stem(const std::string& filename) {
  constexpr std::size_t longest_stem = 160;
  if (filename.size() <= longest_stem) return filename;
  std::uint64_t hash = io::fnv1a64(filename);  // stable across processes and builds
  constexpr char hex[] = "0123456789abcdef";
  std::string digest(16, '0');
  for (int i = 15; i >= 0; --i, hash >>= 4) digest[static_cast<std::size_t>(i)] = hex[hash & 0xF];
  // Cut at a UTF-8 character boundary: some file systems refuse names that are not UTF-8.
  std::size_t cut = longest_stem - digest.size() - 1;
  while (cut > 0 && (static_cast<unsigned char>(filename[cut]) & 0xC0) == 0x80) --cut;
  return filename.substr(0, cut) + "~" + digest;
}

/// Removes `.STEM.tmp.PID.*` in `folder` (STEM: `temporary_stem` of the target's `filename`)
/// whose process no longer exists. Best effort: a folder that cannot be listed is left as it is.
/// The writer's process id of `name` when it has the shape of a gift temporary,
/// `.STEM.tmp.PID.N[.N...]` (digits only after the stem), else −1; with `stem` non-empty the stem
/// must be exactly it.
[[nodiscard]] inline long temporary_writer(const std::string& name, const std::string& stem) {
  if (name.size() < 8 || name[0] != '.') return -1;
  std::size_t marker = std::string::npos;
  if (!stem.empty()) {
    if (name.compare(1, stem.size(), stem) != 0 || name.compare(1 + stem.size(), 5, ".tmp.") != 0) return -1;
    marker = 1 + stem.size();
  } else {
    marker = name.rfind(".tmp.");
    if (marker == std::string::npos || marker < 2) return -1;
  }
  // PID, then one or more ".digits" groups, nothing else.
  const std::string rest = name.substr(marker + 5);
  long pid = -1;
  std::size_t groups = 0, digits = 0;
  for (std::size_t c = 0; c <= rest.size(); ++c) {
    if (c == rest.size() || rest[c] == '.') {
      if (digits == 0) return -1;
      ++groups;
      digits = 0;
      continue;
    }
    if (rest[c] < '0' || rest[c] > '9') return -1;
    if (groups == 0) {
      if (pid > 1'000'000'000) return -1;
      pid = (pid < 0 ? 0 : pid * 10) + (rest[c] - '0');
    }
    ++digits;
  }
  return groups >= 2 ? pid : -1;
}

/// Removes `.STEM.tmp.PID.*` in `folder` (STEM: `temporary_stem` of the target's `filename`; an
/// empty `filename`: any stem) whose process no longer exists. Best effort: a folder that cannot
/// be listed is left as it is.
inline void remove_stale_temporaries(const std::filesystem::path& folder, const std::string& filename) {
#if defined(__unix__) || defined(__APPLE__)
  namespace fs = std::filesystem;
  const std::string stem = filename.empty() ? std::string() : temporary_stem(filename);
  std::error_code error_code;
  for (fs::directory_iterator it(folder, error_code), end; !error_code && it != end; it.increment(error_code)) {
    const long pid = temporary_writer(it->path().filename().string(), stem);
    if (pid <= 0 || pid == static_cast<long>(::getpid()) || !process_is_gone(pid)) continue;
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

/// Removes from `folder` the temporaries (`.NAME.tmp.PID.*`) that gift writers killed before
/// they finished left behind, whatever their target: programs call it on each output folder at
/// start, so no dead writer's leftovers outlive the next command that writes there. Temporaries of
/// live processes, this one included, are kept. Best effort.
inline void remove_dead_writers_temporaries(const std::filesystem::path& folder) {
  gift::detail::remove_stale_temporaries(folder, std::string());
}

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

/// Checks, without writing anything, that `path` can be the target of a write: it is not empty
/// and does not name a folder; if it exists it is a regular file, not a symlink (refused rather
/// than written through, so that nothing outside the named path is replaced, nor the link
/// turned into a file), a device node (`/dev/null`, `/dev/full`, `/dev/stdout`), a FIFO or a
/// socket; its folder exists, is a folder and is writable. Programs call it on every output
/// before long work, so that a bad output fails in seconds rather than after the computation;
/// `write_file_atomically` calls it again before it writes.
/// \param path the output file
/// \param what what the path is, prefixing every message (e.g. "gift finetune: --out")
/// \throws gift::error naming `what`, the path, the problem and how to fix it.
inline void check_output_target(const std::filesystem::path& path, std::string_view what) {
  namespace fs = std::filesystem;
  const std::string name = path.filename().string();
  gift::detail::require(!path.empty() && !name.empty() && name != "." && name != "..", what, ": '", path.string(),
                        "' does not name a file; name the file to write");
  std::error_code error_code;
  const fs::file_status target = fs::symlink_status(path, error_code);
  if (error_code && target.type() != fs::file_type::not_found) {
    throw error(gift::detail::concat(what, ": cannot inspect '", path.string(), "': ", error_code.message(),
                                     "; check the path and its folders' permissions"));
  }
  if (fs::exists(target)) {
    gift::detail::require(!fs::is_symlink(target), what, ": '", path.string(),
                          "' is a symbolic link; gift does not write through links (the file it points to "
                          "would be replaced) nor replace them; name the link's target or a new file");
    const auto kind = [&]() -> const char* {
      switch (target.type()) {
        case fs::file_type::directory: return "a folder";
        case fs::file_type::character: return "a character device";
        case fs::file_type::block: return "a block device";
        case fs::file_type::fifo: return "a FIFO";
        case fs::file_type::socket: return "a socket";
        default: return "not a regular file";
      }
    };
    gift::detail::require(fs::is_regular_file(target), what, ": '", path.string(),
                          "' exists and is not a regular file (", kind(),
                          "); name a regular file (a new one or one to replace)");
  }
  const fs::path folder = path.has_parent_path() ? path.parent_path() : fs::path(".");
  const fs::file_status folder_status = fs::status(folder, error_code);
  if (error_code && folder_status.type() != fs::file_type::not_found) {
    throw error(gift::detail::concat(what, ": cannot inspect the folder '", folder.string(), "' of '", path.string(),
                                     "': ", error_code.message(), "; check its permissions"));
  }
  gift::detail::require(fs::exists(folder_status), what, ": the folder '", folder.string(), "' of '", path.string(),
                        "' does not exist; create it first or choose another location");
  gift::detail::require(fs::is_directory(folder_status), what, ": '", folder.string(), "' (the folder of '",
                        path.string(), "') is not a folder; choose another location");
#if defined(__unix__) || defined(__APPLE__)
  // access() also answers EROFS for a read-only mount. Root passes the permission bits, which is
  // what its writes would do too.
  gift::detail::require(::access(folder.c_str(), W_OK | X_OK) == 0, what, ": cannot create files in the folder '",
                        folder.string(), "' of '", path.string(), "': ", std::strerror(errno),
                        "; choose a writable location");
#endif
}

/// Replaces (or creates) `path` with `bytes` atomically. The target must be a regular file or not
/// exist: a symlink, device node, FIFO, socket or folder is refused before anything is written
/// (`check_output_target`; a symlink is refused, not written through). The temporary's name
/// stays within NAME_MAX however long the target's name is (`detail::temporary_stem`). The bytes
/// are `fsync`ed before the rename. On failure (ENOSPC, EIO, EFBIG from any of write, flush,
/// fsync, close or rename) the target is untouched, the temporary file is removed and
/// `gift::error` names the path and the system error.
inline void write_file_atomically(const std::filesystem::path& path, std::span<const std::byte> bytes) {
  namespace fs = std::filesystem;
  const char* where = "gift::io::write_file_atomically";
  check_output_target(path, where);
  const fs::path folder = path.has_parent_path() ? path.parent_path() : fs::path(".");
  const std::string filename = path.filename().string();
  // A name no other writer uses at the same time: process, time and a per-process counter.
  static std::atomic<unsigned long> counter{0};
  const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count();
#if defined(__unix__) || defined(__APPLE__)
  const long process = static_cast<long>(::getpid());
#else
  const long process = 0;
#endif
  const fs::path temporary = folder / gift::detail::concat(".", gift::detail::temporary_stem(filename), ".tmp.", process,
                                                           ".", stamp, ".", counter.fetch_add(1));
  gift::detail::remove_stale_temporaries(folder, filename);
  // Registered before it exists, released after it is renamed or removed: a signal in between
  // removes it (unlinking a name that does not exist yet is harmless).
  struct registration {
    int slot;
    ~registration() { gift::detail::temporaries().remove(slot); }
  } registered{gift::detail::temporaries().add(temporary.string())};
  std::FILE* out = std::fopen(temporary.string().c_str(), "wb");
  gift::detail::require(out != nullptr, where, ": cannot create the temporary '", temporary.string(), "' for '",
                        path.string(), "': ", std::strerror(errno), "; check that the folder exists and is writable");
  // The first step that fails gives the message: a short write's ENOSPC is the cause, a later
  // close's error only its echo. errno is cleared first so that a stale value is never reported.
  int failure = 0;
  const char* failed_step = "";
  const auto step = [&](bool ok, const char* name) {
    if (!ok && failure == 0) {
      failure = errno != 0 ? errno : EIO;
      failed_step = name;
    }
  };
  errno = 0;
  step(bytes.empty() || std::fwrite(bytes.data(), 1, bytes.size(), out) == bytes.size(), "write");
  errno = 0;
  step(std::fflush(out) == 0, "flush");
#if defined(__unix__) || defined(__APPLE__)
  errno = 0;
  step(::fsync(::fileno(out)) == 0, "fsync");  // the data must be on disk before the name points at it
#endif
  errno = 0;
  step(std::fclose(out) == 0, "close");
  if (failure != 0) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw error(gift::detail::concat(where, ": writing ", bytes.size(), " bytes to '", path.string(), "' failed (",
                                     failed_step, " of the temporary '", temporary.string(), "'): ",
                                     std::strerror(failure), "; '", path.string(),
                                     "' is unchanged; check the free disk space and the device"));
  }
  std::error_code renamed;
  fs::rename(temporary, path, renamed);
  if (renamed) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw error(gift::detail::concat(where, ": cannot rename '", temporary.string(), "' to '", path.string(),
                                     "': ", renamed.message()));
  }
}

}  // namespace gift::io
