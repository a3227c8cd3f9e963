#pragma once
/// \file gift/model/cross_entropy.hpp
/// \brief Next-token cross-entropy through the output head, computed in row chunks so that the
/// `tokens × vocab` logits never exist at once, on the backend the matrices' type implies.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/eigen/model/cross_entropy.hpp>
#include <gift/backend/traits.hpp>
#include <gift/detail/model/cross_entropy.hpp>
#include <gift/error.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>
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
inline constexpr std::int64_t cross_entropy_chunk_rows = gift::detail::cross_entropy_chunk_rows;

/// Cross-entropy of `logits = hidden · headᵀ` against `targets` (one per row of `hidden`; a
/// negative target means "no prediction here" and contributes nothing). If `d_hidden` is given
/// it is resized and receives `gradient_scale · ∂(Σ nll)/∂hidden` (pass `1 / count` for the
/// gradient of the mean). The row losses are summed in row order, so the result does not depend
/// on the thread count. If `row_losses` is given it receives each row's −log p(target) (0 for a row
/// without a target), the values the sum adds up — how per-sequence losses are kept.
/// \throws gift::error on mismatched shapes, a target outside the vocabulary, or a non-finite loss.
template <class Matrix>
  requires has_backend<Matrix>
loss_sum cross_entropy(const Matrix& hidden, const Matrix& head, const std::vector<std::int32_t>& targets,
                       Matrix* d_hidden = nullptr, double gradient_scale = 1.0,
                       std::vector<double>* row_losses = nullptr) {
  gift::detail::require(hidden.cols() == head.cols(), "gift::model::cross_entropy: 'hidden' has ", hidden.cols(),
                        " columns but the output head has ", head.cols());
  gift::detail::require(targets.size() == static_cast<std::size_t>(hidden.rows()),
                        "gift::model::cross_entropy: 'targets' must hold one id per row of 'hidden' (", hidden.rows(),
                        "), but holds ", targets.size());
  const auto vocab = static_cast<std::int64_t>(head.rows());
  for (std::size_t i = 0; i < targets.size(); ++i) {
    gift::detail::require(targets[i] < vocab, "gift::model::cross_entropy: targets[", i, "] = ", targets[i],
                          " is outside the vocabulary [0, ", vocab, ")");
  }
  std::vector<double> row_nll;
  backend::dispatch<ops::cross_entropy>(backend_for_t<Matrix>{}, hidden, head, targets, d_hidden, gradient_scale,
                                        row_nll);
  loss_sum total;
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (targets[i] < 0) continue;
    total.nll += row_nll[i];
    ++total.count;
  }
  gift::detail::require(std::isfinite(total.nll), "gift::model::cross_entropy: the loss is not finite (", total.nll,
                        "); the hidden states or the head hold inf/nan — check the weights and the learning rate");
  if (row_losses != nullptr) {
    for (std::size_t i = 0; i < targets.size(); ++i)
      if (targets[i] < 0) row_nll[i] = 0.0;
    *row_losses = std::move(row_nll);
  }
  return total;
}

}  // namespace gift::model
