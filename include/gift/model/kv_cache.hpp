#pragma once
/// \file gift/model/kv_cache.hpp
/// \brief `gift::model::kv_cache<T>`: the keys and values of one sequence kept between decoding
/// steps, and attention of new positions over them — so generating token n costs one position's
/// work instead of a forward pass over all n.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/eigen/model/rope.hpp>
#include <gift/detail/model/attention.hpp>
#include <gift/detail/model/rope.hpp>
#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/model/config.hpp>
#include <gift/model/rope.hpp>

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <vector>

namespace gift::model {

/// Rotated keys and values of every layer for positions `0 .. length() − 1` of one sequence,
/// with room up to the model's context length. Filled by `llama_model::extend`.
template <std::floating_point T>
class kv_cache {
public:
  /// An empty cache for a model of `config`, for up to `capacity` positions (0: the model's
  /// context length). Memory grows with the positions held, not with the capacity.
  /// \throws gift::error when neither gives a positive capacity.
  explicit kv_cache(const llama_config& config, Eigen::Index capacity = 0)
      : capacity_(capacity > 0 ? capacity : config.context_length), width_(config.kv_width()),
        rope_(checked(capacity_), config.rope_dim, config.rope_base),
        keys_(static_cast<std::size_t>(config.layers)), values_(static_cast<std::size_t>(config.layers)) {}

  /// Positions held.
  [[nodiscard]] Eigen::Index length() const noexcept { return length_; }
  /// Positions it can hold (the model's context length).
  [[nodiscard]] Eigen::Index capacity() const noexcept { return capacity_; }
  /// Forgets every position (a new sequence).
  void clear() noexcept { length_ = 0; }

  /// The RoPE table over the whole context.
  [[nodiscard]] const rope_table<T>& rope() const noexcept { return rope_; }
  /// Keys of layer `block` (capacity × kv width; rows below `length()` are valid).
  [[nodiscard]] matrix<T>& keys(int block) { return keys_[static_cast<std::size_t>(block)]; }
  /// Values of layer `block`.
  [[nodiscard]] matrix<T>& values(int block) { return values_[static_cast<std::size_t>(block)]; }
  /// Makes room for `positions` positions in every layer (keeps what is held).
  void reserve(Eigen::Index positions) {
    for (std::size_t b = 0; b < keys_.size(); ++b) {
      if (keys_[b].rows() >= positions) continue;
      const Eigen::Index rows = std::min(capacity_, std::max({positions, 2 * keys_[b].rows(), Eigen::Index{64}}));
      keys_[b].conservativeResize(rows, width_);
      values_[b].conservativeResize(rows, width_);
    }
  }
  /// Marks `count` more positions as held (after every layer has written them).
  void advance(Eigen::Index count) { length_ += count; }

private:
  static Eigen::Index checked(Eigen::Index capacity) {
    gift::detail::require(capacity > 0, "gift::model::kv_cache: the model states no context length; pass a capacity");
    return capacity;
  }
  Eigen::Index capacity_, width_, length_ = 0;
  rope_table<T> rope_;
  std::vector<matrix<T>> keys_, values_;
};

/// RoPE for rows that are consecutive positions from `first` (one sequence).
/// \throws gift::error when the positions run past the table.
template <std::floating_point T>
void apply_rope_from(matrix<T>& x, int head_dim, const rope_table<T>& table, Eigen::Index first) {
  gift::detail::require(first >= 0 && first + x.rows() <= table.cosine.rows(), "gift::model::apply_rope_from: ",
                        "positions ", first, " .. ", first + x.rows() - 1, " are outside the table's ", table.cosine.rows());
  if (x.rows() == 0) return;
  backend::dispatch<ops::rope>(backend::eigen{}, x, head_dim, table.cosine, table.sine, std::int64_t{x.rows()},
                               std::int64_t{first}, false);
}

/// Causal attention of `q` (new positions `first ..`, `heads × head_dim` columns) over the keys
/// and values of positions `0 .. first + q.rows() − 1` (`keys`, `values`: rows = positions);
/// the same arithmetic as `attention_forward` for one sequence. `out` is resized.
template <std::floating_point T>
void cached_attention(const matrix<T>& q, const matrix<T>& keys, const matrix<T>& values, Eigen::Index first,
                      int heads, int kv_heads, int head_dim, matrix<T>& out) {
  const Eigen::Index n = q.rows(), total = first + n, d = head_dim;
  const int group = heads / kv_heads;
  const T scale = gift::detail::attention_scale<T>(head_dim);
  out.resize(n, q.cols());
  for (int h = 0; h < heads; ++h) {
    const int g = h / group;
    matrix<T> scores = q.middleCols(h * d, d) * keys.block(0, g * d, total, d).transpose();
    // A position sees itself and everything before it.
    for (Eigen::Index t = 0; t < n; ++t) gift::detail::causal_softmax_row(scores.row(t).data(), first + t, total, scale);
    out.middleCols(h * d, d).noalias() = scores * values.block(0, g * d, total, d);
  }
}

}  // namespace gift::model
