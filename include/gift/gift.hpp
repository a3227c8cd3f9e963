#pragma once
/// \file gift/gift.hpp
/// \brief The umbrella header: everything gift offers on the CPU (Eigen backend).
///
/// Thrust and CUDA backends are opt-in: include <gift/backend/thrust.hpp> (target gift::thrust)
/// or <gift/backend/cuda.cuh> (target gift::cuda, nvcc) as well. The gzip-based text readers
/// (<gift/io/gzip.hpp>, <gift/io/text_data.hpp>) need zlib and are not included here.

// Foundation
#include <gift/backend/dispatch.hpp>
#include <gift/backend/tags.hpp>
#include <gift/backend/traits.hpp>
#include <gift/column_norms.hpp>
#include <gift/concepts.hpp>
#include <gift/config.hpp>
#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/norm.hpp>
#include <gift/random.hpp>
#include <gift/stored_weight.hpp>
#include <gift/fill_standard_normal.hpp>
#include <gift/type_list.hpp>
#include <gift/version.hpp>

// Saliency and quantization
#include <gift/gram.hpp>
#include <gift/metric.hpp>
#include <gift/quant/asymmetric.hpp>
#include <gift/quant/gptq.hpp>
#include <gift/quant/symmetric.hpp>
#include <gift/select.hpp>
#include <gift/fisher_diagonal.hpp>
#include <gift/stats.hpp>

// Training
#include <gift/nn/gift_linear.hpp>
#include <gift/noise.hpp>
#include <gift/optim/optim.hpp>

// Model files and text
#include <gift/io/gguf.hpp>
#include <gift/io/safetensors.hpp>
#include <gift/io/tokenizer.hpp>

// LLaMA-family model
#include <gift/model/llama.hpp>
#include <gift/model/load_gguf.hpp>
#include <gift/model/stored_linear.hpp>

// Fine-tuning methods as model slots
#include <gift/model/dora_linear.hpp>
#include <gift/model/empirical_fisher.hpp>
#include <gift/model/full_linear.hpp>
#include <gift/model/gift_sw_linear.hpp>
#include <gift/model/lora_linear.hpp>
#include <gift/model/metric_sweep.hpp>
#include <gift/model/npft_linear.hpp>
#include <gift/model/ste_linear.hpp>
#include <gift/model/svft_linear.hpp>

// Whole-model workflow: evaluation sets, evaluation with per-sequence losses, paired comparisons,
// the one training loop
#include <gift/pipeline/compare.hpp>
#include <gift/pipeline/eval_set.hpp>
#include <gift/pipeline/evaluate.hpp>
#include <gift/pipeline/multiple_choice.hpp>
#include <gift/pipeline/trainer.hpp>
