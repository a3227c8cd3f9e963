#pragma once
/// \file gift/io/calibration_set.hpp
/// \brief gift's calibration folder as one unit: the files a calibration run writes (one
/// `<layer>.stats` per layer, `gram.safetensors` with Gram matrices) plus `manifest.txt`, written
/// last, that lists each file with its size and FNV-1a hash and the run's token count.
///
/// A writer `begin`s by removing the old manifest, so a run killed half-way leaves a folder
/// without one; readers refuse such a folder, and any file whose bytes are not the ones the
/// manifest lists (a folder mixing two runs). The manifest is text:
/// \code
/// # gift calibration v1: tokens, then file <name> <bytes> <fnv1a-64>
/// tokens 4096
/// file blk.0.attn_q.stats 13896 5be3a4d7c2f19e01
/// \endcode
#include <gift/error.hpp>
#include <gift/io/atomic_file.hpp>
#include <gift/io/fnv1a.hpp>
#include <gift/stats.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace gift::io {

/// Size and 64-bit FNV-1a hash of a file's bytes.
struct file_fingerprint {
  std::uint64_t bytes = 0;                ///< the file's size
  std::uint64_t hash = fnv1a64_basis;     ///< FNV-1a of its bytes

  /// The fingerprint of the file at `path`, read in 1 MiB pieces.
  /// \throws gift::error when it cannot be opened.
  [[nodiscard]] static file_fingerprint of(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    gift::detail::require(static_cast<bool>(in), "cannot open '", path.string(), "'");
    file_fingerprint f;
    std::vector<char> chunk(1 << 20);
    while (in) {
      in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      const auto got = static_cast<std::size_t>(in.gcount());
      f.hash = fnv1a64(std::string_view(chunk.data(), got), f.hash);
      f.bytes += got;
    }
    return f;
  }
  /// Same size and hash.
  friend bool operator==(const file_fingerprint&, const file_fingerprint&) = default;
};

/// The manifest of a calibration folder: what one calibrate run wrote.
class calibration_set {
public:
  /// The manifest's file name inside the folder.
  static constexpr const char* manifest_name = "manifest.txt";

  /// Starts a run in `folder`: removes the previous manifest, so the folder counts as incomplete
  /// until `commit`.
  [[nodiscard]] static calibration_set begin(const std::filesystem::path& folder, std::uint64_t tokens) {
    std::error_code ignored;
    std::filesystem::remove(folder / manifest_name, ignored);
    calibration_set set;
    set.folder_ = folder;
    set.tokens_ = tokens;
    return set;
  }

  /// Records a file this run wrote (after it is complete on disk).
  void add(const std::string& name) { files_[name] = file_fingerprint::of(folder_ / name); }

  /// Writes the manifest (atomically): from now on the folder is complete.
  void commit() const {
    std::ostringstream out;
    out << "# gift calibration v1: tokens, then file <name> <bytes> <fnv1a-64>\n";
    out << "tokens " << tokens_ << "\n";
    for (const auto& [name, f] : files_)
      out << "file " << name << ' ' << f.bytes << ' ' << std::hex << std::setw(16) << std::setfill('0') << f.hash
          << std::dec << "\n";
    const std::string text = out.str();
    write_file_atomically(folder_ / manifest_name, std::as_bytes(std::span<const char>(text.data(), text.size())));
  }

  /// Reads the manifest of `folder`.
  /// \throws gift::error when it is missing (an unfinished or foreign folder) or malformed.
  [[nodiscard]] static calibration_set open(const std::filesystem::path& folder) {
    const auto path = folder / manifest_name;
    std::ifstream in(path, std::ios::binary);
    gift::detail::require(static_cast<bool>(in), "'", folder.string(), "' has no ", manifest_name,
                          ": it is not a complete gift calibrate folder (a run that was stopped, or "
                          "written by an older gift); rerun gift calibrate --out ",
                          folder.string());
    std::ostringstream text;
    text << in.rdbuf();
    return parse(text.str(), folder, path.string());
  }

  /// Parses a manifest's text for the folder `folder`; `source` names it in errors.
  /// \throws gift::error naming the source and the line when a line is malformed, a file is listed
  /// twice, or the 'tokens' line is missing.
  [[nodiscard]] static calibration_set parse(std::string_view text, const std::filesystem::path& folder,
                                             const std::string& source) {
    calibration_set set;
    set.folder_ = folder;
    std::istringstream in{std::string(text)};
    std::string line;
    int number = 0;
    bool has_tokens = false;
    while (std::getline(in, line)) {
      ++number;
      if (line.empty() || line[0] == '#') continue;
      std::istringstream fields(line);
      std::string kind, name, hash, rest;
      fields >> kind;
      const std::string where = "'" + source + "' line " + std::to_string(number);
      if (kind == "tokens") {
        fields >> set.tokens_;
        gift::detail::require(static_cast<bool>(fields) && !(fields >> rest), where, ": expected 'tokens <count>'");
        has_tokens = true;
        continue;
      }
      file_fingerprint f;
      fields >> name >> f.bytes >> hash;
      gift::detail::require(kind == "file" && static_cast<bool>(fields) && hash.size() == 16 && !(fields >> rest),
                            where, ": expected 'file <name> <bytes> <16 hex digits>'; rerun gift calibrate");
      std::size_t used = 0;
      try {
        f.hash = std::stoull(hash, &used, 16);
      } catch (const std::exception&) {
        used = 0;
      }
      gift::detail::require(used == hash.size(), where, ": '", hash, "' is not a hexadecimal hash");
      gift::detail::require(set.files_.emplace(name, f).second, where, ": file '", name, "' is listed twice");
    }
    gift::detail::require(has_tokens, "'", source, "' has no 'tokens' line; rerun gift calibrate");
    return set;
  }

  /// Checks that `name` is listed and that its bytes are the listed ones; returns its path.
  [[nodiscard]] std::filesystem::path verified(const std::string& name) const {
    const auto it = files_.find(name);
    gift::detail::require(it != files_.end(), "the calibration in '", folder_.string(), "' has no '", name,
                          "'; run gift calibrate on the same model", name == "gram.safetensors" ? " with --gram" : "");
    const auto path = folder_ / name;
    std::error_code missing;
    gift::detail::require(std::filesystem::exists(path, missing), "'", path.string(),
                          "' is listed in the manifest but missing; rerun gift calibrate");
    gift::detail::require(file_fingerprint::of(path) == it->second, "'", path.string(),
                          "' is not the file this calibration run wrote (its size or hash differs from ",
                          manifest_name, "): the folder mixes two runs; rerun gift calibrate");
    return path;
  }

  /// The statistics of layer `layer`, verified against the manifest (bytes and token count).
  [[nodiscard]] activation_stats load_stats(const std::string& layer) const {
    auto stats = activation_stats::load(verified(layer + ".stats"));
    gift::detail::require(stats.token_count() == tokens_, "'", (folder_ / (layer + ".stats")).string(), "' has ",
                          stats.token_count(), " tokens, but the calibration run had ", tokens_,
                          "; rerun gift calibrate");
    return stats;
  }

  /// The run's token count (every listed statistics file must have seen as many).
  [[nodiscard]] std::uint64_t tokens() const noexcept { return tokens_; }
  /// The files the manifest lists, by name.
  [[nodiscard]] const std::map<std::string, file_fingerprint>& files() const noexcept { return files_; }

private:
  std::filesystem::path folder_;
  std::uint64_t tokens_ = 0;
  std::map<std::string, file_fingerprint> files_;
};

}  // namespace gift::io
