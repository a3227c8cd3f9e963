#pragma once
/// \file gift/backend/thrust/select.hpp
/// \brief Salient-column selection on the Thrust backend: column indices ranked by (score
/// descending, index ascending) — sorted on the device for CUDA, ranked in place for the host
/// systems — the first k copied back and sorted. The same total order as the Eigen backend, so
/// the same columns.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/thrust/column_norms.hpp>
#include <gift/backend/thrust/system.hpp>
#include <gift/error.hpp>
#include <gift/detail/select.hpp>
#include <gift/salient_columns.hpp>

#include <thrust/copy.h>
#include <thrust/count.h>
#include <thrust/sequence.h>
#include <thrust/sort.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <type_traits>
#include <vector>

namespace gift::backend {

template <class System>
struct implementation<ops::select_salient, thrust<System>> {
  static constexpr bool available = true;

  /// `scores` is a Thrust vector in a memory `System` can reach; `k` is already validated.
  template <class Vector>
  static salient_columns run(thrust<System>, const Vector& scores, std::int64_t k) {
    using scalar = typename Vector::value_type;
    const auto policy = thrust_system_traits<System>::policy();
    const std::size_t n = scores.size();
    constexpr bool host_memory = detail::host_memory_system<System>;
    bool any_bad = false;
    if constexpr (host_memory) {
      // Host systems hold host memory: read it in place. (Thrust's host algorithms bind a
      // reference to a null execution policy internally, which UBSan rejects.)
      const scalar* values = ::thrust::raw_pointer_cast(scores.data());
      any_bad = !std::all_of(values, values + n, [](scalar s) { return std::isfinite(static_cast<double>(s)); });
    } else {
      any_bad = ::thrust::count_if(policy, scores.begin(), scores.end(), detail::is_not_finite{}) != 0;
    }
    if (any_bad) {
      std::vector<scalar> host(n);
      ::thrust::copy(scores.begin(), scores.end(), host.data());
      for (std::size_t j = 0; j < n; ++j) {
        gift::detail::require(std::isfinite(static_cast<double>(host[j])),
                              "gift::select_salient: argument 'scores' must be finite, but score ", j, " is ",
                              static_cast<double>(host[j]),
                              "; check the weights and activation statistics the scores came from");
      }
    }
    std::vector<std::int64_t> top(static_cast<std::size_t>(k));
    const gift::detail::salient_before<scalar> before{::thrust::raw_pointer_cast(scores.data())};
    if constexpr (host_memory) {
      std::vector<std::int64_t> order(n);
      std::iota(order.begin(), order.end(), std::int64_t{0});
      std::partial_sort(order.begin(), order.begin() + k, order.end(), before);
      std::copy(order.begin(), order.begin() + k, top.begin());
    } else {
      thrust_vector_t<System, std::int64_t> order(n);
      ::thrust::sequence(policy, order.begin(), order.end());
      ::thrust::sort(policy, order.begin(), order.end(), before);
      ::thrust::copy(order.begin(), order.begin() + k, top.data());
    }
    return salient_columns::from_indices(top, static_cast<std::size_t>(n), "gift::select_salient");
  }
};

}  // namespace gift::backend
