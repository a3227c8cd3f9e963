#pragma once
/// \file gift/backend/thrust/fill_standard_normal.hpp
/// \brief Reproducible N(0, 1) matrices on the Thrust backend: one Philox block per task, four
/// values written per block.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/thrust/matrix.hpp>
#include <gift/detail/fill_standard_normal.hpp>
#include <gift/random.hpp>

#include <thrust/for_each.h>
#include <thrust/iterator/counting_iterator.h>

#include <cstdint>

namespace gift::backend {

namespace detail {
template <class T>
struct write_normal_block {
  T* data;
  std::uint64_t count;
  noise_key key;
  GIFT_HOST_DEVICE void operator()(std::uint64_t block) const {
    float values[4];
    standard_normal4(key, block, values);
    for (std::uint64_t lane = 0; lane < 4; ++lane) {
      const std::uint64_t index = block * 4 + lane;
      if (index < count) data[index] = static_cast<T>(values[lane]);
    }
  }
};
}  // namespace detail

template <class System>
struct implementation<ops::fill_standard_normal, thrust<System>> {
  static constexpr bool available = true;

  template <class T, class MatrixSystem>
  static void run(thrust<System>, thrust_matrix<T, MatrixSystem>& matrix, const noise_key& key) {
    const std::uint64_t count = matrix.size();
    const std::uint64_t blocks = (count + 3) / 4;
    ::thrust::for_each(thrust_system_traits<System>::policy(), ::thrust::counting_iterator<std::uint64_t>(0),
                       ::thrust::counting_iterator<std::uint64_t>(blocks),
                       detail::write_normal_block<T>{::thrust::raw_pointer_cast(matrix.storage().data()), count, key});
  }
};

}  // namespace gift::backend
