#pragma once
/// \file gift/noise.hpp
/// \brief `gift::add_quantization_noise`: GIFT-SW's noise `½ · Δ_i · Ω_ij` on the frozen columns
/// of a weight, reproducible on every backend.
///
/// This materialises a noisy weight: useful for references, inspection and baselines. The
/// training layers (`gift::nn::gift_linear`) never do that; they generate the same noise panel
/// by panel where it is consumed. Both give the same bits, because both compute element (i, j)
/// from `standard_normal(key, i * cols + j)` with the arithmetic fixed in
/// detail/noise.hpp.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/eigen/noise.hpp>
#include <gift/backend/traits.hpp>
#include <gift/detail/noise.hpp>
#include <gift/random.hpp>
#include <gift/salient_columns.hpp>

#include <cstddef>
#include <cstdint>
#include <span>

namespace gift {

/// Adds `½ · Δ_i · Ω_ij` to every element (i, j) of `weight` (out × in, any backend's matrix)
/// whose column j is not in `salient`; salient columns are left bit-for-bit untouched.
/// `Ω_ij = standard_normal(key, i * in + j)`, so the result is the same on every backend.
/// `delta` holds one scale per row (an Eigen vector, or on Thrust backends also a Thrust vector
/// of the matrix's system).
/// \throws gift::error if `delta` has the wrong size or an entry that is not finite and > 0, or
/// `salient` was selected for a layer of another width.
template <backend_tag Backend, class Matrix, class Delta>
void add_quantization_noise(Backend tag, Matrix& weight, const Delta& delta, const salient_columns& salient,
                            const noise_key& key) {
  salient.require_columns(static_cast<std::size_t>(weight.cols()), "gift::add_quantization_noise");
  backend::dispatch<ops::add_quantization_noise>(tag, weight, delta, salient, key);
}

/// As above, with the salient columns as indices (any order), validated by
/// `gift::salient_columns::from_indices` against the weight's width.
template <backend_tag Backend, class Matrix, class Delta>
void add_quantization_noise(Backend tag, Matrix& weight, const Delta& delta, std::span<const std::int64_t> salient,
                            const noise_key& key) {
  add_quantization_noise(
      tag, weight, delta,
      salient_columns::from_indices(salient, static_cast<std::size_t>(weight.cols()), "gift::add_quantization_noise"),
      key);
}

/// As above, on the backend the weight's type implies.
template <class Matrix, class Delta>
  requires(!backend_tag<Matrix>)
void add_quantization_noise(Matrix& weight, const Delta& delta, const salient_columns& salient, const noise_key& key) {
  add_quantization_noise(backend_for_t<Matrix>{}, weight, delta, salient, key);
}

/// As above, with indices, on the backend the weight's type implies.
template <class Matrix, class Delta>
  requires(!backend_tag<Matrix>)
void add_quantization_noise(Matrix& weight, const Delta& delta, std::span<const std::int64_t> salient,
                            const noise_key& key) {
  add_quantization_noise(backend_for_t<Matrix>{}, weight, delta, salient, key);
}

}  // namespace gift
