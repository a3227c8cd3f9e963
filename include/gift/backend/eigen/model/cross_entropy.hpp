#pragma once
/// \file gift/backend/eigen/model/cross_entropy.hpp
/// \brief Cross-entropy through the output head on the Eigen backend, in row chunks.

#include <gift/backend/dispatch.hpp>
#include <gift/detail/model/cross_entropy.hpp>
#include <gift/detail/product.hpp>
#include <gift/fwd.hpp>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace gift::backend {

template <>
struct implementation<ops::cross_entropy, eigen> {
  static constexpr bool available = true;
  /// Writes the negative log-likelihood of every row with a target (>= 0; checked < vocab by the
  /// front end) into `row_nll` (one entry per row, 0 where there is no target). With `d_hidden`
  /// (resized), adds `gradient_scale · ∂(Σ nll)/∂hidden`.
  template <class T>
  static void run(eigen, const gift::matrix<T>& hidden, const gift::matrix<T>& head,
                  const std::vector<std::int32_t>& targets, gift::matrix<T>* d_hidden, double gradient_scale,
                  std::vector<double>& row_nll) {
    const Eigen::Index rows = hidden.rows(), vocab = head.rows();
    row_nll.assign(static_cast<std::size_t>(rows), 0.0);
    if (d_hidden != nullptr) d_hidden->setZero(rows, hidden.cols());
    gift::matrix<T> logits;
    for (Eigen::Index start = 0; start < rows; start += gift::detail::cross_entropy_chunk_rows) {
      const Eigen::Index n = std::min<Eigen::Index>(gift::detail::cross_entropy_chunk_rows, rows - start);
      bool any = false;
      for (Eigen::Index i = 0; i < n; ++i) any = any || targets[static_cast<std::size_t>(start + i)] >= 0;
      if (!any) continue;
      gift::detail::product_any_threads(logits, hidden.middleRows(start, n), head.transpose());
#if defined(_OPENMP)
#pragma omp parallel for schedule(static)
#endif
      for (Eigen::Index i = 0; i < n; ++i) {
        const std::int32_t target = targets[static_cast<std::size_t>(start + i)];
        if (target < 0) {
          logits.row(i).setZero();
          continue;
        }
        row_nll[static_cast<std::size_t>(start + i)] =
            gift::detail::cross_entropy_row(logits.row(i).data(), vocab, target, d_hidden != nullptr, gradient_scale);
      }
      if (d_hidden != nullptr) gift::detail::product_any_threads(d_hidden->middleRows(start, n), logits, head);
    }
  }
};

}  // namespace gift::backend
