#pragma once
/// \file gift/pipeline/eval_set.hpp
/// \brief `pipeline::sample_windows`: an evaluation set that represents its domain — a fixed,
/// seeded sample of token windows drawn across many files (stratified by file), the same for every
/// model it evaluates.
///
/// Taking whole files until a token budget is met evaluates the first document or two of a corpus;
/// a window sample spreads the same budget over `files` documents:
/// \code
/// const auto files = gift::io::list_text_files(root, {".rst.gz"});
/// const auto split = gift::io::split_by_file(files, 0.1);
/// gift::pipeline::window_options options;  // 64 files, one 256-token window each, seed 0
/// const auto set = gift::pipeline::sample_windows(split.validation, [&](const std::string& file) {
///   std::vector<std::int32_t> ids;
///   tokenizer.encode_append(gift::io::read_text_file(root / file), ids);
///   return ids;
/// }, options);
/// const auto result = gift::pipeline::evaluate(model, set.tokens);
/// \endcode

#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/io/text_data.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace gift::pipeline {

/// How `sample_windows` draws its sample.
struct window_options {
  std::int64_t length = 256;          ///< tokens per window
  std::int64_t files = 64;            ///< files that contribute windows (fewer if fewer hold one)
  std::int64_t windows_per_file = 1;  ///< windows from each contributing file (fewer if it is short)
  std::uint64_t seed = 0;             ///< draws the files' order and the windows' positions
};

/// A sample of windows: one per row of `tokens`, with where it came from.
struct text_windows {
  token_matrix tokens;                ///< the windows, one per row
  std::vector<std::string> files;     ///< the file of each row
  std::vector<std::int64_t> offsets;  ///< the position of the row's first token in that file's ids
  std::int64_t files_read = 0;        ///< files tokenized to find them (short ones included)

  /// Number of distinct files the windows come from.
  [[nodiscard]] std::int64_t files_used() const {
    std::vector<std::string> distinct = files;
    std::sort(distinct.begin(), distinct.end());
    return static_cast<std::int64_t>(std::unique(distinct.begin(), distinct.end()) - distinct.begin());
  }
};

/// The token ids of one file (its tokenization; how is the caller's choice).
using file_tokens = std::function<std::vector<std::int32_t>(const std::string& file)>;

/// Draws windows of `options.length` tokens from `files`. The files are visited in the order of
/// `io::hash_position(file, seed)` — a fixed pseudo-random order that depends only on each file's
/// name — and every file that holds at least one window contributes until `options.files` have.
/// A file of `n` tokens gives `k = min(windows_per_file, ⌊n / length⌋)` windows: its ids are cut
/// into `k` equal segments and window `j` starts at a seeded position inside segment `j`
/// (`io::hash_position(file + "#" + j, seed)`), so windows never overlap and cover the whole file.
/// Rows are in visiting order. The sample depends only on the files' names and contents, the
/// options, and nothing else (not on threads, not on the other files' contents).
/// \throws gift::error for a length below 2, a non-positive count, or when no file holds a window.
[[nodiscard]] inline text_windows sample_windows(std::span<const std::string> files, const file_tokens& tokens_of,
                                                 const window_options& options) {
  const char* where = "gift::pipeline::sample_windows";
  gift::detail::require(options.length >= 2, where, ": window_options::length must be at least 2 (a window predicts ",
                        "its tokens 1..length-1), but is ", options.length);
  gift::detail::require(options.files >= 1 && options.windows_per_file >= 1, where,
                        ": window_options::files and windows_per_file must be at least 1, but are ", options.files,
                        " and ", options.windows_per_file);
  gift::detail::require(static_cast<bool>(tokens_of), where, ": the tokenizing function is empty");
  std::vector<std::pair<double, std::size_t>> order;
  order.reserve(files.size());
  for (std::size_t i = 0; i < files.size(); ++i) order.emplace_back(io::hash_position(files[i], options.seed), i);
  std::sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
    return a.first != b.first ? a.first < b.first : files[a.second] < files[b.second];
  });
  text_windows out;
  std::vector<std::vector<std::int32_t>> rows;
  std::int64_t contributed = 0;
  for (const auto& [position, index] : order) {
    if (contributed >= options.files) break;
    const std::string& file = files[index];
    const std::vector<std::int32_t> ids = tokens_of(file);
    ++out.files_read;
    const auto n = static_cast<std::int64_t>(ids.size());
    const std::int64_t k = std::min(options.windows_per_file, n / options.length);
    if (k == 0) continue;
    const std::int64_t segment = n / k;
    for (std::int64_t j = 0; j < k; ++j) {
      const double u = io::hash_position(file + "#" + std::to_string(j), options.seed);
      const auto room = segment - options.length + 1;  // ≥ 1: segment ≥ length
      const std::int64_t start = j * segment + std::min(room - 1, static_cast<std::int64_t>(u * static_cast<double>(room)));
      rows.emplace_back(ids.begin() + start, ids.begin() + start + options.length);
      out.files.push_back(file);
      out.offsets.push_back(start);
    }
    ++contributed;
  }
  gift::detail::require(!rows.empty(), where, ": none of the ", files.size(), " file(s) holds ", options.length,
                        " tokens; use shorter windows or other files");
  out.tokens.resize(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(options.length));
  for (std::size_t r = 0; r < rows.size(); ++r)
    for (std::int64_t t = 0; t < options.length; ++t)
      out.tokens(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(t)) = rows[r][static_cast<std::size_t>(t)];
  return out;
}

}  // namespace gift::pipeline
