#pragma once
/// \file noise.hpp
/// \brief `gift::add_quantization_noise`: GIFT-SW's noise `½ · Δ_i · Ω_ij` on the frozen columns
/// of a weight, reproducible on every backend.
///
/// This materialises a noisy weight: useful for references, inspection and baselines. The
/// training layers (`gift::nn::gift_linear`) never do that; they generate the same noise panel
/// by panel where it is consumed. Both give the same bits, because both compute element (i, j)
/// from `standard_normal(key, i * cols + j)` with the arithmetic fixed in
/// ops/add_quantization_noise.hpp.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/eigen/noise.hpp>
#include <gift/backend/traits.hpp>
#include <gift/ops/add_quantization_noise.hpp>
#include <gift/random.hpp>

#include <cstdint>
#include <span>

namespace gift {

/// Adds `½ · Δ_i · Ω_ij` to every element (i, j) of `weight` (out × in, any backend's matrix)
/// whose column j is not in `salient_columns`; salient columns are left bit-for-bit untouched.
/// `Ω_ij = standard_normal(key, i * in + j)`, so the result is the same on every backend.
/// `delta` holds one scale per row (an Eigen vector, or on Thrust backends also a Thrust vector
/// of the matrix's system). Salient indices may come in any order.
/// \throws gift::error if `delta` has the wrong size or an entry that is not finite and > 0, or a
/// salient index is out of range or repeated.
template <backend_tag Backend, class Matrix, class Delta>
void add_quantization_noise(Backend tag, Matrix& weight, const Delta& delta,
                            std::span<const std::int64_t> salient_columns, const noise_key& key) {
  backend::dispatch<ops::add_quantization_noise>(tag, weight, delta, salient_columns, key);
}

/// As above, on the backend the weight's type implies.
template <class Matrix, class Delta>
  requires(!backend_tag<Matrix>)
void add_quantization_noise(Matrix& weight, const Delta& delta, std::span<const std::int64_t> salient_columns,
                            const noise_key& key) {
  add_quantization_noise(backend_for_t<Matrix>{}, weight, delta, salient_columns, key);
}

}  // namespace gift
