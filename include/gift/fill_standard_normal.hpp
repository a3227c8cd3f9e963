#pragma once
/// \file gift/fill_standard_normal.hpp
/// \brief `gift::fill_standard_normal(matrix, key)`: a reproducible N(0, 1) matrix on any backend.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/eigen/fill_standard_normal.hpp>
#include <gift/backend/traits.hpp>
#include <gift/detail/fill_standard_normal.hpp>
#include <gift/random.hpp>

namespace gift {

/// Fills `matrix` so that element (i, j) is `standard_normal(key, i * cols + j)`: the same values
/// on every backend and for any thread count. Runs on `tag`'s backend.
template <backend_tag Backend, class Matrix>
void fill_standard_normal(Backend tag, Matrix& matrix, const noise_key& key) {
  backend::dispatch<ops::fill_standard_normal>(tag, matrix, key);
}

/// As above, on the backend the matrix type implies.
template <class Matrix>
  requires(!backend_tag<Matrix>)
void fill_standard_normal(Matrix& matrix, const noise_key& key) {
  fill_standard_normal(backend_for_t<Matrix>{}, matrix, key);
}

}  // namespace gift
