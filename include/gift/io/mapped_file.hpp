#pragma once
/// \file gift/io/mapped_file.hpp
/// \brief Read-only bytes of a file: memory-mapped on POSIX systems, read into memory elsewhere,
/// or owned bytes handed over by the caller (tests, fuzzers, network buffers).

#include <gift/error.hpp>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
/// 1 where `gift::io::mapped_file::open` memory-maps files (POSIX systems), 0 where it reads
/// them into memory.
#define GIFT_IO_HAS_MMAP 1
#else
/// 1 where `gift::io::mapped_file::open` memory-maps files (POSIX systems), 0 where it reads
/// them into memory.
#define GIFT_IO_HAS_MMAP 0
#endif

namespace gift::io {

/// Immutable bytes of one file. Move-only; the bytes stay valid, at the same address, for the
/// object's lifetime (moves included), so parsers may keep spans into them.
///
/// A mapped file must not be truncated by another process while it is mapped: the operating
/// system then signals on access (SIGBUS), which no parser can turn into an error.
class mapped_file {
public:
  /// An empty file with no bytes.
  mapped_file() = default;

  /// Maps (or reads) the file at `path`. Throws `gift::error` naming the path and the system
  /// error when it cannot be opened or read.
  [[nodiscard]] static mapped_file open(const std::filesystem::path& path) {
    mapped_file file;
    file.name_ = path.string();
#if GIFT_IO_HAS_MMAP
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    detail::require(fd >= 0, "gift::io::mapped_file::open: cannot open '", file.name_, "': ",
                    std::strerror(errno), "; check the path and its permissions");
    struct stat info {};
    if (::fstat(fd, &info) != 0) {
      const int saved = errno;
      ::close(fd);
      throw error(detail::concat("gift::io::mapped_file::open: cannot stat '", file.name_,
                                 "': ", std::strerror(saved)));
    }
    if (!S_ISREG(info.st_mode)) {
      ::close(fd);
      throw error(detail::concat("gift::io::mapped_file::open: '", file.name_,
                                 "' is not a regular file; pass the path of a file"));
    }
    const auto size = static_cast<std::size_t>(info.st_size);
    if (size > 0) {
      void* address = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
      const int saved = errno;
      ::close(fd);
      detail::require(address != MAP_FAILED, "gift::io::mapped_file::open: cannot map '",
                      file.name_, "' (", size, " bytes): ", std::strerror(saved));
      file.mapping_ = std::shared_ptr<void>(address, [size](void* p) { ::munmap(p, size); });
      file.bytes_ = {static_cast<const std::byte*>(address), size};
    } else {
      ::close(fd);
    }
#else
    std::ifstream in(path, std::ios::binary);
    detail::require(static_cast<bool>(in), "gift::io::mapped_file::open: cannot open '",
                    file.name_, "'; check the path and its permissions");
    auto owned = std::make_shared<std::vector<std::byte>>(std::filesystem::file_size(path));
    in.read(reinterpret_cast<char*>(owned->data()), static_cast<std::streamsize>(owned->size()));
    detail::require(static_cast<std::size_t>(in.gcount()) == owned->size(),
                    "gift::io::mapped_file::open: short read from '", file.name_, "'");
    file.bytes_ = {owned->data(), owned->size()};
    file.mapping_ = std::move(owned);
#endif
    return file;
  }

  /// Takes ownership of `bytes`; `name` is used in error messages (e.g. "<memory>").
  [[nodiscard]] static mapped_file from_bytes(std::vector<std::byte> bytes,
                                              std::string name = "<memory>") {
    mapped_file file;
    file.name_ = std::move(name);
    auto owned = std::make_shared<std::vector<std::byte>>(std::move(bytes));
    file.bytes_ = {owned->data(), owned->size()};
    file.mapping_ = std::move(owned);
    return file;
  }

  mapped_file(const mapped_file&) = delete;
  mapped_file& operator=(const mapped_file&) = delete;
  /// Moves the bytes; spans taken from `other` stay valid.
  mapped_file(mapped_file&& other) noexcept
      : name_(std::move(other.name_)), mapping_(std::move(other.mapping_)),
        bytes_(std::exchange(other.bytes_, {})) {}
  /// Moves the bytes; spans taken from `other` stay valid.
  mapped_file& operator=(mapped_file&& other) noexcept {
    name_ = std::move(other.name_);
    mapping_ = std::move(other.mapping_);
    bytes_ = std::exchange(other.bytes_, {});
    return *this;
  }
  ~mapped_file() = default;

  /// All bytes of the file.
  [[nodiscard]] std::span<const std::byte> bytes() const noexcept { return bytes_; }
  /// Size in bytes.
  [[nodiscard]] std::size_t size() const noexcept { return bytes_.size(); }
  /// The path (or the name given to `from_bytes`), for messages.
  [[nodiscard]] const std::string& name() const noexcept { return name_; }

private:
  std::string name_;
  std::shared_ptr<void> mapping_;  // munmap()s or frees the bytes when the last owner goes
  std::span<const std::byte> bytes_;
};

}  // namespace gift::io
