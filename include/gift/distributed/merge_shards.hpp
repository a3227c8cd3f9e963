#pragma once
/// \file gift/distributed/merge_shards.hpp
/// \brief `gift::distributed::merge_shards`: the statistics of every shard of a calibration —
/// activation statistics, Gram matrices, empirical Fisher diagonals — merged in shard order on
/// every rank: bit for bit what one process gets by `merge`-ing the shards' statistics in order.
///
/// Maxima are exact in any order; sums are not, so each shard's statistic is accumulated on its
/// own, from zero, and the shards are combined left to right (`ordered_fold`). The statistics
/// travel as doubles: an activation statistic as `max_abs, sum_squares, sum_abs, sum_powers…,
/// tokens`, a Gram as its lower triangle, a Fisher diagonal as its sums.

#include <gift/distributed/agreement.hpp>
#include <gift/distributed/communicator.hpp>
#include <gift/distributed/ordered_fold.hpp>
#include <gift/distributed/shard_plan.hpp>
#include <gift/error.hpp>
#include <gift/fisher_diagonal.hpp>
#include <gift/fwd.hpp>
#include <gift/gram.hpp>
#include <gift/stats.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace gift::distributed {

namespace detail {
/// Counts travel as doubles: exact below 2^53.
inline double exact_count(std::uint64_t count, const char* where) {
  gift::detail::require(count < (std::uint64_t{1} << 53), where, ": a count of ", count,
                        " is beyond what a double holds exactly (2^53)");
  return static_cast<double>(count);
}

/// Checks that this rank owns `owned.size()` shards and that every rank merges the same shape
/// (`shape` fingerprints it): the messages of the fold would disagree otherwise.
template <class Part>
void require_owned(communicator& comm, const shard_plan& plan, std::span<const Part> owned, std::uint64_t shape,
                   const char* where) {
  gift::detail::require(owned.size() == static_cast<std::size_t>(plan.count(comm.rank())), where, ": rank ",
                        comm.rank(), " passes ", owned.size(), " shard(s), but owns ", plan.count(comm.rank()));
  const fingerprint item{"the shape of the statistics being merged", shape};
  require_agreement(comm, std::span<const fingerprint>(&item, 1), where);
}
}  // namespace detail

/// Activation statistics of all shards, merged in shard order (every rank gets the result).
/// `owned`: this rank's shards' statistics, in shard order, all of one width and power set.
/// \throws gift::error on a shape mismatch (a `disagreement` on every rank when ranks differ).
[[nodiscard]] inline activation_stats merge_shards(communicator& comm, const shard_plan& plan,
                                                   std::span<const activation_stats> owned) {
  const char* where = "gift::distributed::merge_shards(activation_stats)";
  gift::detail::require(!owned.empty(), where, ": argument 'owned' is empty; every rank owns at least one shard");
  const std::size_t columns = owned[0].columns();
  const std::vector<int>& powers = owned[0].extra_powers();
  for (const auto& part : owned)
    gift::detail::require(part.columns() == columns && part.extra_powers() == powers, where,
                          ": every shard must have the same columns and extra powers");
  fingerprint_hasher shape;
  shape.add_values(std::span<const std::size_t>(&columns, 1)).add_values(std::span<const int>(powers));
  detail::require_owned(comm, plan, owned, shape.value(), where);
  // Layout per shard: max_abs, sum_squares, sum_abs, one block per power, then the token count.
  const std::size_t blocks = 3 + powers.size(), n = blocks * columns + 1;
  std::vector<double> local(owned.size() * n);
  for (std::size_t s = 0; s < owned.size(); ++s) {
    double* out = local.data() + s * n;
    const auto put = [&](const gift::vector<double>& v, std::size_t block) {
      std::copy_n(v.data(), columns, out + block * columns);
    };
    put(owned[s].max_abs(), 0);
    put(owned[s].sum_squares(), 1);
    put(owned[s].sum_abs(), 2);
    for (std::size_t e = 0; e < powers.size(); ++e) put(owned[s].sum_powers(powers[e]), 3 + e);
    out[n - 1] = detail::exact_count(owned[s].token_count(), where);
  }
  std::vector<double> merged(n);
  ordered_fold(comm, plan, std::span<const double>(local), std::span<double>(merged),
               [columns](double a, double b, std::size_t i) { return i < columns ? std::max(a, b) : a + b; });
  const auto block = [&](std::size_t b) {
    return gift::vector<double>(Eigen::Map<const gift::vector<double>>(merged.data() + b * columns,
                                                                       static_cast<Eigen::Index>(columns)));
  };
  std::vector<gift::vector<double>> sum_powers;
  for (std::size_t e = 0; e < powers.size(); ++e) sum_powers.push_back(block(3 + e));
  return activation_stats::from_accumulators(columns, powers, static_cast<std::uint64_t>(merged[n - 1]), block(0),
                                             block(1), block(2), std::move(sum_powers));
}

/// Gram matrices of all shards, merged in shard order (every rank gets the result).
/// \throws gift::error on a shape mismatch (a `disagreement` on every rank when ranks differ).
[[nodiscard]] inline gram_accumulator merge_shards(communicator& comm, const shard_plan& plan,
                                                   std::span<const gram_accumulator> owned) {
  const char* where = "gift::distributed::merge_shards(gram_accumulator)";
  gift::detail::require(!owned.empty(), where, ": argument 'owned' is empty; every rank owns at least one shard");
  const std::size_t columns = owned[0].columns();
  for (const auto& part : owned)
    gift::detail::require(part.columns() == columns, where, ": every shard must have the same width");
  detail::require_owned(comm, plan, owned, columns, where);
  // The lower triangle, column after column (the accumulator's authoritative half), then tokens.
  const std::size_t n = columns * (columns + 1) / 2 + 1;
  std::vector<double> local(owned.size() * n);
  for (std::size_t s = 0; s < owned.size(); ++s) {
    const gift::matrix<double> gram = owned[s].gram();
    double* out = local.data() + s * n;
    for (Eigen::Index c = 0; c < gram.cols(); ++c)
      for (Eigen::Index r = c; r < gram.rows(); ++r) *out++ = gram(r, c);
    *out = detail::exact_count(owned[s].token_count(), where);
  }
  std::vector<double> merged(n);
  ordered_sum(comm, plan, std::span<const double>(local), std::span<double>(merged));
  const auto width = static_cast<Eigen::Index>(columns);
  gift::matrix<double> gram(width, width);
  const double* in = merged.data();
  for (Eigen::Index c = 0; c < width; ++c)
    for (Eigen::Index r = c; r < width; ++r) gram(r, c) = gram(c, r) = *in++;
  return gram_accumulator::from_gram(gram, static_cast<std::uint64_t>(merged[n - 1]));
}

/// Empirical Fisher diagonals of all shards, merged in shard order (every rank gets the result).
/// \throws gift::error on a shape mismatch (a `disagreement` on every rank when ranks differ).
[[nodiscard]] inline fisher_diagonal merge_shards(communicator& comm, const shard_plan& plan,
                                                  std::span<const fisher_diagonal> owned) {
  const char* where = "gift::distributed::merge_shards(fisher_diagonal)";
  gift::detail::require(!owned.empty(), where, ": argument 'owned' is empty; every rank owns at least one shard");
  const Eigen::Index rows = owned[0].sum_squares().rows(), cols = owned[0].sum_squares().cols();
  for (const auto& part : owned)
    gift::detail::require(part.sum_squares().rows() == rows && part.sum_squares().cols() == cols, where,
                          ": every shard must have the same shape");
  const std::int64_t shape_values[2] = {rows, cols};
  fingerprint_hasher shape;
  shape.add_values(std::span<const std::int64_t>(shape_values));
  detail::require_owned(comm, plan, owned, shape.value(), where);
  const auto n = static_cast<std::size_t>(rows * cols) + 1;
  std::vector<double> local(owned.size() * n);
  for (std::size_t s = 0; s < owned.size(); ++s) {
    std::copy_n(owned[s].sum_squares().data(), n - 1, local.data() + s * n);
    local[s * n + n - 1] = detail::exact_count(static_cast<std::uint64_t>(owned[s].sequences()), where);
  }
  std::vector<double> merged(n);
  ordered_sum(comm, plan, std::span<const double>(local), std::span<double>(merged));
  matrix<double> sums = Eigen::Map<const matrix<double>>(merged.data(), rows, cols);
  return fisher_diagonal::from_sums(std::move(sums), static_cast<std::int64_t>(merged[n - 1]));
}

}  // namespace gift::distributed
