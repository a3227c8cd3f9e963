#pragma once
/// \file gift/model/attention.hpp
/// \brief Causal multi-head attention with grouped-query heads (GQA), forward and backward, on
/// the backend the matrices' type implies.
///
/// Rows are tokens, sequence after sequence (`batch × sequence` rows); q has `heads × head_dim`
/// columns, k and v `kv_heads × head_dim`; query head h reads kv head `h / (heads / kv_heads)`.
/// The backward pass recomputes the attention probabilities from q and k instead of storing a
/// `sequence × sequence` matrix per head and layer: the recompute costs one small GEMM, the
/// storage would dominate the activation memory at long sequences.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/eigen/model/attention.hpp>
#include <gift/backend/traits.hpp>
#include <gift/detail/model/attention.hpp>
#include <gift/error.hpp>

#include <cstdint>

namespace gift::model {

/// Shape of one attention call: sequences, tokens per sequence, query heads, kv heads, head width.
using gift::detail::attention_shape;

/// `out = softmax(q kᵀ / sqrt(head_dim) + causal mask) v`, per sequence and head; `out` is
/// resized to the shape of `q`.
/// \throws gift::error when q, k, v do not fit `s`.
template <class Matrix>
  requires has_backend<Matrix>
void attention_forward(const attention_shape& s, const Matrix& q, const Matrix& k, const Matrix& v, Matrix& out) {
  gift::detail::require_attention_shapes(s, static_cast<std::int64_t>(q.rows()), static_cast<std::int64_t>(q.cols()),
                                         static_cast<std::int64_t>(k.rows()), static_cast<std::int64_t>(k.cols()),
                                         static_cast<std::int64_t>(v.rows()), static_cast<std::int64_t>(v.cols()));
  backend::dispatch<ops::attention_forward>(backend_for_t<Matrix>{}, s, q, k, v, out);
}

/// Gradients of `attention_forward` with respect to q, k and v given `d_out`; the three outputs
/// are resized and overwritten.
/// \throws gift::error when q, k, v do not fit `s` or `d_out` differs from q in shape.
template <class Matrix>
  requires has_backend<Matrix>
void attention_backward(const attention_shape& s, const Matrix& q, const Matrix& k, const Matrix& v,
                        const Matrix& d_out, Matrix& dq, Matrix& dk, Matrix& dv) {
  gift::detail::require_attention_shapes(s, static_cast<std::int64_t>(q.rows()), static_cast<std::int64_t>(q.cols()),
                                         static_cast<std::int64_t>(k.rows()), static_cast<std::int64_t>(k.cols()),
                                         static_cast<std::int64_t>(v.rows()), static_cast<std::int64_t>(v.cols()));
  gift::detail::require(d_out.rows() == q.rows() && d_out.cols() == q.cols(),
                        "gift::model::attention_backward: argument 'd_out' must have the shape of q");
  backend::dispatch<ops::attention_backward>(backend_for_t<Matrix>{}, s, q, k, v, d_out, dq, dk, dv);
}

}  // namespace gift::model
