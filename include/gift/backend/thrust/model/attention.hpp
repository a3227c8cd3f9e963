#pragma once
/// \file gift/backend/thrust/model/attention.hpp
/// \brief Causal GQA attention on a Thrust system: batches of the system's GEMMs (one product per
/// sequence and head) around the shared softmax arithmetic, one functor call per score row.
///
/// The order of every sum is the Eigen backend's: the forward pass has one score matrix per
/// (sequence, head); the backward pass walks the query heads of a kv head in order, each step a
/// batch over (sequence, kv head), so the kv gradients accumulate in head order as on Eigen.
/// Scratch: `batch × heads × sequence²` scores (forward), twice `batch × kv_heads × sequence²`
/// (backward).

#include <gift/backend/dispatch.hpp>
#include <gift/backend/thrust/gemm.hpp>
#include <gift/backend/thrust/matrix.hpp>
#include <gift/backend/thrust/system.hpp>
#include <gift/config.hpp>
#include <gift/detail/model/attention.hpp>

#include <thrust/fill.h>

#include <cstdint>
#include <span>
#include <vector>

namespace gift::backend {

namespace detail {
/// Softmax of every score row: row r belongs to the matrix r / length and query position
/// r % length.
template <class T>
struct softmax_rows {
  T* scores;
  std::int64_t length;
  T scale;
  GIFT_HOST_DEVICE void operator()(std::int64_t r) const {
    gift::detail::causal_softmax_row(scores + r * length, r % length, length, scale);
  }
};

/// Softmax backward of every row, `d_scores` beside the recomputed `probabilities`.
template <class T>
struct softmax_backward_rows {
  const T* probabilities;
  T* d_scores;
  std::int64_t length;
  T scale;
  GIFT_HOST_DEVICE void operator()(std::int64_t r) const {
    gift::detail::causal_softmax_backward_row(probabilities + r * length, d_scores + r * length, r % length, length,
                                              scale);
  }
};

/// The pointers of one batched product per task: `a`, `b`, `c` advanced by the offsets.
template <class T>
std::vector<gemm_operands<T>> operands_for(std::int64_t tasks, const auto& offsets, const T* a, const T* b, T* c) {
  std::vector<gemm_operands<T>> result(static_cast<std::size_t>(tasks));
  for (std::int64_t task = 0; task < tasks; ++task) {
    const auto [oa, ob, oc] = offsets(task);
    result[static_cast<std::size_t>(task)] = {a + oa, b + ob, c + oc};
  }
  return result;
}

template <class System, class T>
void run_batch(const gemm_shape& shape, const std::vector<gemm_operands<T>>& operands) {
  thrust_gemm<System>::template run<T>(shape, std::span<const gemm_operands<T>>(operands.data(), operands.size()));
}

struct offsets3 {
  std::int64_t a, b, c;
};
}  // namespace detail

template <class System>
struct implementation<ops::attention_forward, thrust<System>> {
  static constexpr bool available = true;
  /// `out = softmax(q kᵀ / sqrt(head_dim) + causal mask) v` per sequence and head; `out` is
  /// resized to the shape of q.
  template <class T>
  static void run(thrust<System>, const gift::detail::attention_shape& s, const thrust_matrix<T, System>& q,
                  const thrust_matrix<T, System>& k, const thrust_matrix<T, System>& v,
                  thrust_matrix<T, System>& out) {
    out.resize(q.rows(), q.cols());
    const std::int64_t length = s.sequence, d = s.head_dim, group = s.heads / s.kv_heads;
    const std::int64_t q_width = std::int64_t{s.heads} * d, kv_width = std::int64_t{s.kv_heads} * d;
    const std::int64_t tasks = s.batch * s.heads, square = length * length;
    thrust_vector_t<System, T> scores(static_cast<std::size_t>(tasks * square));
    T* p = detail::raw(scores);
    const auto head_offsets = [&](std::int64_t task) {
      const std::int64_t b = task / s.heads, h = task % s.heads, g = h / group;
      return detail::offsets3{b * length * q_width + h * d, b * length * kv_width + g * d, task * square};
    };
    // S = Q_bh K_bgᵀ
    detail::run_batch<System, T>({length, length, d, q_width, kv_width, length, false, true, false},
                                 detail::operands_for<T>(tasks, head_offsets, q.data(), k.data(), p));
    detail::for_each_index<System>(tasks * length,
                                   detail::softmax_rows<T>{p, length, gift::detail::attention_scale<T>(s.head_dim)});
    // O_bh = P V_bg
    const auto value_offsets = [&](std::int64_t task) {
      const auto o = head_offsets(task);
      return detail::offsets3{o.c, o.b, o.a};
    };
    detail::run_batch<System, T>({length, d, length, length, kv_width, q_width, false, false, false},
                                 detail::operands_for<T>(tasks, value_offsets, p, v.data(), out.data()));
  }
};

template <class System>
struct implementation<ops::attention_backward, thrust<System>> {
  static constexpr bool available = true;
  /// Gradients with respect to q, k and v (resized, overwritten); the probabilities are
  /// recomputed from q and k.
  template <class T>
  static void run(thrust<System>, const gift::detail::attention_shape& s, const thrust_matrix<T, System>& q,
                  const thrust_matrix<T, System>& k, const thrust_matrix<T, System>& v,
                  const thrust_matrix<T, System>& d_out, thrust_matrix<T, System>& dq, thrust_matrix<T, System>& dk,
                  thrust_matrix<T, System>& dv) {
    dq.resize(q.rows(), q.cols());
    dk.resize(k.rows(), k.cols());
    dv.resize(v.rows(), v.cols());
    ::thrust::fill(thrust_system_traits<System>::policy(), dk.storage().begin(), dk.storage().end(), T(0));
    ::thrust::fill(thrust_system_traits<System>::policy(), dv.storage().begin(), dv.storage().end(), T(0));
    const std::int64_t length = s.sequence, d = s.head_dim, group = s.heads / s.kv_heads;
    const std::int64_t q_width = std::int64_t{s.heads} * d, kv_width = std::int64_t{s.kv_heads} * d;
    const std::int64_t tasks = s.batch * s.kv_heads, square = length * length;
    const T scale = gift::detail::attention_scale<T>(s.head_dim);
    thrust_vector_t<System, T> probabilities(static_cast<std::size_t>(tasks * square));
    thrust_vector_t<System, T> d_scores(static_cast<std::size_t>(tasks * square));
    T* p = detail::raw(probabilities);
    T* ds = detail::raw(d_scores);
    for (std::int64_t r = 0; r < group; ++r) {
      // Task (b, g) works on query head h = g · group + r.
      const auto query = [&](std::int64_t task) {
        const std::int64_t b = task / s.kv_heads, g = task % s.kv_heads;
        return b * length * q_width + (g * group + r) * d;
      };
      const auto kv = [&](std::int64_t task) {
        const std::int64_t b = task / s.kv_heads, g = task % s.kv_heads;
        return b * length * kv_width + g * d;
      };
      // P = Q_bh K_bgᵀ, then the softmax.
      detail::run_batch<System, T>(
          {length, length, d, q_width, kv_width, length, false, true, false},
          detail::operands_for<T>(
              tasks, [&](std::int64_t t) { return detail::offsets3{query(t), kv(t), t * square}; }, q.data(), k.data(),
              p));
      detail::for_each_index<System>(tasks * length, detail::softmax_rows<T>{p, length, scale});
      // dV_bg += Pᵀ dO_bh
      detail::run_batch<System, T>(
          {length, d, length, length, q_width, kv_width, true, false, true},
          detail::operands_for<T>(
              tasks, [&](std::int64_t t) { return detail::offsets3{t * square, query(t), kv(t)}; }, p, d_out.data(),
              dv.data()));
      // dP = dO_bh V_bgᵀ, then the softmax backward.
      detail::run_batch<System, T>(
          {length, length, d, q_width, kv_width, length, false, true, false},
          detail::operands_for<T>(
              tasks, [&](std::int64_t t) { return detail::offsets3{query(t), kv(t), t * square}; }, d_out.data(),
              v.data(), ds));
      detail::for_each_index<System>(tasks * length, detail::softmax_backward_rows<T>{p, ds, length, scale});
      // dQ_bh = dS K_bg
      detail::run_batch<System, T>(
          {length, d, length, length, kv_width, q_width, false, false, false},
          detail::operands_for<T>(
              tasks, [&](std::int64_t t) { return detail::offsets3{t * square, kv(t), query(t)}; }, ds, k.data(),
              dq.data()));
      // dK_bg += dSᵀ Q_bh
      detail::run_batch<System, T>(
          {length, d, length, length, q_width, kv_width, true, false, true},
          detail::operands_for<T>(
              tasks, [&](std::int64_t t) { return detail::offsets3{t * square, query(t), kv(t)}; }, ds, q.data(),
              dk.data()));
    }
  }
};

}  // namespace gift::backend
