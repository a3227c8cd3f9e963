#pragma once
/// \file gift/model/cross_entropy.hpp
/// \brief Next-token cross-entropy through the output head, computed in row chunks so that the
/// `tokens × vocab` logits never exist at once (49152 columns × 1024 tokens would be 200 MB).

#include <gift/detail/product.hpp>
#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/model/detail/parallel.hpp>

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <limits>
#include <vector>

namespace gift::model {

/// Summed negative log-likelihood and the number of predicted tokens; `mean()` is the loss,
/// `perplexity()` its exponential. Sums from several batches add up exactly as one big batch.
struct loss_sum {
  double nll = 0;          ///< Σ −log p(target)
  std::int64_t count = 0;  ///< number of predicted tokens

  /// Mean negative log-likelihood per token (nats).
  [[nodiscard]] double mean() const noexcept {
    return count > 0 ? nll / static_cast<double>(count) : std::numeric_limits<double>::quiet_NaN();
  }
  /// `exp(mean())`.
  [[nodiscard]] double perplexity() const noexcept { return std::exp(mean()); }
  /// Adds another batch's sums.
  loss_sum& operator+=(const loss_sum& other) noexcept {
    nll += other.nll;
    count += other.count;
    return *this;
  }
};

/// Rows of `hidden` processed per output-head GEMM.
inline constexpr Eigen::Index cross_entropy_chunk_rows = 128;

/// Cross-entropy of `logits = hidden · headᵀ` against `targets` (one per row of `hidden`; a
/// negative target means "no prediction here" and contributes nothing). If `d_hidden` is given
/// it is resized and receives `gradient_scale · ∂(Σ nll)/∂hidden` (pass `1 / count` for the
/// gradient of the mean).
template <std::floating_point T>
loss_sum cross_entropy(const matrix<T>& hidden, const matrix<T>& head, const std::vector<std::int32_t>& targets,
                       matrix<T>* d_hidden = nullptr, double gradient_scale = 1.0) {
  gift::detail::require(hidden.cols() == head.cols(), "gift::model::cross_entropy: 'hidden' has ", hidden.cols(),
                  " columns but the output head has ", head.cols());
  gift::detail::require(targets.size() == static_cast<std::size_t>(hidden.rows()),
                  "gift::model::cross_entropy: 'targets' must hold one id per row of 'hidden' (", hidden.rows(),
                  "), but holds ", targets.size());
  const Eigen::Index rows = hidden.rows(), vocab = head.rows();
  // Checked here, not in the parallel loop: an exception must not leave an OpenMP region.
  for (std::size_t i = 0; i < targets.size(); ++i) {
    gift::detail::require(targets[i] < vocab, "gift::model::cross_entropy: targets[", i, "] = ", targets[i],
                    " is outside the vocabulary [0, ", vocab, ")");
  }
  if (d_hidden != nullptr) d_hidden->setZero(rows, hidden.cols());
  loss_sum total;
  matrix<T> logits;
  std::vector<double> row_nll;
  for (Eigen::Index start = 0; start < rows; start += cross_entropy_chunk_rows) {
    const Eigen::Index n = std::min(cross_entropy_chunk_rows, rows - start);
    bool any = false;
    for (Eigen::Index i = 0; i < n; ++i) any = any || targets[static_cast<std::size_t>(start + i)] >= 0;
    if (!any) continue;
    gift::detail::product_any_threads(logits, hidden.middleRows(start, n), head.transpose());
    // Per-row losses summed in row order afterwards: an OpenMP reduction would add the threads'
    // partial sums in an order that depends on the thread count.
    row_nll.assign(static_cast<std::size_t>(n), 0.0);
#if defined(_OPENMP)
#pragma omp parallel for schedule(static)
#endif
    for (Eigen::Index i = 0; i < n; ++i) {
      const std::int32_t target = targets[static_cast<std::size_t>(start + i)];
      if (target < 0) {
        logits.row(i).setZero();
        continue;
      }
      const T largest = logits.row(i).maxCoeff();
      double total_exp = 0;
      for (Eigen::Index j = 0; j < vocab; ++j) total_exp += std::exp(static_cast<double>(logits(i, j) - largest));
      const double log_normaliser = static_cast<double>(largest) + std::log(total_exp);
      row_nll[static_cast<std::size_t>(i)] = log_normaliser - static_cast<double>(logits(i, target));
      if (d_hidden != nullptr) {
        // d logits = softmax − one-hot, reusing the logits buffer.
        for (Eigen::Index j = 0; j < vocab; ++j) {
          logits(i, j) = static_cast<T>(std::exp(static_cast<double>(logits(i, j)) - log_normaliser) * gradient_scale);
        }
        logits(i, target) -= static_cast<T>(gradient_scale);
      }
    }
    for (Eigen::Index i = 0; i < n; ++i) {
      if (targets[static_cast<std::size_t>(start + i)] < 0) continue;
      total.nll += row_nll[static_cast<std::size_t>(i)];
      ++total.count;
    }
    if (d_hidden != nullptr) gift::detail::product_any_threads(d_hidden->middleRows(start, n), logits, head);
  }
  gift::detail::require(std::isfinite(total.nll), "gift::model::cross_entropy: the loss is not finite (",
                  total.nll, "); the hidden states or the head hold inf/nan — check the weights and the learning rate");
  return total;
}

}  // namespace gift::model
