#pragma once
/// \file gift/io/text_data.hpp
/// \brief Text corpora from a folder of (possibly gzip-compressed) files: sorted listing, a
/// deterministic train / validation split by file, tokenization into one id stream, and packing
/// into fixed-length sequences.
///
/// Needs zlib through gzip.hpp: link `ZLIB::ZLIB`. Typical use, on the Debian linux-doc package:
/// \code
/// namespace io = gift::io;
/// const std::filesystem::path root = "/usr/share/doc/linux-doc-6.1/Documentation";
/// auto files = io::list_text_files(root, {".rst.gz"});
/// auto split = io::split_by_file(files, 0.1);  // 10% of the files for validation
/// auto ids = io::tokenize_files(root, split.train, tokenizer);
/// auto batch = io::pack_sequences(ids, 257);   // rows of 257 ids: 256 inputs + shifted targets
/// \endcode

#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/io/fnv1a.hpp>
#include <gift/io/gzip.hpp>
#include <gift/io/tokenizer.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace gift::io {

/// All regular files under `root` whose names end with one of `suffixes` (e.g. ".rst.gz"; empty
/// list = every file), as paths relative to `root` in generic form ('/' separators), sorted
/// bytewise so the order is the same on every machine. Throws `gift::error` if `root` is not a
/// folder.
[[nodiscard]] inline std::vector<std::string> list_text_files(const std::filesystem::path& root,
                                                              std::initializer_list<std::string_view> suffixes = {}) {
  namespace fs = std::filesystem;
  std::error_code status;
  detail::require(fs::is_directory(root, status), "gift::io::list_text_files: '", root.string(),
                  "' is not a folder; for the kernel documentation install the Debian package linux-doc-6.1");
  std::vector<std::string> files;
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied);
       it != fs::recursive_directory_iterator(); ++it) {
    if (!it->is_regular_file()) continue;
    const std::string name = it->path().filename().string();
    const bool wanted = suffixes.size() == 0 || std::any_of(suffixes.begin(), suffixes.end(), [&](std::string_view s) {
                          return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
                        });
    if (wanted) files.push_back(it->path().lexically_relative(root).generic_string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

/// The text of one file: decompressed if the name ends in ".gz", read as is otherwise.
[[nodiscard]] inline std::string read_text_file(const std::filesystem::path& path) {
  const std::string name = path.filename().string();
  if (name.size() >= 3 && name.compare(name.size() - 3, 3, ".gz") == 0) return read_gzip_file(path);
  std::ifstream in(path, std::ios::binary);
  detail::require(static_cast<bool>(in), "gift::io::read_text_file: cannot open '", path.string(), "'");
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}


/// A fixed pseudo-random position in [0, 1) of `name` under `seed`: FNV-1a of the seed's 8 bytes
/// then the name, finished with a murmur-style avalanche (FNV's low bits mix poorly). Splits and
/// samples by file use it, so a file's fate depends only on its name and the seed.
[[nodiscard]] inline double hash_position(std::string_view name, std::uint64_t seed) noexcept {
  std::string seed_text(8, '\0');
  for (int i = 0; i < 8; ++i) seed_text[static_cast<std::size_t>(i)] = static_cast<char>((seed >> (8 * i)) & 0xFF);
  std::uint64_t h = fnv1a64(name, fnv1a64(seed_text));
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

/// Files assigned to training, to development (choosing hyper-parameters) and to validation
/// (reporting). The three parts are disjoint.
struct text_split {
  std::vector<std::string> train;       ///< in the input order
  std::vector<std::string> validation;  ///< in the input order
  std::vector<std::string> dev;         ///< in the input order; empty unless a dev fraction was asked for
};

/// Splits `files` by file: a file goes to validation when the hash of its relative path (with
/// `seed`, `io::hash_position`) falls below `validation_fraction` of the hash range, to dev when
/// it falls in the next `dev_fraction`, and to training otherwise. The assignment of a file
/// depends only on its path, the seed and the fractions, never on which other files exist, so
/// adding documents does not reshuffle the old ones; with `dev_fraction` 0 the validation files
/// are the same as with any other dev fraction. When the validation fraction is strictly between
/// 0 and 1 and there are at least two files, validation and training get at least one file each
/// (the file with the smallest, or largest, hash is moved). Throws `gift::error` for a fraction
/// outside [0, 1] or fractions that add up to more than 1.
[[nodiscard]] inline text_split split_by_file(std::span<const std::string> files, double validation_fraction,
                                              std::uint64_t seed = 0, double dev_fraction = 0.0) {
  detail::require(validation_fraction >= 0.0 && validation_fraction <= 1.0, "gift::io::split_by_file: argument "
                  "'validation_fraction' must be in [0, 1], but is ", validation_fraction);
  detail::require(dev_fraction >= 0.0 && validation_fraction + dev_fraction <= 1.0, "gift::io::split_by_file: "
                  "argument 'dev_fraction' must be in [0, 1 - validation_fraction] = [0, ", 1.0 - validation_fraction,
                  "], but is ", dev_fraction);
  const auto position = [seed](const std::string& file) { return hash_position(file, seed); };
  enum class part : unsigned char { train, dev, validation };
  std::vector<part> to(files.size(), part::train);
  std::size_t validation_count = 0, train_count = 0;
  for (std::size_t i = 0; i < files.size(); ++i) {
    const double at = position(files[i]);
    to[i] = at < validation_fraction ? part::validation
            : at < validation_fraction + dev_fraction ? part::dev : part::train;
    validation_count += to[i] == part::validation ? 1 : 0;
    train_count += to[i] == part::train ? 1 : 0;
  }
  if (files.size() >= 2 && validation_fraction > 0.0 && validation_fraction < 1.0) {
    const auto extreme = [&](bool smallest) {
      std::size_t best = 0;
      for (std::size_t i = 1; i < files.size(); ++i) {
        if (smallest ? position(files[i]) < position(files[best]) : position(files[i]) > position(files[best])) best = i;
      }
      return best;
    };
    if (validation_count == 0) to[extreme(true)] = part::validation;
    if (train_count == 0 && validation_fraction + dev_fraction < 1.0) to[extreme(false)] = part::train;
    if (validation_count == files.size()) to[extreme(false)] = part::train;
  }
  text_split out;
  for (std::size_t i = 0; i < files.size(); ++i)
    (to[i] == part::validation ? out.validation : to[i] == part::dev ? out.dev : out.train).push_back(files[i]);
  return out;
}

/// Tokenizes each file under `root` (decompressing ".gz") and concatenates the ids, with
/// `separator` (e.g. the EOS id; -1 for none) after each document. Special-token text in the
/// documents is not parsed.
[[nodiscard]] inline std::vector<std::int32_t> tokenize_files(const std::filesystem::path& root,
                                                              std::span<const std::string> files,
                                                              const tokenizer& tokens, std::int32_t separator = -1) {
  std::vector<std::int32_t> ids;
  for (const auto& file : files) {
    tokens.encode_append(read_text_file(root / file), ids);
    if (separator >= 0) ids.push_back(separator);
  }
  return ids;
}

/// Row-major matrix of token ids, one sequence per row (`gift::token_matrix`).
using gift::token_matrix;

/// Cuts `ids` into consecutive rows of `sequence_length` ids, starting every `stride` ids
/// (default: `sequence_length`, no overlap); the incomplete tail is dropped. For next-token
/// training use `sequence_length` = context + 1 and stride = context, so that every target is
/// predicted exactly once. Throws `gift::error` for a zero length or stride.
[[nodiscard]] inline token_matrix pack_sequences(std::span<const std::int32_t> ids, std::size_t sequence_length,
                                                 std::size_t stride = 0) {
  if (stride == 0) stride = sequence_length;
  detail::require(sequence_length > 0, "gift::io::pack_sequences: argument 'sequence_length' must be positive");
  const std::size_t rows = ids.size() < sequence_length ? 0 : (ids.size() - sequence_length) / stride + 1;
  token_matrix out(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(sequence_length));
  for (std::size_t r = 0; r < rows; ++r) {
    std::copy_n(ids.data() + r * stride, sequence_length, out.data() + r * sequence_length);
  }
  return out;
}

}  // namespace gift::io
