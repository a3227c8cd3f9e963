#pragma once
/// \file gift/backend/eigen/quant/symmetric.hpp
/// \brief The symmetric quantizer on the Eigen backend: rows in parallel (OpenMP), each row run
/// through the shared kernels of detail/quant/row_kernels.hpp.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/eigen/quant/common.hpp>
#include <gift/fwd.hpp>
#include <gift/detail/quant/symmetric.hpp>
#include <gift/detail/quant/row_kernels.hpp>

#include <cstdint>
#include <type_traits>
#include <vector>

namespace gift::backend {

template <>
struct implementation<ops::symmetric_quantize, eigen> {
  static constexpr bool available = true;

  /// `keep` is empty (all columns kept) or one 0/1 flag per column; `with_codes` false computes
  /// the scales only.
  template <class Result, class Derived>
  static Result run(eigen, std::type_identity<Result>, const char* where, const Eigen::MatrixBase<Derived>& weights,
                    const gift::detail::symmetric_plan& options, const std::vector<float>& keep, bool with_codes) {
    const detail::float_rows w(weights.derived().template cast<float>());
    const std::size_t rows = static_cast<std::size_t>(w.rows()), cols = static_cast<std::size_t>(w.cols());
    const std::size_t groups = gift::detail::group_count(cols, options.group_size);
    Result out;
    out.bits = options.bits;
    out.group_size = options.group_size;
    out.alpha.resize(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(groups));
    out.delta.resize(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(groups));
    gift::matrix<float> max_abs(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(groups));
    if (with_codes) {
      out.codes.resize(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
      out.dequantized.resize(static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
    }
    const float* keep_data = keep.empty() ? nullptr : keep.data();
    const std::vector<float>& ratios = options.ratios;
    const float exponent = static_cast<float>(options.error_exponent);
#if defined(_OPENMP)
#pragma omp parallel for schedule(dynamic, 16) if (rows * cols > (1u << 14))
#endif
    for (std::ptrdiff_t r = 0; r < static_cast<std::ptrdiff_t>(rows); ++r) {
      const float* row = w.data() + r * w.outerStride();
      gift::detail::search_row_scales(row, keep_data, cols, options.group_size, ratios.data(), ratios.size(),
                                      options.bits, exponent, out.alpha.row(r).data(), out.delta.row(r).data(),
                                      max_abs.row(r).data());
      if (with_codes) {
        gift::detail::quantize_row_symmetric(row, cols, options.group_size, out.delta.row(r).data(), options.bits,
                                             out.codes.row(r).data(), out.dequantized.row(r).data());
      }
    }
    if (!detail::all_finite(max_abs)) detail::throw_first_non_finite(w, where, "weights");
    return out;
  }
};

template <>
struct implementation<ops::symmetric_codes, eigen> {
  static constexpr bool available = true;

  /// Codes and dequantized weights for given steps `delta` (rows × groups).
  template <class Result, class Derived, class DeltaDerived>
  static Result run(eigen, std::type_identity<Result>, const char* where, const Eigen::MatrixBase<Derived>& weights,
                         const Eigen::MatrixBase<DeltaDerived>& delta, std::size_t group_size, int bits) {
    const detail::float_rows w(weights.derived().template cast<float>());
    const std::size_t rows = static_cast<std::size_t>(w.rows()), cols = static_cast<std::size_t>(w.cols());
    Result out;
    out.bits = bits;
    out.group_size = group_size;
    out.delta = delta.template cast<float>();
    out.codes.resize(w.rows(), w.cols());
    out.dequantized.resize(w.rows(), w.cols());
    if (!detail::all_finite(w)) detail::throw_first_non_finite(w, where, "weights");
#if defined(_OPENMP)
#pragma omp parallel for schedule(static) if (rows * cols > (1u << 16))
#endif
    for (std::ptrdiff_t r = 0; r < static_cast<std::ptrdiff_t>(rows); ++r) {
      gift::detail::quantize_row_symmetric(w.data() + r * w.outerStride(), cols, group_size, out.delta.row(r).data(),
                                           bits, out.codes.row(r).data(), out.dequantized.row(r).data());
    }
    out.alpha = out.delta * static_cast<float>(gift::detail::symmetric_qmax(bits));
    return out;
  }
};

}  // namespace gift::backend
