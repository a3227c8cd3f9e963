#pragma once
/// \file gift/model/config.hpp
/// \brief `gift::model::llama_config`: the shape of a LLaMA-family decoder, read from GGUF metadata.
///
/// Every number comes from the file (`<arch>.block_count`, `<arch>.embedding_length`, ...), so
/// the same code serves SmolLM2-135M (30 layers, width 576, 9 query / 3 KV heads, SwiGLU 1536,
/// vocab 49152) and any other LLaMA-architecture GGUF.

#include <gift/error.hpp>
#include <gift/io/gguf.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>

namespace gift::model {

/// Accepted ranges of `llama_config`'s sizes. They lie far above every published LLaMA-family
/// model (the largest have about 16k width, 53k feed-forward width, 126 layers, 256k tokens and
/// 10M positions); they exist so that a corrupt or mistyped configuration value fails with its
/// name before anything is allocated, instead of allocating gigabytes and dying of it.
struct llama_config_limits {
  static constexpr std::int64_t max_layers = 4096;                    ///< decoder blocks
  static constexpr std::int64_t max_width = std::int64_t{1} << 20;    ///< hidden, ffn, heads, head_dim
  static constexpr std::int64_t max_vocab = std::int64_t{1} << 24;    ///< vocabulary size
  static constexpr std::int64_t max_context = std::int64_t{1} << 24;  ///< trained context (positions)
};

/// The names under which a configuration's source stores each `llama_config` field, so that a
/// message names the key the user can correct ("intermediate_size" in config.json,
/// "llama.feed_forward_length" in a GGUF file). The defaults name the C++ fields.
struct llama_config_keys {
  std::string where = "gift::model::llama_config::validate";  ///< message prefix (function, file)
  std::string file = "the llama_config";                      ///< where a value is corrected
  std::string layers = "layers";                              ///< key of `llama_config::layers`
  std::string hidden = "hidden";                              ///< key of `llama_config::hidden`
  std::string heads = "heads";                                ///< key of `llama_config::heads`
  std::string kv_heads = "kv_heads";                          ///< key of `llama_config::kv_heads`
  std::string head_dim = "head_dim";                          ///< key of `llama_config::head_dim`
  std::string ffn = "ffn";                                    ///< key of `llama_config::ffn`
  std::string vocab = "vocab";                                ///< key of `llama_config::vocab`
  std::string rope_dim = "rope_dim";                          ///< key of `llama_config::rope_dim`
  std::string rope_base = "rope_base";                        ///< key of `llama_config::rope_base`
  std::string rms_epsilon = "rms_epsilon";                    ///< key of `llama_config::rms_epsilon`
  std::string context_length = "context_length";              ///< key of `llama_config::context_length`

  /// The keys of a Hugging Face config.json (LlamaForCausalLM); `where` prefixes messages.
  [[nodiscard]] static llama_config_keys hf(std::string where) {
    llama_config_keys k;
    k.where = std::move(where);
    k.file = "config.json";
    k.layers = "num_hidden_layers";
    k.hidden = "hidden_size";
    k.heads = "num_attention_heads";
    k.kv_heads = "num_key_value_heads";
    k.head_dim = "head_dim";
    k.ffn = "intermediate_size";
    k.vocab = "vocab_size";
    k.rope_dim = "head_dim";  // transformers' LLaMA rotates whole heads
    k.rope_base = "rope_theta";
    k.rms_epsilon = "rms_norm_eps";
    k.context_length = "max_position_embeddings";
    return k;
  }

  /// The keys of a GGUF file's metadata for architecture `arch` ("llama.block_count", ...).
  [[nodiscard]] static llama_config_keys gguf(std::string where, const std::string& arch) {
    llama_config_keys k;
    k.where = std::move(where);
    k.file = "the GGUF metadata";
    k.layers = arch + ".block_count";
    k.hidden = arch + ".embedding_length";
    k.heads = arch + ".attention.head_count";
    k.kv_heads = arch + ".attention.head_count_kv";
    k.head_dim = arch + ".embedding_length / " + arch + ".attention.head_count";
    k.ffn = arch + ".feed_forward_length";
    k.vocab = arch + ".vocab_size";
    k.rope_dim = arch + ".rope.dimension_count";
    k.rope_base = arch + ".rope.freq_base";
    k.rms_epsilon = arch + ".attention.layer_norm_rms_epsilon";
    k.context_length = arch + ".context_length";
    return k;
  }
};

}  // namespace gift::model

namespace gift::model::detail {

/// Throws `gift::error` unless `low <= value <= high`, naming `key`, the range, the value and
/// where to correct it. Readers call it on the 64-bit value before narrowing it to `int`.
inline void require_config_range(std::int64_t value, std::int64_t low, std::int64_t high, const llama_config_keys& keys,
                                 const std::string& key) {
  gift::detail::require(value >= low && value <= high, keys.where, ": ", key, " = ", value,
                        " is outside the accepted range [", low, ", ", high, "]; correct \"", key, "\" in ",
                        keys.file, " (gift bounds model sizes so that a corrupt value fails before memory is allocated)");
}

/// Throws `gift::error` unless `value` is finite and positive (1e999 in JSON reads as infinity),
/// naming `key` and the value; `typical` says which values models use.
inline void require_config_positive(double value, const llama_config_keys& keys, const std::string& key,
                                    const char* typical) {
  gift::detail::require(std::isfinite(value) && value > 0, keys.where, ": ", key, " = ", value,
                        " is outside the accepted range: a finite number > 0; correct \"", key, "\" in ", keys.file,
                        " (", typical, ")");
}

}  // namespace gift::model::detail

namespace gift::model {

/// Hyper-parameters of a LLaMA-family decoder (pre-RMSNorm, RoPE, grouped-query attention,
/// SwiGLU feed-forward, optionally tied input/output embeddings).
struct llama_config {
  int layers = 0;             ///< decoder blocks
  int hidden = 0;             ///< model width (embedding length)
  int heads = 0;              ///< query heads
  int kv_heads = 0;           ///< key/value heads (GQA: `heads` is a multiple of it)
  int head_dim = 0;           ///< width of one head (`hidden / heads`)
  int ffn = 0;                ///< feed-forward (SwiGLU) width
  int vocab = 0;              ///< vocabulary size
  int rope_dim = 0;           ///< leading dimensions of each head that RoPE rotates
  double rope_base = 10000;   ///< RoPE frequency base θ
  double rms_epsilon = 1e-5;  ///< RMSNorm ε
  bool tied_embeddings = true;  ///< the output head reuses the token embedding
  int context_length = 0;     ///< trained context (0: unknown); gift generate refuses requests past it

  /// Throws `gift::error` naming the first field out of its range (`llama_config_limits`; eps and
  /// θ finite and positive) or inconsistent with another (e.g. heads not divisible by kv_heads),
  /// under the key `keys` gives it, with the accepted range, the value and how to fix it. Readers
  /// call it before anything of the model's size is allocated.
  void validate(const llama_config_keys& keys = {}) const {
    using limits = llama_config_limits;
    using detail::require_config_range;
    require_config_range(layers, 1, limits::max_layers, keys, keys.layers);
    require_config_range(hidden, 1, limits::max_width, keys, keys.hidden);
    require_config_range(ffn, 1, limits::max_width, keys, keys.ffn);
    require_config_range(vocab, 1, limits::max_vocab, keys, keys.vocab);
    require_config_range(heads, 1, hidden, keys, keys.heads);
    gift::detail::require(hidden % heads == 0, keys.where, ": ", keys.hidden, " (", hidden, ") must be a multiple of ",
                          keys.heads, " (", heads, "); correct one of them in ", keys.file);
    gift::detail::require(head_dim == hidden / heads, keys.where, ": ", keys.head_dim, " must be ", keys.hidden, " / ",
                          keys.heads, " = ", hidden / heads, ", but is ", head_dim, "; correct it in ", keys.file);
    require_config_range(kv_heads, 1, heads, keys, keys.kv_heads);
    gift::detail::require(heads % kv_heads == 0, keys.where, ": ", keys.heads, " (", heads, ") must be a multiple of ",
                          keys.kv_heads, " (", kv_heads, ") for grouped-query attention; correct one of them in ",
                          keys.file);
    gift::detail::require(rope_dim > 0 && rope_dim <= head_dim && rope_dim % 2 == 0, keys.where, ": ", keys.rope_dim,
                          " must be even and in (0, head_dim=", head_dim, "], but is ", rope_dim, "; correct it in ",
                          keys.file);
    detail::require_config_positive(rope_base, keys, keys.rope_base, "LLaMA models use 1e4 to 1e6");
    detail::require_config_positive(rms_epsilon, keys, keys.rms_epsilon, "LLaMA models use 1e-6 or 1e-5");
    require_config_range(context_length, 0, limits::max_context, keys, keys.context_length);
  }

  /// Width of the key/value projections (`kv_heads * head_dim`).
  [[nodiscard]] int kv_width() const noexcept { return kv_heads * head_dim; }

  /// Reads the configuration from the metadata of a GGUF file of architecture `llama`
  /// (`general.architecture`); tied embeddings are inferred from the absence of `output.weight`.
  /// \throws gift::error if the architecture is not LLaMA-like, a required key is missing, or a
  /// value is outside its range (`validate`), naming the GGUF key.
  [[nodiscard]] static llama_config from_gguf(const io::gguf_file& file) {
    const std::string arch = file.metadata("general.architecture").as_string();
    gift::detail::require(arch == "llama", "gift::model::llama_config::from_gguf: '", file.name(),
                    "' has general.architecture '", arch,
                    "', but only 'llama' (LLaMA, SmolLM, Mistral-style decoders) is supported");
    llama_config_keys keys =
        llama_config_keys::gguf("gift::model::llama_config::from_gguf: '" + file.name() + "'", arch);
    using limits = llama_config_limits;
    // Each integer is range-checked as the 64-bit number stored, before it is narrowed to int:
    // 2^32 + 2 layers must not become 2.
    const auto number = [&](const std::string& key, std::int64_t low, std::int64_t high) {
      const std::int64_t value = file.metadata(key).as_int();
      detail::require_config_range(value, low, high, keys, key);
      return static_cast<int>(value);
    };
    llama_config c;
    c.layers = number(keys.layers, 1, limits::max_layers);
    c.hidden = number(keys.hidden, 1, limits::max_width);
    c.heads = number(keys.heads, 1, limits::max_width);
    c.kv_heads = file.has_metadata(keys.kv_heads) ? number(keys.kv_heads, 1, limits::max_width) : c.heads;
    c.ffn = number(keys.ffn, 1, limits::max_width);
    c.head_dim = c.hidden / c.heads;
    c.rope_dim = file.has_metadata(keys.rope_dim) ? number(keys.rope_dim, 1, limits::max_width) : c.head_dim;
    if (const auto* base = file.find_metadata(keys.rope_base)) c.rope_base = base->as_float();
    c.rms_epsilon = file.metadata(keys.rms_epsilon).as_float();
    c.context_length = file.has_metadata(keys.context_length) ? number(keys.context_length, 0, limits::max_context) : 0;
    const auto& embedding = file.tensor("token_embd.weight");
    if (file.has_metadata(keys.vocab)) {
      c.vocab = number(keys.vocab, 1, limits::max_vocab);
    } else {
      keys.vocab = "the rows of token_embd.weight";
      gift::detail::require(embedding.rows() <= static_cast<std::uint64_t>(limits::max_vocab), keys.where,
                            ": token_embd.weight has ", embedding.rows(), " rows (tokens), more than the accepted ",
                            limits::max_vocab, "; is the file corrupt?");
      c.vocab = static_cast<int>(embedding.rows());
    }
    gift::detail::require(embedding.rows() == static_cast<std::uint64_t>(c.vocab) &&
                              embedding.columns() == static_cast<std::uint64_t>(c.hidden),
                          keys.where, ": token_embd.weight is ", embedding.rows(), " x ", embedding.columns(),
                          ", but the metadata says vocab ", c.vocab, " x hidden ", c.hidden);
    c.tied_embeddings = file.find_tensor("output.weight") == nullptr;
    c.validate(keys);
    return c;
  }
};

}  // namespace gift::model
