// The model shapes the benchmarks time: real models' configurations, for synthetic weights (a
// timing depends on the shape, not on the values). Host-only and CUDA benchmarks both include it.
#pragma once

#include <gift/model/config.hpp>
#include <gift/model/synthetic.hpp>

#include <string>

namespace bench {

/// SmolLM2-135M's configuration (its GGUF's metadata): 30 blocks, hidden 576, 9 heads over 3
/// key/value heads of 64, SwiGLU 1536, vocabulary 49152, tied head, RoPE base 100000.
inline gift::model::llama_config smollm2_135m_shape() {
  gift::model::llama_config c = gift::model::tiny_llama_config(30, 576, 9, 3, 1536, 49152);
  c.rope_base = 100000;
  c.context_length = 8192;
  c.validate();
  return c;
}

/// LLaMA-2-7B's configuration with `blocks` decoder blocks (32 in the real model): hidden 4096, 32
/// heads of 128 without grouping, SwiGLU 11008, vocabulary 32000, untied head.
inline gift::model::llama_config llama2_7b_shape(int blocks) {
  gift::model::llama_config c = gift::model::tiny_llama_config(blocks, 4096, 32, 32, 11008, 32000);
  c.tied_embeddings = false;
  c.context_length = 4096;
  c.validate();
  return c;
}

}  // namespace bench
