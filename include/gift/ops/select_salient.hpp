#pragma once
/// \file ops/select_salient.hpp
/// \brief `gift::salient_columns` (the result of a selection), the selection operation tag and the
/// order every backend ranks by.

#include <gift/config.hpp>
#include <gift/error.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace gift {

/// The salient columns of one layer: sorted, unique indices into the layer's `in` columns
/// (`std::int64_t`, as PyTorch index tensors) and the same set as a mask of length `in`.
struct salient_columns {
  std::vector<std::int64_t> indices;  ///< ascending, unique, each in [0, in)
  std::vector<bool> mask;             ///< mask[j] is true iff j is salient; size in

  /// Number of salient columns k.
  [[nodiscard]] std::size_t size() const noexcept { return indices.size(); }
  /// Number of columns of the layer (`in`); 0 for a default-constructed (empty) selection.
  [[nodiscard]] std::size_t columns() const noexcept { return mask.size(); }
  /// True when no column is salient.
  [[nodiscard]] bool empty() const noexcept { return indices.empty(); }

  /// Builds the selection from indices (any order, no duplicates) of a layer with `columns`
  /// input columns.
  /// \throws gift::error for an index out of range or repeated.
  static salient_columns from_indices(std::vector<std::int64_t> indices, std::size_t columns) {
    salient_columns result;
    result.mask.assign(columns, false);
    for (const std::int64_t j : indices) {
      detail::require(j >= 0 && static_cast<std::size_t>(j) < columns, "gift::salient_columns::from_indices: index ", j,
                      " is outside the layer's ", columns, " columns");
      detail::require(!result.mask[static_cast<std::size_t>(j)], "gift::salient_columns::from_indices: index ", j,
                      " appears twice; salient indices must be unique");
      result.mask[static_cast<std::size_t>(j)] = true;
    }
    for (std::size_t j = 0; j < columns; ++j)
      if (result.mask[j]) result.indices.push_back(static_cast<std::int64_t>(j));
    return result;
  }

  /// One float per column, 1 for non-salient (kept in the scale estimate) and 0 for salient:
  /// the form the quantizer kernels multiply by. Empty when nothing is salient.
  [[nodiscard]] std::vector<float> keep_weights() const {
    if (indices.empty()) return {};
    std::vector<float> keep(mask.size(), 1.0f);
    for (const std::int64_t j : indices) keep[static_cast<std::size_t>(j)] = 0.0f;
    return keep;
  }

  /// True when both selections have the same indices and the same mask.
  friend bool operator==(const salient_columns&, const salient_columns&) = default;
};


namespace ops {
/// Operation tag: the k columns with the largest scores.
struct select_salient {
  /// Printable name.
  static std::string name() { return "select_salient"; }
};
}  // namespace ops

namespace detail {
/// The ranking every backend uses: larger score first, equal scores by lower index. A strict
/// total order on (score, index) pairs, so the top k is the same set on every backend.
template <class T>
struct salient_before {
  const T* scores;
  GIFT_HOST_DEVICE bool operator()(std::int64_t a, std::int64_t b) const {
    const T sa = scores[a], sb = scores[b];
    return sa > sb || (sa == sb && a < b);
  }
};
}  // namespace detail

}  // namespace gift
