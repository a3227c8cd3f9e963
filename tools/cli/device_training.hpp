#pragma once
// gift finetune --device thrust-omp|thrust-cpp|cuda: the GIFT-SW training loop on a backend other
// than Eigen. The model is moved there (model::to_backend), every linear layer becomes a
// model::gift_sw_linear of that backend, and AdamW runs on the backend's views; afterwards the
// trained layers come back to the host model as frozen dense weights and the optimizer's moments
// as host copies, so the command writes the same checkpoint as an Eigen run (which --resume reads).
#include <gift/error.hpp>
#include <gift/model/gift_sw_linear.hpp>
#include <gift/model/llama.hpp>
#include <gift/optim/adam.hpp>
#include <gift/optim/clip.hpp>
#include <gift/salient_columns.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common.hpp"
#include "device.hpp"
#include "progress.hpp"

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

/// The settings of a device run: the command's options, already checked.
struct device_training {
  const std::vector<std::int32_t>* ids = nullptr;  ///< the training token stream
  std::int64_t first_step = 0, steps = 0, stop_after = 0, batch = 1, length = 2;
  std::function<double(std::uint64_t)> schedule;  ///< learning rate of each step
  double lr = 0, clip = 0, weight_decay = 0;
  bool noise = true;
  std::uint64_t seed = 0;
  const std::vector<std::vector<float>>* resume_first = nullptr;  ///< moments to continue from (or null)
  const std::vector<std::vector<float>>* resume_second = nullptr;
};

/// What a device run hands back: the losses and the optimizer's state as host copies.
struct device_outcome {
  double first_loss = 0, last_loss = 0, smoothed_loss = 0;
  std::string loss_log;  ///< "step,loss" lines of this invocation
  std::vector<std::vector<float>> first_moment, second_moment;
  std::size_t state_values = 0;
  std::int64_t trainable = 0;
};

/// Trains `layers` of `host` with GIFT-SW on `chosen` (not eigen). On return the host model's
/// linear layers hold the trained weights (frozen). Divergence stops the run with a gift::error
/// before anything non-finite leaves the device.
inline device_outcome train_gift_sw_on_device(device chosen, model::llama_model<float>& host,
                                              std::vector<device_layer>& layers, const device_training& run) {
  gift::detail::require(chosen != device::eigen, "gift finetune: train_gift_sw_on_device is for a device other than eigen");
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
      optimizer.restore(static_cast<std::uint64_t>(run.first_step), *run.resume_first, *run.resume_second);
    progress_bar bar("finetune", run.stop_after - std::min(run.first_step, run.stop_after), "step");
    for (std::int64_t step = run.first_step; step < run.stop_after; ++step) {
      optimizer.zero_grad();
      const auto tokens = wrapped_sequences(*run.ids, run.length, step * run.batch, run.batch);
      const double loss = moved.forward_backward(tokens, {run.noise, static_cast<std::uint32_t>(step)}).mean();
      const std::string at = "gift finetune: step " + std::to_string(step + 1) + " of " + std::to_string(run.steps);
      gift::detail::require(std::isfinite(loss), at, ": the loss is ", loss, "; training diverged: lower --lr (now ",
                            run.lr, ") or keep --clip on");
      try {
        (void)optim::gradient_norm(parameters);  // names the first block whose gradient is not finite
      } catch (const error& e) {
        throw error(at + ": " + e.what() + " (lower --lr, now " + std::to_string(run.lr) + ")");
      }
      if (run.clip > 0) optim::clip_gradient_norm<float>(parameters, run.clip);
      optimizer.step(run.schedule(static_cast<std::uint64_t>(step)));
      if (step == run.first_step) out.first_loss = loss;
      char line[64];
      std::snprintf(line, sizeof line, "%lld,%.9g\n", static_cast<long long>(step + 1), loss);
      out.loss_log += line;
      out.last_loss = loss;
      out.smoothed_loss = step == run.first_step ? loss : 0.9 * out.smoothed_loss + 0.1 * loss;
      bar.advance(1, "loss " + std::to_string(out.smoothed_loss));
    }
    // Back to the host: the merged weights (checked finite, as the Eigen loop checks every update)
    // and the moments.
    for (const auto& layer : layers) {
      matrix<float> trained = moved.linear(layer.block, layer.projection).effective_weight();
      gift::detail::require(trained.allFinite(), "gift finetune: the update made layer ", layer.layer_id,
                            " non-finite; lower --lr (now ", run.lr, ")");
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
