#pragma once
/// \file gift/quant/packed.hpp
/// \brief `gift::packed_matrix`: a mixed-precision weight stored as GIFT-SW/QUIK keep it — the
/// non-salient columns as bit-packed b-bit integer codes with one step Δ per row, the salient
/// columns as full-precision values with their indices — and `gift::packed_matmul`, `y = x Wᵀ`
/// computed from that form without ever holding W.
///
/// W_ij = Δ_i · c_ij for a non-salient column j (c_ij in [−2^(b−1), 2^(b−1) − 1], b in 2..8), and
/// the stored value for a salient column. The bit layout is in gift/detail/quant/packed.hpp;
/// the file format that carries it is described in docs/packed_format.md.
///
/// `packed_matmul` runs where its activations live: Eigen matrices on the CPU
/// (backend/eigen/quant/packed.hpp, dequantize-on-the-fly in blocks, the same bits as the dense
/// product with the dequantized weight), `gift::cuda_matrix<float>` on the GPU with the tag
/// `backend::cuda` (backend/cuda/quant/packed.cuh, include <gift/backend/cuda.cuh>; the packed
/// matrix is copied to the device on first use and kept there).
///
/// \code
/// auto q = gift::quantize_symmetric(w, {4, gift::alpha_search::paper_grid(100)}, salient);
/// gift::matrix<float> mixed = q.dequantized;
/// gift::restore_salient_columns(mixed, w, salient);
/// auto packed = gift::packed_matrix::pack(mixed, q.delta.col(0), salient, 4);  // exact
/// gift::matrix<float> y;
/// gift::packed_matmul(packed, x, y);  // == x * mixed.transpose(), bit for bit
/// \endcode

#include <gift/backend/dispatch.hpp>
#include <gift/backend/eigen/quant/packed.hpp>
#include <gift/backend/traits.hpp>
#include <gift/concepts.hpp>
#include <gift/detail/fp.hpp>
#include <gift/detail/quant/levels.hpp>
#include <gift/detail/quant/packed.hpp>
#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/quant/options.hpp>
#include <gift/salient_columns.hpp>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

namespace gift {

/// A weight matrix in the packed mixed-precision layout (host memory). Immutable once built;
/// every factory validates what it is given, so a `packed_matrix` is always consistent.
class packed_matrix {
public:
  /// Packs a mixed-precision weight: `weights` (out × in) must hold, in every non-salient
  /// column, exactly `Δ_i · c` for an integer code c in the b-bit range (what gift's quantizers
  /// and `gift quantize` write, also after a GIFT-SW fine-tune, which trains the salient columns
  /// only); the salient columns are kept as they are.
  /// \throws gift::error for bits outside 2..8, mismatched shapes, a non-finite or non-positive
  /// Δ, non-finite values, or the first weight that is not on its row's grid (naming it).
  template <class Derived>
  [[nodiscard]] static packed_matrix pack(const Eigen::MatrixBase<Derived>& weights, const gift::vector<float>& delta,
                                          const gift::salient_columns& salient, int bits) {
    constexpr const char* where = "gift::packed_matrix::pack";
    const auto rows = static_cast<std::int64_t>(weights.rows()), cols = static_cast<std::int64_t>(weights.cols());
    packed_matrix out = empty_with(bits, rows, cols, delta, salient, where);
    const float qmin = static_cast<float>(detail::symmetric_qmin(bits)), qmax = static_cast<float>(detail::symmetric_qmax(bits));
    for (std::int64_t r = 0; r < rows; ++r) {
      const float step = out.delta_[static_cast<std::size_t>(r)];
      const float inverse = detail::fdiv(1.0f, step);
      std::uint32_t* row = out.words_.data() + r * out.words_per_row_;
      for (std::int64_t t = 0; t < out.kept(); ++t) {
        const auto j = static_cast<Eigen::Index>(out.kept_columns_[static_cast<std::size_t>(t)]);
        const float w = static_cast<float>(weights(static_cast<Eigen::Index>(r), j));
        detail::require(std::isfinite(w), where, ": argument 'weights' must be finite, but (", r, ", ", j, ") is ", w);
        const float code = detail::round_clamped(detail::fmul(w, inverse), qmin, qmax);
        detail::require(detail::fmul(code, step) == w, where, ": weight (", r, ", ", j, ") = ", w,
                        " is not a ", bits, "-bit code times the row's step ", step, " (nearest: ", code, " x ", step,
                        " = ", detail::fmul(code, step), "); pack the output of a quantizer (gift quantize) with its "
                        "steps and bit-width, or quantize the weights first");
        detail::store_packed_code(row, t, bits, static_cast<int>(code));
      }
      for (std::int64_t s = 0; s < out.salient_count(); ++s) {
        const auto j = static_cast<Eigen::Index>(out.salient_columns_[static_cast<std::size_t>(s)]);
        const float w = static_cast<float>(weights(static_cast<Eigen::Index>(r), j));
        detail::require(std::isfinite(w), where, ": argument 'weights' must be finite, but salient (", r, ", ", j,
                        ") is ", w);
        out.salient_values_[static_cast<std::size_t>(r * out.salient_count() + s)] = w;
      }
    }
    return out;
  }

  /// Packs integer `codes` (out × in; the salient columns' entries are ignored), steps `delta`
  /// and the salient columns' values `salient_values` (out × k, in the order of
  /// `salient.indices()`).
  /// \throws gift::error for a code outside the b-bit range, or the checks of `pack`.
  [[nodiscard]] static packed_matrix from_codes(const gift::matrix<std::int8_t>& codes, const gift::vector<float>& delta,
                                                const gift::salient_columns& salient, const gift::matrix<float>& salient_values,
                                                int bits) {
    constexpr const char* where = "gift::packed_matrix::from_codes";
    packed_matrix out = empty_with(bits, codes.rows(), codes.cols(), delta, salient, where);
    detail::require(salient_values.rows() == codes.rows() && salient_values.cols() == out.salient_count(), where,
                    ": argument 'salient_values' must be ", codes.rows(), " x ", out.salient_count(), ", but it is ",
                    salient_values.rows(), " x ", salient_values.cols());
    const int qmin = detail::symmetric_qmin(bits), qmax = detail::symmetric_qmax(bits);
    for (std::int64_t r = 0; r < out.rows(); ++r) {
      std::uint32_t* row = out.words_.data() + r * out.words_per_row_;
      for (std::int64_t t = 0; t < out.kept(); ++t) {
        const auto j = static_cast<Eigen::Index>(out.kept_columns_[static_cast<std::size_t>(t)]);
        const int code = codes(static_cast<Eigen::Index>(r), j);
        detail::require(code >= qmin && code <= qmax, where, ": code (", r, ", ", j, ") = ", code, " is outside the ",
                        bits, "-bit range [", qmin, ", ", qmax, "]");
        detail::store_packed_code(row, t, bits, code);
      }
      for (std::int64_t s = 0; s < out.salient_count(); ++s) {
        const float v = salient_values(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(s));
        detail::require(std::isfinite(v), where, ": argument 'salient_values' must be finite, but (", r, ", ", s,
                        ") is ", v);
        out.salient_values_[static_cast<std::size_t>(r * out.salient_count() + s)] = v;
      }
    }
    return out;
  }

  /// Assembles a matrix from its stored parts (what a file holds) and validates every one: the
  /// word count, zero padding bits, Δ finite and positive, salient columns strictly ascending
  /// and in range, salient values finite. `source` names the origin (file, tensor) in messages.
  [[nodiscard]] static packed_matrix from_parts(int bits, std::int64_t rows, std::int64_t cols,
                                                std::vector<std::uint32_t> words, std::vector<float> delta,
                                                std::vector<std::int32_t> salient, std::vector<float> salient_values,
                                                const std::string& source) {
    const std::string where = "gift::packed_matrix::from_parts: " + source;
    detail::require(bits >= min_quant_bits && bits <= max_quant_bits, where, ": bits must be in [", min_quant_bits, ", ",
                    max_quant_bits, "], but is ", bits);
    detail::require(rows > 0 && cols > 0 && rows <= (std::int64_t{1} << 31) && cols <= (std::int64_t{1} << 31), where,
                    ": the shape ", rows, " x ", cols, " must be positive (and below 2^31)");
    detail::require(static_cast<std::int64_t>(delta.size()) == rows, where, ": ", delta.size(), " steps for ", rows, " rows");
    std::vector<std::int64_t> indices(salient.begin(), salient.end());
    for (std::size_t s = 0; s < indices.size(); ++s) {
      detail::require(indices[s] >= 0 && indices[s] < cols && (s == 0 || indices[s] > indices[s - 1]), where,
                      ": salient column ", s, " is ", indices[s], "; the columns must be strictly ascending in [0, ",
                      cols, ")");
    }
    const gift::salient_columns columns = gift::salient_columns::from_indices(indices, static_cast<std::size_t>(cols), where.c_str());
    gift::vector<float> steps = Eigen::Map<const gift::vector<float>>(delta.data(), static_cast<Eigen::Index>(delta.size()));
    packed_matrix out = empty_with(bits, rows, cols, steps, columns, where.c_str());
    detail::require(words.size() == out.words_.size(), where, ": ", words.size(), " code words, but ", rows, " rows of ",
                    out.kept(), " ", bits, "-bit codes need ", out.words_.size(), " (", out.words_per_row_, " per row)");
    const std::int64_t used = out.kept() * bits, tail = used % 32;
    if (tail != 0) {
      const std::uint32_t padding = ~((std::uint32_t{1} << tail) - 1u);
      for (std::int64_t r = 0; r < rows; ++r) {
        const std::uint32_t last = words[static_cast<std::size_t>(r * out.words_per_row_ + out.words_per_row_ - 1)];
        detail::require((last & padding) == 0u, where, ": row ", r,
                        " has non-zero padding bits after its codes; the file is corrupt");
      }
    }
    detail::require(static_cast<std::int64_t>(salient_values.size()) == rows * out.salient_count(), where, ": ",
                    salient_values.size(), " salient values, but ", rows, " rows x ", out.salient_count(),
                    " salient columns need ", rows * out.salient_count());
    for (std::size_t i = 0; i < salient_values.size(); ++i)
      detail::require(std::isfinite(salient_values[i]), where, ": salient value (", static_cast<std::int64_t>(i) / std::max<std::int64_t>(out.salient_count(), 1),
                      ", ", static_cast<std::int64_t>(i) % std::max<std::int64_t>(out.salient_count(), 1), ") is ",
                      salient_values[i]);
    out.words_ = std::move(words);
    out.salient_values_ = std::move(salient_values);
    return out;
  }

  /// The same matrix with its rows reordered: row i of the result is row `order[i]` of this one
  /// (e.g. between llama.cpp's and Hugging Face's row order of q and k). Codes are moved, not
  /// re-encoded. \throws gift::error unless `order` is a permutation of the rows.
  [[nodiscard]] packed_matrix with_rows(const std::vector<std::int64_t>& order) const {
    constexpr const char* where = "gift::packed_matrix::with_rows";
    detail::require(static_cast<std::int64_t>(order.size()) == rows_, where, ": argument 'order' must have ", rows_,
                    " entries (a permutation of the rows), but has ", order.size());
    std::vector<bool> seen(static_cast<std::size_t>(rows_), false);
    for (const std::int64_t r : order) {
      detail::require(r >= 0 && r < rows_ && !seen[static_cast<std::size_t>(r)], where,
                      ": argument 'order' is not a permutation of 0..", rows_ - 1, " (entry ", r, ")");
      seen[static_cast<std::size_t>(r)] = true;
    }
    packed_matrix out = *this;
    out.backend_copy_.reset();
    const auto k = static_cast<std::size_t>(salient_count());
    const auto w = static_cast<std::size_t>(words_per_row_);
    for (std::size_t i = 0; i < order.size(); ++i) {
      const auto from = static_cast<std::size_t>(order[i]);
      std::copy_n(words_.begin() + static_cast<std::ptrdiff_t>(from * w), w, out.words_.begin() + static_cast<std::ptrdiff_t>(i * w));
      std::copy_n(salient_values_.begin() + static_cast<std::ptrdiff_t>(from * k), k,
                  out.salient_values_.begin() + static_cast<std::ptrdiff_t>(i * k));
      out.delta_[i] = delta_[from];
    }
    return out;
  }

  /// Bit-width b of the codes.
  [[nodiscard]] int bits() const noexcept { return bits_; }
  /// Rows (out).
  [[nodiscard]] std::int64_t rows() const noexcept { return rows_; }
  /// Columns (in).
  [[nodiscard]] std::int64_t cols() const noexcept { return cols_; }
  /// Non-salient columns: codes per row.
  [[nodiscard]] std::int64_t kept() const noexcept { return static_cast<std::int64_t>(kept_columns_.size()); }
  /// Salient columns k.
  [[nodiscard]] std::int64_t salient_count() const noexcept { return static_cast<std::int64_t>(salient_columns_.size()); }
  /// 32-bit words per row of codes.
  [[nodiscard]] std::int64_t words_per_row() const noexcept { return words_per_row_; }
  /// The code words, rows × words_per_row (layout in gift/detail/quant/packed.hpp).
  [[nodiscard]] std::span<const std::uint32_t> words() const noexcept { return words_; }
  /// Δ per row.
  [[nodiscard]] std::span<const float> delta() const noexcept { return delta_; }
  /// The salient columns, ascending.
  [[nodiscard]] std::span<const std::int32_t> salient_columns() const noexcept { return salient_columns_; }
  /// The non-salient columns, ascending (the column of each code of a row).
  [[nodiscard]] std::span<const std::int32_t> kept_columns() const noexcept { return kept_columns_; }
  /// The salient columns' values, rows × k row-major.
  [[nodiscard]] std::span<const float> salient_values() const noexcept { return salient_values_; }

  /// The code of non-salient column `j` in row `r`.
  /// \throws gift::error when (r, j) is out of range or j is salient.
  [[nodiscard]] int code(std::int64_t r, std::int64_t j) const {
    detail::require(r >= 0 && r < rows_ && j >= 0 && j < cols_, "gift::packed_matrix::code: (", r, ", ", j,
                    ") is outside ", rows_, " x ", cols_);
    const std::int64_t t = field_of_[static_cast<std::size_t>(j)];
    detail::require(t >= 0, "gift::packed_matrix::code: column ", j, " is salient and has no code");
    return detail::packed_code(words_.data() + r * words_per_row_, t, bits_);
  }

  /// The dense weight (out × in): `fmul(code, Δ_i)` in the non-salient columns, the stored values
  /// in the salient ones.
  [[nodiscard]] gift::matrix<float> dequantize() const {
    gift::matrix<float> out(static_cast<Eigen::Index>(rows_), static_cast<Eigen::Index>(cols_));
    detail::dequantize_packed_rows(view(), 0, rows_, out.data());
    return out;
  }

  /// Bytes the stored parts take with salient values of `salient_value_bytes` bytes each (2 for
  /// fp16, 4 for fp32): code words, Δ (fp32), salient indices (int32) and values.
  [[nodiscard]] std::uint64_t storage_bytes(std::uint64_t salient_value_bytes) const noexcept {
    return words_.size() * 4 + delta_.size() * 4 + salient_columns_.size() * 4 + salient_values_.size() * salient_value_bytes;
  }

  /// The plain view the backends take (host pointers into this matrix).
  [[nodiscard]] detail::packed_view view() const noexcept {
    return detail::packed_view{bits_,
                               rows_,
                               cols_,
                               kept(),
                               salient_count(),
                               words_per_row_,
                               words_.data(),
                               delta_.data(),
                               kept_columns_.data(),
                               salient_columns_.data(),
                               salient_values_.data()};
  }

  /// A slot where an accelerator backend keeps its copy of this matrix (the CUDA backend uploads
  /// on first use and reuses it after). Not thread-safe for the first use.
  [[nodiscard]] std::shared_ptr<void>& backend_copy() const noexcept { return backend_copy_; }

private:
  packed_matrix() = default;

  /// Everything but the codes and salient values, validated.
  static packed_matrix empty_with(int bits, std::int64_t rows, std::int64_t cols, const gift::vector<float>& delta,
                                  const gift::salient_columns& salient, const char* where) {
    detail::require(bits >= min_quant_bits && bits <= max_quant_bits, where, ": argument 'bits' must be in [",
                    min_quant_bits, ", ", max_quant_bits, "], but is ", bits);
    detail::require(rows > 0 && cols > 0 && rows < (std::int64_t{1} << 31) && cols < (std::int64_t{1} << 31), where,
                    ": the weights must be non-empty (and below 2^31 per side), but are ", rows, " x ", cols);
    detail::require(delta.size() == rows, where, ": argument 'delta' must have one step per row (", rows, "), but has ",
                    delta.size());
    for (Eigen::Index r = 0; r < delta.size(); ++r)
      detail::require(std::isfinite(delta(r)) && delta(r) > 0.0f, where, ": every step in 'delta' must be finite and ",
                      "positive, but row ", r, " has ", delta(r));
    if (salient.columns() != 0) salient.require_columns(static_cast<std::size_t>(cols), where);
    packed_matrix out;
    out.bits_ = bits;
    out.rows_ = rows;
    out.cols_ = cols;
    out.delta_.assign(delta.data(), delta.data() + delta.size());
    out.field_of_.assign(static_cast<std::size_t>(cols), -1);
    for (std::int64_t j = 0; j < cols; ++j) {
      if (salient.columns() != 0 && salient.contains(j)) {
        out.salient_columns_.push_back(static_cast<std::int32_t>(j));
      } else {
        out.field_of_[static_cast<std::size_t>(j)] = static_cast<std::int64_t>(out.kept_columns_.size());
        out.kept_columns_.push_back(static_cast<std::int32_t>(j));
      }
    }
    out.words_per_row_ = detail::packed_words_per_row(out.kept(), bits);
    out.words_.assign(static_cast<std::size_t>(rows * out.words_per_row_), 0u);
    out.salient_values_.assign(static_cast<std::size_t>(rows * out.salient_count()), 0.0f);
    return out;
  }

  int bits_ = 0;
  std::int64_t rows_ = 0, cols_ = 0, words_per_row_ = 0;
  std::vector<std::uint32_t> words_;
  std::vector<float> delta_;
  std::vector<std::int32_t> salient_columns_, kept_columns_;
  std::vector<std::int64_t> field_of_;  // column -> code field, −1 for salient columns
  std::vector<float> salient_values_;
  mutable std::shared_ptr<void> backend_copy_;
};

/// `y = x Wᵀ` for the packed weight `w` (`x` tokens × in; `y` is resized to tokens × out) on
/// `tag`'s backend: `backend::eigen` for Eigen matrices, `backend::cuda` for
/// `cuda_matrix<float>` (gift's kernel; include <gift/backend/cuda.cuh>).
/// \throws gift::error when `x` does not have `w.cols()` columns.
template <backend_tag Backend, matrix_shaped X, class Y>
void packed_matmul(Backend tag, const packed_matrix& w, const X& x, Y& y) {
  detail::require(static_cast<std::int64_t>(x.cols()) == w.cols(), "gift::packed_matmul: argument 'x' must have ",
                  w.cols(), " columns (in), but has ", x.cols());
  backend::dispatch<ops::packed_matmul>(tag, w, x, y);
}

/// As above, on the backend `x`'s type implies (Eigen matrices: the CPU).
template <matrix_shaped X, class Y>
  requires(!backend_tag<X>)
void packed_matmul(const packed_matrix& w, const X& x, Y& y) {
  packed_matmul(backend_for_t<X>{}, w, x, y);
}

}  // namespace gift
