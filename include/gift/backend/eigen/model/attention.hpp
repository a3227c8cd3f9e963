#pragma once
/// \file gift/backend/eigen/model/attention.hpp
/// \brief Causal GQA attention on the Eigen backend: one task per (sequence, head) in the forward
/// pass and per (sequence, kv head) in the backward pass, each a few small Eigen GEMMs around the
/// shared softmax arithmetic.

#include <gift/backend/dispatch.hpp>
#include <gift/detail/model/attention.hpp>
#include <gift/detail/parallel.hpp>
#include <gift/fwd.hpp>

namespace gift::backend {

template <>
struct implementation<ops::attention_forward, eigen> {
  static constexpr bool available = true;
  /// `out = softmax(q kᵀ / sqrt(head_dim) + causal mask) v` per sequence and head; `out` is
  /// resized to the shape of q.
  template <class T>
  static void run(eigen, const gift::detail::attention_shape& s, const gift::matrix<T>& q, const gift::matrix<T>& k,
                  const gift::matrix<T>& v, gift::matrix<T>& out) {
    out.resize(q.rows(), q.cols());
    const Eigen::Index tasks = s.batch * s.heads, length = s.sequence, d = s.head_dim;
    const int group = s.heads / s.kv_heads;
    const T scale = gift::detail::attention_scale<T>(s.head_dim);
    GIFT_MODEL_PARALLEL_FOR_DYNAMIC
    for (Eigen::Index task = 0; task < tasks; ++task) {
      const Eigen::Index b = task / s.heads, h = task % s.heads, g = h / group;
      gift::matrix<T> probabilities =
          q.block(b * length, h * d, length, d) * k.block(b * length, g * d, length, d).transpose();
      for (Eigen::Index t = 0; t < length; ++t)
        gift::detail::causal_softmax_row(probabilities.row(t).data(), t, length, scale);
      out.block(b * length, h * d, length, d).noalias() = probabilities * v.block(b * length, g * d, length, d);
    }
  }
};

template <>
struct implementation<ops::attention_backward, eigen> {
  static constexpr bool available = true;
  /// Gradients with respect to q, k and v (resized, overwritten). The probabilities are
  /// recomputed from q and k instead of stored: one small GEMM against `sequence²` memory per
  /// head and layer. Work is split by (sequence, kv head) so that the query heads sharing a kv
  /// head add into its gradient in head order, without a race.
  template <class T>
  static void run(eigen, const gift::detail::attention_shape& s, const gift::matrix<T>& q, const gift::matrix<T>& k,
                  const gift::matrix<T>& v, const gift::matrix<T>& d_out, gift::matrix<T>& dq, gift::matrix<T>& dk,
                  gift::matrix<T>& dv) {
    dq.resize(q.rows(), q.cols());
    dk.setZero(k.rows(), k.cols());
    dv.setZero(v.rows(), v.cols());
    const Eigen::Index tasks = s.batch * s.kv_heads, length = s.sequence, d = s.head_dim;
    const int group = s.heads / s.kv_heads;
    const T scale = gift::detail::attention_scale<T>(s.head_dim);
    GIFT_MODEL_PARALLEL_FOR_DYNAMIC
    for (Eigen::Index task = 0; task < tasks; ++task) {
      const Eigen::Index b = task / s.kv_heads, g = task % s.kv_heads;
      const auto k_block = k.block(b * length, g * d, length, d);
      const auto v_block = v.block(b * length, g * d, length, d);
      auto dk_block = dk.block(b * length, g * d, length, d);
      auto dv_block = dv.block(b * length, g * d, length, d);
      gift::matrix<T> probabilities, d_scores;
      for (Eigen::Index h = g * group; h < (g + 1) * group; ++h) {
        const auto q_block = q.block(b * length, h * d, length, d);
        const auto do_block = d_out.block(b * length, h * d, length, d);
        probabilities.noalias() = q_block * k_block.transpose();
        for (Eigen::Index t = 0; t < length; ++t)
          gift::detail::causal_softmax_row(probabilities.row(t).data(), t, length, scale);
        dv_block.noalias() += probabilities.transpose() * do_block;
        d_scores.noalias() = do_block * v_block.transpose();
        for (Eigen::Index t = 0; t < length; ++t)
          gift::detail::causal_softmax_backward_row(probabilities.row(t).data(), d_scores.row(t).data(), t, length,
                                                    scale);
        dq.block(b * length, h * d, length, d).noalias() = d_scores * k_block;
        dk_block.noalias() += d_scores.transpose() * q_block;
      }
    }
  }
};

}  // namespace gift::backend
