#pragma once
/// \file gift/salient_columns.hpp
/// \brief `gift::salient_columns`: the salient input columns of one layer, the one form every part
/// of gift takes (selection returns it; noise, the layers, the quantizers, GPTQ and the command
/// line take it).
///
/// It can only be built through a validating factory, so holding one means: the indices are
/// ascending, unique and inside the layer's width, and the mask agrees with them.

#include <gift/error.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>
#include <vector>

namespace gift {

/// The salient columns of a layer with `columns()` input columns: sorted, unique indices
/// (`std::int64_t`, as PyTorch index tensors) and the same set as a mask.
class salient_columns {
public:
  /// No layer and no salient column (width 0): what the quantizers take for "keep every column".
  salient_columns() = default;

  /// The selection of `indices` (any order) in a layer of `columns` input columns. `where` names
  /// the caller in the message (e.g. "gift::nn::gift_linear").
  /// \throws gift::error for an index outside [0, columns) or an index given twice.
  static salient_columns from_indices(std::span<const std::int64_t> indices, std::size_t columns,
                                      const char* where = "gift::salient_columns::from_indices") {
    salient_columns result;
    result.mask_.assign(columns, false);
    for (std::size_t position = 0; position < indices.size(); ++position) {
      const std::int64_t j = indices[position];
      detail::require(j >= 0 && static_cast<std::size_t>(j) < columns, where,
                      ": salient column indices must lie in [0, ", columns, "), but entry ", position, " is ", j,
                      "; pass indices into the weight's input dimension (W is out x in)");
      detail::require(!result.mask_[static_cast<std::size_t>(j)], where, ": salient column ", j,
                      " is given more than once; each column may be salient only once (deduplicate the list)");
      result.mask_[static_cast<std::size_t>(j)] = true;
    }
    result.indices_.reserve(indices.size());
    for (std::size_t j = 0; j < columns; ++j)
      if (result.mask_[j]) result.indices_.push_back(static_cast<std::int64_t>(j));
    return result;
  }

  /// As above, from a vector (any order).
  static salient_columns from_indices(const std::vector<std::int64_t>& indices, std::size_t columns,
                                      const char* where = "gift::salient_columns::from_indices") {
    return from_indices(std::span<const std::int64_t>(indices), columns, where);
  }

  /// A layer of `columns` input columns with no salient column (everything frozen).
  static salient_columns none(std::size_t columns) {
    salient_columns result;
    result.mask_.assign(columns, false);
    return result;
  }

  /// The salient indices, ascending.
  [[nodiscard]] const std::vector<std::int64_t>& indices() const noexcept { return indices_; }
  /// `mask()[j]` is true iff column j is salient; one entry per input column.
  [[nodiscard]] const std::vector<bool>& mask() const noexcept { return mask_; }
  /// Number of salient columns k.
  [[nodiscard]] std::size_t size() const noexcept { return indices_.size(); }
  /// Number of input columns of the layer (`in`); 0 for a default-constructed selection.
  [[nodiscard]] std::size_t columns() const noexcept { return mask_.size(); }
  /// True when no column is salient.
  [[nodiscard]] bool empty() const noexcept { return indices_.empty(); }
  /// True when column `j` is salient (false outside the layer).
  [[nodiscard]] bool contains(std::int64_t j) const noexcept {
    return j >= 0 && static_cast<std::size_t>(j) < mask_.size() && mask_[static_cast<std::size_t>(j)];
  }

  /// The frozen (non-salient) columns, ascending.
  [[nodiscard]] std::vector<std::int64_t> frozen() const {
    std::vector<std::int64_t> result;
    result.reserve(mask_.size() - indices_.size());
    for (std::size_t j = 0; j < mask_.size(); ++j)
      if (!mask_[j]) result.push_back(static_cast<std::int64_t>(j));
    return result;
  }

  /// One float per column, 1 for non-salient (kept in the scale estimate) and 0 for salient:
  /// the form the quantizer kernels multiply by. Empty when nothing is salient.
  [[nodiscard]] std::vector<float> keep_weights() const {
    if (indices_.empty()) return {};
    std::vector<float> keep(mask_.size(), 1.0f);
    for (const std::int64_t j : indices_) keep[static_cast<std::size_t>(j)] = 0.0f;
    return keep;
  }

  /// Throws unless the selection was made for a layer of `columns` input columns.
  /// \throws gift::error naming `where` and both widths.
  void require_columns(std::size_t columns, const char* where) const {
    detail::require(mask_.size() == columns, where, ": the salient selection is for a layer of ", mask_.size(),
                    " input columns, but this layer has ", columns,
                    "; select the salient columns on this layer's own scores");
  }

  /// True when both selections have the same width and the same columns.
  friend bool operator==(const salient_columns&, const salient_columns&) = default;

private:
  std::vector<std::int64_t> indices_;
  std::vector<bool> mask_;
};

}  // namespace gift
