#pragma once
/// \file gift/model/save_gguf.hpp
/// \brief `gift::model::save_gguf`: writes a LLaMA model as a GGUF file llama.cpp loads — the
/// architecture metadata (`llama.*`), the tokenizer (`tokenizer.ggml.*`, chat template), the
/// model card's `general.*` entries, and every tensor under llama.cpp's names in F32, F16, BF16
/// or Q8_0 (norms stay F32, as llama.cpp's converter keeps them).
///
/// gift holds q and k in llama.cpp's permuted row order already (that is how `load_llama` reads
/// GGUF and how `model/hf_checkpoint.hpp` converts Hugging Face rows), so the linear weights are
/// written as they are: GGUF → gift → GGUF F32 gives back the dequantized tensors bit for bit.

#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/io/gguf_dequant.hpp>
#include <gift/io/gguf_writer.hpp>
#include <gift/io/tokenizer.hpp>
#include <gift/model/config.hpp>
#include <gift/model/linear_module.hpp>
#include <gift/model/llama.hpp>
#include <gift/model/load_gguf.hpp>
#include <gift/model/model_card.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace gift::model {

/// llama.cpp's name (`tokenizer.ggml.pre`) for gift's pre-tokenizer `kind`.
[[nodiscard]] inline std::string gguf_pre_tokenizer_name(io::pre_tokenizer_kind kind) {
  return kind == io::pre_tokenizer_kind::gpt2_digits ? "smollm" : "gpt2";
}

/// Writes `model` with its tokenizer `tok` and `card` as a GGUF v3 file at `path` (atomically),
/// the linear layers' effective weights (trained parts merged) and the token embedding and
/// head in `type` (F32, F16, BF16 or Q8_0).
/// \throws gift::error for a type gift cannot write, a Q8_0 tensor whose rows are not a
/// multiple of 32, a tokenizer of another size, non-finite weights, or a write failure.
inline void save_gguf(const llama_model<float>& model, const io::tokenizer& tok, const model_card& card,
                      const std::filesystem::path& path, io::ggml_type type = io::ggml_type::f32) {
  const char* where = "gift::model::save_gguf";
  gift::detail::require(io::gguf_writable(type), where, ": tensor type ", io::name_of(type),
                        " cannot be written (F32, F16, BF16, Q8_0)");
  const llama_config& c = model.config();
  gift::detail::require(static_cast<std::size_t>(c.vocab) == tok.vocab_size(), where, ": the tokenizer has ",
                        tok.vocab_size(), " tokens, the model ", c.vocab, "; pass the model's own tokenizer");
  io::gguf_writer out;
  const auto u32 = [](std::int64_t v) { return io::gguf_value::make(static_cast<std::uint32_t>(v)); };
  out.set_string("general.architecture", "llama");
  if (!card.name.empty()) out.set_string("general.name", card.name);
  for (const auto& entry : card.gguf_general) out.set(entry.key, entry.value);
  // llama.cpp's file type: what most tensors are (0 all F32, 1 mostly F16, 7 mostly Q8_0, 32 mostly BF16).
  const std::uint32_t file_type = type == io::ggml_type::f16 ? 1 : type == io::ggml_type::q8_0 ? 7 : type == io::ggml_type::bf16 ? 32 : 0;
  out.set("general.file_type", io::gguf_value::make(file_type));
  // llama.cpp's converter writes the quantization version for every file type, F32 included.
  out.set("general.quantization_version", io::gguf_value::make(std::uint32_t{2}));
  out.set("llama.block_count", u32(c.layers));
  if (c.context_length > 0) out.set("llama.context_length", u32(c.context_length));
  out.set("llama.embedding_length", u32(c.hidden));
  out.set("llama.feed_forward_length", u32(c.ffn));
  out.set("llama.attention.head_count", u32(c.heads));
  out.set("llama.attention.head_count_kv", u32(c.kv_heads));
  out.set("llama.rope.freq_base", io::gguf_value::make(static_cast<float>(c.rope_base)));
  out.set("llama.attention.layer_norm_rms_epsilon", io::gguf_value::make(static_cast<float>(c.rms_epsilon)));
  out.set("llama.rope.dimension_count", u32(c.rope_dim));
  out.set("llama.vocab_size", u32(c.vocab));

  out.set_string("tokenizer.ggml.model", "gpt2");
  out.set_string("tokenizer.ggml.pre",
                 card.gguf_pre_tokenizer.empty() ? gguf_pre_tokenizer_name(tok.pre_tokenizer()) : card.gguf_pre_tokenizer);
  out.set_strings("tokenizer.ggml.tokens", std::vector<std::string>(tok.tokens().begin(), tok.tokens().end()));
  std::vector<std::int32_t> kinds;
  kinds.reserve(tok.vocab_size());
  for (const auto kind : tok.kinds()) kinds.push_back(static_cast<std::int32_t>(kind));
  out.set_array("tokenizer.ggml.token_type", kinds);
  out.set_strings("tokenizer.ggml.merges", std::vector<std::string>(tok.merges().begin(), tok.merges().end()));
  const io::special_token_ids& special = tok.special();
  const std::pair<const char*, std::int32_t> ids[] = {{"tokenizer.ggml.bos_token_id", special.bos},
                                                      {"tokenizer.ggml.eos_token_id", special.eos},
                                                      {"tokenizer.ggml.unknown_token_id", special.unk},
                                                      {"tokenizer.ggml.padding_token_id", special.pad}};
  for (const auto& [key, id] : ids)
    if (id >= 0) out.set(key, u32(id));
  // gift's byte-level BPE never puts a space in front of the text (llama.cpp's default for gpt2).
  out.set("tokenizer.ggml.add_space_prefix", io::gguf_value::make(false));
  out.set("tokenizer.ggml.add_bos_token", io::gguf_value::make(tok.add_bos_by_default()));
  if (!card.chat_template.empty()) out.set_string("tokenizer.chat_template", card.chat_template);

  // Tensors in llama.cpp's order: embedding, then block by block, then the output norm and head.
  const auto add = [&](const std::string& name, const matrix<float>& m, io::ggml_type as) {
    try {
      out.add_tensor(name, m, as);
    } catch (const gift::error& e) {
      throw gift::error(gift::detail::concat(where, ": ", e.what()));
    }
  };
  add("token_embd.weight", model.token_embedding(), type);
  for (int b = 0; b < c.layers; ++b) {
    const std::string prefix = "blk." + std::to_string(b) + ".";
    out.add_vector(prefix + "attn_norm.weight", model.norms(b).attention);
    for (const projection p : all_projections) {
      add(gguf_weight_name(b, p), model.linear(b, p).effective_weight(), type);
      if (p == projection::o) out.add_vector(prefix + "ffn_norm.weight", model.norms(b).feed_forward);
    }
  }
  out.add_vector("output_norm.weight", model.output_norm());
  if (!c.tied_embeddings) add("output.weight", model.output_head(), type);
  out.write(path);
}

}  // namespace gift::model
