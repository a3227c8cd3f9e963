#pragma once
/// \file gift/io/tokenizer.hpp
/// \brief Byte-level BPE tokenizer (GPT-2 family) built from a GGUF file's `tokenizer.ggml.*`
/// metadata: pre-tokenizer split, merges by rank, special tokens, encode and decode.
///
/// Encoding follows the Hugging Face `tokenizers` pipeline for these models, so the ids agree:
/// 1. added tokens are cut out of the text first: user-defined tokens always, control tokens
///    (`<|im_start|>` ...) when `encode_options::parse_special` is set; longest match wins;
/// 2. the rest is split by the pre-tokenizer. `gpt2` is the regex
///    `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`, implemented
///    by hand (no std::regex); `gpt2_digits` first isolates every `\p{N}` character, as the
///    "smollm" / "starcoder" pre-tokenizers (tokenizers' `Digits(individual_digits=True)`) do;
/// 3. each piece's bytes become byte-level symbols (GPT-2's byte-to-unicode table) and pairs are
///    merged lowest rank first, leftmost first among equal ranks.
///
/// \code
/// auto file = gift::io::gguf_file::open("model.gguf");
/// auto tokenizer = gift::io::tokenizer::from_gguf(file);
/// auto ids = tokenizer.encode("<|im_start|>user\nHi", {.parse_special = true});
/// std::string text = tokenizer.decode(ids);
/// \endcode

#include <gift/error.hpp>
#include <gift/io/gguf.hpp>
#include <gift/io/unicode.hpp>

#include <algorithm>
#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <queue>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace gift::io {

/// How text is split into pieces before BPE.
enum class pre_tokenizer_kind {
  gpt2,         ///< the GPT-2 regex alone
  gpt2_digits,  ///< every number character on its own, then the GPT-2 regex (smollm, starcoder)
};

/// The pre-tokenizer llama.cpp names `name` in `tokenizer.ggml.pre`, or nothing if gift does not
/// implement it.
[[nodiscard]] inline std::optional<pre_tokenizer_kind> pre_tokenizer_from_name(std::string_view name) noexcept {
  if (name == "gpt2" || name == "gpt-2") return pre_tokenizer_kind::gpt2;
  for (std::string_view digits : {"smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva"}) {
    if (name == digits) return pre_tokenizer_kind::gpt2_digits;
  }
  return std::nullopt;
}

/// Token types stored in `tokenizer.ggml.token_type`.
enum class token_kind : std::int32_t {
  normal = 1, unknown = 2, control = 3, user_defined = 4, unused = 5, byte = 6,
};

}  // namespace gift::io

namespace gift::detail {

/// The GPT-2 regex over text[begin, end): calls `emit(piece_begin, piece_end)` for each match.
template <class Emit>
void gpt2_split(std::string_view text, std::size_t begin, std::size_t end, Emit&& emit) {
  const std::string_view segment = text.substr(0, end);
  const auto class_at = [&](std::size_t pos) { return io::classify(io::decode_utf8(segment, pos).value); };
  const auto run_end = [&](std::size_t pos, io::char_class wanted) {  // end of a run of `wanted`
    while (pos < end) {
      const io::decoded_char c = io::decode_utf8(segment, pos);
      if (io::classify(c.value) != wanted) break;
      pos += c.length;
    }
    return pos;
  };
  std::size_t pos = begin;
  while (pos < end) {
    const std::size_t start = pos;
    const char first = text[pos];
    // 's 't 're 've 'm 'll 'd (ASCII, case-sensitive)
    if (first == '\'' && pos + 1 < end) {
      const char a = text[pos + 1];
      if (a == 's' || a == 't' || a == 'm' || a == 'd') {
        emit(start, pos + 2);
        pos += 2;
        continue;
      }
      if (pos + 2 < end) {
        const char b = text[pos + 2];
        if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) {
          emit(start, pos + 3);
          pos += 3;
          continue;
        }
      }
    }
    // ` ?\p{L}+`, ` ?\p{N}+`, ` ?[^\s\p{L}\p{N}]+`: an optional ASCII space, then a run.
    std::size_t body = pos;
    if (first == ' ' && pos + 1 < end) body = pos + 1;
    const io::char_class body_class = class_at(body);
    if (body_class != io::char_class::space) {
      pos = run_end(body, body_class);
      emit(start, pos);
      continue;
    }
    // `\s+(?!\S)` then `\s+`: a run of white space, minus its last character when a non-space
    // follows (that character then prefixes the next piece), but never less than one character.
    const std::size_t stop = run_end(pos, io::char_class::space);
    if (stop < end) {
      std::size_t last = stop - 1;  // start of the run's last character
      while (last > pos && (static_cast<unsigned char>(text[last]) & 0xC0) == 0x80) --last;
      if (last > pos) {
        emit(start, last);
        pos = last;
        continue;
      }
    }
    emit(start, stop);
    pos = stop;
  }
}

}  // namespace gift::detail

namespace gift::io {

/// Splits `text` into pre-tokens (views into `text`), calling `emit(piece)` for each in order.
/// The pieces concatenate back to `text` exactly.
template <class Emit>
  requires std::invocable<Emit&, std::string_view>
void pre_tokenize(std::string_view text, pre_tokenizer_kind kind, Emit&& emit) {
  const auto forward = [&](std::size_t a, std::size_t b) { emit(text.substr(a, b - a)); };
  if (kind == pre_tokenizer_kind::gpt2) {
    detail::gpt2_split(text, 0, text.size(), forward);
    return;
  }
  std::size_t segment = 0;
  std::size_t pos = 0;
  while (pos < text.size()) {
    const decoded_char c = decode_utf8(text, pos);
    if (classify(c.value) == char_class::number) {
      if (segment < pos) detail::gpt2_split(text, segment, pos, forward);
      forward(pos, pos + c.length);
      segment = pos + c.length;
    }
    pos += c.length;
  }
  if (segment < text.size()) detail::gpt2_split(text, segment, text.size(), forward);
}

/// Splits `text` into pre-tokens, returned as views into `text`.
[[nodiscard]] inline std::vector<std::string_view> pre_tokenize(std::string_view text, pre_tokenizer_kind kind) {
  std::vector<std::string_view> pieces;
  pre_tokenize(text, kind, [&](std::string_view piece) { pieces.push_back(piece); });
  return pieces;
}

/// GPT-2's reversible map from bytes to printable code points: printable Latin-1 bytes map to
/// themselves, the other 68 bytes to U+0100 onwards in byte order (space becomes 'Ġ', U+0120).
[[nodiscard]] constexpr char32_t byte_to_unicode(std::uint8_t byte) noexcept {
  const auto printable = [](unsigned b) { return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE); };
  if (printable(byte)) return byte;
  unsigned index = 0;
  for (unsigned b = 0; b < byte; ++b) {
    if (!printable(b)) ++index;
  }
  return 0x100 + index;
}

/// Options of `tokenizer::encode`.
struct encode_options {
  bool parse_special = false;  ///< recognise control tokens such as `<|im_start|>` in the text
  bool add_bos = false;        ///< prepend the BOS id (error if the vocabulary has none)
  bool add_eos = false;        ///< append the EOS id (error if the vocabulary has none)
};

/// Special token ids of a vocabulary; -1 where it has none.
struct special_token_ids {
  std::int32_t bos = -1;  ///< beginning of sequence
  std::int32_t eos = -1;  ///< end of sequence
  std::int32_t unk = -1;  ///< unknown
  std::int32_t pad = -1;  ///< padding
};

/// A byte-level BPE tokenizer. Immutable after construction; `encode` and `decode` are const and
/// safe to call from several threads at once.
class tokenizer {
public:
  /// Special token ids.
  using special_ids = special_token_ids;

  /// Builds a tokenizer from vocabulary strings (byte-level encoded, id = index), merges ("a b",
  /// rank = index), token kinds (empty = all normal), a pre-tokenizer, the special ids and
  /// whether the model expects a BOS in front. Throws `gift::error` for a malformed merge, a
  /// merge whose parts or result are not in the vocabulary, or ids out of range.
  tokenizer(std::vector<std::string> tokens, std::span<const std::string> merges, std::vector<token_kind> kinds,
            pre_tokenizer_kind pre, special_ids special = {}, bool add_bos_by_default = false)
      : tokens_(std::move(tokens)), kinds_(std::move(kinds)), pre_(pre), special_(special),
        add_bos_default_(add_bos_by_default), merge_list_(merges.begin(), merges.end()) {
    if (kinds_.empty()) kinds_.assign(tokens_.size(), token_kind::normal);
    detail::require(kinds_.size() == tokens_.size(), "gift::io::tokenizer: ", tokens_.size(), " tokens but ",
                    kinds_.size(), " token types; the vocabulary is inconsistent");
    detail::require(tokens_.size() < (std::size_t{1} << 31), "gift::io::tokenizer: vocabulary too large");
    for (const std::int32_t id : {special_.bos, special_.eos, special_.unk, special_.pad}) {
      detail::require(id >= -1 && id < static_cast<std::int64_t>(tokens_.size()), "gift::io::tokenizer: special token id ",
                      id, " is outside the vocabulary of ", tokens_.size());
    }
    ids_.reserve(tokens_.size());
    for (std::size_t id = 0; id < tokens_.size(); ++id) {
      ids_.emplace(tokens_[id], static_cast<std::int32_t>(id));  // first id wins for duplicates
      if (kinds_[id] == token_kind::control || kinds_[id] == token_kind::user_defined) {
        if (!tokens_[id].empty()) added_.push_back({tokens_[id], static_cast<std::int32_t>(id), kinds_[id] == token_kind::control});
      }
    }
    std::stable_sort(added_.begin(), added_.end(), [](const auto& a, const auto& b) { return a.text.size() > b.text.size(); });
    for (const auto& added : added_) added_first_byte_[static_cast<unsigned char>(added.text[0])] = true;

    // Byte symbols and their inverse.
    unicode_to_byte_.fill(-1);
    for (unsigned b = 0; b < 256; ++b) {
      const char32_t cp = byte_to_unicode(static_cast<std::uint8_t>(b));
      unicode_to_byte_[cp] = static_cast<std::int16_t>(b);
      std::string symbol;
      append_utf8(symbol, cp);
      const auto it = ids_.find(symbol);
      byte_ids_[b] = it == ids_.end() ? -1 : it->second;  // missing bytes are dropped, as tokenizers does
    }

    merges_.reserve(merges.size());
    for (std::size_t rank = 0; rank < merges.size(); ++rank) {
      const std::string& merge = merges[rank];
      const std::size_t space = merge.find(' ');
      detail::require(space != std::string::npos && merge.find(' ', space + 1) == std::string::npos && space > 0 &&
                          space + 1 < merge.size(),
                      "gift::io::tokenizer: merge ", rank, " '", merge, "' must be two tokens separated by one space");
      const std::string left = merge.substr(0, space);
      const std::string right = merge.substr(space + 1);
      const auto a = ids_.find(left);
      const auto b = ids_.find(right);
      const auto ab = ids_.find(left + right);
      detail::require(a != ids_.end() && b != ids_.end() && ab != ids_.end(), "gift::io::tokenizer: merge ", rank, " '",
                      merge, "' uses or makes a token that is not in the vocabulary");
      // Later duplicates replace earlier ones, as in tokenizers.
      merges_.insert_or_assign(pair_key(a->second, b->second), merge_entry{static_cast<std::uint32_t>(rank), ab->second});
    }
  }

  /// The tokenizer described by a GGUF file's `tokenizer.ggml.*` metadata. Only byte-level BPE
  /// (`tokenizer.ggml.model` = "gpt2") is supported; `pre` overrides `tokenizer.ggml.pre`.
  [[nodiscard]] static tokenizer from_gguf(const gguf_file& file, std::optional<pre_tokenizer_kind> pre = std::nullopt) {
    const std::string& model = file.metadata("tokenizer.ggml.model").as_string();
    detail::require(model == "gpt2", "gift::io::tokenizer::from_gguf: '", file.name(), "' has tokenizer model '", model,
                    "'; only byte-level BPE ('gpt2') is supported");
    if (!pre) {
      const gguf_value* name = file.find_metadata("tokenizer.ggml.pre");
      detail::require(name != nullptr, "gift::io::tokenizer::from_gguf: '", file.name(),
                      "' has no tokenizer.ggml.pre; pass the pre-tokenizer explicitly");
      pre = pre_tokenizer_from_name(name->as_string());
      detail::require(pre.has_value(), "gift::io::tokenizer::from_gguf: pre-tokenizer '", name->as_string(),
                      "' is not implemented (supported: gpt2, smollm, starcoder, refact, command-r, codeshell, "
                      "exaone, minerva); pass one explicitly if its regex is the same");
    }
    std::vector<std::string> tokens = file.metadata("tokenizer.ggml.tokens").array_of<std::string>();
    std::vector<std::string> merges;
    if (const gguf_value* m = file.find_metadata("tokenizer.ggml.merges")) merges = m->array_of<std::string>();
    std::vector<token_kind> kinds;
    if (const gguf_value* types = file.find_metadata("tokenizer.ggml.token_type")) {
      kinds.reserve(types->size());
      for (const auto& t : types->as_array()) {
        const std::int64_t v = t.as_int();
        detail::require(v >= 1 && v <= 6, "gift::io::tokenizer::from_gguf: token type ", v, " is not 1..6");
        kinds.push_back(static_cast<token_kind>(v));
      }
    }
    special_ids special;
    const auto id_of = [&](const char* key) -> std::int32_t {
      const gguf_value* v = file.find_metadata(key);
      return v == nullptr ? -1 : static_cast<std::int32_t>(std::min<std::int64_t>(v->as_int(), std::int64_t{1} << 31));
    };
    special.bos = id_of("tokenizer.ggml.bos_token_id");
    special.eos = id_of("tokenizer.ggml.eos_token_id");
    special.unk = id_of("tokenizer.ggml.unknown_token_id");
    special.pad = id_of("tokenizer.ggml.padding_token_id");
    const gguf_value* add_bos = file.find_metadata("tokenizer.ggml.add_bos_token");
    return tokenizer(std::move(tokens), merges, std::move(kinds), *pre, special, add_bos != nullptr && add_bos->as_bool());
  }

  /// Encodes UTF-8 `text` to token ids.
  [[nodiscard]] std::vector<std::int32_t> encode(std::string_view text, const encode_options& options = {}) const {
    std::vector<std::int32_t> ids;
    ids.reserve(text.size() / 3 + 2);
    encode_append(text, ids, options);
    return ids;
  }

  /// Encodes `text` and appends the ids to `ids`.
  void encode_append(std::string_view text, std::vector<std::int32_t>& ids, const encode_options& options = {}) const {
    if (options.add_bos) {
      detail::require(special_.bos >= 0, "gift::io::tokenizer::encode: add_bos is set, but the vocabulary has no BOS token");
      ids.push_back(special_.bos);
    }
    scratch work;
    std::size_t plain = 0;  // start of text not yet encoded
    if (!added_.empty()) {
      for (std::size_t pos = 0; pos < text.size();) {
        const added_token* match = nullptr;
        if (added_first_byte_[static_cast<unsigned char>(text[pos])]) {
          for (const auto& added : added_) {  // longest first
            if ((options.parse_special || !added.control) && text.compare(pos, added.text.size(), added.text) == 0) {
              match = &added;
              break;
            }
          }
        }
        if (match == nullptr) {
          ++pos;
          continue;
        }
        encode_plain(text.substr(plain, pos - plain), ids, work);
        ids.push_back(match->id);
        pos += match->text.size();
        plain = pos;
      }
    }
    encode_plain(text.substr(plain), ids, work);
    if (options.add_eos) {
      detail::require(special_.eos >= 0, "gift::io::tokenizer::encode: add_eos is set, but the vocabulary has no EOS token");
      ids.push_back(special_.eos);
    }
  }

  /// Decodes ids back to text (bytes; a cut-off multi-byte character stays cut). Control tokens
  /// are written as their text unless `skip_special`. Throws `gift::error` for an id outside the
  /// vocabulary.
  [[nodiscard]] std::string decode(std::span<const std::int32_t> ids, bool skip_special = false) const {
    std::string out;
    for (const std::int32_t id : ids) {
      detail::require(id >= 0 && static_cast<std::size_t>(id) < tokens_.size(), "gift::io::tokenizer::decode: id ", id,
                      " is outside the vocabulary of ", tokens_.size());
      const token_kind kind = kinds_[static_cast<std::size_t>(id)];
      if (skip_special && kind == token_kind::control) continue;
      const std::string& token = tokens_[static_cast<std::size_t>(id)];
      for (std::size_t pos = 0; pos < token.size();) {
        const decoded_char c = decode_utf8(token, pos);
        const std::int16_t byte = c.value < unicode_to_byte_.size() ? unicode_to_byte_[c.value] : std::int16_t{-1};
        if (byte >= 0 && c.value != 0xFFFD) {
          out.push_back(static_cast<char>(byte));
        } else {
          out.append(token, pos, c.length);  // not a byte symbol: keep as written
        }
        pos += c.length;
      }
    }
    return out;
  }

  /// Number of tokens in the vocabulary.
  [[nodiscard]] std::size_t vocab_size() const noexcept { return tokens_.size(); }
  /// The vocabulary string of `id` (byte-level encoded, e.g. "Ġthe").
  [[nodiscard]] const std::string& token_text(std::int32_t id) const {
    detail::require(id >= 0 && static_cast<std::size_t>(id) < tokens_.size(), "gift::io::tokenizer::token_text: id ", id,
                    " is outside the vocabulary of ", tokens_.size());
    return tokens_[static_cast<std::size_t>(id)];
  }
  /// The id of vocabulary string `token`, or -1.
  [[nodiscard]] std::int32_t token_id(std::string_view token) const {
    const auto it = ids_.find(std::string(token));
    return it == ids_.end() ? -1 : it->second;
  }
  /// The kind of token `id`.
  [[nodiscard]] token_kind kind(std::int32_t id) const {
    (void)token_text(id);  // range check
    return kinds_[static_cast<std::size_t>(id)];
  }
  /// Special token ids.
  [[nodiscard]] const special_ids& special() const noexcept { return special_; }
  /// The pre-tokenizer in use.
  [[nodiscard]] pre_tokenizer_kind pre_tokenizer() const noexcept { return pre_; }
  /// Whether the model expects a BOS token in front (`tokenizer.ggml.add_bos_token`).
  [[nodiscard]] bool add_bos_by_default() const noexcept { return add_bos_default_; }
  /// The vocabulary strings, index = id (what an exporter writes back).
  [[nodiscard]] std::span<const std::string> tokens() const noexcept { return tokens_; }
  /// The kind of every token, index = id.
  [[nodiscard]] std::span<const token_kind> kinds() const noexcept { return kinds_; }
  /// The merges as given ("a b"), index = rank.
  [[nodiscard]] std::span<const std::string> merges() const noexcept { return merge_list_; }

private:
  struct merge_entry {
    std::uint32_t rank;
    std::int32_t id;
  };
  struct added_token {
    std::string text;
    std::int32_t id;
    bool control;  // parsed only on request; user-defined tokens always
  };
  struct symbol {
    std::int32_t id;
    std::int32_t prev;
    std::int32_t next;
    bool alive;
  };
  struct candidate {
    std::uint32_t rank;
    std::int32_t pos;
    std::int32_t id;
    bool operator>(const candidate& other) const noexcept {
      return rank != other.rank ? rank > other.rank : pos > other.pos;
    }
  };
  // Buffers reused across the pieces of one encode call.
  struct scratch {
    std::vector<symbol> symbols;
    std::vector<candidate> heap;
    std::unordered_map<std::string_view, std::pair<std::size_t, std::size_t>> cache;  // piece -> span in ids
  };

  static constexpr std::uint64_t pair_key(std::int32_t a, std::int32_t b) noexcept {
    return (static_cast<std::uint64_t>(static_cast<std::uint32_t>(a)) << 32) | static_cast<std::uint32_t>(b);
  }

  const merge_entry* find_merge(std::int32_t a, std::int32_t b) const {
    const auto it = merges_.find(pair_key(a, b));
    return it == merges_.end() ? nullptr : &it->second;
  }

  void encode_plain(std::string_view text, std::vector<std::int32_t>& ids, scratch& work) const {
    if (text.empty()) return;
    pre_tokenize(text, pre_, [&](std::string_view piece) {
      // Repeated words are frequent in real text: reuse the ids of an earlier identical piece.
      if (const auto hit = work.cache.find(piece); hit != work.cache.end()) {
        const auto [start, count] = hit->second;
        for (std::size_t i = 0; i < count; ++i) ids.push_back(ids[start + i]);
        return;
      }
      const std::size_t start = ids.size();
      encode_piece(piece, ids, work);
      if (work.cache.size() < 65536) work.cache.emplace(piece, std::pair{start, ids.size() - start});
    });
  }

  void encode_piece(std::string_view piece, std::vector<std::int32_t>& ids, scratch& work) const {
    auto& symbols = work.symbols;
    symbols.clear();
    for (const char c : piece) {
      const std::int32_t id = byte_ids_[static_cast<unsigned char>(c)];
      if (id < 0) continue;
      const auto index = static_cast<std::int32_t>(symbols.size());
      symbols.push_back({id, index - 1, index + 1, true});
    }
    if (symbols.empty()) return;
    symbols.back().next = -1;
    auto& heap = work.heap;
    heap.clear();
    const auto push = [&heap](candidate c) {
      heap.push_back(c);
      std::push_heap(heap.begin(), heap.end(), std::greater<>{});
    };
    for (std::size_t i = 0; i + 1 < symbols.size(); ++i) {
      if (const merge_entry* m = find_merge(symbols[i].id, symbols[i + 1].id)) {
        push({m->rank, static_cast<std::int32_t>(i), m->id});
      }
    }
    while (!heap.empty()) {
      std::pop_heap(heap.begin(), heap.end(), std::greater<>{});
      const candidate top = heap.back();
      heap.pop_back();
      symbol& left = symbols[static_cast<std::size_t>(top.pos)];
      if (!left.alive || left.next < 0) continue;
      symbol& right = symbols[static_cast<std::size_t>(left.next)];
      const merge_entry* still = find_merge(left.id, right.id);
      if (still == nullptr || still->id != top.id) continue;  // stale: a neighbour merged first
      left.id = top.id;
      right.alive = false;
      left.next = right.next;
      if (left.next >= 0) symbols[static_cast<std::size_t>(left.next)].prev = top.pos;
      if (left.prev >= 0) {
        if (const merge_entry* m = find_merge(symbols[static_cast<std::size_t>(left.prev)].id, left.id)) {
          push({m->rank, left.prev, m->id});
        }
      }
      if (left.next >= 0) {
        if (const merge_entry* m = find_merge(left.id, symbols[static_cast<std::size_t>(left.next)].id)) {
          push({m->rank, top.pos, m->id});
        }
      }
    }
    for (std::int32_t i = 0; i >= 0; i = symbols[static_cast<std::size_t>(i)].next) {
      ids.push_back(symbols[static_cast<std::size_t>(i)].id);
    }
  }

  std::vector<std::string> tokens_;
  std::vector<token_kind> kinds_;
  pre_tokenizer_kind pre_;
  special_ids special_;
  bool add_bos_default_ = false;
  std::vector<std::string> merge_list_;
  std::unordered_map<std::string, std::int32_t> ids_;
  std::unordered_map<std::uint64_t, merge_entry> merges_;
  std::vector<added_token> added_;
  std::array<bool, 256> added_first_byte_{};
  std::array<std::int32_t, 256> byte_ids_{};
  std::array<std::int16_t, 0x200> unicode_to_byte_{};
};

}  // namespace gift::io
