#pragma once
/// \file gift/backend/eigen/model/rope.hpp
/// \brief RoPE on the Eigen backend: rows in parallel, each head by the shared rotation.

#include <gift/backend/dispatch.hpp>
#include <gift/detail/model/rope.hpp>
#include <gift/detail/parallel.hpp>
#include <gift/fwd.hpp>

#include <cstdint>

namespace gift::backend {

template <>
struct implementation<ops::rope, eigen> {
  static constexpr bool available = true;
  /// Rotates every head of `x` in place; row r sits at position `first + r % sequence` and reads
  /// that row of the tables (`positions × rope_dim/2`).
  template <class T>
  static void run(eigen, gift::matrix<T>& x, int head_dim, const gift::matrix<T>& cosine, const gift::matrix<T>& sine,
                  std::int64_t sequence, std::int64_t first, bool inverse) {
    const Eigen::Index heads = x.cols() / head_dim, pairs = cosine.cols();
    const T sign = inverse ? T(-1) : T(1);
    GIFT_MODEL_PARALLEL_FOR
    for (Eigen::Index row = 0; row < x.rows(); ++row) {
      const Eigen::Index p = first + row % sequence;
      for (Eigen::Index h = 0; h < heads; ++h)
        gift::detail::rotate_head(x.row(row).data() + h * head_dim, cosine.row(p).data(), sine.row(p).data(), pairs,
                                  sign);
    }
  }
};

}  // namespace gift::backend
