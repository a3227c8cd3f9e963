#pragma once
/// \file gift/model/rope.hpp
/// \brief Rotary position embedding in the pairing of GGUF LLaMA weights, on the backend the
/// matrices' type implies.
///
/// llama.cpp's converter permutes the rows of the q and k weights so that RoPE rotates adjacent
/// pairs `(x[2i], x[2i+1])` of each head (its "normal" mode) instead of Hugging Face's halves
/// `(x[i], x[i + d/2])`. Weights read from GGUF must therefore be rotated in adjacent pairs.
/// Pair i at position p turns by `θ = p · base^(−2i / rope_dim)`.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/eigen/model/rope.hpp>
#include <gift/backend/traits.hpp>
#include <gift/concepts.hpp>
#include <gift/detail/model/rope.hpp>
#include <gift/error.hpp>
#include <gift/fwd.hpp>

#include <cmath>
#include <concepts>
#include <cstdint>

namespace gift::model {

/// Cosines and sines of every (position, pair), computed once per sequence length, in the
/// memory of `Backend`.
template <std::floating_point T, backend_tag Backend = backend::eigen>
struct rope_table {
  backend_matrix_t<Backend, T> cosine;  ///< positions × rope_dim/2
  backend_matrix_t<Backend, T> sine;    ///< positions × rope_dim/2
  int rope_dim = 0;                     ///< rotated leading dimensions of a head

  /// The table for positions `0 .. positions-1`; angles are computed in double, then rounded.
  /// \throws gift::error unless `positions` is positive and `rope_dimension` even and positive.
  rope_table(Eigen::Index positions, int rope_dimension, double base) : rope_dim(rope_dimension) {
    gift::detail::require(positions > 0 && rope_dimension > 0 && rope_dimension % 2 == 0,
                          "gift::model::rope_table: positions must be positive and rope_dimension even and positive, "
                          "but got ",
                          positions, " and ", rope_dimension);
    const Eigen::Index pairs = rope_dimension / 2;
    matrix<T> c(positions, pairs), s(positions, pairs);
    for (Eigen::Index i = 0; i < pairs; ++i) {
      const double frequency = std::pow(base, -2.0 * static_cast<double>(i) / rope_dimension);
      for (Eigen::Index p = 0; p < positions; ++p) {
        const double angle = static_cast<double>(p) * frequency;
        c(p, i) = static_cast<T>(std::cos(angle));
        s(p, i) = static_cast<T>(std::sin(angle));
      }
    }
    cosine = backend_storage<Backend, T>::from_host(c);
    sine = backend_storage<Backend, T>::from_host(s);
  }

  /// Number of positions the table covers.
  [[nodiscard]] std::int64_t positions() const noexcept { return static_cast<std::int64_t>(cosine.rows()); }
};

/// Rotates every head of `x` (rows are tokens of sequences of the table's length, laid out
/// sequence after sequence; columns are `heads × head_dim`) in place. `inverse` turns by −θ,
/// which is the backward pass (the rotation is orthogonal).
/// \throws gift::error when the rows are not a multiple of the table's positions or the columns
/// not a multiple of `head_dim`.
template <class Matrix, std::floating_point T, backend_tag Backend>
  requires has_backend<Matrix>
void apply_rope(Matrix& x, int head_dim, const rope_table<T, Backend>& table, bool inverse = false) {
  const std::int64_t positions = table.positions();
  gift::detail::require(head_dim > 0 && static_cast<std::int64_t>(x.rows()) % positions == 0 &&
                            static_cast<std::int64_t>(x.cols()) % head_dim == 0 && table.rope_dim <= head_dim,
                        "gift::model::apply_rope: argument 'x' (", x.rows(), " x ", x.cols(),
                        ") must have a multiple of the table's ", positions, " positions as rows and of head_dim ",
                        head_dim, " as columns");
  backend::dispatch<ops::rope>(backend_for_t<Matrix>{}, x, head_dim, table.cosine, table.sine, positions,
                               std::int64_t{0}, inverse);
}

}  // namespace gift::model
