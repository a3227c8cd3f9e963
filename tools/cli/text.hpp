#pragma once
// Text for the commands: the model's own tokenizer, and token streams from the Debian
// linux-doc-6.1 kernel documentation (the in-domain corpus), Debian's `fortunes` (general English:
// quotations, literature, jokes — the out-of-domain corpus), both split into train / dev /
// validation by document, or a plain file.
//
// A linux-doc document is one file. A fortunes document is a block of `fortune_block` consecutive
// fortunes of one collection ("<collection>#<block>"): the package has 43 collections of very
// different sizes, so splitting whole collections would give validation three or four of them;
// blocks put every collection in every split and give an evaluation sample hundreds of documents
// to stratify over.
#include <gift/error.hpp>
#include <gift/io/gguf.hpp>
#include <gift/io/text_data.hpp>
#include <gift/io/tokenizer.hpp>
#include <gift/pipeline/eval_set.hpp>

#include <algorithm>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "args.hpp"
#include "model_io.hpp"

namespace gift::cli {

/// Declares --data and --split (`default_split` is the command's natural split).
inline void text_options(arguments& args, const std::string& default_split) {
  args.option("data", "linux-doc", "linux-doc (Debian linux-doc-6.1, split by file), fortunes (Debian fortunes: "
                                   "general English, split by file) or a UTF-8 text file")
      .option("split", default_split, "train | dev | validation (a corpus: 10% of its documents by name hash "
                                      "for validation, the next 10% for dev, the rest for training; a text file: "
                                      "first 90% / last 10%, no dev)")
      .option("docs", "/usr/share/doc/linux-doc-6.1/Documentation", "where linux-doc's .rst.gz files are")
      .integer_option("data-seed", "0", "draws which documents of the split fill the token budget, and their order",
                      0, 9223372036854775807LL);
}

/// Where Debian's fortunes package puts its collections.
inline constexpr const char* fortunes_folder = "/usr/share/games/fortunes";

/// A short description of the text source, for reports.
inline std::string text_description(const arguments& args) { return args.get("data") + ":" + args.get("split"); }

/// The tokenizer of the model (GGUF metadata, or the folder's tokenizer.json).
inline io::tokenizer load_tokenizer(const arguments& args) { return model::open_tokenizer(model_path(args)); }

/// Fortunes per fortunes document (see the file comment).
inline constexpr std::size_t fortune_block = 16;

/// The fortunes of one collection file (entries separated by lines holding only '%').
inline std::vector<std::string> read_fortunes(const std::filesystem::path& file) {
  const std::string text = io::read_text_file(file);
  std::vector<std::string> entries;
  std::string current;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    const std::string_view line(text.data() + start, end - start);
    if (line == "%") {
      if (!current.empty()) entries.push_back(std::move(current));
      current.clear();
    } else {
      current.append(line).push_back('\n');
    }
    start = end + 1;
  }
  if (!current.empty()) entries.push_back(std::move(current));
  return entries;
}

/// The documents of the chosen split of a corpus (linux-doc files or fortunes blocks), in the
/// corpus's own sorted order, and how to read one; refuses a plain --data file (it has no
/// documents to sample across).
struct split_files {
  std::filesystem::path root;
  std::vector<std::string> files;  ///< document names: a path under root, or "<collection>#<block>"
  bool fortunes = false;

  /// The text of document `name`.
  std::string read(const std::string& name) const {
    if (!fortunes) return io::read_text_file(root / name);
    const std::size_t hash = name.rfind('#');
    const std::string collection = name.substr(0, hash);
    const std::size_t block = static_cast<std::size_t>(std::stoull(name.substr(hash + 1)));
    if (collection != cached_collection) {
      cached = read_fortunes(root / collection);
      cached_collection = collection;
    }
    std::string text;
    for (std::size_t i = block * fortune_block; i < std::min(cached.size(), (block + 1) * fortune_block); ++i)
      text += cached[i] + "\n";
    return text;
  }

 private:
  mutable std::string cached_collection;  // documents are read collection by collection
  mutable std::vector<std::string> cached;
};
/// The document names of every fortunes collection under `root`, sorted.
inline std::vector<std::string> fortunes_documents(const std::filesystem::path& root) {
  std::vector<std::string> collections, documents;
  std::error_code status;
  if (std::filesystem::is_directory(root, status)) {
    for (const auto& entry : std::filesystem::directory_iterator(root)) {
      const std::string name = entry.path().filename().string();
      if (!entry.is_symlink() && entry.is_regular_file() && name.find('.') == std::string::npos)
        collections.push_back(name);
    }
  }
  std::sort(collections.begin(), collections.end());
  for (const auto& collection : collections) {
    const std::size_t count = read_fortunes(root / collection).size();
    for (std::size_t block = 0; block * fortune_block < count; ++block) {
      char suffix[16];
      std::snprintf(suffix, sizeof suffix, "#%04zu", block);
      documents.push_back(collection + suffix);
    }
  }
  return documents;
}
inline split_files files_of_split(const arguments& args) {
  const std::string data = args.get("data"), split = args.get("split");
  gift::require(split == "train" || split == "dev" || split == "validation",
                "gift: --split must be train, dev or validation, not '", split, "'");
  split_files out;
  std::vector<std::string> files;
  if (data == "fortunes") {
    out.root = fortunes_folder;
    out.fortunes = true;
    files = fortunes_documents(out.root);
    gift::require(!files.empty(), "gift: no fortune files under '", out.root.string(),
                  "'; install Debian's fortunes package (bash .ci/setup) or pass --data <file>");
  } else if (data == "linux-doc") {
    out.root = args.get("docs");
    files = io::list_text_files(out.root, {".rst.gz", ".rst", ".txt.gz", ".txt"});
    gift::require(!files.empty(), "gift: no documentation files under '", out.root.string(),
                  "'; install Debian's linux-doc-6.1 (bash .ci/setup) or pass --docs / --data <file>");
  } else {
    throw error("gift: --files samples windows across the files of a corpus; --data '" + data +
                "' is one file: use --data linux-doc or fortunes, or leave --files at 0");
  }
  const io::text_split parts = io::split_by_file(files, 0.1, 0, 0.1);
  out.files = split == "train" ? parts.train : split == "dev" ? parts.dev : parts.validation;
  return out;
}

/// The evaluation windows of the chosen split: one or more `length`-token windows from each of
/// `files` files (pipeline::sample_windows; each file tokenized on its own).
inline pipeline::text_windows sample_text_windows(const arguments& args, const io::tokenizer& tokenizer,
                                                  const pipeline::window_options& options) {
  const split_files split = files_of_split(args);
  return pipeline::sample_windows(split.files, [&](const std::string& file) {
    std::vector<std::int32_t> ids;
    tokenizer.encode_append(split.read(file), ids);
    return ids;
  }, options);
}

/// Up to `max_tokens` token ids of the chosen split: whole documents (separated by EOS) until the
/// budget is met, in the order of `io::hash_position(name, --data-seed)` (so a budget samples every
/// part of the corpus instead of its alphabetically first folder, and another data seed draws
/// another sample in another order) — or the lines of a plain file.
inline std::vector<std::int32_t> load_text_tokens(const arguments& args, const io::tokenizer& tokenizer,
                                                  std::int64_t max_tokens) {
  const std::string data = args.get("data"), split = args.get("split");
  gift::require(split == "train" || split == "dev" || split == "validation",
                "gift: --split must be train, dev or validation, not '", split, "'");
  gift::require(data == "fortunes" || data == "linux-doc" || split != "dev",
                "gift: --split dev needs a corpus (--data linux-doc or fortunes); a text file has train and "
                "validation only");
  gift::require(max_tokens > 0, "gift: the token budget must be positive");
  std::vector<std::int32_t> ids;
  if (data == "fortunes" || data == "linux-doc") {
    split_files chosen = files_of_split(args);
    const auto seed = static_cast<std::uint64_t>(args.integer("data-seed"));
    std::sort(chosen.files.begin(), chosen.files.end(), [seed](const std::string& a, const std::string& b) {
      const double at_a = io::hash_position(a, seed), at_b = io::hash_position(b, seed);
      return at_a != at_b ? at_a < at_b : a < b;
    });
    const std::int32_t eos = tokenizer.special().eos;
    for (const auto& file : chosen.files) {
      if (static_cast<std::int64_t>(ids.size()) >= max_tokens) break;
      tokenizer.encode_append(chosen.read(file), ids);
      if (eos >= 0) ids.push_back(eos);
    }
  } else {
    std::ifstream in(data, std::ios::binary);
    gift::require(static_cast<bool>(in), "gift: cannot read --data '", data, "'");
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
