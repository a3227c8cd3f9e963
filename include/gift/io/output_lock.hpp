#pragma once
/// \file gift/io/output_lock.hpp
/// \brief `io::output_lock`: one writer per output. An advisory lock (`flock`) on a small file
/// `.NAME.lock` beside the target `NAME` (a file or a folder), which holds the holder's process
/// id; a second writer of the same target is refused at once with that id, instead of both
/// writing and leaving a mixed or broken result (two exports into one folder, two sweeps on one
/// results folder).
///
/// The lock is advisory: it orders gift's own writers, not other programs. The kernel releases it
/// when its holder exits in any way (kill -9 included), so a dead writer never blocks the next
/// one; the lock file is removed on release, and a file a killed holder left is taken over by the
/// next writer. POSIX only; elsewhere `acquire` returns a lock that holds nothing.

#include <gift/error.hpp>
#include <gift/io/atomic_file.hpp>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>
#include <utility>

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#endif

namespace gift::io {

/// Exclusive ownership of an output target for the lifetime of the object (move-only).
class output_lock {
public:
  /// A lock that holds nothing.
  output_lock() = default;
  output_lock(const output_lock&) = delete;
  output_lock& operator=(const output_lock&) = delete;
  /// Takes over `other`'s lock (`other` then holds nothing).
  output_lock(output_lock&& other) noexcept
      : descriptor_(std::exchange(other.descriptor_, -1)), path_(std::move(other.path_)) {}
  /// Releases this object's lock, then takes over `other`'s.
  output_lock& operator=(output_lock&& other) noexcept {
    if (this != &other) {
      release();
      descriptor_ = std::exchange(other.descriptor_, -1);
      path_ = std::move(other.path_);
    }
    return *this;
  }
  /// Releases the lock (`release`).
  ~output_lock() { release(); }

  /// The lock file of `target`: `.NAME.lock` in the target's folder (NAME shortened as the atomic
  /// writer's temporaries are, so that the name stays within NAME_MAX).
  [[nodiscard]] static std::filesystem::path lock_path(const std::filesystem::path& target) {
    const std::filesystem::path clean = target.has_filename() ? target : target.parent_path();
    const std::filesystem::path folder = clean.has_parent_path() ? clean.parent_path() : std::filesystem::path(".");
    return folder / ("." + gift::detail::temporary_stem(clean.filename().string()) + ".lock");
  }

  /// Takes the lock of `target` or throws: `what` names the output in messages (e.g.
  /// "gift sweep: --out"). The target's folder must exist.
  /// \throws gift::error when another process holds the lock (naming its process id), or when
  /// the lock file cannot be created.
  [[nodiscard]] static output_lock acquire(const std::filesystem::path& target, const std::string& what) {
    output_lock lock;
#if defined(__unix__) || defined(__APPLE__)
    const std::filesystem::path file = lock_path(target);
    // A holder that releases unlinks its file; a process that opened the old file just before
    // then locks a file nobody else sees. Locking and then checking that the path still names
    // the locked file closes that gap (a few retries: each needs another writer's release).
    for (int attempt = 0; attempt < 16; ++attempt) {
      const int descriptor = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
      gift::detail::require(descriptor >= 0, what, " '", target.string(), "': cannot create the lock file '",
                            file.string(), "': ", std::strerror(errno), "; choose a writable location");
      if (::flock(descriptor, LOCK_EX | LOCK_NB) != 0) {
        const int failure = errno;
        const std::string holder = read_holder(descriptor);
        ::close(descriptor);
        gift::detail::require(failure != EWOULDBLOCK, what, " '", target.string(), "' is being written by another ",
                              "gift process", holder.empty() ? std::string() : " (process " + holder + ")",
                              "; wait until it finishes, stop it, or choose another output (lock file '",
                              file.string(), "')");
        throw error(what + " '" + target.string() + "': cannot lock '" + file.string() + "': " + std::strerror(failure));
      }
      struct stat opened {}, named {};
      if (::fstat(descriptor, &opened) == 0 && ::stat(file.c_str(), &named) == 0 && opened.st_ino == named.st_ino &&
          opened.st_dev == named.st_dev) {
        // Ours: record who holds it, for the message a second writer gets.
        const std::string pid = std::to_string(static_cast<long>(::getpid())) + "\n";
        if (::ftruncate(descriptor, 0) == 0) {
          [[maybe_unused]] const auto written = ::pwrite(descriptor, pid.data(), pid.size(), 0);
        }
        lock.descriptor_ = descriptor;
        lock.path_ = file;
        return lock;
      }
      ::close(descriptor);  // the file was replaced between open and lock: try the new one
    }
    throw error(what + " '" + target.string() + "': the lock file '" + file.string() +
                "' keeps being replaced by other writers; try again");
#else
    (void)target;
    (void)what;
    return lock;
#endif
  }

  /// Whether this object holds a lock.
  [[nodiscard]] bool held() const noexcept { return descriptor_ >= 0; }

  /// Removes the lock file and releases the lock (nothing when none is held).
  void release() noexcept {
#if defined(__unix__) || defined(__APPLE__)
    if (descriptor_ < 0) return;
    // Unlinked while still locked: a writer that opens the path from now on gets a new file.
    ::unlink(path_.c_str());
    ::close(descriptor_);
    descriptor_ = -1;
#endif
  }

private:
#if defined(__unix__) || defined(__APPLE__)
  // The process id a holder wrote (digits only), or "" when the file holds none.
  static std::string read_holder(int descriptor) {
    char text[24] = {};
    const auto got = ::pread(descriptor, text, sizeof text - 1, 0);
    std::string pid;
    for (ssize_t i = 0; i < got && text[i] >= '0' && text[i] <= '9'; ++i) pid.push_back(text[i]);
    return pid;
  }
#endif
  int descriptor_ = -1;
  std::filesystem::path path_;
};

}  // namespace gift::io
