#pragma once
/// \file gift/backend/eigen/noise.hpp
/// \brief Quantization-noise injection on the Eigen backend: rows in parallel, each row's noise
/// generated into a small buffer (one row, never the whole matrix).

#include <gift/backend/dispatch.hpp>
#include <gift/backend/eigen/noise_rows.hpp>
#include <gift/error.hpp>
#include <gift/detail/noise.hpp>
#include <gift/random.hpp>
#include <gift/salient_columns.hpp>

#include <Eigen/Core>

#include <cstdint>
#include <vector>

namespace gift::backend {

template <>
struct implementation<ops::add_quantization_noise, eigen> {
  static constexpr bool available = true;

  template <class Derived, class DeltaDerived>
  static void run(eigen, Eigen::MatrixBase<Derived>& weight, const Eigen::MatrixBase<DeltaDerived>& delta,
                  const salient_columns& salient, const noise_key& key) {
    using scalar = typename Derived::Scalar;
    constexpr const char* where = "gift::add_quantization_noise";
    const std::int64_t rows = weight.rows(), cols = weight.cols();
    gift::detail::check_delta(delta, rows, where);
    const std::vector<bool>& is_salient = salient.mask();
    auto& w = weight.derived();
#if defined(_OPENMP)
#pragma omp parallel if (rows * cols > (1 << 15))
#endif
    {
      std::vector<float> omega(static_cast<std::size_t>(cols));
#if defined(_OPENMP)
#pragma omp for schedule(static)
#endif
      for (std::int64_t i = 0; i < rows; ++i) {
        detail::standard_normal_range(key, static_cast<std::uint64_t>(i) * static_cast<std::uint64_t>(cols),
                                      static_cast<std::uint64_t>(cols), omega.data());
        const scalar half = gift::detail::half_delta<scalar>(static_cast<float>(delta(i)));
        for (std::int64_t j = 0; j < cols; ++j) {
          if (is_salient[static_cast<std::size_t>(j)]) continue;
          w(i, j) = gift::detail::noisy_weight(w(i, j), half, omega[static_cast<std::size_t>(j)]);
        }
      }
    }
  }
};

}  // namespace gift::backend
