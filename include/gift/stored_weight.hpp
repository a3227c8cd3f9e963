#pragma once
/// \file gift/stored_weight.hpp
/// \brief `gift::stored_weight<T>`: a frozen weight held in a storage type (fp32 or bf16)
/// and read in the compute type `T`, and `gift::weight_storage`, the choice between them.
///
/// Why: a frozen weight is only ever read, a panel at a time, into the product; holding it in
/// bf16 halves its memory (a LLaMA-2-7B's linear weights: 27 GB in fp32, 13.5 GB in bf16) while
/// the product, the noise and everything trained stay fp32. Widening bf16 to fp32 is exact, so a
/// bf16-stored layer computes exactly what the fp32 layer computes on the bf16-rounded weight.
///
/// \code
/// gift::stored_weight<float> w(W, gift::weight_storage::bf16);  // W rounded once
/// std::vector<float> row(w.cols());
/// w.read(0, 0, w.cols(), row.data());  // row 0, widened to fp32
/// \endcode

#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/io/half.hpp>

#include <Eigen/Core>

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string_view>
#include <vector>

namespace gift {

/// How a frozen weight is held in memory. The compute type (fp32) does not change.
enum class weight_storage {
  f32,   ///< 4 bytes per weight: the values as given
  bf16,  ///< 2 bytes per weight: rounded to bfloat16 (nearest, ties to even) once, when stored
};

/// The storage's name as gift's tools spell it ("f32", "bf16").
[[nodiscard]] constexpr std::string_view name_of(weight_storage storage) noexcept {
  return storage == weight_storage::bf16 ? "bf16" : "f32";
}

/// The storage named `name` ("f32" or "bf16"), or nothing.
[[nodiscard]] constexpr std::optional<weight_storage> weight_storage_named(std::string_view name) noexcept {
  if (name == "f32") return weight_storage::f32;
  if (name == "bf16") return weight_storage::bf16;
  return std::nullopt;
}

/// Writes the storage's name (`name_of`).
inline std::ostream& operator<<(std::ostream& out, weight_storage storage) { return out << name_of(storage); }

/// Bytes one weight takes in `storage`.
[[nodiscard]] constexpr std::size_t bytes_per_weight(weight_storage storage) noexcept {
  return storage == weight_storage::bf16 ? 2 : 4;
}

/// A frozen `rows × cols` weight in `weight_storage`, row-major, read as `T` (the compute type).
template <std::floating_point T>
class stored_weight {
public:
  /// An empty weight (0 × 0).
  stored_weight() = default;

  /// Stores `weight` in `storage` (bf16: each value rounded to nearest, ties to even).
  /// \throws gift::error when `weight` holds a NaN or infinity, or when a finite value lies beyond
  /// bf16's range (|w| > 3.39e38) and would be stored as infinity.
  template <class Weight>
  stored_weight(const Eigen::MatrixBase<Weight>& weight, weight_storage storage)
      : rows_(weight.rows()), cols_(weight.cols()), storage_(storage) {
    constexpr const char* where = "gift::stored_weight";
    gift::require_all_finite(weight, where, "weight");
    const auto size = static_cast<std::size_t>(rows_ * cols_);
    if (storage_ == weight_storage::f32) {
      native_.resize(size);
      for (Eigen::Index i = 0; i < rows_; ++i)
        for (Eigen::Index j = 0; j < cols_; ++j) native_[index(i, j)] = static_cast<T>(weight(i, j));
      return;
    }
    bf16_.resize(size);
    for (Eigen::Index i = 0; i < rows_; ++i)
      for (Eigen::Index j = 0; j < cols_; ++j) {
        const std::uint16_t bits = io::float_to_bfloat16(static_cast<float>(weight(i, j)));
        gift::require(std::isfinite(io::bfloat16_to_float(bits)), where, ": argument 'weight' entry (", i, ", ", j,
                              ") = ", static_cast<double>(weight(i, j)),
                              " is beyond bf16's range and would be stored as infinity; store this weight as f32");
        bf16_[index(i, j)] = bits;
      }
  }

  /// Rows (out).
  [[nodiscard]] Eigen::Index rows() const noexcept { return rows_; }
  /// Columns (in).
  [[nodiscard]] Eigen::Index cols() const noexcept { return cols_; }
  /// Number of weights.
  [[nodiscard]] Eigen::Index size() const noexcept { return rows_ * cols_; }
  /// How the values are held.
  [[nodiscard]] weight_storage storage() const noexcept { return storage_; }
  /// Bytes the values take.
  [[nodiscard]] std::size_t bytes() const noexcept {
    return static_cast<std::size_t>(size()) * (storage_ == weight_storage::bf16 ? 2 : sizeof(T));
  }

  /// Entry (i, j) as `T` (no range check: for tests and small reads; panels use `visit_row`).
  [[nodiscard]] T operator()(Eigen::Index i, Eigen::Index j) const noexcept {
    return storage_ == weight_storage::f32 ? native_[index(i, j)] : widen(bf16_[index(i, j)]);
  }

  /// Calls `work(source)` with a pointer to the first of the row's stored values from `first_col`
  /// on: `const T*` for f32, `const std::uint16_t*` (bf16 bits) for bf16; read each through
  /// `stored_weight::widen`. One call site serves both storages, so a loop over a stretch of a
  /// row compiles once per storage with no branch per element.
  template <class Work>
  void visit_row(Eigen::Index row, Eigen::Index first_col, const Work& work) const {
    if (storage_ == weight_storage::f32) return work(native_.data() + index(row, first_col));
    return work(bf16_.data() + index(row, first_col));
  }

  /// Writes `count` values of row `row` from column `first_col` on, as `T`, to `out`.
  void read(Eigen::Index row, Eigen::Index first_col, Eigen::Index count, T* out) const {
    visit_row(row, first_col, [&](const auto* source) {
      for (Eigen::Index c = 0; c < count; ++c) out[c] = widen(source[c]);
    });
  }

  /// The whole weight as a dense `T` matrix (a copy: `rows × cols` of `T`).
  [[nodiscard]] matrix<T> to_matrix() const {
    matrix<T> dense(rows_, cols_);
    for (Eigen::Index i = 0; i < rows_; ++i) read(i, 0, cols_, dense.data() + i * cols_);
    return dense;
  }

  /// A stored value as `T`: itself (f32 storage) or exactly widened (bf16 bits).
  [[nodiscard]] static T widen(T value) noexcept { return value; }
  /// \copydoc widen(T)
  [[nodiscard]] static T widen(std::uint16_t bits) noexcept { return static_cast<T>(io::bfloat16_to_float(bits)); }

private:
  [[nodiscard]] std::size_t index(Eigen::Index i, Eigen::Index j) const noexcept {
    return static_cast<std::size_t>(i * cols_ + j);
  }

  Eigen::Index rows_ = 0;
  Eigen::Index cols_ = 0;
  weight_storage storage_ = weight_storage::f32;
  std::vector<T> native_;           // f32 storage, row-major
  std::vector<std::uint16_t> bf16_;  // bf16 storage, row-major
};

}  // namespace gift
