#pragma once
/// \file gift/model/data_parallel.hpp
/// \brief Data-parallel training over `gift::distributed`: `model::sharded_forward_backward` (a
/// training step's gradient from a global batch cut into shards) and
/// `model::sharded_empirical_fisher` (NPFT's statistic over sequences cut into shards).
///
/// Each shard's gradient is computed on its own, from zeroed gradients, by the rank that owns it,
/// and the shards are summed in shard order (`distributed::ordered_sum`): the result depends on the
/// number of shards, never on the number of ranks or threads. With one shard this is exactly
/// `llama_model::forward_backward`. Only the trainable parameters travel — for GIFT-SW the salient
/// blocks, a few percent of the weights.

#include <gift/distributed/communicator.hpp>
#include <gift/distributed/merge_shards.hpp>
#include <gift/distributed/ordered_fold.hpp>
#include <gift/distributed/shard_plan.hpp>
#include <gift/error.hpp>
#include <gift/fisher_diagonal.hpp>
#include <gift/model/cross_entropy.hpp>
#include <gift/model/empirical_fisher.hpp>
#include <gift/model/linear_module.hpp>
#include <gift/model/llama.hpp>
#include <gift/model/tokens.hpp>
#include <gift/optim/parameter.hpp>

#include <algorithm>
#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace gift::model {

/// What one data-parallel training step computed.
struct sharded_step {
  loss_sum loss;                ///< the global batch's summed loss (folded in shard order)
  double combine_seconds = 0;   ///< this rank's time combining the shards' gradients and losses
  std::size_t combined_values = 0;  ///< gradient values combined per shard (0 with one shard: nothing to combine)
};

/// The gradient of the mean next-token loss of the global batch `batch` (every rank passes the
/// same one) under `context`, written into the gradients of `parameters` on every rank.
///
/// The rows of `batch` are cut into `plan.shards()` contiguous shards
/// (`distributed::shard_plan::items_of`); this rank runs a training forward and backward pass on
/// each of its shards from zeroed gradients, weights the shard's mean-loss gradient by its share of
/// the predicted tokens, and the weighted gradients of all shards are summed in shard order. The
/// previous contents of the gradients are overwritten. `parameters` must list every trainable
/// parameter of the model, in the same order on every rank.
/// \throws gift::error when the batch has fewer rows than shards, sequences of fewer than 2
/// tokens, or the plan does not match the communicator.
template <std::floating_point T>
sharded_step sharded_forward_backward(llama_model<T>& model, std::span<const optim::parameter<T>> parameters,
                                      const token_matrix& batch, const forward_context& context,
                                      distributed::communicator& comm, const distributed::shard_plan& plan) {
  const char* where = "gift::model::sharded_forward_backward";
  gift::detail::require(plan.ranks() == comm.size(), where, ": the plan spreads its shards over ", plan.ranks(),
                        " rank(s), but the communicator has ", comm.size());
  gift::detail::require(batch.cols() >= 2, where, ": sequences of ", batch.cols(),
                        " token(s) predict nothing; use at least 2 tokens per sequence");
  const std::int64_t rows = batch.rows();
  (void)distributed::shard_plan::items_of(rows, plan.shards(), 0);  // every shard needs a sequence
  const auto zero = [&] {
    for (const auto& p : parameters) std::fill(p.gradient.begin(), p.gradient.end(), T(0));
  };
  sharded_step result;
  if (plan.shards() == 1) {
    zero();
    result.loss = model.forward_backward(batch, context);
    return result;
  }
  std::size_t values = 0;
  for (const auto& p : parameters) values += p.gradient.size();
  const int me = comm.rank();
  const auto mine = static_cast<std::size_t>(plan.count(me));
  std::vector<T> owned(mine * values), summed(values);
  std::vector<double> losses(2 * mine), total(2);
  for (std::size_t k = 0; k < mine; ++k) {
    const std::int64_t shard = plan.first(me) + static_cast<std::int64_t>(k);
    const auto [begin, end] = distributed::shard_plan::items_of(rows, plan.shards(), shard);
    zero();
    const token_matrix part = batch.middleRows(begin, end - begin);
    const loss_sum loss = model.forward_backward(part, context);
    // Every position but the last of a sequence predicts: the shard's share of the tokens is its
    // share of the rows.
    const T weight = static_cast<T>(static_cast<double>(end - begin) / static_cast<double>(rows));
    T* out = owned.data() + k * values;
    for (const auto& p : parameters)
      for (const T g : p.gradient) *out++ = g * weight;
    losses[2 * k] = loss.nll;
    losses[2 * k + 1] = static_cast<double>(loss.count);
  }
  const auto start = std::chrono::steady_clock::now();
  distributed::ordered_sum(comm, plan, std::span<const T>(owned), std::span<T>(summed));
  distributed::ordered_sum(comm, plan, std::span<const double>(losses), std::span<double>(total));
  result.combine_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const T* in = summed.data();
  for (const auto& p : parameters) {
    std::copy_n(in, p.gradient.size(), p.gradient.begin());
    in += p.gradient.size();
  }
  result.loss.nll = total[0];
  result.loss.count = static_cast<std::int64_t>(total[1]);
  result.combined_values = values;
  return result;
}

/// `empirical_fisher` over the rows of `sequences` (every rank passes the same matrix) cut into
/// `plan.shards()` contiguous shards: each rank computes its shards' statistics, and every layer's
/// statistics are merged in shard order on every rank (`distributed::merge_shards`). With one
/// shard this is exactly `empirical_fisher(model, sequences, progress)`. `progress` is called after
/// each of this rank's sequences.
/// \throws gift::error as `empirical_fisher`, or when there are fewer sequences than shards.
template <std::floating_point T>
[[nodiscard]] std::vector<fisher_diagonal> sharded_empirical_fisher(llama_model<T>& model,
                                                                    const token_matrix& sequences,
                                                                    distributed::communicator& comm,
                                                                    const distributed::shard_plan& plan,
                                                                    const std::function<void()>& progress = {}) {
  gift::detail::require(plan.ranks() == comm.size(), "gift::model::sharded_empirical_fisher: the plan spreads its ",
                        "shards over ", plan.ranks(), " rank(s), but the communicator has ", comm.size());
  const std::int64_t rows = sequences.rows();
  (void)distributed::shard_plan::items_of(rows, plan.shards(), 0);
  if (plan.shards() == 1) return empirical_fisher(model, sequences, progress);
  const int me = comm.rank();
  std::vector<std::vector<fisher_diagonal>> parts;  // [owned shard][layer]
  for (std::int64_t k = 0; k < plan.count(me); ++k) {
    const auto [begin, end] = distributed::shard_plan::items_of(rows, plan.shards(), plan.first(me) + k);
    const token_matrix part = sequences.middleRows(begin, end - begin);
    parts.push_back(empirical_fisher(model, part, progress));
  }
  std::vector<fisher_diagonal> merged;
  const std::size_t layers = parts.front().size();
  merged.reserve(layers);
  for (std::size_t l = 0; l < layers; ++l) {
    std::vector<fisher_diagonal> layer;
    layer.reserve(parts.size());
    for (auto& shard : parts) layer.push_back(std::move(shard[l]));
    merged.push_back(distributed::merge_shards(comm, plan, std::span<const fisher_diagonal>(layer)));
  }
  return merged;
}

}  // namespace gift::model
