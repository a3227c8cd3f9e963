#pragma once
// gift finetune --device thrust-omp|thrust-cpp|cuda: GIFT-SW training (pipeline::train, the same
// loop as on Eigen) on a backend other than Eigen. The model is moved there (model::to_backend),
// every linear layer becomes a model::gift_sw_linear of that backend, and AdamW runs on the
// backend's views; afterwards the trained layers come back to the host model as frozen dense
// weights and the optimizer's moments as host copies, so the command writes the same checkpoint as
// an Eigen run (which --resume reads).
#include <gift/error.hpp>
#include <gift/model/gift_sw_linear.hpp>
#include <gift/model/llama.hpp>
#include <gift/optim/adam.hpp>
#include <gift/pipeline/trainer.hpp>
#include <gift/salient_columns.hpp>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common.hpp"
#include "device.hpp"

namespace gift::cli {

/// One GIFT-SW layer to build on the device: where it goes and what it is made from.
struct device_layer {
  int block = 0;
  model::projection projection{};
  matrix<float> weight;      ///< the dense host weight (out × in)
  salient_columns salient;   ///< its trainable columns
  vector<float> delta;       ///< per-row quantization step that scales the noise
  std::uint32_t layer_id = 0;
};

/// The settings of a device run: the command's options, already checked, as the trainer takes them.
struct device_training {
  pipeline::train_options options;   ///< steps, schedule, clipping, callbacks (the same as on Eigen)
  pipeline::batch_source batches;    ///< the batch of each step
  double weight_decay = 0;
  std::uint64_t seed = 0;
  const std::vector<std::vector<float>>* resume_first = nullptr;  ///< moments to continue from (or null)
  const std::vector<std::vector<float>>* resume_second = nullptr;
};

/// What a device run hands back: the trainer's result and the optimizer's state as host copies.
struct device_outcome {
  pipeline::train_result trained;
  std::vector<std::vector<float>> first_moment, second_moment;
  std::size_t state_values = 0;
  std::int64_t trainable = 0;
};

/// Trains `layers` of `host` with GIFT-SW on `chosen` (not eigen). On return the host model's
/// linear layers hold the trained weights (frozen). Divergence stops the run with a gift::error
/// before anything non-finite leaves the device.
inline device_outcome train_gift_sw_on_device(device chosen, model::llama_model<float>& host,
                                              std::vector<device_layer>& layers, const device_training& run) {
  gift::require(chosen != device::eigen, "gift finetune: train_gift_sw_on_device is for a device other than eigen");
  return on_device(chosen, host, [&](auto& moved) {
    using backend_type = typename std::remove_cvref_t<decltype(moved)>::backend_type;
    device_outcome out;
    std::vector<optim::parameter<float, backend_type>> parameters;
    for (auto& layer : layers) {
      auto slot = std::make_unique<model::gift_sw_linear<float, backend_type>>(layer.weight, layer.salient, layer.delta,
                                                                              run.seed, layer.layer_id);
      for (auto& view : slot->parameters()) parameters.push_back(view);
      out.trainable += slot->trainable_parameters();
      moved.replace_linear(layer.block, layer.projection, std::move(slot));
      layer.weight = matrix<float>();  // the device holds it now
    }
    optim::adamw<float, backend_type> optimizer(parameters, run.weight_decay);
    if (run.resume_first != nullptr)
      optimizer.restore(static_cast<std::uint64_t>(run.options.first_step), *run.resume_first, *run.resume_second);
    out.trained = pipeline::train(moved, parameters, optimizer, run.batches, run.options);
    // Back to the host: the merged weights (the trainer checked every update finite) and the moments.
    for (const auto& layer : layers) {
      matrix<float> trained = moved.linear(layer.block, layer.projection).effective_weight();
      host.replace_linear(layer.block, layer.projection, std::make_unique<model::frozen_linear<float>>(std::move(trained)));
    }
    for (std::size_t b = 0; b < parameters.size(); ++b) {
      out.first_moment.push_back(optimizer.first_moment(b));
      out.second_moment.push_back(optimizer.second_moment(b));
    }
    out.state_values = optimizer.state_elements();
    return out;
  });
}

}  // namespace gift::cli
