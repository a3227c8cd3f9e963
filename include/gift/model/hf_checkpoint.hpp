#pragma once
/// \file gift/model/hf_checkpoint.hpp
/// \brief A LLaMA model in a Hugging Face checkpoint folder: loading (`load_llama` from a folder,
/// dense F32/F16/BF16 or gift's packed mixed-precision layout) and saving (`save_hf`,
/// `save_packed`), with Hugging Face's tensor names and row order.
///
/// gift holds q and k in llama.cpp's row order (the pairs RoPE rotates are adjacent rows, as
/// `apply_rope` expects); Hugging Face keeps each head's two halves apart (`rotate_half`). Within
/// head h of width d, gift row h·d + 2i + c is Hugging Face row h·d + c·d/2 + i (c = 0, 1;
/// i < d/2): `hf_rows_of_gguf` gives that order, loading applies it one way and saving the other,
/// so a model goes GGUF → gift → folder → gift with every tensor identical.
///
/// The packed layout is the same folder with `"quantization_config": {"quant_method":
/// "gift_packed", ...}` in config.json and, per linear layer, the tensors `<layer>.qweight`,
/// `.delta`, `.salient_columns`, `.salient_weight` instead of `<layer>.weight`
/// (docs/packed_format.md). transformers refuses such a folder by its unknown quantization method
/// rather than misreading it.

#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/io/detail/json.hpp>
#include <gift/io/hf_checkpoint.hpp>
#include <gift/io/hf_tokenizer.hpp>
#include <gift/io/safetensors.hpp>
#include <gift/io/tokenizer.hpp>
#include <gift/model/config.hpp>
#include <gift/model/linear_module.hpp>
#include <gift/model/llama.hpp>
#include <gift/model/model_card.hpp>
#include <gift/model/packed_linear.hpp>
#include <gift/quant/packed.hpp>

#include <array>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gift::model {

/// The Hugging Face name of layer `p` of block `block` without the ".weight"
/// ("model.layers.3.self_attn.q_proj").
[[nodiscard]] inline std::string hf_layer_name(int block, projection p) {
  constexpr std::array<std::string_view, projections_per_block> names = {
      "self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj", "self_attn.o_proj",
      "mlp.gate_proj",    "mlp.up_proj",      "mlp.down_proj"};
  return "model.layers." + std::to_string(block) + "." + std::string(names[static_cast<std::size_t>(p)]);
}

/// For each row of a q or k weight in llama.cpp's (gift's) order, the row of the same weight in
/// Hugging Face's order, for `rows` rows in heads of `head_dim`.
[[nodiscard]] inline std::vector<std::int64_t> hf_rows_of_gguf(std::int64_t rows, std::int64_t head_dim) {
  gift::detail::require(head_dim > 0 && head_dim % 2 == 0 && rows % head_dim == 0, "gift::model::hf_rows_of_gguf: ",
                        rows, " rows do not form heads of the even width ", head_dim);
  std::vector<std::int64_t> order(static_cast<std::size_t>(rows));
  const std::int64_t half = head_dim / 2;
  for (std::int64_t h = 0; h < rows / head_dim; ++h)
    for (std::int64_t i = 0; i < half; ++i)
      for (std::int64_t c = 0; c < 2; ++c)
        order[static_cast<std::size_t>(h * head_dim + 2 * i + c)] = h * head_dim + c * half + i;
  return order;
}

/// The inverse permutation of `order`.
[[nodiscard]] inline std::vector<std::int64_t> inverse_order(const std::vector<std::int64_t>& order) {
  std::vector<std::int64_t> inverse(order.size());
  for (std::size_t i = 0; i < order.size(); ++i) inverse[static_cast<std::size_t>(order[i])] = static_cast<std::int64_t>(i);
  return inverse;
}

/// `w` with row i taken from row `order[i]`.
[[nodiscard]] inline matrix<float> rows_in_order(const matrix<float>& w, const std::vector<std::int64_t>& order) {
  matrix<float> out(w.rows(), w.cols());
  for (std::size_t i = 0; i < order.size(); ++i) out.row(static_cast<Eigen::Index>(i)) = w.row(static_cast<Eigen::Index>(order[i]));
  return out;
}

/// The row order that turns gift's rows of layer `p` into Hugging Face's (identity but for q, k).
[[nodiscard]] inline std::vector<std::int64_t> hf_order(const llama_config& c, projection p, std::int64_t rows) {
  if (p == projection::q || p == projection::k) return hf_rows_of_gguf(rows, c.head_dim);
  std::vector<std::int64_t> identity(static_cast<std::size_t>(rows));
  for (std::int64_t i = 0; i < rows; ++i) identity[static_cast<std::size_t>(i)] = i;
  return identity;
}

/// The configuration in a checkpoint's config.json (LlamaForCausalLM). Refuses, by name, what
/// gift's model does not compute: another architecture or activation, biases, RoPE scaling,
/// partial rotary embeddings; a key given twice in one object; and, naming the config.json key,
/// a value outside its range
/// (`llama_config::validate`: sizes within `llama_config_limits`, rope_theta and rms_norm_eps
/// finite and positive), before anything of the model's size is allocated.
[[nodiscard]] inline llama_config llama_config_from_hf(const io::hf_checkpoint& folder) {
  const std::string where = "gift::model::llama_config_from_hf: '" + folder.folder().string() + "/config.json'";
  // transformers (Python's json) keeps the last of two equal keys, gift's lookup the first: a
  // configuration that means two things is refused rather than read one way.
  if (const auto twice = gift::detail::find_duplicate_key(folder.config())) {
    throw error(gift::detail::concat(where, ": key '", twice->key, "' appears twice (its values start at byte offsets ",
                                     twice->first_offset, " and ", twice->second_offset,
                                     "); remove one of them (transformers would take the last one, gift does not guess)"));
  }
  const std::string type = folder.config_string("model_type");
  gift::detail::require(type == "llama", where, ": model_type is '", type,
                        "'; gift reads LLaMA-architecture checkpoints (model_type \"llama\", LlamaForCausalLM)");
  if (const auto* architectures = folder.config_value("architectures")) {
    bool llama = false;
    for (const auto& a : architectures->array) llama = llama || (a.type == gift::detail::json_value::kind::string && a.string == "LlamaForCausalLM");
    gift::detail::require(llama, where, ": architectures does not name LlamaForCausalLM");
  }
  const std::string act = folder.config_string("hidden_act", "silu");
  gift::detail::require(act == "silu", where, ": hidden_act '", act, "' is not supported (gift's feed-forward is SwiGLU with silu)");
  gift::detail::require(!folder.config_bool("attention_bias", false) && !folder.config_bool("mlp_bias", false), where,
                        ": attention_bias / mlp_bias are set; gift's LLaMA has no biases");
  gift::detail::require(folder.config_value("rope_scaling") == nullptr, where,
                        ": rope_scaling is set; gift implements plain RoPE only");
  gift::detail::require(folder.config_value("partial_rotary_factor") == nullptr ||
                            folder.config_number("partial_rotary_factor") == 1.0,
                        where, ": partial_rotary_factor is not supported (gift rotates whole heads)");
  gift::detail::require(folder.config_integer("pretraining_tp", 1) == 1, where, ": pretraining_tp must be 1");
  const llama_config_keys keys = llama_config_keys::hf(where);
  using limits = llama_config_limits;
  // Each integer is range-checked as the 64-bit number written, before it is narrowed to int and
  // before anything of the model's size is allocated.
  const auto integer = [&](const std::string& key, std::int64_t low, std::int64_t high,
                           std::optional<std::int64_t> fallback = std::nullopt) {
    const std::int64_t v = folder.config_integer(key, fallback);
    detail::require_config_range(v, low, high, keys, key);
    return static_cast<int>(v);
  };
  llama_config c;
  c.layers = integer(keys.layers, 1, limits::max_layers);
  c.hidden = integer(keys.hidden, 1, limits::max_width);
  c.heads = integer(keys.heads, 1, limits::max_width);
  c.kv_heads = integer(keys.kv_heads, 1, limits::max_width, c.heads);
  c.ffn = integer(keys.ffn, 1, limits::max_width);
  c.vocab = integer(keys.vocab, 1, limits::max_vocab);
  c.head_dim = c.hidden / c.heads;
  if (folder.config_value(keys.head_dim) != nullptr) {
    const int written_head_dim = integer(keys.head_dim, 1, limits::max_width);
    gift::detail::require(written_head_dim == c.head_dim, where, ": head_dim ", written_head_dim,
                          " differs from hidden_size / num_attention_heads = ", c.head_dim, "; gift needs them equal");
  }
  c.rope_dim = c.head_dim;
  c.rope_base = folder.config_number(keys.rope_base, 10000.0);
  c.rms_epsilon = folder.config_number(keys.rms_epsilon, 1e-6);
  c.tied_embeddings = folder.config_bool("tie_word_embeddings", false);
  c.context_length = integer(keys.context_length, 0, limits::max_context, 0);
  c.validate(keys);
  return c;
}

}  // namespace gift::model

namespace gift::model::detail {

/// "[2, 3]": a tensor shape for messages.
inline std::string shape_text(const std::vector<std::uint64_t>& shape) {
  std::string out = "[";
  for (std::size_t d = 0; d < shape.size(); ++d) out += (d ? ", " : "") + std::to_string(shape[d]);
  return out + "]";
}

/// The little-endian integers of a U32 or I32 tensor, checked for dtype and shape.
template <class Int>
std::vector<Int> read_integers(const io::safetensors_file& file, const io::safetensors_tensor_info& info,
                               io::safetensors_dtype dtype, const std::vector<std::uint64_t>& shape,
                               const std::string& where) {
  gift::detail::require(info.dtype == dtype && info.shape == shape, where, ": tensor '", info.name, "' must be ",
                        io::name_of(dtype), " of shape ", detail::shape_text(shape), ", but is ",
                        io::name_of(info.dtype), " of shape ", detail::shape_text(info.shape));
  const auto bytes = file.tensor_data(info);
  std::vector<Int> out(static_cast<std::size_t>(info.element_count));
  for (std::size_t i = 0; i < out.size(); ++i) {
    std::uint32_t v = 0;
    for (int b = 3; b >= 0; --b) v = (v << 8) | std::to_integer<std::uint32_t>(bytes[4 * i + static_cast<std::size_t>(b)]);
    out[i] = static_cast<Int>(v);
  }
  return out;
}

/// Little-endian bytes of 32-bit integers.
template <class Int>
std::vector<std::byte> integer_bytes(std::span<const Int> values) {
  std::vector<std::byte> out;
  out.reserve(values.size() * 4);
  for (const Int value : values) {
    const auto v = static_cast<std::uint32_t>(value);
    for (int b = 0; b < 4; ++b) out.push_back(static_cast<std::byte>((v >> (8 * b)) & 0xFFu));
  }
  return out;
}

/// The packed weight of the layer whose tensors start with `prefix`, in Hugging Face row order,
/// validated (tensor dtypes and shapes here, the parts by `packed_matrix::from_parts`).
inline packed_matrix read_packed_layer(const io::hf_checkpoint& folder, const std::string& prefix, int bits,
                                       std::int64_t rows, std::int64_t cols) {
  const std::string where = "gift::model::load_llama: '" + folder.folder().string() + "'";
  const auto [qfile, qweight] = folder.tensor(prefix + ".qweight");
  const std::int64_t kept_and_padding = qweight->shape.size() == 2 ? static_cast<std::int64_t>(qweight->shape[1]) : -1;
  const auto [sfile, salient] = folder.tensor(prefix + ".salient_columns");
  gift::detail::require(salient->shape.size() == 1, where, ": tensor '", salient->name, "' must be one-dimensional");
  const auto k = static_cast<std::int64_t>(salient->shape[0]);
  gift::detail::require(k >= 0 && k <= cols, where, ": tensor '", salient->name, "' lists ", k, " columns of ", cols);
  const std::int64_t words_per_row = gift::detail::packed_words_per_row(cols - k, bits);
  gift::detail::require(kept_and_padding == words_per_row, where, ": tensor '", qweight->name, "' must be [", rows, ", ",
                        words_per_row, "] (", cols - k, " ", bits, "-bit codes per row), but is ",
                        detail::shape_text(qweight->shape));
  auto words = read_integers<std::uint32_t>(*qfile, *qweight, io::safetensors_dtype::u32,
                                            {static_cast<std::uint64_t>(rows), static_cast<std::uint64_t>(words_per_row)}, where);
  auto columns = read_integers<std::int32_t>(*sfile, *salient, io::safetensors_dtype::i32, {static_cast<std::uint64_t>(k)}, where);
  const auto [dfile, delta] = folder.tensor(prefix + ".delta");
  gift::detail::require(delta->dtype == io::safetensors_dtype::f32 && delta->shape == std::vector<std::uint64_t>{static_cast<std::uint64_t>(rows)},
                        where, ": tensor '", delta->name, "' must be F32 of shape [", rows, "]");
  std::vector<float> steps(static_cast<std::size_t>(rows));
  dfile->read_into(*delta, steps);
  const auto [vfile, values] = folder.tensor(prefix + ".salient_weight");
  gift::detail::require(values->shape == std::vector<std::uint64_t>{static_cast<std::uint64_t>(rows), static_cast<std::uint64_t>(k)},
                        where, ": tensor '", values->name, "' must have shape [", rows, ", ", k, "]");
  std::vector<float> salient_values(static_cast<std::size_t>(values->element_count));
  vfile->read_into(*values, salient_values);
  return packed_matrix::from_parts(bits, rows, cols, std::move(words), std::move(steps), std::move(columns),
                                   std::move(salient_values), "'" + folder.folder().string() + "' layer " + prefix);
}

}  // namespace gift::model::detail

namespace gift::model {

/// The bit-width of a packed checkpoint (its `quantization_config`), or 0 for a dense one.
/// \throws gift::error for a quantization method or format version gift does not read.
[[nodiscard]] inline int packed_bits(const io::hf_checkpoint& folder) {
  const auto* quantization = folder.config_value("quantization_config");
  if (quantization == nullptr) return 0;
  const std::string where = "gift::model::packed_bits: '" + folder.folder().string() + "/config.json'";
  const auto* method = quantization->find("quant_method");
  gift::detail::require(method != nullptr && method->type == gift::detail::json_value::kind::string &&
                            method->string == "gift_packed",
                        where, ": quantization_config names the method '",
                        method != nullptr && method->type == gift::detail::json_value::kind::string ? method->string : std::string("?"),
                        "'; gift reads dense checkpoints and its own 'gift_packed' layout only");
  const auto* version = quantization->find("format_version");
  gift::detail::require(version != nullptr && version->is_unsigned_integer && version->unsigned_integer == 1, where,
                        ": gift_packed format_version must be 1 (this reader's version)");
  const auto* bits = quantization->find("bits");
  gift::detail::require(bits != nullptr && bits->is_unsigned_integer && bits->unsigned_integer >= 2 && bits->unsigned_integer <= 8,
                        where, ": gift_packed bits must be an integer in [2, 8]");
  return static_cast<int>(bits->unsigned_integer);
}

/// Loads the LLaMA model of a checkpoint folder (F32, F16 or BF16 tensors; or gift's packed
/// layout, whose layers become `packed_linear` modules). q and k rows are brought into gift's
/// order. Every tensor the model needs must be present with its shape; a tensor the model does
/// not use is refused (except `lm_head.weight` beside tied embeddings and RoPE's `inv_freq`
/// buffers), so a checkpoint of another architecture cannot load by accident.
/// \throws gift::error naming the folder, the tensor and the problem.
[[nodiscard]] inline llama_model<float> load_llama(const io::hf_checkpoint& folder) {
  const llama_config config = llama_config_from_hf(folder);
  const int bits = packed_bits(folder);
  const std::string where = "gift::model::load_llama: '" + folder.folder().string() + "'";
  std::set<std::string> used;
  // A tensor of exactly `shape` ([n] for a vector, [rows, cols] for a matrix), checked finite.
  const auto read = [&](const std::string& name, const std::vector<std::uint64_t>& shape) {
    const auto [file, info] = folder.tensor(name);
    gift::detail::require(info->shape == shape, where, ": tensor '", name, "' has shape ", detail::shape_text(info->shape),
                          ", expected ", detail::shape_text(shape));
    matrix<float> m = folder.read_matrix(name);
    if (!m.allFinite()) gift::detail::throw_first_non_finite(m, where.c_str(), name.c_str());
    used.insert(name);
    return m;
  };
  const auto read_matrix = [&](const std::string& name, Eigen::Index rows, Eigen::Index cols) {
    return read(name, {static_cast<std::uint64_t>(rows), static_cast<std::uint64_t>(cols)});
  };
  const auto read_vector = [&](const std::string& name, Eigen::Index size) {
    return vector<float>(read(name, {static_cast<std::uint64_t>(size)}).reshaped());
  };
  std::vector<block_norms<float>> norms(static_cast<std::size_t>(config.layers));
  std::vector<llama_model<float>::block_linears> linears(static_cast<std::size_t>(config.layers));
  for (int b = 0; b < config.layers; ++b) {
    const std::string prefix = "model.layers." + std::to_string(b) + ".";
    norms[static_cast<std::size_t>(b)].attention = read_vector(prefix + "input_layernorm.weight", config.hidden);
    norms[static_cast<std::size_t>(b)].feed_forward = read_vector(prefix + "post_attention_layernorm.weight", config.hidden);
    for (const projection p : all_projections) {
      Eigen::Index in = config.hidden, out = config.hidden;
      if (p == projection::k || p == projection::v) out = config.kv_width();
      if (p == projection::gate || p == projection::up) out = config.ffn;
      if (p == projection::down) in = config.ffn;
      const std::string layer = hf_layer_name(b, p);
      auto& slot = linears[static_cast<std::size_t>(b)][static_cast<std::size_t>(p)];
      // The row order (gift row i is HF row order[i]) is built after the tensor's shape has been
      // checked, so that its size is one the file has confirmed.
      if (bits > 0) {
        packed_matrix packed = detail::read_packed_layer(folder, layer, bits, out, in);
        for (const char* suffix : {".qweight", ".delta", ".salient_columns", ".salient_weight"}) used.insert(layer + suffix);
        slot = std::make_unique<packed_linear>(packed.with_rows(hf_order(config, p, out)));
      } else {
        const matrix<float> weight = read_matrix(layer + ".weight", out, in);
        slot = std::make_unique<frozen_linear<float>>(rows_in_order(weight, hf_order(config, p, out)));
      }
    }
  }
  matrix<float> embedding = read_matrix("model.embed_tokens.weight", config.vocab, config.hidden);
  vector<float> output_norm = read_vector("model.norm.weight", config.hidden);
  matrix<float> head;
  if (!config.tied_embeddings) {
    head = read_matrix("lm_head.weight", config.vocab, config.hidden);
  } else {
    used.insert("lm_head.weight");  // some tied checkpoints carry the head anyway: the embedding rules
  }
  for (const auto& name : folder.tensor_names()) {
    const bool rope_buffer = name.size() > 20 && name.compare(name.size() - 20, 20, ".rotary_emb.inv_freq") == 0;
    gift::detail::require(used.count(name) != 0 || rope_buffer, where, ": tensor '", name,
                          "' is not part of a LLaMA model gift can load; is the checkpoint of another architecture?");
  }
  return llama_model<float>(config, std::move(embedding), std::move(output_norm), std::move(norms), std::move(linears),
                            std::move(head));
}

/// How `save_hf` and `save_packed` store the tensors.
struct hf_save_options {
  io::safetensors_dtype dtype = io::safetensors_dtype::f32;          ///< dense tensors: F32, F16 or BF16
  io::safetensors_dtype salient_dtype = io::safetensors_dtype::f16;  ///< packed layers' salient columns: F16 or F32
  std::uint64_t max_shard_bytes = 0;                                 ///< 0: one model.safetensors
};

}  // namespace gift::model

namespace gift::model::detail {

/// The torch dtype name of a safetensors float dtype.
inline const char* torch_dtype_name(io::safetensors_dtype dtype) {
  switch (dtype) {
    case io::safetensors_dtype::f16: return "float16";
    case io::safetensors_dtype::bf16: return "bfloat16";
    default: return "float32";
  }
}

/// config.json of `model` (LlamaForCausalLM), with `extra` members (JSON text) appended.
inline std::string hf_config_json(const llama_config& c, const io::tokenizer& tok, io::safetensors_dtype dtype,
                                  const std::string& extra) {
  gift::detail::require(c.rope_dim == c.head_dim, "gift::model::save_hf: the model rotates ", c.rope_dim, " of ",
                        c.head_dim, " dimensions per head; LlamaForCausalLM rotates whole heads, so the model cannot ",
                        "be written as a Hugging Face checkpoint (export it as GGUF)");
  using gift::detail::json_number;
  const auto id = [](std::int32_t v) { return v >= 0 ? std::to_string(v) : std::string("null"); };
  std::string out = "{\n";
  out += "  \"architectures\": [\"LlamaForCausalLM\"],\n  \"model_type\": \"llama\",\n";
  out += "  \"hidden_size\": " + std::to_string(c.hidden) + ",\n";
  out += "  \"intermediate_size\": " + std::to_string(c.ffn) + ",\n";
  out += "  \"num_hidden_layers\": " + std::to_string(c.layers) + ",\n";
  out += "  \"num_attention_heads\": " + std::to_string(c.heads) + ",\n";
  out += "  \"num_key_value_heads\": " + std::to_string(c.kv_heads) + ",\n";
  out += "  \"head_dim\": " + std::to_string(c.head_dim) + ",\n";
  out += "  \"hidden_act\": \"silu\",\n";
  out += "  \"max_position_embeddings\": " + std::to_string(c.context_length > 0 ? c.context_length : 2048) + ",\n";
  out += "  \"rms_norm_eps\": " + json_number(c.rms_epsilon) + ",\n";
  out += "  \"rope_theta\": " + json_number(c.rope_base) + ",\n";
  out += "  \"rope_scaling\": null,\n  \"attention_bias\": false,\n  \"attention_dropout\": 0.0,\n  \"mlp_bias\": false,\n";
  out += "  \"initializer_range\": 0.02,\n  \"pretraining_tp\": 1,\n  \"use_cache\": true,\n";
  out += std::string("  \"tie_word_embeddings\": ") + (c.tied_embeddings ? "true" : "false") + ",\n";
  out += "  \"vocab_size\": " + std::to_string(c.vocab) + ",\n";
  out += "  \"bos_token_id\": " + id(tok.special().bos) + ",\n";
  out += "  \"eos_token_id\": " + id(tok.special().eos) + ",\n";
  if (tok.special().pad >= 0) out += "  \"pad_token_id\": " + id(tok.special().pad) + ",\n";
  out += extra;
  out += std::string("  \"torch_dtype\": \"") + torch_dtype_name(dtype) + "\"\n}\n";
  return out;
}

/// Adds the tokenizer files, generation_config.json and config.json to `writer`.
inline void add_hf_text_files(io::hf_checkpoint_writer& writer, const llama_model<float>& model, const io::tokenizer& tok,
                              const model_card& card, io::safetensors_dtype dtype, const std::string& extra_config) {
  gift::detail::require(static_cast<std::size_t>(model.config().vocab) == tok.vocab_size(), "gift::model::save_hf: the ",
                        "tokenizer has ", tok.vocab_size(), " tokens, the model ", model.config().vocab,
                        "; pass the model's own tokenizer");
  std::string extra;
  if (!card.name.empty()) extra += "  \"_name_or_path\": " + gift::detail::json_quote(card.name) + ",\n";
  extra += extra_config;
  writer.add_text_file(io::hf_file_names::config, hf_config_json(model.config(), tok, dtype, extra));
  std::string generation = "{\n";
  if (tok.special().bos >= 0) generation += "  \"bos_token_id\": " + std::to_string(tok.special().bos) + ",\n";
  if (tok.special().eos >= 0) generation += "  \"eos_token_id\": " + std::to_string(tok.special().eos) + ",\n";
  if (tok.special().pad >= 0) generation += "  \"pad_token_id\": " + std::to_string(tok.special().pad) + ",\n";
  generation += "  \"_from_model_config\": false\n}\n";
  writer.add_text_file(io::hf_file_names::generation_config, generation);
  writer.add_text_file(io::hf_file_names::tokenizer, io::hf_tokenizer_json(tok));
  writer.add_text_file(io::hf_file_names::tokenizer_config,
                       io::hf_tokenizer_config_json(tok, io::hf_tokenizer_extras{card.chat_template, model.config().context_length}));
  writer.add_text_file(io::hf_file_names::special_tokens_map, io::hf_special_tokens_map_json(tok));
}

/// Adds embedding, norms and head (everything but the linear layers) in `dtype`.
inline void add_hf_frozen_tensors(io::hf_checkpoint_writer& writer, const llama_model<float>& model,
                                  io::safetensors_dtype dtype) {
  const llama_config& c = model.config();
  writer.add_matrix("model.embed_tokens.weight", model.token_embedding(), dtype);
  for (int b = 0; b < c.layers; ++b) {
    const std::string prefix = "model.layers." + std::to_string(b) + ".";
    writer.add_vector(prefix + "input_layernorm.weight", model.norms(b).attention, dtype);
    writer.add_vector(prefix + "post_attention_layernorm.weight", model.norms(b).feed_forward, dtype);
  }
  writer.add_vector("model.norm.weight", model.output_norm(), dtype);
  if (!c.tied_embeddings) writer.add_matrix("lm_head.weight", model.output_head(), dtype);
}

inline void require_float_dtype(io::safetensors_dtype dtype, const char* what) {
  gift::detail::require(dtype == io::safetensors_dtype::f32 || dtype == io::safetensors_dtype::f16 ||
                            dtype == io::safetensors_dtype::bf16,
                        "gift::model::save_hf: ", what, " must be F32, F16 or BF16, not ", io::name_of(dtype));
}

}  // namespace gift::model::detail

namespace gift::model {

/// Writes `model` as a Hugging Face checkpoint folder that transformers' `AutoModelForCausalLM`
/// and `AutoTokenizer` load: config.json, generation_config.json, the tokenizer files and the
/// weights (every linear layer's effective weight, trained parts merged) under Hugging Face's
/// names and row order, in `options.dtype`. Each file is written atomically.
/// \throws gift::error for a model transformers' LLaMA cannot express (partial RoPE), a tokenizer
/// of another size, non-finite weights, or a write failure.
inline void save_hf(const llama_model<float>& model, const io::tokenizer& tok, const model_card& card,
                    const std::filesystem::path& folder, const hf_save_options& options = {}) {
  detail::require_float_dtype(options.dtype, "the dtype");
  io::hf_checkpoint_writer writer(options.max_shard_bytes);
  writer.set_metadata("gift.format", "hf");
  detail::add_hf_text_files(writer, model, tok, card, options.dtype, "");
  detail::add_hf_frozen_tensors(writer, model, options.dtype);
  const llama_config& c = model.config();
  for (int b = 0; b < c.layers; ++b) {
    for (const projection p : all_projections) {
      const matrix<float> w = model.linear(b, p).effective_weight();
      writer.add_matrix(hf_layer_name(b, p) + ".weight", rows_in_order(w, inverse_order(hf_order(c, p, w.rows()))),
                        options.dtype);
    }
  }
  writer.write(folder);
}

/// Writes `model`, whose linear layers must all be `packed_linear` (see `pack_linear_layers`),
/// in gift's packed layout: a Hugging Face folder whose config.json carries
/// `quantization_config: {quant_method: "gift_packed", format_version: 1, bits, salient_dtype}`
/// and whose weights hold, per linear layer, the code words (U32), Δ (F32), the salient column
/// indices (I32) and values (`options.salient_dtype`), in Hugging Face's names and row order; the
/// other tensors dense in `options.dtype` (docs/packed_format.md).
/// \throws gift::error when a layer is not packed or the layers' bit-widths differ.
inline void save_packed(const llama_model<float>& model, const io::tokenizer& tok, const model_card& card,
                        const std::filesystem::path& folder, const hf_save_options& options = {}) {
  detail::require_float_dtype(options.dtype, "the dtype");
  gift::detail::require(options.salient_dtype == io::safetensors_dtype::f16 || options.salient_dtype == io::safetensors_dtype::f32,
                        "gift::model::save_packed: the salient dtype must be F16 or F32, not ", io::name_of(options.salient_dtype));
  const llama_config& c = model.config();
  int bits = 0;
  for (int b = 0; b < c.layers; ++b)
    for (const projection p : all_projections) {
      const auto* layer = dynamic_cast<const packed_linear*>(&model.linear(b, p));
      gift::detail::require(layer != nullptr, "gift::model::save_packed: block ", b, " layer ", short_name(p),
                            " is not packed; pack the model first (model::pack_linear_layers, or gift export --format "
                            "packed with --salient and a quantized --weights)");
      gift::detail::require(bits == 0 || layer->packed().bits() == bits, "gift::model::save_packed: block ", b, " layer ",
                            short_name(p), " has ", layer->packed().bits(), "-bit codes, the others ", bits,
                            "; the format stores one bit-width per model");
      bits = layer->packed().bits();
    }
  io::hf_checkpoint_writer writer(options.max_shard_bytes);
  writer.set_metadata("gift.format", "packed");
  writer.set_metadata("gift.packed.bits", std::to_string(bits));
  const std::string quantization = "  \"quantization_config\": {\"quant_method\": \"gift_packed\", \"format_version\": 1, "
                                   "\"bits\": " + std::to_string(bits) + ", \"salient_dtype\": \"" +
                                   detail::torch_dtype_name(options.salient_dtype) + "\"},\n";
  detail::add_hf_text_files(writer, model, tok, card, options.dtype, quantization);
  detail::add_hf_frozen_tensors(writer, model, options.dtype);
  for (int b = 0; b < c.layers; ++b) {
    for (const projection p : all_projections) {
      const packed_matrix& gift_rows = dynamic_cast<const packed_linear&>(model.linear(b, p)).packed();
      const packed_matrix w = gift_rows.with_rows(inverse_order(hf_order(c, p, gift_rows.rows())));
      const std::string prefix = hf_layer_name(b, p);
      const auto rows = static_cast<std::uint64_t>(w.rows());
      writer.add_raw(prefix + ".qweight", io::safetensors_dtype::u32, {rows, static_cast<std::uint64_t>(w.words_per_row())},
                     detail::integer_bytes(w.words()));
      writer.add_values(prefix + ".delta", {rows}, w.delta(), io::safetensors_dtype::f32);
      writer.add_raw(prefix + ".salient_columns", io::safetensors_dtype::i32, {static_cast<std::uint64_t>(w.salient_count())},
                     detail::integer_bytes(w.salient_columns()));
      writer.add_values(prefix + ".salient_weight", {rows, static_cast<std::uint64_t>(w.salient_count())},
                        w.salient_values(), options.salient_dtype);
    }
  }
  writer.write(folder);
}

}  // namespace gift::model
