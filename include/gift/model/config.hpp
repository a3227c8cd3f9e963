#pragma once
/// \file gift/model/config.hpp
/// \brief `gift::model::llama_config`: the shape of a LLaMA-family decoder, read from GGUF metadata.
///
/// Every number comes from the file (`<arch>.block_count`, `<arch>.embedding_length`, ...), so
/// the same code serves SmolLM2-135M (30 layers, width 576, 9 query / 3 KV heads, SwiGLU 1536,
/// vocab 49152) and any other LLaMA-architecture GGUF.

#include <gift/error.hpp>
#include <gift/io/gguf.hpp>

#include <cstdint>
#include <string>

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

  /// Throws `gift::error` naming the first inconsistent field (e.g. heads not divisible by
  /// kv_heads) and how it can be fixed.
  void validate() const {
    const char* where = "gift::model::llama_config::validate";
    gift::detail::require(layers > 0 && hidden > 0 && heads > 0 && kv_heads > 0 && ffn > 0 && vocab > 0, where,
                    ": layers, hidden, heads, kv_heads, ffn and vocab must be positive, but got layers=",
                    layers, " hidden=", hidden, " heads=", heads, " kv_heads=", kv_heads, " ffn=", ffn,
                    " vocab=", vocab);
    gift::detail::require(hidden % heads == 0, where, ": hidden (", hidden, ") must be a multiple of heads (", heads,
                    ")");
    gift::detail::require(head_dim == hidden / heads, where, ": head_dim must be hidden / heads = ", hidden / heads,
                    ", but is ", head_dim);
    gift::detail::require(heads % kv_heads == 0, where, ": heads (", heads, ") must be a multiple of kv_heads (",
                    kv_heads, ") for grouped-query attention");
    gift::detail::require(rope_dim > 0 && rope_dim <= head_dim && rope_dim % 2 == 0, where,
                    ": rope_dim must be even and in (0, head_dim=", head_dim, "], but is ", rope_dim);
    gift::detail::require(rope_base > 0 && rms_epsilon > 0, where, ": rope_base and rms_epsilon must be positive, but are ",
                    rope_base, " and ", rms_epsilon);
  }

  /// Width of the key/value projections (`kv_heads * head_dim`).
  [[nodiscard]] int kv_width() const noexcept { return kv_heads * head_dim; }

  /// Reads the configuration from the metadata of a GGUF file of architecture `llama`
  /// (`general.architecture`); tied embeddings are inferred from the absence of `output.weight`.
  /// \throws gift::error if the architecture is not LLaMA-like or a required key is missing.
  [[nodiscard]] static llama_config from_gguf(const io::gguf_file& file) {
    const std::string arch = file.metadata("general.architecture").as_string();
    gift::detail::require(arch == "llama", "gift::model::llama_config::from_gguf: '", file.name(),
                    "' has general.architecture '", arch,
                    "', but only 'llama' (LLaMA, SmolLM, Mistral-style decoders) is supported");
    const auto number = [&](const std::string& key) {
      return static_cast<int>(file.metadata(arch + "." + key).as_int());
    };
    llama_config c;
    c.layers = number("block_count");
    c.hidden = number("embedding_length");
    c.heads = number("attention.head_count");
    c.kv_heads = file.has_metadata(arch + ".attention.head_count_kv") ? number("attention.head_count_kv") : c.heads;
    c.ffn = number("feed_forward_length");
    c.head_dim = c.heads > 0 ? c.hidden / c.heads : 0;
    c.rope_dim = file.has_metadata(arch + ".rope.dimension_count") ? number("rope.dimension_count") : c.head_dim;
    if (const auto* base = file.find_metadata(arch + ".rope.freq_base")) c.rope_base = base->as_float();
    c.rms_epsilon = file.metadata(arch + ".attention.layer_norm_rms_epsilon").as_float();
    c.context_length = file.has_metadata(arch + ".context_length") ? number("context_length") : 0;
    const auto& embedding = file.tensor("token_embd.weight");
    if (const auto* vocab = file.find_metadata(arch + ".vocab_size")) {
      c.vocab = static_cast<int>(vocab->as_int());
    } else {
      c.vocab = static_cast<int>(embedding.rows());
    }
    gift::detail::require(embedding.rows() == static_cast<std::uint64_t>(c.vocab) &&
                        embedding.columns() == static_cast<std::uint64_t>(c.hidden),
                    "gift::model::llama_config::from_gguf: token_embd.weight is ", embedding.rows(), " x ",
                    embedding.columns(), ", but the metadata says vocab ", c.vocab, " x hidden ", c.hidden);
    c.tied_embeddings = file.find_tensor("output.weight") == nullptr;
    c.validate();
    return c;
  }
};

}  // namespace gift::model
