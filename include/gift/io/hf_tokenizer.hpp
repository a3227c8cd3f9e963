#pragma once
/// \file gift/io/hf_tokenizer.hpp
/// \brief The Hugging Face tokenizer files of a checkpoint folder, read into and written from a
/// `gift::io::tokenizer`: `tokenizer.json` (the `tokenizers` library's serialisation),
/// `tokenizer_config.json` (special tokens, chat template) and `special_tokens_map.json`.
///
/// Only what gift's tokenizer implements is accepted, and everything else is refused by name:
/// a byte-level BPE model (`model.type` "BPE", no dropout, no byte fallback, no
/// `ignore_merges`, no subword prefix/suffix), no normalizer, and as pre-tokenizer either
/// `ByteLevel(add_prefix_space=false, use_regex=true)` (GPT-2's split) or a `Sequence` of
/// `Digits(individual_digits=true)` and that `ByteLevel` (SmolLM2, StarCoder). Added tokens
/// marked `special` become control tokens (parsed only on request, as in llama.cpp), the others
/// user-defined tokens (always parsed).
///
/// The writer emits the same structure, so a folder gift writes loads in `tokenizers` (and
/// `transformers`' `PreTrainedTokenizerFast`) and encodes to the ids gift's tokenizer gives.

#include <gift/error.hpp>
#include <gift/io/detail/json.hpp>
#include <gift/io/tokenizer.hpp>
#include <gift/io/unicode.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gift::io {

/// What the tokenizer files hold besides the tokenizer itself.
struct hf_tokenizer_extras {
  std::string chat_template;        ///< Jinja chat template ("" when none)
  std::int64_t model_max_length = 0;  ///< `model_max_length` of tokenizer_config.json (0: unknown)
};

}  // namespace gift::io

namespace gift::detail {

/// Throws unless `text` is valid UTF-8 (JSON can carry nothing else); `what` names the string.
inline void require_utf8(std::string_view text, const std::string& what) {
  for (std::size_t pos = 0; pos < text.size();) {
    const io::decoded_char c = io::decode_utf8(text, pos);
    require(!(c.value == 0xFFFD && c.length == 1 && static_cast<unsigned char>(text[pos]) >= 0x80), what,
            " is not valid UTF-8 (byte ", pos, "); a tokenizer.json can only hold UTF-8 strings");
    pos += c.length;
  }
}

/// The string of a JSON value that is a string or an `AddedToken` object (`{"content": ...}`),
/// as tokenizer_config.json writes special tokens; nothing for null or absent.
inline std::optional<std::string> json_token_text(const json_value* value, const std::string& where) {
  if (value == nullptr || value->type == json_value::kind::null) return std::nullopt;
  if (value->type == json_value::kind::string) return value->string;
  if (value->type == json_value::kind::object) {
    const json_value* content = value->find("content");
    require(content != nullptr && content->type == json_value::kind::string, where,
            " must be a string or an object with a string \"content\"");
    return content->string;
  }
  throw error(concat(where, " must be a string or an object with a string \"content\", but is ",
                     json_kind_name(value->type)));
}

/// A ByteLevel pre-tokenizer object that gift's GPT-2 split reproduces, or an error naming `where`.
inline void require_byte_level(const json_value& value, const std::string& where) {
  const json_value* prefix = value.find("add_prefix_space");
  const json_value* regex = value.find("use_regex");
  require(prefix == nullptr || (prefix->type == json_value::kind::boolean && !prefix->boolean), where,
          ": ByteLevel with add_prefix_space=true is not supported (gift's byte-level BPE adds no space)");
  require(regex == nullptr || (regex->type == json_value::kind::boolean && regex->boolean), where,
          ": ByteLevel with use_regex=false is not supported (gift always applies GPT-2's split)");
}

/// The pre-tokenizer described by tokenizer.json's `pre_tokenizer`.
inline io::pre_tokenizer_kind hf_pre_tokenizer(const json_value* value, const std::string& source) {
  const std::string where = source + ": pre_tokenizer";
  require(value != nullptr && value->type == json_value::kind::object, where,
          " must be an object (ByteLevel, or a Sequence of Digits and ByteLevel)");
  const auto type_of = [&](const json_value& v) {
    const json_value* type = v.find("type");
    require(type != nullptr && type->type == json_value::kind::string, where, " entry has no \"type\"");
    return type->string;
  };
  const std::string type = type_of(*value);
  if (type == "ByteLevel") {
    require_byte_level(*value, where);
    return io::pre_tokenizer_kind::gpt2;
  }
  if (type == "Sequence") {
    const json_value* list = value->find("pretokenizers");
    require(list != nullptr && list->type == json_value::kind::array, where, " Sequence has no \"pretokenizers\" array");
    if (list->array.size() == 1 && type_of(list->array[0]) == "ByteLevel") {
      require_byte_level(list->array[0], where);
      return io::pre_tokenizer_kind::gpt2;
    }
    if (list->array.size() == 2 && type_of(list->array[0]) == "Digits" && type_of(list->array[1]) == "ByteLevel") {
      const json_value* individual = list->array[0].find("individual_digits");
      require(individual != nullptr && individual->type == json_value::kind::boolean && individual->boolean, where,
              ": Digits(individual_digits=false) is not supported (gift splits every digit on its own)");
      require_byte_level(list->array[1], where);
      return io::pre_tokenizer_kind::gpt2_digits;
    }
  }
  throw error(concat(where, ": '", type,
                     "' is not supported; gift implements ByteLevel (GPT-2's split) and Sequence[Digits("
                     "individual_digits=true), ByteLevel] (SmolLM2, StarCoder)"));
}

}  // namespace gift::detail

namespace gift::io {

/// A tokenizer and what its files say besides.
struct hf_tokenizer {
  io::tokenizer tokenizer;       ///< the tokenizer
  hf_tokenizer_extras extras;    ///< chat template, model_max_length
};

/// Builds the tokenizer described by the text of `tokenizer.json` and (may be empty)
/// `tokenizer_config.json`; `fallback` gives special ids that config.json states when the
/// tokenizer files name none. `source` names the folder in messages.
/// \throws gift::error for malformed JSON, an unsupported model or pre-tokenizer, ids that do not
/// cover 0..N−1 exactly once, or special tokens that are not in the vocabulary.
[[nodiscard]] inline hf_tokenizer parse_hf_tokenizer(std::string_view tokenizer_json, std::string_view config_json,
                                                     const special_token_ids& fallback = {},
                                                     const std::string& source = "tokenizer.json") {
  using detail::json_value;
  const std::string where = "gift::io::parse_hf_tokenizer: '" + source + "/tokenizer.json'";
  detail::json_parser parser(tokenizer_json, where);
  const json_value root = parser.parse_document();
  detail::require(root.type == json_value::kind::object, where, ": the file must hold a JSON object");
  const json_value* model = root.find("model");
  detail::require(model != nullptr && model->type == json_value::kind::object, where, ": has no \"model\" object");
  if (const json_value* type = model->find("type")) {
    detail::require(type->type == json_value::kind::string && type->string == "BPE", where, ": model type '",
                    type->type == json_value::kind::string ? type->string : std::string("?"),
                    "' is not supported; gift reads byte-level BPE tokenizers only");
  }
  const auto must_be_off = [&](const char* key) {
    const json_value* v = model->find(key);
    const bool off = v == nullptr || v->type == json_value::kind::null ||
                     (v->type == json_value::kind::boolean && !v->boolean) ||
                     (v->type == json_value::kind::string && v->string.empty());
    detail::require(off, where, ": model option '", key, "' is set; gift's BPE does not implement it");
  };
  for (const char* key : {"dropout", "byte_fallback", "ignore_merges", "continuing_subword_prefix", "end_of_word_suffix"})
    must_be_off(key);
  if (const json_value* normalizer = root.find("normalizer"))
    detail::require(normalizer->type == json_value::kind::null, where,
                    ": a normalizer is set; gift's byte-level BPE applies none (it must be null)");
  const pre_tokenizer_kind pre = detail::hf_pre_tokenizer(root.find("pre_tokenizer"), where);

  // Vocabulary: the model's vocab plus the added tokens; ids must cover 0..N-1 exactly once.
  std::map<std::int64_t, std::string> by_id;
  const auto add_id = [&](std::uint64_t id, const std::string& text, bool from_added) {
    detail::require(id < (std::uint64_t{1} << 31), where, ": token id ", id, " is too large");
    const auto [it, fresh] = by_id.emplace(static_cast<std::int64_t>(id), text);
    detail::require(fresh || (from_added && it->second == text), where, ": id ", id, " is given to both '", it->second,
                    "' and '", text, "'");
  };
  const json_value* vocab = model->find("vocab");
  detail::require(vocab != nullptr && vocab->type == json_value::kind::object, where, ": model has no \"vocab\" object");
  for (const auto& [text, id] : vocab->object) {
    detail::require(id.type == json_value::kind::number && id.is_unsigned_integer, where, ": vocab entry '", text,
                    "' must map to a non-negative integer id");
    add_id(id.unsigned_integer, text, false);
  }
  std::map<std::int64_t, token_kind> added_kinds;
  if (const json_value* added = root.find("added_tokens"); added != nullptr && added->type != json_value::kind::null) {
    detail::require(added->type == json_value::kind::array, where, ": added_tokens must be an array");
    for (const json_value& token : added->array) {
      const json_value* id = token.find("id");
      const json_value* content = token.find("content");
      detail::require(id != nullptr && id->is_unsigned_integer && content != nullptr &&
                          content->type == json_value::kind::string,
                      where, ": every added token needs an integer \"id\" and a string \"content\"");
      add_id(id->unsigned_integer, content->string, true);
      const json_value* special = token.find("special");
      const bool is_special = special != nullptr && special->type == json_value::kind::boolean && special->boolean;
      added_kinds[static_cast<std::int64_t>(id->unsigned_integer)] = is_special ? token_kind::control : token_kind::user_defined;
    }
  }
  detail::require(!by_id.empty(), where, ": the vocabulary is empty");
  detail::require(by_id.rbegin()->first + 1 == static_cast<std::int64_t>(by_id.size()), where, ": the ", by_id.size(),
                  " token ids do not cover 0..", by_id.size() - 1, " (largest id ", by_id.rbegin()->first,
                  "); gift needs a vocabulary without gaps");
  std::vector<std::string> tokens;
  tokens.reserve(by_id.size());
  for (auto& [id, text] : by_id) tokens.push_back(std::move(text));
  std::vector<token_kind> kinds(tokens.size(), token_kind::normal);
  for (const auto& [id, kind] : added_kinds) kinds[static_cast<std::size_t>(id)] = kind;

  std::vector<std::string> merges;
  if (const json_value* list = model->find("merges"); list != nullptr && list->type != json_value::kind::null) {
    detail::require(list->type == json_value::kind::array, where, ": model merges must be an array");
    merges.reserve(list->array.size());
    for (const json_value& merge : list->array) {
      if (merge.type == json_value::kind::string) {
        merges.push_back(merge.string);
        continue;
      }
      // tokenizers >= 0.20 writes each merge as a pair ["a", "b"].
      detail::require(merge.type == json_value::kind::array && merge.array.size() == 2 &&
                          merge.array[0].type == json_value::kind::string && merge.array[1].type == json_value::kind::string,
                      where, ": merge ", merges.size(), " must be \"a b\" or [\"a\", \"b\"]");
      detail::require(merge.array[0].string.find(' ') == std::string::npos &&
                          merge.array[1].string.find(' ') == std::string::npos,
                      where, ": merge ", merges.size(), " has a part with a space, which byte-level BPE never makes");
      merges.push_back(merge.array[0].string + " " + merge.array[1].string);
    }
  }

  // Special tokens: tokenizer_config.json names them; config.json's ids are the fallback.
  hf_tokenizer_extras extras;
  special_token_ids special = fallback;
  bool add_bos = false;
  const auto id_of = [&](const std::string& text, const char* key) {
    for (std::size_t id = 0; id < tokens.size(); ++id)
      if (tokens[id] == text) return static_cast<std::int32_t>(id);
    throw error(detail::concat(where, ": tokenizer_config.json names ", key, " '", text,
                               "', which is not in the vocabulary"));
  };
  if (!config_json.empty()) {
    const std::string config_where = "gift::io::parse_hf_tokenizer: '" + source + "/tokenizer_config.json'";
    detail::json_parser config_parser(config_json, config_where);
    const json_value config = config_parser.parse_document();
    detail::require(config.type == json_value::kind::object, config_where, ": the file must hold a JSON object");
    const std::pair<const char*, std::int32_t*> keys[] = {
        {"bos_token", &special.bos}, {"eos_token", &special.eos}, {"unk_token", &special.unk}, {"pad_token", &special.pad}};
    for (const auto& [key, slot] : keys) {
      if (const auto text = detail::json_token_text(config.find(key), config_where + " " + key)) *slot = id_of(*text, key);
    }
    if (const json_value* flag = config.find("add_bos_token"); flag != nullptr && flag->type == json_value::kind::boolean)
      add_bos = flag->boolean;
    if (const json_value* chat = config.find("chat_template"); chat != nullptr && chat->type == json_value::kind::string)
      extras.chat_template = chat->string;
    if (const json_value* length = config.find("model_max_length");
        length != nullptr && length->is_unsigned_integer && length->unsigned_integer < (std::uint64_t{1} << 40))
      extras.model_max_length = static_cast<std::int64_t>(length->unsigned_integer);
  }
  return hf_tokenizer{tokenizer(std::move(tokens), merges, std::move(kinds), pre, special, add_bos), extras};
}

/// The text of a `tokenizer.json` for `tok` (byte-level BPE with its pre-tokenizer, the control
/// and user-defined tokens as added tokens, a BOS template when it adds one by default).
/// \throws gift::error when a token or merge is not valid UTF-8, or the vocabulary holds token
/// kinds a tokenizer.json cannot express (unknown, unused, byte).
[[nodiscard]] inline std::string hf_tokenizer_json(const tokenizer& tok) {
  using detail::json_quote;
  const auto tokens = tok.tokens();
  const auto kinds = tok.kinds();
  std::string out;
  out.reserve(tokens.size() * 24 + tok.merges().size() * 24 + 4096);
  out += "{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n  \"added_tokens\": [";
  bool first = true;
  for (std::size_t id = 0; id < tokens.size(); ++id) {
    const token_kind kind = kinds[id];
    detail::require(kind == token_kind::normal || kind == token_kind::control || kind == token_kind::user_defined,
                    "gift::io::hf_tokenizer_json: token ", id, " '", tokens[id], "' has kind ", static_cast<int>(kind),
                    " (unknown, unused or byte), which tokenizer.json cannot express");
    detail::require_utf8(tokens[id], detail::concat("gift::io::hf_tokenizer_json: token ", id));
    if (kind == token_kind::normal) continue;
    out += first ? "\n" : ",\n";
    first = false;
    out += "    {\"id\": " + std::to_string(id) + ", \"content\": " + json_quote(tokens[id]) +
           ", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": " +
           (kind == token_kind::control ? "true" : "false") + "}";
  }
  out += first ? "],\n" : "\n  ],\n";
  out += "  \"normalizer\": null,\n  \"pre_tokenizer\": ";
  const std::string byte_level =
      "{\"type\": \"ByteLevel\", \"add_prefix_space\": false, \"trim_offsets\": true, \"use_regex\": true}";
  if (tok.pre_tokenizer() == pre_tokenizer_kind::gpt2_digits) {
    out += "{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"Digits\", \"individual_digits\": true}, " +
           byte_level + "]},\n";
  } else {
    out += byte_level + ",\n";
  }
  const std::int32_t bos = tok.special().bos;
  if (tok.add_bos_by_default() && bos >= 0) {
    const std::string b = json_quote(tokens[static_cast<std::size_t>(bos)]);
    out += "  \"post_processor\": {\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\": {\"id\": " + b +
           ", \"type_id\": 0}}, {\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}], \"pair\": [{\"SpecialToken\": "
           "{\"id\": " + b + ", \"type_id\": 0}}, {\"Sequence\": {\"id\": \"A\", \"type_id\": 0}}, {\"SpecialToken\": "
           "{\"id\": " + b + ", \"type_id\": 1}}, {\"Sequence\": {\"id\": \"B\", \"type_id\": 1}}], "
           "\"special_tokens\": {" + b + ": {\"id\": " + b + ", \"ids\": [" + std::to_string(bos) + "], \"tokens\": [" +
           b + "]}}},\n";
  } else {
    out += "  \"post_processor\": {\"type\": \"ByteLevel\", \"add_prefix_space\": true, \"trim_offsets\": false, "
           "\"use_regex\": true},\n";
  }
  out += "  \"decoder\": {\"type\": \"ByteLevel\", \"add_prefix_space\": true, \"trim_offsets\": true, "
         "\"use_regex\": true},\n";
  out += "  \"model\": {\n    \"type\": \"BPE\",\n    \"dropout\": null,\n    \"unk_token\": null,\n"
         "    \"continuing_subword_prefix\": null,\n    \"end_of_word_suffix\": null,\n    \"fuse_unk\": false,\n"
         "    \"byte_fallback\": false,\n    \"ignore_merges\": false,\n    \"vocab\": {";
  for (std::size_t id = 0; id < tokens.size(); ++id) {
    out += id == 0 ? "\n      " : ",\n      ";
    out += json_quote(tokens[id]) + ": " + std::to_string(id);
  }
  out += "\n    },\n    \"merges\": [";
  const auto merges = tok.merges();
  for (std::size_t rank = 0; rank < merges.size(); ++rank) {
    const std::string& merge = merges[rank];
    detail::require_utf8(merge, detail::concat("gift::io::hf_tokenizer_json: merge ", rank));
    // "a b" rather than ["a", "b"]: every tokenizers version reads it (the pair form needs >= 0.20),
    // and byte-level tokens never hold a space.
    out += rank == 0 ? "\n      " : ",\n      ";
    out += json_quote(merge);
  }
  out += merges.empty() ? "]\n  }\n}\n" : "\n    ]\n  }\n}\n";
  return out;
}

/// The text of a `tokenizer_config.json` for `tok`: the special tokens, the added tokens'
/// decoder table, the chat template and the context length, for `transformers`'
/// `PreTrainedTokenizerFast` (which reads the vocabulary from tokenizer.json).
[[nodiscard]] inline std::string hf_tokenizer_config_json(const tokenizer& tok, const hf_tokenizer_extras& extras) {
  using detail::json_quote;
  const auto tokens = tok.tokens();
  const auto kinds = tok.kinds();
  std::string out = "{\n  \"add_bos_token\": ";
  out += tok.add_bos_by_default() ? "true" : "false";
  out += ",\n  \"add_eos_token\": false,\n  \"added_tokens_decoder\": {";
  bool first = true;
  for (std::size_t id = 0; id < tokens.size(); ++id) {
    if (kinds[id] != token_kind::control && kinds[id] != token_kind::user_defined) continue;
    out += first ? "\n" : ",\n";
    first = false;
    out += "    \"" + std::to_string(id) + "\": {\"content\": " + json_quote(tokens[id]) +
           ", \"lstrip\": false, \"normalized\": false, \"rstrip\": false, \"single_word\": false, \"special\": " +
           (kinds[id] == token_kind::control ? "true" : "false") + "}";
  }
  out += first ? "},\n" : "\n  },\n";
  const special_token_ids& special = tok.special();
  const std::pair<const char*, std::int32_t> named[] = {
      {"bos_token", special.bos}, {"eos_token", special.eos}, {"unk_token", special.unk}, {"pad_token", special.pad}};
  for (const auto& [key, id] : named) {
    out += std::string("  \"") + key + "\": " + (id >= 0 ? json_quote(tokens[static_cast<std::size_t>(id)]) : "null") + ",\n";
  }
  if (!extras.chat_template.empty()) out += "  \"chat_template\": " + json_quote(extras.chat_template) + ",\n";
  out += "  \"clean_up_tokenization_spaces\": false,\n";
  if (extras.model_max_length > 0) out += "  \"model_max_length\": " + std::to_string(extras.model_max_length) + ",\n";
  out += "  \"tokenizer_class\": \"PreTrainedTokenizerFast\"\n}\n";
  return out;
}

/// The text of a `special_tokens_map.json` for `tok`.
[[nodiscard]] inline std::string hf_special_tokens_map_json(const tokenizer& tok) {
  const auto tokens = tok.tokens();
  const special_token_ids& special = tok.special();
  std::string out = "{";
  bool first = true;
  const std::pair<const char*, std::int32_t> named[] = {
      {"bos_token", special.bos}, {"eos_token", special.eos}, {"unk_token", special.unk}, {"pad_token", special.pad}};
  for (const auto& [key, id] : named) {
    if (id < 0) continue;
    out += first ? "\n" : ",\n";
    first = false;
    out += std::string("  \"") + key + "\": " + detail::json_quote(tokens[static_cast<std::size_t>(id)]);
  }
  out += first ? "}\n" : "\n}\n";
  return out;
}

}  // namespace gift::io
