#pragma once
// A calibration folder as one unit: the files `gift calibrate` writes (one .stats per layer, and
// gram.safetensors with --gram) plus `manifest.txt`, written last, that lists each file with its
// size and FNV-1a hash and the run's token count. calibrate removes the old manifest before it
// writes anything, so a killed run leaves a folder without one; readers refuse such a folder, and
// any file whose bytes are not the ones the manifest lists (a folder mixing two runs).
#include <gift/error.hpp>
#include <gift/io/atomic_file.hpp>
#include <gift/io/fnv1a.hpp>
#include <gift/stats.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace gift::cli {

/// Size and 64-bit FNV-1a hash of a file's bytes.
struct file_fingerprint {
  std::uint64_t bytes = 0;
  std::uint64_t hash = io::fnv1a64_basis;

  static file_fingerprint of(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    gift::detail::require(static_cast<bool>(in), "gift: cannot open '", path.string(), "'");
    file_fingerprint f;
    std::vector<char> chunk(1 << 20);
    while (in) {
      in.read(chunk.data(), static_cast<std::streamsize>(chunk.size()));
      const auto got = static_cast<std::size_t>(in.gcount());
      f.hash = io::fnv1a64(std::string_view(chunk.data(), got), f.hash);
      f.bytes += got;
    }
    return f;
  }
  friend bool operator==(const file_fingerprint&, const file_fingerprint&) = default;
};

/// The manifest of a calibration folder: what one calibrate run wrote.
class calibration_set {
public:
  static constexpr const char* manifest_name = "manifest.txt";

  /// Starts a run in `folder`: removes the previous manifest, so the folder counts as incomplete
  /// until `commit`.
  static calibration_set begin(const std::filesystem::path& folder, std::uint64_t tokens) {
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
    io::write_file_atomically(folder_ / manifest_name, std::as_bytes(std::span<const char>(text.data(), text.size())));
  }

  /// Reads the manifest of `folder`; throws when it is missing or malformed.
  static calibration_set open(const std::filesystem::path& folder) {
    const auto path = folder / manifest_name;
    std::ifstream in(path);
    gift::detail::require(static_cast<bool>(in), "gift: '", folder.string(), "' has no ", manifest_name,
                          ": it is not a complete gift calibrate folder (a run that was stopped, or "
                          "written by an older gift); rerun gift calibrate --out ",
                          folder.string());
    calibration_set set;
    set.folder_ = folder;
    std::string line;
    int number = 0;
    bool has_tokens = false;
    while (std::getline(in, line)) {
      ++number;
      if (line.empty() || line[0] == '#') continue;
      std::istringstream fields(line);
      std::string kind, name, hash, rest;
      fields >> kind;
      const std::string where = "gift: '" + path.string() + "' line " + std::to_string(number);
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
    gift::detail::require(has_tokens, "gift: '", path.string(), "' has no 'tokens' line; rerun gift calibrate");
    return set;
  }

  /// Checks that `name` is listed and that its bytes are the listed ones; returns its path.
  [[nodiscard]] std::filesystem::path verified(const std::string& name) const {
    const auto it = files_.find(name);
    gift::detail::require(it != files_.end(), "gift: the calibration in '", folder_.string(), "' has no '", name,
                          "'; run gift calibrate on the same model", name == "gram.safetensors" ? " with --gram" : "");
    const auto path = folder_ / name;
    std::error_code missing;
    gift::detail::require(std::filesystem::exists(path, missing), "gift: '", path.string(),
                          "' is listed in the manifest but missing; rerun gift calibrate");
    gift::detail::require(file_fingerprint::of(path) == it->second, "gift: '", path.string(),
                          "' is not the file this calibration run wrote (its size or hash differs from ",
                          manifest_name, "): the folder mixes two runs; rerun gift calibrate");
    return path;
  }

  /// The statistics of layer `layer`, verified against the manifest (bytes and token count).
  [[nodiscard]] activation_stats load_stats(const std::string& layer) const {
    auto stats = activation_stats::load(verified(layer + ".stats"));
    gift::detail::require(stats.token_count() == tokens_, "gift: '", (folder_ / (layer + ".stats")).string(), "' has ",
                          stats.token_count(), " tokens, but the calibration run had ", tokens_,
                          "; rerun gift calibrate");
    return stats;
  }

  [[nodiscard]] std::uint64_t tokens() const noexcept { return tokens_; }

private:
  std::filesystem::path folder_;
  std::uint64_t tokens_ = 0;
  std::map<std::string, file_fingerprint> files_;
};

}  // namespace gift::cli
