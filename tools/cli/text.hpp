#pragma once
// Text for the commands: the model's own tokenizer, and token streams from the Debian
// linux-doc-6.1 kernel documentation (the in-domain corpus), Debian's `fortunes` (general English:
// quotations, literature, jokes — the out-of-domain corpus), both split into train / validation
// by file, or a plain file.
#include <gift/error.hpp>
#include <gift/io/gguf.hpp>
#include <gift/io/text_data.hpp>
#include <gift/io/tokenizer.hpp>
#include <gift/pipeline/eval_set.hpp>

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

/// The folder and the files of the chosen split of a corpus (linux-doc or fortunes), in the
/// corpus's own sorted order; refuses a plain --data file (it has no files to sample across).
struct split_files {
  std::filesystem::path root;
  std::vector<std::string> files;
};
inline split_files files_of_split(const arguments& args) {
  const std::string data = args.get("data"), split = args.get("split");
  gift::detail::require(split == "train" || split == "validation", "gift: --split must be train or validation, not '",
                        split, "'");
  split_files out;
  std::vector<std::string> files;
  if (data == "fortunes") {
    out.root = fortunes_folder;
    std::error_code status;
    if (std::filesystem::is_directory(out.root, status)) {
      for (const auto& entry : std::filesystem::directory_iterator(out.root)) {
        const std::string name = entry.path().filename().string();
        if (!entry.is_symlink() && entry.is_regular_file() && name.find('.') == std::string::npos) files.push_back(name);
      }
    }
    gift::detail::require(!files.empty(), "gift: no fortune files under '", out.root.string(),
                          "'; install Debian's fortunes package (bash .ci/setup) or pass --data <file>");
    std::sort(files.begin(), files.end());
  } else if (data == "linux-doc") {
    out.root = args.get("docs");
    files = io::list_text_files(out.root, {".rst.gz", ".rst", ".txt.gz", ".txt"});
    gift::detail::require(!files.empty(), "gift: no documentation files under '", out.root.string(),
                          "'; install Debian's linux-doc-6.1 (bash .ci/setup) or pass --docs / --data <file>");
  } else {
    throw error("gift: --files samples windows across the files of a corpus; --data '" + data +
                "' is one file: use --data linux-doc or fortunes, or leave --files at 0");
  }
  const io::text_split parts = io::split_by_file(files, 0.1);
  out.files = split == "train" ? parts.train : parts.validation;
  return out;
}

/// The evaluation windows of the chosen split: one or more `length`-token windows from each of
/// `files` files (pipeline::sample_windows; each file tokenized on its own).
inline pipeline::text_windows sample_text_windows(const arguments& args, const io::tokenizer& tokenizer,
                                                  const pipeline::window_options& options) {
  const split_files split = files_of_split(args);
  return pipeline::sample_windows(split.files, [&](const std::string& file) {
    std::vector<std::int32_t> ids;
    tokenizer.encode_append(io::read_text_file(split.root / file), ids);
    return ids;
  }, options);
}

/// Up to `max_tokens` token ids of the chosen split: whole files (separated by EOS) until the
/// budget is met — fortunes in name order, linux-doc in hash order (so a budget samples every part
/// of the tree instead of the alphabetically first folder) — or the lines of a plain file.
inline std::vector<std::int32_t> load_text_tokens(const arguments& args, const io::tokenizer& tokenizer,
                                                  std::int64_t max_tokens) {
  const std::string data = args.get("data"), split = args.get("split");
  gift::detail::require(split == "train" || split == "validation", "gift: --split must be train or validation, not '",
                        split, "'");
  gift::detail::require(max_tokens > 0, "gift: the token budget must be positive");
  std::vector<std::int32_t> ids;
  if (data == "fortunes" || data == "linux-doc") {
    split_files chosen = files_of_split(args);
    if (data == "linux-doc") {
      std::sort(chosen.files.begin(), chosen.files.end(), [](const std::string& a, const std::string& b) {
        return io::fnv1a64(a) != io::fnv1a64(b) ? io::fnv1a64(a) < io::fnv1a64(b) : a < b;
      });
    }
    const std::int32_t eos = tokenizer.special().eos;
    for (const auto& file : chosen.files) {
      if (static_cast<std::int64_t>(ids.size()) >= max_tokens) break;
      tokenizer.encode_append(io::read_text_file(chosen.root / file), ids);
      if (eos >= 0) ids.push_back(eos);
    }
  } else {
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
  }
  if (static_cast<std::int64_t>(ids.size()) > max_tokens) ids.resize(static_cast<std::size_t>(max_tokens));
  return ids;
}

}  // namespace gift::cli
