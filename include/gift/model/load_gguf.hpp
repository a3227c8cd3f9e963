#pragma once
/// \file gift/model/load_gguf.hpp
/// \brief Builds a `llama_model<float>` from a GGUF file: configuration from the metadata,
/// every tensor dequantized to fp32, every linear layer a `frozen_linear` (or, with bf16 storage,
/// a `stored_linear` holding the weight in bf16: one layer's fp32 copy at a time, never the model's).

#include <gift/error.hpp>
#include <gift/io/gguf.hpp>
#include <gift/model/config.hpp>
#include <gift/model/linear_module.hpp>
#include <gift/model/llama.hpp>
#include <gift/model/stored_linear.hpp>
#include <gift/stored_weight.hpp>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace gift::model {

/// The name of the weight of layer `p` in block `block` inside a GGUF file ("blk.3.attn_q.weight").
[[nodiscard]] inline std::string gguf_weight_name(int block, projection p) {
  return "blk." + std::to_string(block) + "." + std::string(gguf_name(p)) + ".weight";
}

/// Loads the model stored in `file` (tensor names as written by llama.cpp's converter; q and k
/// in its RoPE row order, which `apply_rope` expects). Every linear layer starts frozen, its
/// weight held in `storage`; the embedding, head and norms stay fp32.
/// \throws gift::error if a tensor is missing or has the wrong shape.
[[nodiscard]] inline llama_model<float> load_llama(const io::gguf_file& file,
                                                   gift::weight_storage storage = gift::weight_storage::f32) {
  const llama_config config = llama_config::from_gguf(file);
  const auto load_vector = [&](const std::string& name, Eigen::Index size) {
    Eigen::VectorXf values = file.dequantize_vector(name);
    gift::detail::require(values.size() == size, "gift::model::load_llama: tensor '", name, "' has ", values.size(),
                    " values, expected ", size);
    return vector<float>(values);
  };
  std::vector<block_norms<float>> norms(static_cast<std::size_t>(config.layers));
  std::vector<llama_model<float>::block_linears> linears(static_cast<std::size_t>(config.layers));
  for (int b = 0; b < config.layers; ++b) {
    const std::string prefix = "blk." + std::to_string(b) + ".";
    norms[static_cast<std::size_t>(b)].attention = load_vector(prefix + "attn_norm.weight", config.hidden);
    norms[static_cast<std::size_t>(b)].feed_forward = load_vector(prefix + "ffn_norm.weight", config.hidden);
    for (projection p : all_projections) {
      matrix<float> weight = file.dequantize(gguf_weight_name(b, p));
      auto& slot = linears[static_cast<std::size_t>(b)][static_cast<std::size_t>(p)];
      if (storage == gift::weight_storage::f32) slot = std::make_unique<frozen_linear<float>>(std::move(weight));
      else slot = std::make_unique<stored_linear<float>>(weight, storage);
    }
  }
  matrix<float> head;
  if (!config.tied_embeddings) head = file.dequantize("output.weight");
  return llama_model<float>(config, file.dequantize("token_embd.weight"),
                            load_vector("output_norm.weight", config.hidden), std::move(norms), std::move(linears),
                            std::move(head));
}

/// Opens `path` and loads the model in it, linear weights held in `storage`.
[[nodiscard]] inline llama_model<float> load_llama(const std::filesystem::path& path,
                                                   gift::weight_storage storage = gift::weight_storage::f32) {
  return load_llama(io::gguf_file::open(path), storage);
}

}  // namespace gift::model
