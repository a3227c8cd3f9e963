#pragma once
/// \file gift/io/gzip.hpp
/// \brief Decompression of gzip (and zlib) data through zlib.
///
/// This is the one gift header that needs a library beyond Eigen: a program that includes it
/// (directly or through text_data.hpp) must link zlib, e.g. `target_link_libraries(app PRIVATE
/// gift::gift ZLIB::ZLIB)` after `find_package(ZLIB REQUIRED)` (Debian: `zlib1g-dev`).

#include <gift/error.hpp>
#include <gift/io/mapped_file.hpp>

#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <filesystem>
#include <span>
#include <string>

namespace gift::io {

/// Decompresses gzip or zlib data (the header is detected). Concatenated gzip members, as `cat
/// a.gz b.gz` produces, are decompressed one after another. `name` is used in messages. Throws
/// `gift::error` for corrupt or truncated data, naming the compressed byte offset.
[[nodiscard]] inline std::string gunzip(std::span<const std::byte> compressed, const std::string& name = "<memory>") {
  std::string out;
  if (compressed.empty()) return out;
  z_stream stream{};
  detail::require(inflateInit2(&stream, 15 + 32) == Z_OK, "gift::io::gunzip: zlib failed to initialise");
  struct guard {
    z_stream* s;
    ~guard() { inflateEnd(s); }
  } cleanup{&stream};
  std::size_t consumed = 0;  // compressed bytes handed to zlib so far
  const auto feed = [&] {
    if (stream.avail_in == 0 && consumed < compressed.size()) {
      const std::size_t chunk = std::min<std::size_t>(compressed.size() - consumed, std::size_t{1} << 30);
      stream.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(compressed.data() + consumed));
      stream.avail_in = static_cast<uInt>(chunk);
      consumed += chunk;
    }
  };
  out.resize(std::max<std::size_t>(compressed.size() * 4, 4096));
  std::size_t produced = 0;
  for (;;) {
    feed();
    if (produced == out.size()) out.resize(out.size() * 2);
    stream.next_out = reinterpret_cast<Bytef*>(out.data() + produced);
    const std::size_t room = std::min<std::size_t>(out.size() - produced, std::size_t{1} << 30);
    stream.avail_out = static_cast<uInt>(room);
    const int status = inflate(&stream, Z_NO_FLUSH);
    produced += room - stream.avail_out;
    const std::size_t position = consumed - stream.avail_in;
    if (status == Z_STREAM_END) {
      // Another member may follow (skip trailing zero padding, which some tools append).
      std::size_t next = position;
      while (next < compressed.size() && compressed[next] == std::byte{0}) ++next;
      if (next >= compressed.size()) break;
      detail::require(inflateReset(&stream) == Z_OK, "gift::io::gunzip: zlib failed to reset");
      stream.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(compressed.data() + next));
      stream.avail_in = static_cast<uInt>(std::min<std::size_t>(compressed.size() - next, std::size_t{1} << 30));
      consumed = next + stream.avail_in;
      continue;
    }
    if (status == Z_BUF_ERROR && stream.avail_in == 0 && consumed == compressed.size()) {
      throw error(detail::concat("gift::io::gunzip: '", name, "' is truncated: the compressed data ends at byte ",
                                 compressed.size(), " before the end of the stream"));
    }
    if (status != Z_OK && status != Z_BUF_ERROR) {
      throw error(detail::concat("gift::io::gunzip: '", name, "' is corrupt near compressed byte offset ", position,
                                 ": ", stream.msg != nullptr ? stream.msg : "zlib error", " (code ", status, ")"));
    }
  }
  out.resize(produced);
  return out;
}

/// Reads and decompresses the gzip file at `path`.
[[nodiscard]] inline std::string read_gzip_file(const std::filesystem::path& path) {
  const mapped_file file = mapped_file::open(path);
  return gunzip(file.bytes(), file.name());
}

}  // namespace gift::io
