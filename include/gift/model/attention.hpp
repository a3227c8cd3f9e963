#pragma once
/// \file gift/model/attention.hpp
/// \brief Causal multi-head attention with grouped-query heads (GQA), forward and backward.
///
/// Rows are tokens, sequence after sequence (`batch × sequence` rows); q has `heads × head_dim`
/// columns, k and v `kv_heads × head_dim`; query head h reads kv head `h / (heads / kv_heads)`.
/// The backward pass recomputes the attention probabilities from q and k instead of storing a
/// `sequence × sequence` matrix per head and layer: the recompute costs one small GEMM, the
/// storage would dominate the activation memory at long sequences.

#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/model/detail/parallel.hpp>

#include <cmath>
#include <concepts>
#include <limits>

namespace gift::model {

/// Shape of one attention call.
struct attention_shape {
  Eigen::Index batch = 0;     ///< sequences
  Eigen::Index sequence = 0;  ///< tokens per sequence
  int heads = 0;              ///< query heads
  int kv_heads = 0;           ///< key/value heads
  int head_dim = 0;           ///< width of one head
};

namespace detail {

inline void require_attention_shapes(const attention_shape& s, Eigen::Index q_rows, Eigen::Index q_cols,
                                     Eigen::Index k_rows, Eigen::Index k_cols, Eigen::Index v_rows,
                                     Eigen::Index v_cols) {
  const Eigen::Index n = s.batch * s.sequence;
  gift::detail::require(s.heads > 0 && s.kv_heads > 0 && s.heads % s.kv_heads == 0 && s.head_dim > 0 && n > 0,
                        "gift::model::attention: heads (", s.heads, ") must be a positive multiple of kv_heads (",
                        s.kv_heads, "), head_dim and the token count positive");
  gift::detail::require(q_rows == n && k_rows == n && v_rows == n && q_cols == s.heads * s.head_dim &&
                            k_cols == s.kv_heads * s.head_dim && v_cols == k_cols,
                        "gift::model::attention: q, k, v must be ", n, " x ", s.heads * s.head_dim, ", ", n, " x ",
                        s.kv_heads * s.head_dim, ", ", n, " x ", s.kv_heads * s.head_dim, ", but are ", q_rows, " x ",
                        q_cols, ", ", k_rows, " x ", k_cols, ", ", v_rows, " x ", v_cols);
}

/// Causal softmax of `scale · scores` in place (entries above the diagonal become 0).
template <class T>
void causal_softmax(matrix<T>& scores, T scale) {
  for (Eigen::Index t = 0; t < scores.rows(); ++t) {
    T largest = -std::numeric_limits<T>::infinity();
    for (Eigen::Index u = 0; u <= t; ++u) largest = std::max(largest, scores(t, u) * scale);
    double total = 0;
    for (Eigen::Index u = 0; u <= t; ++u) {
      const T e = std::exp(scores(t, u) * scale - largest);
      scores(t, u) = e;
      total += e;
    }
    const T inverse = static_cast<T>(1.0 / total);
    for (Eigen::Index u = 0; u <= t; ++u) scores(t, u) *= inverse;
    for (Eigen::Index u = t + 1; u < scores.cols(); ++u) scores(t, u) = T(0);
  }
}

}  // namespace detail

/// `out = softmax(q kᵀ / sqrt(head_dim) + causal mask) v`, per sequence and head; `out` is
/// resized to the shape of `q`.
template <std::floating_point T>
void attention_forward(const attention_shape& s, const matrix<T>& q, const matrix<T>& k, const matrix<T>& v,
                       matrix<T>& out) {
  detail::require_attention_shapes(s, q.rows(), q.cols(), k.rows(), k.cols(), v.rows(), v.cols());
  out.resize(q.rows(), q.cols());
  const Eigen::Index tasks = s.batch * s.heads, T_len = s.sequence, d = s.head_dim;
  const int group = s.heads / s.kv_heads;
  const T scale = static_cast<T>(1.0 / std::sqrt(static_cast<double>(d)));
  GIFT_MODEL_PARALLEL_FOR_DYNAMIC
  for (Eigen::Index task = 0; task < tasks; ++task) {
    const Eigen::Index b = task / s.heads, h = task % s.heads, g = h / group;
    matrix<T> probabilities = q.block(b * T_len, h * d, T_len, d) * k.block(b * T_len, g * d, T_len, d).transpose();
    detail::causal_softmax(probabilities, scale);
    out.block(b * T_len, h * d, T_len, d).noalias() = probabilities * v.block(b * T_len, g * d, T_len, d);
  }
}

/// Gradients of `attention_forward` with respect to q, k and v given `d_out`; the three outputs
/// are resized and overwritten. Work is split by (sequence, kv head) so that the query heads
/// sharing one kv head add into its gradient without a race.
template <std::floating_point T>
void attention_backward(const attention_shape& s, const matrix<T>& q, const matrix<T>& k, const matrix<T>& v,
                        const matrix<T>& d_out, matrix<T>& dq, matrix<T>& dk, matrix<T>& dv) {
  detail::require_attention_shapes(s, q.rows(), q.cols(), k.rows(), k.cols(), v.rows(), v.cols());
  gift::detail::require(d_out.rows() == q.rows() && d_out.cols() == q.cols(),
                        "gift::model::attention_backward: argument 'd_out' must have the shape of q");
  dq.resize(q.rows(), q.cols());
  dk.setZero(k.rows(), k.cols());
  dv.setZero(v.rows(), v.cols());
  const Eigen::Index tasks = s.batch * s.kv_heads, T_len = s.sequence, d = s.head_dim;
  const int group = s.heads / s.kv_heads;
  const T scale = static_cast<T>(1.0 / std::sqrt(static_cast<double>(d)));
  GIFT_MODEL_PARALLEL_FOR_DYNAMIC
  for (Eigen::Index task = 0; task < tasks; ++task) {
    const Eigen::Index b = task / s.kv_heads, g = task % s.kv_heads;
    const auto k_block = k.block(b * T_len, g * d, T_len, d);
    const auto v_block = v.block(b * T_len, g * d, T_len, d);
    auto dk_block = dk.block(b * T_len, g * d, T_len, d);
    auto dv_block = dv.block(b * T_len, g * d, T_len, d);
    matrix<T> probabilities, d_scores;
    for (Eigen::Index h = g * group; h < (g + 1) * group; ++h) {
      const auto q_block = q.block(b * T_len, h * d, T_len, d);
      const auto do_block = d_out.block(b * T_len, h * d, T_len, d);
      probabilities.noalias() = q_block * k_block.transpose();
      detail::causal_softmax(probabilities, scale);
      dv_block.noalias() += probabilities.transpose() * do_block;
      d_scores.noalias() = do_block * v_block.transpose();
      // softmax backward: dS = P ∘ (dP − rowsum(dP ∘ P)), then the 1/sqrt(d) of the scores.
      for (Eigen::Index t = 0; t < T_len; ++t) {
        double dot = 0;
        for (Eigen::Index u = 0; u <= t; ++u) dot += static_cast<double>(d_scores(t, u)) * probabilities(t, u);
        const T row_dot = static_cast<T>(dot);
        for (Eigen::Index u = 0; u <= t; ++u) d_scores(t, u) = probabilities(t, u) * (d_scores(t, u) - row_dot) * scale;
        for (Eigen::Index u = t + 1; u < T_len; ++u) d_scores(t, u) = T(0);
      }
      dq.block(b * T_len, h * d, T_len, d).noalias() = d_scores * k_block;
      dk_block.noalias() += d_scores.transpose() * q_block;
    }
  }
}

}  // namespace gift::model
