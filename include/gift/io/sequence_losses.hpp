#pragma once
/// \file gift/io/sequence_losses.hpp
/// \brief gift's per-sequence loss file: one evaluation's loss on every sequence of its evaluation
/// set, so that two evaluations can be compared paired later (`pipeline::compare_paired`).
///
/// A CSV file with the header `sequence,file,offset,tokens,nll` and one row per sequence in order:
/// its number (0, 1, ...), the file it was cut from (`-` for a token stream), the position of its
/// first token there, the tokens it predicts and its summed negative log-likelihood in nats, written
/// with 17 significant digits so the value reads back bit for bit. A file name holding a comma or a
/// double quote is quoted as RFC 4180 says (wrapped in double quotes, inner quotes doubled), which
/// Python's csv module and spreadsheets read; a line break in a name is refused on write.

#include <gift/error.hpp>
#include <gift/io/atomic_file.hpp>

#include <cerrno>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace gift::io {

/// One row of a per-sequence loss file.
struct sequence_loss {
  std::string file = "-";   ///< where the sequence was cut from (`-`: a token stream)
  std::int64_t offset = 0;  ///< position of its first token in that file's (or stream's) ids
  std::int64_t tokens = 0;  ///< tokens it predicts
  double nll = 0;           ///< summed negative log-likelihood (nats)
};

/// The header line of the format.
inline constexpr const char* sequence_losses_header = "sequence,file,offset,tokens,nll";

}  // namespace gift::io

namespace gift::detail {
/// `field` as one CSV field: quoted (inner quotes doubled) when it holds a comma or a quote.
inline std::string csv_field(const std::string& field) {
  if (field.find_first_of(",\"") == std::string::npos) return field;
  std::string out = "\"";
  for (const char c : field) out += c == '"' ? std::string("\"\"") : std::string(1, c);
  return out + "\"";
}

/// The fields of one CSV line (RFC 4180 quoting); false when a quoted field is not closed or is
/// followed by something other than a comma.
inline bool split_csv_line(const std::string& line, std::vector<std::string>& fields) {
  fields.clear();
  std::size_t i = 0;
  while (true) {
    std::string field;
    if (i < line.size() && line[i] == '"') {
      ++i;
      while (true) {
        if (i >= line.size()) return false;
        if (line[i] == '"') {
          if (i + 1 < line.size() && line[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field += line[i++];
      }
      if (i < line.size() && line[i] != ',') return false;
    } else {
      const std::size_t comma = line.find(',', i);
      field = line.substr(i, comma == std::string::npos ? std::string::npos : comma - i);
      i = comma == std::string::npos ? line.size() : comma;
    }
    fields.push_back(std::move(field));
    if (i >= line.size()) return true;
    ++i;  // the comma
  }
}
}  // namespace gift::detail

namespace gift::io {

/// Writes `rows` to `path` atomically (the old file, if any, stays until the new one is complete).
/// \throws gift::error for an empty file name or one with a line break, a negative offset or
/// count, a non-finite loss, or when the file cannot be written.
inline void write_sequence_losses(const std::filesystem::path& path, std::span<const sequence_loss> rows) {
  const char* where = "gift::io::write_sequence_losses";
  std::string text = std::string(sequence_losses_header) + "\n";
  char number[64];
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const sequence_loss& row = rows[i];
    gift::detail::require(!row.file.empty() && row.file.find_first_of("\r\n") == std::string::npos, where, ": row ",
                          i, ": the file name '", row.file, "' is empty or holds a line break");
    gift::detail::require(row.offset >= 0 && row.tokens >= 0 && std::isfinite(row.nll), where, ": row ", i,
                          ": expected offset >= 0, tokens >= 0 and a finite nll, but got ", row.offset, ", ",
                          row.tokens, ", ", row.nll);
    std::snprintf(number, sizeof number, "%.17g", row.nll);
    text += std::to_string(i) + "," + gift::detail::csv_field(row.file) + "," +
            std::to_string(row.offset) + "," + std::to_string(row.tokens) + "," + number + "\n";
  }
  write_file_atomically(path, std::as_bytes(std::span<const char>(text.data(), text.size())));
}

/// As above, for a vector.
inline void write_sequence_losses(const std::filesystem::path& path, const std::vector<sequence_loss>& rows) {
  write_sequence_losses(path, std::span<const sequence_loss>(rows));
}

/// Reads a per-sequence loss file, checking every field.
/// \throws gift::error naming the file and line for a missing file, a wrong header, a row out of
/// sequence, a field that is not a number, or a negative or non-finite value.
[[nodiscard]] inline std::vector<sequence_loss> read_sequence_losses(const std::filesystem::path& path) {
  const std::string name = path.string();
  std::ifstream in(path, std::ios::binary);
  gift::detail::require(static_cast<bool>(in), "gift::io::read_sequence_losses: cannot open '", name,
                        "'; write it with gift eval --sequence-losses");
  std::string line;
  gift::detail::require(static_cast<bool>(std::getline(in, line)) && line == sequence_losses_header,
                        "gift::io::read_sequence_losses: '", name, "' does not start with the header '",
                        sequence_losses_header, "'; it is not a per-sequence loss file");
  std::vector<sequence_loss> rows;
  std::int64_t number = 1;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    const auto fail = [&](const std::string& what) {
      throw error("gift::io::read_sequence_losses: '" + name + "' line " + std::to_string(number) + ": " + what +
                  " (the line is '" + line.substr(0, 120) + "')");
    };
    std::vector<std::string> fields;
    if (!gift::detail::split_csv_line(line, fields))
      fail("a quoted field is not closed, or text follows its closing quote");
    if (fields.size() != 5) fail("expected 5 comma-separated fields, got " + std::to_string(fields.size()));
    const auto integer = [&](const std::string& text, const char* field) {
      char* end = nullptr;
      errno = 0;
      const long long value = std::strtoll(text.c_str(), &end, 10);
      if (text.empty() || end != text.c_str() + text.size() || errno != 0 || value < 0)
        fail(std::string(field) + " '" + text + "' is not a non-negative integer");
      return static_cast<std::int64_t>(value);
    };
    sequence_loss row;
    if (integer(fields[0], "sequence") != static_cast<std::int64_t>(rows.size()))
      fail("rows must be numbered 0, 1, ... in order; expected " + std::to_string(rows.size()));
    row.file = fields[1];
    if (row.file.empty()) fail("the file field is empty");
    row.offset = integer(fields[2], "offset");
    row.tokens = integer(fields[3], "tokens");
    char* end = nullptr;
    row.nll = std::strtod(fields[4].c_str(), &end);
    if (fields[4].empty() || end != fields[4].c_str() + fields[4].size() || !std::isfinite(row.nll) || row.nll < 0)
      fail("nll '" + fields[4] + "' is not a finite non-negative number");
    rows.push_back(std::move(row));
  }
  gift::detail::require(!rows.empty(), "gift::io::read_sequence_losses: '", name, "' holds no sequence");
  return rows;
}

}  // namespace gift::io
