#pragma once
/// \file nn/salient_columns.hpp
/// \brief Validation of salient column indices and of the per-row quantization scale Δ, shared
/// by the noise injection and the gift_linear layers of every backend.

#include <gift/error.hpp>
#include <gift/fwd.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace gift::nn {

/// Returns the salient column indices sorted ascending, after checking that every index lies in
/// `[0, columns)` and that none repeats. `where` names the calling function for the message.
/// Any order is accepted, so callers may pass indices as a top-k selection produced them.
/// \throws gift::error on an index out of range or a duplicate.
[[nodiscard]] inline std::vector<std::int64_t> checked_salient_columns(std::span<const std::int64_t> salient,
                                                                       std::int64_t columns, const char* where) {
  std::vector<std::int64_t> sorted(salient.begin(), salient.end());
  for (std::size_t position = 0; position < sorted.size(); ++position) {
    gift::detail::require(sorted[position] >= 0 && sorted[position] < columns, where,
                          ": argument 'salient_columns' must hold column indices in [0, ", columns,
                          "), but entry ", position, " is ", sorted[position],
                          "; pass indices into the weight's input dimension (W is out x in)");
  }
  std::sort(sorted.begin(), sorted.end());
  const auto repeated = std::adjacent_find(sorted.begin(), sorted.end());
  gift::detail::require(repeated == sorted.end(), where,
                        ": argument 'salient_columns' must not repeat an index, but column ",
                        repeated == sorted.end() ? 0 : *repeated,
                        " appears more than once; deduplicate the selection (e.g. std::unique after sorting)");
  return sorted;
}

/// The complement of sorted `salient` in `[0, columns)`, ascending: the frozen columns.
[[nodiscard]] inline std::vector<std::int64_t> frozen_columns(std::span<const std::int64_t> salient,
                                                              std::int64_t columns) {
  std::vector<std::int64_t> frozen;
  frozen.reserve(static_cast<std::size_t>(columns) - salient.size());
  std::size_t next = 0;
  for (std::int64_t column = 0; column < columns; ++column) {
    if (next < salient.size() && salient[next] == column) {
      ++next;
    } else {
      frozen.push_back(column);
    }
  }
  return frozen;
}

/// Checks the per-row quantization scale: `rows` entries, each finite and > 0.
/// \throws gift::error naming the first bad entry.
template <class Derived>
void check_delta(const Eigen::MatrixBase<Derived>& delta, std::int64_t rows, const char* where) {
  gift::detail::require(delta.size() == rows, where, ": argument 'delta' must hold one scale per output row (",
                        rows, "), but it has ", delta.size(),
                        " entries; pass the quantizer's per-row scale for this weight");
  for (Eigen::Index i = 0; i < delta.size(); ++i) {
    const double value = static_cast<double>(delta(i));
    gift::detail::require(std::isfinite(value) && value > 0.0, where,
                          ": argument 'delta' must be finite and > 0 in every row, but row ", i, " is ", value,
                          "; a zero scale means an all-zero row: clamp Δ to a small positive value");
  }
}

/// Checks that a step counter fits the 32-bit step field of `noise_key` (it would wrap otherwise
/// and replay the noise of an earlier step).
inline void check_step(std::uint64_t step, const char* where) {
  gift::detail::require(step <= 0xffffffffull, where, ": argument 'step' must fit in 32 bits (<= 4294967295), but it is ",
                        step, "; the noise key's step counter would wrap and repeat earlier noise");
}

}  // namespace gift::nn
