#pragma once
/// \file gift/backend/thrust/gram.hpp
/// \brief The Gram update `XᵀX` on a Thrust system: one dot product over the tokens per entry of
/// the lower triangle, in double.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/thrust/matrix.hpp>
#include <gift/config.hpp>
#include <gift/detail/fp.hpp>
#include <gift/detail/gram.hpp>
#include <gift/fwd.hpp>

#include <thrust/copy.h>
#include <thrust/for_each.h>
#include <thrust/iterator/counting_iterator.h>

#include <cstddef>

namespace gift::backend {

namespace detail {
template <class T>
struct gram_entry {
  const T* data;
  std::size_t rows, cols;
  double* gram;
  GIFT_HOST_DEVICE void operator()(std::size_t index) const {
    const std::size_t i = index / cols, j = index % cols;
    if (j > i) return;  // lower triangle only
    double sum = 0.0;
    for (std::size_t t = 0; t < rows; ++t)
      sum = gift::detail::dadd(sum, gift::detail::dmul(static_cast<double>(data[t * cols + i]),
                                                      static_cast<double>(data[t * cols + j])));
    gram[index] = sum;
  }
};
}  // namespace detail

template <class System>
struct implementation<ops::gram_update, thrust<System>> {
  static constexpr bool available = true;

  /// Adds `xᵀx` to the lower triangle of the host matrix `gram`. Each entry is one dot product
  /// over the tokens in double: O(in² · tokens) work, meant for the GPU.
  template <class T, class MatrixSystem>
  static void run(thrust<System>, const thrust_matrix<T, MatrixSystem>& x, gift::matrix<double>& gram) {
    const std::size_t cols = x.cols();
    thrust_vector_t<MatrixSystem, double> entries(cols * cols, 0.0);
    ::thrust::for_each(thrust_system_traits<System>::policy(), ::thrust::counting_iterator<std::size_t>(0),
                       ::thrust::counting_iterator<std::size_t>(cols * cols),
                       detail::gram_entry<T>{::thrust::raw_pointer_cast(x.storage().data()), x.rows(), cols,
                                             ::thrust::raw_pointer_cast(entries.data())});
    gift::matrix<double> host(static_cast<Eigen::Index>(cols), static_cast<Eigen::Index>(cols));
    ::thrust::copy(entries.begin(), entries.end(), host.data());
    gram.template triangularView<Eigen::Lower>() += host;
  }
};

}  // namespace gift::backend
