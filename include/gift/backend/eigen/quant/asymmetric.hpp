#pragma once
/// \file gift/backend/eigen/quant/asymmetric.hpp
/// \brief The asymmetric (min/max) quantizer on the Eigen backend.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/eigen/quant/common.hpp>
#include <gift/fwd.hpp>
#include <gift/detail/quant/asymmetric.hpp>
#include <gift/detail/quant/row_kernels.hpp>

#include <cstdint>
#include <type_traits>
#include <vector>

namespace gift::backend {

template <>
struct implementation<ops::asymmetric_quantize, eigen> {
  static constexpr bool available = true;

  template <class Result, class Derived>
  static Result run(eigen, std::type_identity<Result>, const char* where, const Eigen::MatrixBase<Derived>& weights,
                    const gift::detail::asymmetric_plan& options, const std::vector<float>& keep) {
    const detail::float_rows w(weights.derived().template cast<float>());
    const std::size_t rows = static_cast<std::size_t>(w.rows()), cols = static_cast<std::size_t>(w.cols());
    const Eigen::Index groups = static_cast<Eigen::Index>(gift::detail::group_count(cols, options.group_size));
    Result out;
    out.bits = options.bits;
    out.group_size = options.group_size;
    out.scale.resize(w.rows(), groups);
    out.zero.resize(w.rows(), groups);
    out.codes.resize(w.rows(), w.cols());
    out.dequantized.resize(w.rows(), w.cols());
    gift::matrix<float> max_abs(w.rows(), groups);
    const float* keep_data = keep.empty() ? nullptr : keep.data();
#if defined(_OPENMP)
#pragma omp parallel for schedule(static) if (rows * cols > (1u << 16))
#endif
    for (std::ptrdiff_t r = 0; r < static_cast<std::ptrdiff_t>(rows); ++r) {
      const float* row = w.data() + r * w.outerStride();
      gift::detail::asymmetric_row_params(row, keep_data, cols, options.group_size, options.bits,
                                          out.scale.row(r).data(), out.zero.row(r).data(), max_abs.row(r).data());
      gift::detail::quantize_row_asymmetric(row, cols, options.group_size, out.scale.row(r).data(),
                                            out.zero.row(r).data(), options.bits, out.codes.row(r).data(),
                                            out.dequantized.row(r).data());
    }
    if (!detail::all_finite(max_abs)) detail::throw_first_non_finite(w, where, "weights");
    return out;
  }
};

}  // namespace gift::backend
