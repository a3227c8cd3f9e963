#pragma once
/// \file gift/pipeline/evaluate.hpp
/// \brief `pipeline::evaluate`: a model's next-token loss on a set of sequences, kept per sequence
/// (so two models compare paired, sequence by sequence) and in total (perplexity), on any backend
/// and optionally spread over the ranks of a `distributed::communicator`.
///
/// \code
/// const auto sequences = gift::model::wrapped_sequences(ids, 256, 0, ids.size() / 256);
/// const auto result = gift::pipeline::evaluate(model, sequences, {.batch = 4});
/// std::cout << result.perplexity() << " over " << result.sequences.size() << " sequences\n";
/// \endcode

#include <gift/distributed/communicator.hpp>
#include <gift/distributed/ordered_fold.hpp>
#include <gift/distributed/shard_plan.hpp>
#include <gift/error.hpp>
#include <gift/model/cross_entropy.hpp>
#include <gift/model/llama.hpp>
#include <gift/model/tokens.hpp>

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

namespace gift::pipeline {

/// What `evaluate` measured.
struct evaluation {
  /// The loss of every sequence, in the order of the rows given (nll summed over its positions,
  /// and its number of predicted tokens).
  std::vector<model::loss_sum> sequences;
  /// The loss over all sequences: batch sums added in batch order (and, sharded, shard sums in
  /// shard order) — independent of the thread and rank count.
  model::loss_sum total;

  /// Mean negative log-likelihood per predicted token (nats).
  [[nodiscard]] double mean_nll() const noexcept { return total.mean(); }
  /// `exp(mean_nll())`.
  [[nodiscard]] double perplexity() const noexcept { return total.perplexity(); }
};

/// Told after every batch: sequences evaluated so far (by this rank), of how many, and the running
/// loss of those.
using evaluate_progress = std::function<void(std::int64_t done, std::int64_t of, const model::loss_sum& so_far)>;

/// How `evaluate` runs.
struct evaluate_options {
  std::int64_t batch = 4;       ///< sequences per forward pass (per-sequence losses agree across batch sizes to float rounding)
  evaluate_progress progress;   ///< optional: called after every batch
};

namespace detail {
inline void require_evaluable(const token_matrix& sequences, const evaluate_options& options, const char* where) {
  gift::detail::require(options.batch >= 1, where, ": evaluate_options::batch must be at least 1, but is ",
                        options.batch);
  gift::detail::require(sequences.rows() >= 1 && sequences.cols() >= 2, where,
                        ": expected at least one sequence of at least 2 tokens (a sequence predicts its tokens "
                        "1..T-1), but got ", sequences.rows(), " x ", sequences.cols());
}

/// Sequences `[begin, end)` in batches; their losses go to `out[begin..end)`; returns their sum
/// (batch sums in batch order).
template <std::floating_point T, backend_tag Backend>
model::loss_sum evaluate_range(model::llama_model<T, Backend>& model, const token_matrix& sequences,
                               std::int64_t begin, std::int64_t end, const evaluate_options& options,
                               std::vector<model::loss_sum>& out, std::int64_t& done, std::int64_t of) {
  model::loss_sum sum;
  std::vector<model::loss_sum> batch_losses;
  for (std::int64_t first = begin; first < end; first += options.batch) {
    const std::int64_t count = std::min(options.batch, end - first);
    sum += model.evaluate(token_matrix(sequences.middleRows(first, count)), batch_losses);
    std::copy(batch_losses.begin(), batch_losses.end(), out.begin() + first);
    done += count;
    if (options.progress) options.progress(done, of, sum);
  }
  return sum;
}
}  // namespace detail

/// The next-token loss of `model` (evaluation mode: no noise, no gradients) on every row of
/// `sequences`, `options.batch` rows per forward pass. The total equals the sum of
/// `model.evaluate` over those batches, bit for bit.
/// \throws gift::error for an empty set, sequences shorter than 2 tokens, a batch below 1, ids
/// outside the vocabulary or a non-finite loss (from the model).
template <std::floating_point T, backend_tag Backend>
[[nodiscard]] evaluation evaluate(model::llama_model<T, Backend>& model, const token_matrix& sequences,
                                  const evaluate_options& options = {}) {
  detail::require_evaluable(sequences, options, "gift::pipeline::evaluate");
  evaluation result;
  result.sequences.resize(static_cast<std::size_t>(sequences.rows()));
  std::int64_t done = 0;
  result.total = detail::evaluate_range(model, sequences, 0, sequences.rows(), options, result.sequences, done,
                                        sequences.rows());
  return result;
}

/// `evaluate` spread over the ranks of `comm`: the rows are cut into `plan.shards()` contiguous
/// shards (`distributed::shard_plan::items_of`), each rank evaluates its own, and every rank gets
/// the whole result — per-sequence losses exactly as one process computes them, and the total as
/// the shards' sums added in shard order (so it depends on the shard count, not on the ranks).
/// One shard is exactly the unsharded `evaluate`. Every rank must pass the same `sequences`.
/// \throws gift::error as `evaluate`, when the plan does not match `comm`, or when there are fewer
/// sequences than shards.
template <std::floating_point T, backend_tag Backend>
[[nodiscard]] evaluation evaluate(model::llama_model<T, Backend>& model, const token_matrix& sequences,
                                  const evaluate_options& options, distributed::communicator& comm,
                                  const distributed::shard_plan& plan) {
  const char* where = "gift::pipeline::evaluate";
  detail::require_evaluable(sequences, options, where);
  gift::detail::require(plan.ranks() == comm.size(), where, ": the plan spreads its shards over ", plan.ranks(),
                        " rank(s), but the communicator has ", comm.size());
  if (plan.shards() == 1) return evaluate(model, sequences, options);
  const std::int64_t rows = sequences.rows();
  (void)distributed::shard_plan::items_of(rows, plan.shards(), 0);  // every shard needs a sequence
  const int me = comm.rank();
  std::int64_t mine = 0;
  for (std::int64_t k = 0; k < plan.count(me); ++k) {
    const auto [begin, end] = distributed::shard_plan::items_of(rows, plan.shards(), plan.first(me) + k);
    mine += end - begin;
  }
  // Each shard contributes [its nll, its count, then (nll, count) of every sequence — zero outside
  // the shard]. The ordered sum then adds the shard totals in shard order and places every
  // sequence's own values exactly (x + 0 = x), so one collective carries both.
  const std::size_t width = 2 + 2 * static_cast<std::size_t>(rows);
  std::vector<double> owned(static_cast<std::size_t>(plan.count(me)) * width, 0.0), summed(width);
  std::vector<model::loss_sum> local(static_cast<std::size_t>(rows));
  std::int64_t done = 0;
  for (std::int64_t k = 0; k < plan.count(me); ++k) {
    const auto [begin, end] = distributed::shard_plan::items_of(rows, plan.shards(), plan.first(me) + k);
    const model::loss_sum shard = detail::evaluate_range(model, sequences, begin, end, options, local, done, mine);
    double* row = owned.data() + static_cast<std::size_t>(k) * width;
    row[0] = shard.nll;
    row[1] = static_cast<double>(shard.count);
    for (std::int64_t s = begin; s < end; ++s) {
      row[2 + 2 * s] = local[static_cast<std::size_t>(s)].nll;
      row[3 + 2 * s] = static_cast<double>(local[static_cast<std::size_t>(s)].count);
    }
  }
  distributed::ordered_sum(comm, plan, std::span<const double>(owned), std::span<double>(summed));
  evaluation result;
  result.total = {summed[0], static_cast<std::int64_t>(summed[1])};
  result.sequences.resize(static_cast<std::size_t>(rows));
  for (std::int64_t s = 0; s < rows; ++s)
    result.sequences[static_cast<std::size_t>(s)] = {summed[2 + 2 * s], static_cast<std::int64_t>(summed[3 + 2 * s])};
  return result;
}

}  // namespace gift::pipeline
