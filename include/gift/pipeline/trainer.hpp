#pragma once
/// \file gift/pipeline/trainer.hpp
/// \brief `pipeline::train`: the one training loop of gift — any trainable slot, any backend,
/// data-parallel through a `distributed::communicator` on Eigen — with the learning-rate
/// schedule, gradient clipping, divergence checks, resumption from a step, and callbacks for loss
/// logs, progress and checkpoints.
///
/// The caller builds the trainable model (replacing linear layers by slots such as
/// `model::gift_sw_linear`), collects the slots' parameter views and makes the optimizer; `train`
/// then runs the steps:
/// \code
/// gift::optim::adamw<float> optimizer(parameters, 0.0);
/// gift::pipeline::train_options options;
/// options.steps = 100;
/// options.schedule = gift::optim::cosine_schedule(1e-4, 100, 0.03);
/// const auto batches = [&](std::int64_t step) { return gift::model::wrapped_sequences(ids, 256, step * 8, 8); };
/// const auto result = gift::pipeline::train(model, parameters, optimizer, batches, options);
/// \endcode
/// Each step: zero the gradients, forward and backward on the step's batch (GIFT-SW slots draw
/// their noise from the step number, so a resumed run repeats the uninterrupted one bit for bit),
/// stop on a non-finite loss or gradient, clip the global gradient norm, take the optimizer step
/// at the schedule's rate, and stop if the update made a parameter non-finite — before anything
/// non-finite reaches a checkpoint.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/eigen/optim/parameter.hpp>
#include <gift/detail/optim/parameter.hpp>
#include <gift/distributed/communicator.hpp>
#include <gift/distributed/shard_plan.hpp>
#include <gift/error.hpp>
#include <gift/model/cross_entropy.hpp>
#include <gift/model/data_parallel.hpp>
#include <gift/model/linear_module.hpp>
#include <gift/model/llama.hpp>
#include <gift/optim/adam.hpp>
#include <gift/optim/clip.hpp>
#include <gift/optim/parameter.hpp>

#include <cmath>
#include <concepts>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

namespace gift::pipeline {

/// One finished training step, as the callbacks see it.
struct train_step {
  std::int64_t step = 0;        ///< 1-based number of the step just taken
  std::int64_t steps = 0;       ///< the run's total (`train_options::steps`)
  double loss = 0;              ///< mean next-token loss of the step's batch (before the update)
  double smoothed_loss = 0;     ///< exponential average (0.9 · previous + 0.1 · loss) over this invocation
  double learning_rate = 0;     ///< the rate the optimizer used
  double gradient_norm = 0;     ///< global gradient norm before clipping
};

/// How `train` runs.
struct train_options {
  std::int64_t steps = 0;       ///< the run's length (the schedule's horizon); steps are 0-based inside
  std::int64_t first_step = 0;  ///< where this invocation starts (a resumed run: the checkpoint's step)
  std::int64_t stop_after = 0;  ///< end after this step (0: run to `steps`); continue later from it
  /// The learning rate of each 0-based step (`optim::cosine_schedule`, `linear_schedule`,
  /// `constant_schedule`, or any callable).
  std::function<double(std::uint64_t)> schedule;
  double clip = 1.0;            ///< clip the global gradient norm to this (0: off)
  bool noise = true;            ///< training forward passes inject noise (GIFT-SW, NPFT)
  std::int64_t checkpoint_every = 0;  ///< call `on_checkpoint` every N steps (0: never; never after the last)
  std::string label = "gift::pipeline::train";  ///< how errors name the run (e.g. "gift finetune")
  std::function<void(const train_step&)> on_step;         ///< optional: after every step (logs, progress)
  std::function<void(std::int64_t step)> on_checkpoint;   ///< optional: at every `checkpoint_every` steps
};

/// What `train` did in this invocation.
struct train_result {
  std::int64_t first_step = 0;     ///< the step it started from
  std::int64_t last_step = 0;      ///< the step it ended after (the next run's `first_step`)
  std::vector<double> losses;      ///< the loss of every step taken, in order
  double smoothed_loss = 0;        ///< the exponential average after the last step
  double combine_seconds = 0;      ///< time combining shards' gradients (data-parallel runs)
  std::size_t combined_values = 0; ///< gradient values combined per shard (0 with one shard)

  /// The first step's loss (NaN when no step ran).
  [[nodiscard]] double first_loss() const noexcept { return losses.empty() ? std::nan("") : losses.front(); }
  /// The last step's loss (NaN when no step ran).
  [[nodiscard]] double last_loss() const noexcept { return losses.empty() ? std::nan("") : losses.back(); }
};

/// The batch of a 0-based step (`train_options::steps` rows of token ids is not required: any
/// number of sequences of at least 2 tokens, the same for every rank).
using batch_source = std::function<token_matrix(std::int64_t step)>;

namespace detail {
inline void require_train_options(const train_options& options) {
  const std::string& at = options.label;
  gift::detail::require(options.steps >= 1, at, ": train_options::steps must be at least 1, but is ", options.steps);
  gift::detail::require(options.first_step >= 0 && options.first_step <= options.steps, at,
                        ": train_options::first_step must be in [0, steps = ", options.steps, "], but is ",
                        options.first_step);
  gift::detail::require(options.stop_after >= 0, at, ": train_options::stop_after must be >= 0 (0: run to the end), ",
                        "but is ", options.stop_after);
  gift::detail::require(static_cast<bool>(options.schedule), at,
                        ": train_options::schedule is empty; give one, e.g. optim::cosine_schedule(lr, steps, 0.03)");
  gift::detail::require(std::isfinite(options.clip) && options.clip >= 0.0, at,
                        ": train_options::clip must be finite and >= 0 (0: off), but is ", options.clip);
  gift::detail::require(options.checkpoint_every >= 0, at, ": train_options::checkpoint_every must be >= 0, but is ",
                        options.checkpoint_every);
}

/// Throws unless every value of every parameter is finite (a squared norm accumulated in double
/// is finite exactly when every float is).
template <std::floating_point T, backend_tag Backend>
void require_finite_values(std::span<const optim::parameter<T, Backend>> parameters, const std::string& at,
                           double learning_rate) {
  for (const auto& p : parameters) {
    const double block = backend::dispatch<ops::squared_norm>(Backend{}, std::span<const T>(p.value));
    gift::detail::require(std::isfinite(block), at, ": the update made '", p.name,
                          "' non-finite; lower the learning rate (now ", learning_rate, ")");
  }
}
}  // namespace detail

/// Trains `model`'s trainable slots, whose views `parameters` the optimizer `optimizer` updates,
/// for steps `options.first_step .. min(options.stop_after or steps, steps) − 1`, on the batches
/// `batches(step)`. With `comm` and `plan` (Eigen only) each step's batch is cut into the plan's
/// shards and their gradients summed in shard order (`model::sharded_forward_backward`): the
/// result depends on the shard count, never on the ranks or threads. Every rank must pass the same
/// batches, parameters in the same order, and the same options.
/// \throws gift::error for invalid options, a non-finite loss, gradient or updated value (naming the
/// step and the parameter: the weights then hold the last finite state only if the error came
/// before the update), or a data-parallel plan off Eigen.
template <std::floating_point T, backend_tag Backend>
train_result train(model::llama_model<T, Backend>& model, std::span<const optim::parameter<T, Backend>> parameters,
                   optim::adam<T, Backend>& optimizer, const batch_source& batches, const train_options& options,
                   distributed::communicator* comm = nullptr, const distributed::shard_plan* plan = nullptr) {
  detail::require_train_options(options);
  gift::detail::require(static_cast<bool>(batches), options.label, ": the batch source is empty");
  gift::detail::require((comm == nullptr) == (plan == nullptr), options.label,
                        ": give both a communicator and a shard plan for data-parallel training, or neither");
  const bool sharded = plan != nullptr && (plan->shards() > 1 || comm->size() > 1);
  if constexpr (!std::is_same_v<Backend, backend::eigen>) {
    gift::detail::require(!sharded, options.label, ": data-parallel training (several shards or ranks) runs on the ",
                          "Eigen backend; train on this backend with one shard in one process");
  }
  const std::int64_t end = options.stop_after > 0 ? std::min(options.stop_after, options.steps) : options.steps;
  train_result result;
  result.first_step = options.first_step;
  result.last_step = std::max(options.first_step, end);
  for (std::int64_t step = options.first_step; step < end; ++step) {
    const std::string at = options.label + ": step " + std::to_string(step + 1) + " of " + std::to_string(options.steps);
    const double rate = options.schedule(static_cast<std::uint64_t>(step));
    optimizer.zero_grad();
    const token_matrix batch = batches(step);
    const model::forward_context context{options.noise, static_cast<std::uint32_t>(step)};
    double loss = 0;
    try {  // the model's own errors (a non-finite loss inside cross_entropy, bad ids) get the step
      if constexpr (std::is_same_v<Backend, backend::eigen>) {
        if (sharded) {
          const auto done = model::sharded_forward_backward(model, parameters, batch, context, *comm, *plan);
          result.combine_seconds += done.combine_seconds;
          result.combined_values = done.combined_values;
          loss = done.loss.mean();
        } else {
          loss = model.forward_backward(batch, context).mean();
        }
      } else {
        loss = model.forward_backward(batch, context).mean();
      }
    } catch (const error& e) {
      // Weights made non-finite by an earlier update surface here, as a non-finite activation.
      throw error(at + ": " + e.what() + " (if training diverged: lower the learning rate, now " +
                  std::to_string(rate) + ", or clip the gradient norm)");
    }
    gift::detail::require(std::isfinite(loss), at, ": the loss is ", loss,
                          "; training diverged: lower the learning rate (now ", rate, ") or clip the gradient norm");
    double norm = 0;
    try {
      norm = optim::gradient_norm(parameters);  // names the first block whose gradient is not finite
    } catch (const error& e) {
      throw error(at + ": " + e.what() + " (lower the learning rate, now " + std::to_string(rate) + ")");
    }
    if (options.clip > 0) (void)optim::clip_gradient_norm<T>(parameters, options.clip);
    optimizer.step(rate);
    detail::require_finite_values(parameters, at, rate);
    result.smoothed_loss = step == options.first_step ? loss : 0.9 * result.smoothed_loss + 0.1 * loss;
    result.losses.push_back(loss);
    if (options.on_step) options.on_step({step + 1, options.steps, loss, result.smoothed_loss, rate, norm});
    if (options.on_checkpoint && options.checkpoint_every > 0 && (step + 1) % options.checkpoint_every == 0 &&
        step + 1 < end)
      options.on_checkpoint(step + 1);
  }
  return result;
}

/// As above, for a vector of views.
template <std::floating_point T, backend_tag Backend>
train_result train(model::llama_model<T, Backend>& model, const std::vector<optim::parameter<T, Backend>>& parameters,
                   optim::adam<T, Backend>& optimizer, const batch_source& batches, const train_options& options,
                   distributed::communicator* comm = nullptr, const distributed::shard_plan* plan = nullptr) {
  return train(model, std::span<const optim::parameter<T, Backend>>(parameters), optimizer, batches, options, comm,
               plan);
}

}  // namespace gift::pipeline
