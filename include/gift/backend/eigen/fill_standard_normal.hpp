#pragma once
/// \file gift/backend/eigen/fill_standard_normal.hpp
/// \brief Reproducible N(0, 1) matrices on the Eigen backend.

#include <gift/backend/dispatch.hpp>
#include <gift/error.hpp>
#include <gift/detail/fill_standard_normal.hpp>
#include <gift/random.hpp>

#include <Eigen/Core>

#include <cstdint>

namespace gift::backend {

template <>
struct implementation<ops::fill_standard_normal, eigen> {
  static constexpr bool available = true;

  template <class Derived>
  static void run(eigen, Eigen::MatrixBase<Derived>& matrix, const noise_key& key) {
    const Eigen::Index rows = matrix.rows(), cols = matrix.cols();
    const std::uint64_t count = static_cast<std::uint64_t>(rows) * static_cast<std::uint64_t>(cols);
    const std::uint64_t blocks = (count + 3) / 4;
    // Element index is the row-major position whatever the storage order, so every backend and
    // layout gets the same value at the same (i, j).
#if defined(_OPENMP)
#pragma omp parallel for schedule(static) if (count > (1u << 14))
#endif
    for (std::int64_t b = 0; b < static_cast<std::int64_t>(blocks); ++b) {
      float values[4];
      standard_normal4(key, static_cast<std::uint64_t>(b), values);
      for (std::uint64_t lane = 0; lane < 4; ++lane) {
        const std::uint64_t index = static_cast<std::uint64_t>(b) * 4 + lane;
        if (index >= count) break;
        matrix.derived().coeffRef(static_cast<Eigen::Index>(index / static_cast<std::uint64_t>(cols)),
                                  static_cast<Eigen::Index>(index % static_cast<std::uint64_t>(cols))) =
            static_cast<typename Derived::Scalar>(values[lane]);
      }
    }
  }
};

}  // namespace gift::backend
