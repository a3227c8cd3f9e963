#pragma once
/// \file gift/detail/model/cross_entropy.hpp
/// \brief Cross-entropy's operation tag, the row-chunk size of the output head, and the
/// arithmetic of one row of logits, shared by every backend.

#include <gift/config.hpp>
#include <gift/detail/model/math.hpp>

#include <cstdint>
#include <string>

namespace gift {

namespace ops {
/// Operation tag: next-token cross-entropy through the output head (loss per row, and the
/// gradient with respect to the hidden states).
struct cross_entropy {
  /// Printable name.
  static std::string name() { return "cross_entropy"; }
};
}  // namespace ops

namespace detail {

/// Rows of the hidden states per output-head GEMM: the `tokens × vocab` logits never exist at
/// once (49152 columns × 1024 tokens would be 200 MB).
inline constexpr std::int64_t cross_entropy_chunk_rows = 128;

/// The negative log-likelihood of `target` under the softmax of one row of `vocab` logits. With
/// `gradient`, the row is overwritten by `gradient_scale · (softmax − one-hot)`. Exponentials and
/// sums in double, in index order.
template <class T>
GIFT_HOST_DEVICE double cross_entropy_row(T* logits, std::int64_t vocab, std::int32_t target, bool gradient,
                                          double gradient_scale) {
  T largest = logits[0];
  for (std::int64_t j = 1; j < vocab; ++j) largest = larger(largest, logits[j]);
  double total_exp = 0;
  for (std::int64_t j = 0; j < vocab; ++j) total_exp += exponential(static_cast<double>(logits[j] - largest));
  const double log_normaliser = static_cast<double>(largest) + logarithm(total_exp);
  const double nll = log_normaliser - static_cast<double>(logits[target]);
  if (gradient) {
    for (std::int64_t j = 0; j < vocab; ++j)
      logits[j] = static_cast<T>(exponential(static_cast<double>(logits[j]) - log_normaliser) * gradient_scale);
    logits[target] -= static_cast<T>(gradient_scale);
  }
  return nll;
}

}  // namespace detail

}  // namespace gift
