#pragma once
// Text for the commands: the model's own tokenizer, and token streams from the Debian
// linux-doc-6.1 kernel documentation (the in-domain corpus), Debian's `fortunes` (general English:
// quotations, literature, jokes — the out-of-domain corpus), both split into train / validation
// by file, or a plain file.
#include <gift/error.hpp>
#include <gift/io/gguf.hpp>
#include <gift/io/text_data.hpp>
#include <gift/io/tokenizer.hpp>

#include <algorithm>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "args.hpp"
#include "model_io.hpp"

namespace gift::cli {

/// Declares --data and --split (`default_split` is the command's natural split).
inline void text_options(arguments& args, const std::string& default_split) {
  args.option("data", "linux-doc", "linux-doc (Debian linux-doc-6.1, split by file), fortunes (Debian fortunes: "
                                   "general English, split by file) or a UTF-8 text file")
      .option("split", default_split, "train | validation (linux-doc: 10% of the files by path hash; a text file: "
                                      "first 90% / last 10%)")
      .option("docs", "/usr/share/doc/linux-doc-6.1/Documentation", "where linux-doc's .rst.gz files are");
}

/// Where Debian's fortunes package puts its collections.
inline constexpr const char* fortunes_folder = "/usr/share/games/fortunes";

/// A short description of the text source, for reports.
inline std::string text_description(const arguments& args) { return args.get("data") + ":" + args.get("split"); }

/// The tokenizer of the model (GGUF metadata, or the folder's tokenizer.json).
inline io::tokenizer load_tokenizer(const arguments& args) { return model::open_tokenizer(model_path(args)); }

/// Up to `max_tokens` token ids of the chosen split.
inline std::vector<std::int32_t> load_text_tokens(const arguments& args, const io::tokenizer& tokenizer,
                                                  std::int64_t max_tokens) {
  const std::string data = args.get("data"), split = args.get("split");
  gift::detail::require(split == "train" || split == "validation", "gift: --split must be train or validation, not '",
                        split, "'");
  gift::detail::require(max_tokens > 0, "gift: the token budget must be positive");
  std::vector<std::int32_t> ids;
  if (data == "fortunes") {
    // One file per collection; the .dat indexes and the .u8 links beside them are not text.
    const std::filesystem::path root = fortunes_folder;
    std::vector<std::string> files;
    std::error_code status;
    if (std::filesystem::is_directory(root, status)) {
      for (const auto& entry : std::filesystem::directory_iterator(root)) {
        const std::string name = entry.path().filename().string();
        if (!entry.is_symlink() && entry.is_regular_file() && name.find('.') == std::string::npos) files.push_back(name);
      }
    }
    gift::detail::require(!files.empty(), "gift: no fortune files under '", root.string(),
                          "'; install Debian's fortunes package (bash .ci/setup) or pass --data <file>");
    std::sort(files.begin(), files.end());
    const io::text_split parts = io::split_by_file(files, 0.1);
    const std::int32_t eos = tokenizer.special().eos;
    for (const auto& file : split == "train" ? parts.train : parts.validation) {
      if (static_cast<std::int64_t>(ids.size()) >= max_tokens) break;
      tokenizer.encode_append(io::read_text_file(root / file), ids);
      if (eos >= 0) ids.push_back(eos);
    }
  } else if (data != "linux-doc") {
    std::ifstream in(data, std::ios::binary);
    gift::detail::require(static_cast<bool>(in), "gift: cannot read --data '", data, "'");
    std::ostringstream content;
    content << in.rdbuf();
    const std::string text = content.str();
    // Cut at a line boundary near 90%, so the two splits share no line.
    std::size_t cut = text.size() * 9 / 10;
    while (cut < text.size() && text[cut] != '\n') ++cut;
    const std::string part = split == "train" ? text.substr(0, cut) : text.substr(std::min(cut + 1, text.size()));
    // Tokenize line groups until the budget is met: large files need not be encoded whole.
    std::size_t position = 0;
    while (position < part.size() && static_cast<std::int64_t>(ids.size()) < max_tokens) {
      std::size_t end = std::min(part.size(), position + 65536);
      while (end < part.size() && part[end] != '\n') ++end;
      tokenizer.encode_append(std::string_view(part).substr(position, end - position), ids);
      position = end;
    }
  } else {
    const std::filesystem::path root = args.get("docs");
    const auto files = io::list_text_files(root, {".rst.gz", ".rst", ".txt.gz", ".txt"});
    gift::detail::require(!files.empty(), "gift: no documentation files under '", root.string(),
                          "'; install Debian's linux-doc-6.1 (bash .ci/setup) or pass --docs / --data <file>");
    const io::text_split parts = io::split_by_file(files, 0.1);
    std::vector<std::string> chosen = split == "train" ? parts.train : parts.validation;
    // Files in hash order: a token budget then samples every part of the tree instead of the
    // alphabetically first folder. Documents are separated by EOS.
    std::sort(chosen.begin(), chosen.end(), [](const std::string& a, const std::string& b) {
      return io::fnv1a64(a) != io::fnv1a64(b) ? io::fnv1a64(a) < io::fnv1a64(b) : a < b;
    });
    const std::int32_t eos = tokenizer.special().eos;
    for (const auto& file : chosen) {
      if (static_cast<std::int64_t>(ids.size()) >= max_tokens) break;
      tokenizer.encode_append(io::read_text_file(root / file), ids);
      if (eos >= 0) ids.push_back(eos);
    }
  }
  if (static_cast<std::int64_t>(ids.size()) > max_tokens) ids.resize(static_cast<std::size_t>(max_tokens));
  return ids;
}

}  // namespace gift::cli
