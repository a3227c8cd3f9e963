#pragma once
/// \file gift/backend/thrust/noise.hpp
/// \brief Quantization-noise injection on the Thrust backend: one task per Philox block (four
/// consecutive elements of the row-major matrix), the same arithmetic as every other backend.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/thrust/matrix.hpp>
#include <gift/error.hpp>
#include <gift/salient_columns.hpp>
#include <gift/detail/noise.hpp>
#include <gift/random.hpp>

#include <thrust/copy.h>
#include <thrust/for_each.h>
#include <thrust/iterator/counting_iterator.h>

#include <cstdint>
#include <type_traits>
#include <vector>

namespace gift::backend {

namespace detail {
/// Adds the noise of Philox block `block` to the (up to) four elements it covers.
template <class T>
struct add_noise_block {
  T* data;
  const float* delta;
  const unsigned char* is_salient;
  std::uint64_t count, cols;
  noise_key key;
  GIFT_HOST_DEVICE void operator()(std::uint64_t block) const {
    float omega[4];
    standard_normal4(key, block, omega);
    for (std::uint64_t lane = 0; lane < 4; ++lane) {
      const std::uint64_t index = block * 4 + lane;
      if (index >= count) break;
      const std::uint64_t row = index / cols, column = index % cols;
      if (is_salient[column]) continue;
      data[index] = gift::detail::noisy_weight(data[index], gift::detail::half_delta<T>(delta[row]), omega[lane]);
    }
  }
};

/// Host copy of a per-row scale held in an Eigen vector or a Thrust vector of any system.
template <class Delta>
gift::vector<float> delta_on_host(const Delta& delta) {
  if constexpr (std::is_base_of_v<Eigen::MatrixBase<Delta>, Delta>) {
    return delta.template cast<float>();
  } else {
    gift::vector<float> host(static_cast<Eigen::Index>(delta.size()));
    ::thrust::copy(delta.begin(), delta.end(), host.data());
    return host;
  }
}
}  // namespace detail

template <class System>
struct implementation<ops::add_quantization_noise, thrust<System>> {
  static constexpr bool available = true;

  template <class T, class MatrixSystem, class Delta>
  static void run(thrust<System>, thrust_matrix<T, MatrixSystem>& weight, const Delta& delta,
                  const salient_columns& salient, const noise_key& key) {
    constexpr const char* where = "gift::add_quantization_noise";
    const gift::vector<float> host_delta = detail::delta_on_host(delta);
    gift::detail::check_delta(host_delta, static_cast<std::int64_t>(weight.rows()), where);
    std::vector<unsigned char> host_mask(weight.cols(), 0);
    for (const std::int64_t column : salient.indices()) host_mask[static_cast<std::size_t>(column)] = 1;
    const thrust_vector_t<MatrixSystem, float> device_delta(host_delta.data(), host_delta.data() + host_delta.size());
    const thrust_vector_t<MatrixSystem, unsigned char> device_mask(host_mask.begin(), host_mask.end());
    const std::uint64_t count = weight.size();
    if (count == 0) return;
    ::thrust::for_each(thrust_system_traits<System>::policy(), ::thrust::counting_iterator<std::uint64_t>(0),
                       ::thrust::counting_iterator<std::uint64_t>((count + 3) / 4),
                       detail::add_noise_block<T>{::thrust::raw_pointer_cast(weight.storage().data()),
                                                  ::thrust::raw_pointer_cast(device_delta.data()),
                                                  ::thrust::raw_pointer_cast(device_mask.data()), count,
                                                  weight.cols(), key});
  }
};

}  // namespace gift::backend
