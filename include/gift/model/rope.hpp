#pragma once
/// \file gift/model/rope.hpp
/// \brief Rotary position embedding in the pairing of GGUF LLaMA weights.
///
/// llama.cpp's converter permutes the rows of the q and k weights so that RoPE rotates adjacent
/// pairs `(x[2i], x[2i+1])` of each head (its "normal" mode) instead of Hugging Face's halves
/// `(x[i], x[i + d/2])`. Weights read from GGUF must therefore be rotated in adjacent pairs.
/// Pair i at position p turns by `θ = p · base^(−2i / rope_dim)`.

#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/model/detail/parallel.hpp>

#include <cmath>
#include <concepts>

namespace gift::model {

/// Cosines and sines of every (position, pair), computed once per sequence length.
template <std::floating_point T>
struct rope_table {
  matrix<T> cosine;  ///< positions × rope_dim/2
  matrix<T> sine;    ///< positions × rope_dim/2
  int rope_dim = 0;  ///< rotated leading dimensions of a head

  /// The table for positions `0 .. positions-1`; angles are computed in double, then rounded.
  rope_table(Eigen::Index positions, int rope_dimension, double base) : rope_dim(rope_dimension) {
    gift::detail::require(positions > 0 && rope_dimension > 0 && rope_dimension % 2 == 0,
                    "gift::model::rope_table: positions must be positive and rope_dimension even and positive, but got ",
                    positions, " and ", rope_dimension);
    const Eigen::Index pairs = rope_dimension / 2;
    cosine.resize(positions, pairs);
    sine.resize(positions, pairs);
    for (Eigen::Index i = 0; i < pairs; ++i) {
      const double frequency = std::pow(base, -2.0 * static_cast<double>(i) / rope_dimension);
      for (Eigen::Index p = 0; p < positions; ++p) {
        const double angle = static_cast<double>(p) * frequency;
        cosine(p, i) = static_cast<T>(std::cos(angle));
        sine(p, i) = static_cast<T>(std::sin(angle));
      }
    }
  }
};

/// Rotates every head of `x` (rows are tokens of `sequences` sequences of equal length, laid out
/// sequence after sequence; columns are `heads × head_dim`) in place. `inverse` turns by −θ,
/// which is the backward pass (the rotation is orthogonal).
template <std::floating_point T>
void apply_rope(matrix<T>& x, int head_dim, const rope_table<T>& table, bool inverse = false) {
  const Eigen::Index positions = table.cosine.rows();
  gift::detail::require(x.rows() % positions == 0 && x.cols() % head_dim == 0,
                  "gift::model::apply_rope: argument 'x' (", x.rows(), " x ", x.cols(),
                  ") must have a multiple of the table's ", positions, " positions as rows and of head_dim ",
                  head_dim, " as columns");
  const Eigen::Index heads = x.cols() / head_dim, pairs = table.rope_dim / 2;
  const T sign = inverse ? T(-1) : T(1);
  GIFT_MODEL_PARALLEL_FOR
  for (Eigen::Index row = 0; row < x.rows(); ++row) {
    const Eigen::Index p = row % positions;
    for (Eigen::Index h = 0; h < heads; ++h) {
      T* head = x.row(row).data() + h * head_dim;
      for (Eigen::Index i = 0; i < pairs; ++i) {
        const T c = table.cosine(p, i), s = sign * table.sine(p, i);
        const T a = head[2 * i], b = head[2 * i + 1];
        head[2 * i] = a * c - b * s;
        head[2 * i + 1] = a * s + b * c;
      }
    }
  }
}

}  // namespace gift::model
