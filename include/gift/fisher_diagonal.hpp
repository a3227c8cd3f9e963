#pragma once
/// \file gift/fisher_diagonal.hpp
/// \brief `gift::fisher_diagonal`: the empirical Fisher diagonal of one layer's weight — the
/// squared per-sequence loss gradients summed over calibration sequences — as a streaming,
/// mergeable statistic (NPFT's sensitivity score, and a perturbation source for selection).

#include <gift/error.hpp>
#include <gift/fwd.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <utility>
#include <vector>

namespace gift {

/// `F_ij = Σ_s (∂L_s / ∂W_ij)²` over sequences `s`, kept in double.
///
/// Streaming: `add` takes one sequence's gradient, nothing else is stored. Mergeable: the
/// statistics of disjoint batches (or processes) combine with `merge`, which adds the sums and
/// counts. Each term is the square of an fp32 gradient, exact in double; the sums then agree with a
/// single pass over all sequences to double rounding (the order of the additions differs), and
/// `a.merge(b)` equals `b.merge(a)` bit for bit.
class fisher_diagonal {
public:
  /// Empty statistics of an `out × in` weight.
  /// \throws gift::error when a dimension is not positive.
  fisher_diagonal(Eigen::Index out, Eigen::Index in) {
    gift::detail::require(out > 0 && in > 0, "gift::fisher_diagonal: the weight must not be empty, but is ", out, " x ",
                          in);
    sum_squares_ = matrix<double>::Zero(out, in);
  }

  /// Adds one sequence's gradient `∂L_s/∂W` (`out × in`).
  /// \throws gift::error on a shape mismatch or a non-finite entry (nothing is added then).
  template <class Derived>
  void add(const Eigen::MatrixBase<Derived>& gradient) {
    gift::detail::require(gradient.rows() == sum_squares_.rows() && gradient.cols() == sum_squares_.cols(),
                          "gift::fisher_diagonal::add: argument 'gradient' must be ", sum_squares_.rows(), " x ",
                          sum_squares_.cols(), " (the weight), but is ", gradient.rows(), " x ", gradient.cols());
    gift::detail::require(gradient.allFinite(), "gift::fisher_diagonal::add: argument 'gradient' holds NaN or Inf; ",
                          "the calibration loss diverged");
    sum_squares_.array() += gradient.template cast<double>().array().square();
    ++sequences_;
  }

  /// Adds the statistics of another batch of sequences of the same weight.
  /// \throws gift::error when the shapes differ.
  void merge(const fisher_diagonal& other) {
    gift::detail::require(other.sum_squares_.rows() == sum_squares_.rows() &&
                              other.sum_squares_.cols() == sum_squares_.cols(),
                          "gift::fisher_diagonal::merge: statistics of a ", other.sum_squares_.rows(), " x ",
                          other.sum_squares_.cols(), " weight cannot merge into those of a ", sum_squares_.rows(), " x ",
                          sum_squares_.cols(), " weight");
    sum_squares_ += other.sum_squares_;
    sequences_ += other.sequences_;
  }

  /// Statistics holding `sum_squares` over `sequences` sequences, e.g. sums combined in another
  /// process (`gift::distributed::merge_shards`).
  /// \throws gift::error when `sum_squares` is empty, or holds a negative or non-finite value, or
  /// `sequences` is negative.
  [[nodiscard]] static fisher_diagonal from_sums(matrix<double> sum_squares, std::int64_t sequences) {
    fisher_diagonal result(sum_squares.rows(), sum_squares.cols());
    gift::detail::require(sequences >= 0, "gift::fisher_diagonal::from_sums: argument 'sequences' must not be ",
                          "negative, but is ", sequences);
    gift::detail::require((sum_squares.array() >= 0).all() && sum_squares.allFinite(),
                          "gift::fisher_diagonal::from_sums: argument 'sum_squares' must be finite and non-negative");
    result.sum_squares_ = std::move(sum_squares);
    result.sequences_ = sequences;
    return result;
  }

  /// `Σ_s g_s²` per weight (`out × in`).
  [[nodiscard]] const matrix<double>& sum_squares() const noexcept { return sum_squares_; }
  /// Sequences added.
  [[nodiscard]] std::int64_t sequences() const noexcept { return sequences_; }

  /// Per input column `Σ_i F_ij`: the column's Fisher mass, a sensitivity score for selecting
  /// salient columns by the Fisher diagonal instead of Eq. 4.
  [[nodiscard]] vector<double> column_scores() const { return sum_squares_.colwise().sum().transpose(); }

  /// The `⌈share · out · in⌉` weights with the largest `F_ij` (ties: the lower row-major index),
  /// as `(row, column)` in row-major order — NPFT's outliers (`share` 0.05 in its code).
  /// \throws gift::error when `share` is not in (0, 1].
  [[nodiscard]] std::vector<std::pair<Eigen::Index, Eigen::Index>> top_share(double share) const {
    gift::detail::require(std::isfinite(share) && share > 0 && share <= 1, "gift::fisher_diagonal::top_share: argument ",
                          "'share' must be in (0, 1], but is ", share);
    const Eigen::Index cols = sum_squares_.cols();
    const auto total = static_cast<std::size_t>(sum_squares_.size());
    const auto count = std::min(total, static_cast<std::size_t>(std::ceil(share * static_cast<double>(total))));
    // Row-major order of the entries, so "lower index" means lower row, then lower column.
    std::vector<std::int64_t> order(total);
    std::iota(order.begin(), order.end(), std::int64_t{0});
    const auto value = [&](std::int64_t e) { return sum_squares_(e / cols, e % cols); };
    std::nth_element(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(count - 1), order.end(),
                     [&](std::int64_t a, std::int64_t b) { return value(a) > value(b) || (value(a) == value(b) && a < b); });
    order.resize(count);
    std::sort(order.begin(), order.end());
    std::vector<std::pair<Eigen::Index, Eigen::Index>> positions;
    positions.reserve(count);
    for (const std::int64_t e : order) positions.emplace_back(e / cols, e % cols);
    return positions;
  }

private:
  matrix<double> sum_squares_;
  std::int64_t sequences_ = 0;
};

}  // namespace gift
