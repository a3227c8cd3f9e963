#pragma once
/// \file gift/backend/eigen/select.hpp
/// \brief Salient-column selection on the CPU: a partial sort of column indices by
/// (score descending, index ascending).

#include <gift/backend/dispatch.hpp>
#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/detail/select.hpp>
#include <gift/salient_columns.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

namespace gift::backend {

template <>
struct implementation<ops::select_salient, eigen> {
  static constexpr bool available = true;

  /// `k` is already validated (1 ≤ k ≤ scores.size()).
  template <class Derived>
  static salient_columns run(eigen, const Eigen::MatrixBase<Derived>& scores, std::int64_t k) {
    using scalar = typename Derived::Scalar;
    const gift::vector<scalar> values = scores.derived().reshaped();
    const std::int64_t n = static_cast<std::int64_t>(values.size());
    for (std::int64_t j = 0; j < n; ++j) {
      gift::detail::require(std::isfinite(static_cast<double>(values(j))),
                            "gift::select_salient: argument 'scores' must be finite, but score ", j, " is ",
                            static_cast<double>(values(j)),
                            "; check the weights and activation statistics the scores came from");
    }
    std::vector<std::int64_t> order(static_cast<std::size_t>(n));
    std::iota(order.begin(), order.end(), std::int64_t{0});
    std::partial_sort(order.begin(), order.begin() + k, order.end(),
                      gift::detail::salient_before<scalar>{values.data()});
    order.resize(static_cast<std::size_t>(k));
    return salient_columns::from_indices(order, static_cast<std::size_t>(n), "gift::select_salient");
  }
};

}  // namespace gift::backend
