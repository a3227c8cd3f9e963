#pragma once
/// \file gift/detail/model/attention.hpp
/// \brief Attention's operation tags, its shape, and the softmax arithmetic of one row of scores,
/// shared by every backend (the products around it are each backend's GEMMs).

#include <gift/config.hpp>
#include <gift/detail/model/math.hpp>
#include <gift/error.hpp>

#include <cstdint>
#include <limits>
#include <string>

namespace gift {

namespace ops {
/// Operation tag: causal grouped-query attention, forward.
struct attention_forward {
  /// Printable name.
  static std::string name() { return "attention_forward"; }
};
/// Operation tag: the gradients of attention with respect to q, k and v.
struct attention_backward {
  /// Printable name.
  static std::string name() { return "attention_backward"; }
};
}  // namespace ops

namespace detail {

/// Shape of one attention call: rows are tokens, sequence after sequence; q has `heads ×
/// head_dim` columns, k and v `kv_heads × head_dim`.
struct attention_shape {
  std::int64_t batch = 0;     ///< sequences
  std::int64_t sequence = 0;  ///< tokens per sequence
  int heads = 0;              ///< query heads
  int kv_heads = 0;           ///< key/value heads
  int head_dim = 0;           ///< width of one head
};

/// Throws unless q, k, v (given by their rows and columns) fit `s`.
inline void require_attention_shapes(const attention_shape& s, std::int64_t q_rows, std::int64_t q_cols,
                                     std::int64_t k_rows, std::int64_t k_cols, std::int64_t v_rows,
                                     std::int64_t v_cols) {
  const std::int64_t n = s.batch * s.sequence;
  require(s.heads > 0 && s.kv_heads > 0 && s.heads % s.kv_heads == 0 && s.head_dim > 0 && n > 0,
          "gift::model::attention: heads (", s.heads, ") must be a positive multiple of kv_heads (", s.kv_heads,
          "), head_dim and the token count positive");
  require(q_rows == n && k_rows == n && v_rows == n && q_cols == std::int64_t{s.heads} * s.head_dim &&
              k_cols == std::int64_t{s.kv_heads} * s.head_dim && v_cols == k_cols,
          "gift::model::attention: q, k, v must be ", n, " x ", s.heads * s.head_dim, ", ", n, " x ",
          s.kv_heads * s.head_dim, ", ", n, " x ", s.kv_heads * s.head_dim, ", but are ", q_rows, " x ", q_cols, ", ",
          k_rows, " x ", k_cols, ", ", v_rows, " x ", v_cols);
}

/// Causal softmax of `scale · scores` for the row of query position `last` (it sees positions
/// `0 .. last`) of `length` entries, in place: the visible entries become probabilities (the sum
/// in double), the rest 0.
template <class T>
GIFT_HOST_DEVICE void causal_softmax_row(T* scores, std::int64_t last, std::int64_t length, T scale) {
  T largest = -std::numeric_limits<T>::infinity();
  for (std::int64_t u = 0; u <= last; ++u) largest = larger(largest, scores[u] * scale);
  double total = 0;
  for (std::int64_t u = 0; u <= last; ++u) {
    const T e = exponential(scores[u] * scale - largest);
    scores[u] = e;
    total += e;
  }
  const T inverse = static_cast<T>(1.0 / total);
  for (std::int64_t u = 0; u <= last; ++u) scores[u] *= inverse;
  for (std::int64_t u = last + 1; u < length; ++u) scores[u] = T(0);
}

/// Softmax backward for the row of query position `last`: turns `d_scores` (∂/∂P) into the
/// gradient of the raw scores, `P ∘ (dP − Σ dP ∘ P) · scale` (the sum in double), 0 past `last`.
template <class T>
GIFT_HOST_DEVICE void causal_softmax_backward_row(const T* probabilities, T* d_scores, std::int64_t last,
                                                  std::int64_t length, T scale) {
  double dot = 0;
  for (std::int64_t u = 0; u <= last; ++u) dot += static_cast<double>(d_scores[u]) * probabilities[u];
  const T row_dot = static_cast<T>(dot);
  for (std::int64_t u = 0; u <= last; ++u) d_scores[u] = probabilities[u] * (d_scores[u] - row_dot) * scale;
  for (std::int64_t u = last + 1; u < length; ++u) d_scores[u] = T(0);
}

/// `1 / sqrt(head_dim)`, rounded once to T.
template <class T>
T attention_scale(int head_dim) {
  return static_cast<T>(1.0 / square_root(static_cast<double>(head_dim)));
}

}  // namespace detail

}  // namespace gift
