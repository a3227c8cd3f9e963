#pragma once
/// \file gift/backend/thrust/model/cross_entropy.hpp
/// \brief Cross-entropy through the output head on a Thrust system: per row chunk, one GEMM of the
/// system for the logits, one functor call per row (the shared row arithmetic), one GEMM for the
/// gradient of the hidden states.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/thrust/gemm.hpp>
#include <gift/backend/thrust/matrix.hpp>
#include <gift/backend/thrust/system.hpp>
#include <gift/config.hpp>
#include <gift/detail/model/cross_entropy.hpp>

#include <thrust/copy.h>
#include <thrust/fill.h>

#include <algorithm>
#include <cstdint>
#include <vector>

namespace gift::backend {

namespace detail {
template <class T>
struct cross_entropy_rows {
  T* logits;
  const std::int32_t* targets;
  double* row_nll;
  std::int64_t vocab;
  bool gradient;
  double gradient_scale;
  GIFT_HOST_DEVICE void operator()(std::int64_t i) const {
    const std::int32_t target = targets[i];
    if (target < 0) {
      for (std::int64_t j = 0; j < vocab; ++j) logits[i * vocab + j] = T(0);
      row_nll[i] = 0;
      return;
    }
    row_nll[i] = gift::detail::cross_entropy_row(logits + i * vocab, vocab, target, gradient, gradient_scale);
  }
};
}  // namespace detail

template <class System>
struct implementation<ops::cross_entropy, thrust<System>> {
  static constexpr bool available = true;
  /// As the Eigen backend: `row_nll` (host) gets each row's loss, `d_hidden` (resized, if given)
  /// `gradient_scale · ∂(Σ nll)/∂hidden`.
  template <class T>
  static void run(thrust<System>, const thrust_matrix<T, System>& hidden, const thrust_matrix<T, System>& head,
                  const std::vector<std::int32_t>& targets, thrust_matrix<T, System>* d_hidden,
                  double gradient_scale, std::vector<double>& row_nll) {
    const auto rows = static_cast<std::int64_t>(hidden.rows()), width = static_cast<std::int64_t>(hidden.cols());
    const auto vocab = static_cast<std::int64_t>(head.rows());
    row_nll.assign(static_cast<std::size_t>(rows), 0.0);
    if (d_hidden != nullptr) {
      d_hidden->resize(hidden.rows(), hidden.cols());
      ::thrust::fill(thrust_system_traits<System>::policy(), d_hidden->storage().begin(), d_hidden->storage().end(),
                     T(0));
    }
    const thrust_vector_t<System, std::int32_t> system_targets(targets.begin(), targets.end());
    const std::int64_t chunk = gift::detail::cross_entropy_chunk_rows;
    thrust_vector_t<System, T> logits(static_cast<std::size_t>(std::min(chunk, rows) * vocab));
    thrust_vector_t<System, double> chunk_nll(static_cast<std::size_t>(std::min(chunk, rows)));
    for (std::int64_t start = 0; start < rows; start += chunk) {
      const std::int64_t n = std::min(chunk, rows - start);
      const bool any = std::any_of(targets.begin() + start, targets.begin() + start + n,
                                   [](std::int32_t t) { return t >= 0; });
      if (!any) continue;
      // logits = hidden[start : start + n] · headᵀ
      thrust_gemm<System>::template run_one<T>({n, vocab, width, width, width, vocab, false, true, false},
                                               {hidden.data() + start * width, head.data(), detail::raw(logits)});
      detail::for_each_index<System>(
          n, detail::cross_entropy_rows<T>{detail::raw(logits), ::thrust::raw_pointer_cast(system_targets.data()) + start,
                                           detail::raw(chunk_nll), vocab, d_hidden != nullptr, gradient_scale});
      ::thrust::copy(chunk_nll.begin(), chunk_nll.begin() + n, row_nll.begin() + start);
      // d_hidden[start : start + n] = d_logits · head
      if (d_hidden != nullptr)
        thrust_gemm<System>::template run_one<T>({n, width, vocab, vocab, width, width, false, false, false},
                                                 {detail::raw(logits), head.data(), d_hidden->data() + start * width});
    }
  }
};

}  // namespace gift::backend
