#pragma once
/// \file gift/io/salient_file.hpp
/// \brief gift's salient-column file: which input columns of every linear layer stay in full
/// precision and train (written by `gift select`, read by `quantize`, `finetune` and `export`).
///
/// A text file: a comment line, then one line per layer, `<layer> <in> <k> <k column indices>`,
/// e.g. `blk.0.attn_q 576 2 7 311`. Lines starting with `#` and empty lines are skipped. Reading
/// checks every line before anything is sized by it: the width is at most
/// `max_salient_file_columns`, `0 <= k <= in`, exactly `k` indices follow, each in `[0, in)` and
/// none twice, and no layer appears twice.

#include <gift/distributed/agreement.hpp>
#include <gift/error.hpp>
#include <gift/io/atomic_file.hpp>
#include <gift/salient_columns.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <span>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

namespace gift::io {

/// The salient columns of every linear layer, by layer name (`blk.3.attn_q`).
using salient_selection = std::map<std::string, salient_columns>;

/// The widest layer a salient-column file may describe (2^24 input columns): far above any real
/// layer, and a bound on what one line of a damaged file can make the reader allocate.
inline constexpr long long max_salient_file_columns = 1LL << 24;

/// The first line of every salient-column file.
inline constexpr const char* salient_file_header = "# gift salient columns v1: layer in k indices...";

/// `selection` in the file's text form.
[[nodiscard]] inline std::string format_salient_file(const salient_selection& selection) {
  std::ostringstream out;
  out << salient_file_header << '\n';
  for (const auto& [name, s] : selection) {
    out << name << ' ' << s.columns() << ' ' << s.size();
    for (const auto j : s.indices()) out << ' ' << j;
    out << '\n';
  }
  return out.str();
}

/// Parses the text of a salient-column file; `source` names it in errors (a path, "the input").
/// \throws gift::error naming the source, the line and what is wrong with it.
[[nodiscard]] inline salient_selection parse_salient_file(std::string_view text, const std::string& source) {
  salient_selection selection;
  std::istringstream in{std::string(text)};
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line[0] == '#') continue;
    const std::string where = "'" + source + "' line " + std::to_string(number);
    std::istringstream fields(line);
    std::string name;
    long long columns = -1, k = -1;
    fields >> name >> columns >> k;
    detail::require(static_cast<bool>(fields) && columns > 0 && k >= 0 && k <= columns, where,
                    ": expected '<layer> <in> <k> <k indices>' with in >= 1 and 0 <= k <= in; rewrite the file "
                    "with gift select");
    detail::require(columns <= max_salient_file_columns, where, ": in = ", columns, " exceeds ",
                    max_salient_file_columns, " columns; the file is corrupt: rewrite it with gift select");
    // Grown index by index: a line that claims many indices but holds few allocates for those few.
    std::vector<std::int64_t> indices;
    for (long long i = 0; i < k; ++i) {
      std::int64_t j = 0;
      fields >> j;
      detail::require(static_cast<bool>(fields), where, ": expected ", k, " column indices after '", name, " ",
                      columns, " ", k, "', but the line ends after ", i, " or holds a non-number");
      indices.push_back(j);
    }
    std::string rest;
    detail::require(!(fields >> rest), where, ": unexpected '", rest, "' after the ", k, " column indices of '",
                    name, "'");
    // The factory refuses an index out of range or given twice.
    auto s = salient_columns::from_indices(indices, static_cast<std::size_t>(columns), where.c_str());
    detail::require(selection.emplace(name, std::move(s)).second, where, ": layer '", name,
                    "' appears a second time; each layer may have one line");
  }
  return selection;
}

/// Writes `selection` to `path` atomically (a reader never sees half a file), creating its folder.
inline void write_salient_file(const salient_selection& selection, const std::filesystem::path& path) {
  const std::string text = format_salient_file(selection);
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  write_file_atomically(path, std::as_bytes(std::span<const char>(text.data(), text.size())));
}

/// Reads a file written by `write_salient_file` (or `gift select`).
/// \throws gift::error when the file cannot be opened or a line is malformed (see the file's brief).
[[nodiscard]] inline salient_selection read_salient_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  detail::require(static_cast<bool>(in), "cannot open the salient-column file '", path.string(),
                  "'; write it with gift select");
  std::ostringstream text;
  text << in.rdbuf();
  return parse_salient_file(text.str(), path.string());
}

/// The selection of layer `name`.
/// \throws gift::error when the selection has no entry for it.
[[nodiscard]] inline const salient_columns& salient_of(const salient_selection& selection, const std::string& name) {
  const auto it = selection.find(name);
  detail::require(it != selection.end(), "the salient-column file has no entry for layer ", name,
                  "; run gift select on the same model");
  return it->second;
}

/// A fingerprint of a selection's contents (every layer's name, width and column indices): a
/// checkpoint records it, so that a resume with another selection is refused.
[[nodiscard]] inline std::uint64_t salient_fingerprint(const salient_selection& selection) {
  distributed::fingerprint_hasher hash;
  for (const auto& [name, s] : selection) {
    const std::uint64_t columns = s.columns();
    hash.add(name).add_values(std::span<const std::uint64_t>(&columns, 1));
    hash.add_values(std::span<const std::int64_t>(s.indices()));
  }
  return hash.value();
}

}  // namespace gift::io
