#pragma once
/// \file gift/column_norms.hpp
/// \brief `gift::column_norms<Norm>(matrix)`: the norm of every column, on any backend.
///
/// The building block of every saliency metric (‖X_j‖_ρ, ‖D_j‖_τ). Results are bit-identical
/// across backends: every backend reduces in the order fixed in detail/column_norms.hpp.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/eigen/column_norms.hpp>
#include <gift/backend/traits.hpp>
#include <gift/detail/column_norms.hpp>

namespace gift {

/// The `Norm` of every column of `matrix`, run on `tag`'s backend (or its first fallback that
/// implements it). Returns a vector of the matrix's scalar type in the backend's container.
/// \throws gift::error if the matrix is empty or holds a non-finite value.
template <norm_policy Norm, backend_tag Backend, class Matrix>
auto column_norms(Backend tag, const Matrix& matrix) {
  return backend::dispatch<ops::column_norms<Norm>>(tag, matrix);
}

/// The `Norm` of every column of `matrix`, on the backend its type implies (`backend_for_t`).
template <norm_policy Norm, class Matrix>
  requires(!backend_tag<Matrix>)
auto column_norms(const Matrix& matrix) {
  return column_norms<Norm>(backend_for_t<Matrix>{}, matrix);
}

}  // namespace gift
