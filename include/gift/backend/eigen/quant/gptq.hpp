#pragma once
/// \file gift/backend/eigen/quant/gptq.hpp
/// \brief GPTQ on the CPU with salient columns kept in full precision (QUIK-style).
///
/// Columns are processed in the order: non-salient columns (by decreasing H_jj with act-order,
/// else by index), then the salient ones. Salient columns are never quantized, but as they come
/// last they absorb the error compensation of every quantized column. The inverse Hessian's
/// upper Cholesky factor U (H⁻¹ = UᵀU) comes from one Cholesky factorisation of the reversed H
/// and one triangular inverse: with J the reversal, J H J = L Lᵀ gives H = R Rᵀ for the upper
/// triangular R = J L J, so H⁻¹ = R⁻ᵀ R⁻¹ and U = R⁻¹.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/eigen/quant/common.hpp>
#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/detail/quant/gptq.hpp>
#include <gift/salient_columns.hpp>
#include <gift/detail/quant/levels.hpp>

#include <Eigen/Cholesky>
#include <Eigen/Core>

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <vector>

namespace gift::backend {

template <>
struct implementation<ops::gptq, eigen> {
  static constexpr bool available = true;

  /// U = R⁻¹ (upper triangular, as float) for the damped Hessian `h` taken in `order`: the
  /// factor the column sweep reads. `h` is consumed (freed once its permuted copy exists); the
  /// Cholesky factor overwrites that copy and is turned into R in place, so at most two in × in
  /// double matrices and the float result live at once beside the caller's Gram matrix (an
  /// 11008-wide layer: 2.3 GiB, where separate copies of H, its permutation, the factor, L, R, R⁻¹
  /// and a dense temporary took 6.3 GiB). The arithmetic is the same, so are the bits.
  static gift::matrix<float> inverse_factor(Eigen::MatrixXd& h, const std::vector<Eigen::Index>& order, double lambda,
                                            double damping) {
    using index = Eigen::Index;
    const index in = h.rows();
    // Permuted and reversed: reversed(a, b) = H(order[in−1−a], order[in−1−b]).
    Eigen::MatrixXd reversed(in, in);
    for (index a = 0; a < in; ++a)
      for (index b = 0; b < in; ++b)
        reversed(a, b) = h(order[static_cast<std::size_t>(in - 1 - a)], order[static_cast<std::size_t>(in - 1 - b)]);
    h = Eigen::MatrixXd();
    {
      // In place: L overwrites the lower triangle of `reversed` (the strictly upper one keeps H's values).
      const Eigen::LLT<Eigen::Ref<Eigen::MatrixXd>> cholesky(reversed);
      gift::detail::require(cholesky.info() == Eigen::Success,
                            "gift::gptq: the Gram matrix is not positive definite even after damping by ", lambda, " (",
                            damping,
                            " x mean diagonal); collect more calibration tokens than input columns, or raise "
                            "gptq_options::damping");
    }
    // R = J L J: reversing rows and columns moves L's lower triangle onto R's upper one, in place.
    // Only the upper triangle is read from here on.
    reversed.reverseInPlace();
    const Eigen::MatrixXd& upper_r = reversed;
    // U = R⁻¹ by column panels: column k of an upper triangular inverse is zero below row k,
    // so a panel ending at column c only needs the leading c × c system (n³/3 flops, not n³).
    Eigen::MatrixXd u_double = Eigen::MatrixXd::Zero(in, in);
    constexpr index panel = 256;
    for (index first = 0; first < in; first += panel) {
      const index width = std::min(panel, in - first), leading = first + width;
      Eigen::MatrixXd columns = Eigen::MatrixXd::Zero(leading, width);
      columns.bottomRows(width).setIdentity();
      upper_r.topLeftCorner(leading, leading).triangularView<Eigen::Upper>().solveInPlace(columns);
      u_double.block(0, first, leading, width) = columns;
    }
    gift::detail::require(u_double.allFinite() && (u_double.diagonal().array() > 0).all(),
                          "gift::gptq: the inverse Cholesky factor of the damped Gram matrix is not finite; raise "
                          "gptq_options::damping");
    gift::matrix<float> u = u_double.cast<float>();
    u.triangularView<Eigen::StrictlyLower>().setZero();
    return u;
  }

  /// Arguments are validated by the front end (quant/gptq.hpp), which has also searched the
  /// per-row steps into `result.delta` (over the non-salient columns of the original weights).
  /// Fills `result.weights` and `result.codes`.
  template <class Derived, class GramDerived, class Result>
  static void run(eigen, const Eigen::MatrixBase<Derived>& weights, const Eigen::MatrixBase<GramDerived>& gram,
                  const salient_columns& salient, const gift::detail::gptq_plan& options, Result& result) {
    using index = Eigen::Index;
    const detail::float_rows original(weights.derived().template cast<float>());
    const index out = original.rows(), in = original.cols();
    const std::vector<bool> is_salient = salient.columns() == 0 ? std::vector<bool>(static_cast<std::size_t>(in), false)
                                                                 : salient.mask();
    result.codes = gift::matrix<std::int8_t>::Zero(out, in);

    Eigen::MatrixXd h = gram.template cast<double>();
    gift::matrix<float> w = original;
    // Columns no token ever activated: GPTQ's convention (H_jj = 1, weight 0: it never matters).
    for (index j = 0; j < in; ++j) {
      if (h(j, j) == 0.0) {
        h(j, j) = 1.0;
        if (!is_salient[static_cast<std::size_t>(j)]) w.col(j).setZero();
      }
    }
    const double lambda = options.damping * h.diagonal().mean();
    h.diagonal().array() += lambda;

    std::vector<index> order;
    for (index j = 0; j < in; ++j)
      if (!is_salient[static_cast<std::size_t>(j)]) order.push_back(j);
    const index quantized_count = static_cast<index>(order.size());
    if (options.act_order) {
      std::stable_sort(order.begin(), order.end(), [&](index a, index b) { return h(a, a) > h(b, b); });
    }
    for (index j = 0; j < in; ++j)
      if (is_salient[static_cast<std::size_t>(j)]) order.push_back(j);

    const gift::matrix<float> u = inverse_factor(h, order, lambda, options.damping);

    // Work on Wᵀ in the processing order: row a of `work` is column order[a] of W, contiguous.
    gift::matrix<float> work(in, out);
    for (index a = 0; a < in; ++a) work.row(a) = w.col(order[static_cast<std::size_t>(a)]).transpose();
    gift::vector<float> inverse(out);
    for (index i = 0; i < out; ++i) inverse(i) = gift::detail::fdiv(1.0f, result.delta(i));
    const float qmin = static_cast<float>(gift::detail::symmetric_qmin(options.bits));
    const float qmax = static_cast<float>(gift::detail::symmetric_qmax(options.bits));
    gift::matrix<std::int8_t> codes_t(in, out);
    codes_t.setZero();
    const index block = static_cast<index>(options.block_size);
    gift::matrix<float> errors(block, out);
    Eigen::Matrix<float, 1, Eigen::Dynamic> quantized(out), error(out);
    for (index start = 0; start < quantized_count; start += block) {
      const index stop = std::min(start + block, quantized_count), count = stop - start;
      for (index a = start; a < stop; ++a) {
        const float d = u(a, a);
        for (index i = 0; i < out; ++i) {
          const float q = gift::detail::round_clamped(gift::detail::fmul(work(a, i), inverse(i)), qmin, qmax);
          codes_t(a, i) = gift::detail::code_of<std::int8_t>(q);
          quantized(i) = gift::detail::fmul(q, result.delta(i));
        }
        error = (work.row(a) - quantized) / d;
        work.row(a) = quantized;
        if (stop - a - 1 > 0)
          work.middleRows(a + 1, stop - a - 1).noalias() -= u.row(a).segment(a + 1, stop - a - 1).transpose() * error;
        errors.row(a - start) = error;
      }
      // Lazy batch update of everything after the block, salient columns included.
      if (in - stop > 0)
        work.bottomRows(in - stop).noalias() -=
            u.block(start, stop, count, in - stop).transpose() * errors.topRows(count);
    }
    result.weights.resize(out, in);
    for (index a = 0; a < in; ++a) {
      const index j = order[static_cast<std::size_t>(a)];
      result.weights.col(j) = work.row(a).transpose();
      if (a < quantized_count) result.codes.col(j) = codes_t.row(a).transpose();
    }
  }
};

}  // namespace gift::backend
