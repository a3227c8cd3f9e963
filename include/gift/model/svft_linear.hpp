#pragma once
/// \file gift/model/svft_linear.hpp
/// \brief `gift::model::svft_linear<T, Backend>`: SVFT — the weight rewritten as `W = U (Σ + M) Vᵀ` from
/// its singular value decomposition, with `U`, `Σ`, `V` frozen and only a sparse `M` trained
/// (Lingam et al., "SVFT: Parameter-Efficient Fine-Tuning with Singular Vectors").

#include <gift/backend/dispatch.hpp>
#include <gift/backend/eigen/model/svft_linear.hpp>
#include <gift/backend/tags.hpp>
#include <gift/backend/traits.hpp>
#include <gift/concepts.hpp>
#include <gift/detail/model/svft_linear.hpp>
#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/model/trainable_linear.hpp>
#include <gift/multiply.hpp>
#include <gift/random.hpp>

#include <Eigen/SVD>

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <numeric>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace gift::model {

/// Which entries of the `m × m` coefficient matrix `M` train (`m = min(out, in)`).
enum class svft_pattern {
  plain,   ///< the diagonal: each singular value gets a trained offset (m entries)
  banded,  ///< the band `|i − j| ≤ width` around the diagonal
  random,  ///< `k` entries per row at random columns (Philox stream of the seed and layer)
  top_k,   ///< the `k` entries `(i, j)` with the largest `σ_i · σ_j` (ties: lower row, then column)
};

/// Parses "plain" | "banded" | "random" | "top_k".
/// \throws gift::error naming the choices for anything else.
[[nodiscard]] inline svft_pattern parse_svft_pattern(std::string_view text) {
  if (text == "plain") return svft_pattern::plain;
  if (text == "banded") return svft_pattern::banded;
  if (text == "random") return svft_pattern::random;
  if (text == "top_k") return svft_pattern::top_k;
  throw error(gift::detail::concat("gift::model::parse_svft_pattern: the pattern must be plain, banded, random or ",
                                   "top_k, but is '", std::string(text), "'"));
}

/// The sparsity of `M` and where its random pattern comes from.
struct svft_options {
  svft_pattern pattern = svft_pattern::plain;  ///< which entries train
  int width = 1;                               ///< banded: half-width of the band (0 is the diagonal)
  std::int64_t k = 1;                          ///< random: entries per row; top_k: entries in all
  std::uint64_t seed = 0;                      ///< random: the pattern's stream (with the layer id)
  std::uint32_t layer = 0;                     ///< random: layer id, so layers get different patterns
};

/// The trained positions `(row, column)` of `M` for `m` singular values `sigma` (descending), in
/// row-major order.
/// \throws gift::error when the width or k does not fit `m`.
[[nodiscard]] inline std::vector<std::pair<Eigen::Index, Eigen::Index>> svft_positions(
    std::span<const double> sigma, const svft_options& options) {
  const auto m = static_cast<Eigen::Index>(sigma.size());
  std::vector<std::pair<Eigen::Index, Eigen::Index>> positions;
  switch (options.pattern) {
    case svft_pattern::plain:
      for (Eigen::Index i = 0; i < m; ++i) positions.emplace_back(i, i);
      break;
    case svft_pattern::banded:
      gift::detail::require(options.width >= 0 && options.width < m, "gift::model::svft_positions: the band width ",
                            "must be in 0..", m - 1, " (m = min(out, in) = ", m, "), but is ", options.width);
      for (Eigen::Index i = 0; i < m; ++i)
        for (Eigen::Index j = std::max<Eigen::Index>(0, i - options.width); j <= std::min(m - 1, i + options.width); ++j)
          positions.emplace_back(i, j);
      break;
    case svft_pattern::random: {
      gift::detail::require(options.k >= 1 && options.k <= m, "gift::model::svft_positions: k (entries per row) ",
                            "must be in 1..", m, " for the random pattern, but is ", options.k);
      // A partial Fisher-Yates shuffle of the columns per row, driven by Philox: the same
      // pattern on every machine and for every thread count.
      const noise_key key{options.seed, options.layer, 0x5f7f};
      std::vector<Eigen::Index> columns(static_cast<std::size_t>(m));
      std::uint64_t counter = 0;
      for (Eigen::Index i = 0; i < m; ++i) {
        std::iota(columns.begin(), columns.end(), Eigen::Index{0});
        for (Eigen::Index t = 0; t < options.k; ++t, ++counter) {
          const auto bits = gift::detail::noise_bits(key, counter / 4).word[counter % 4];
          const auto pick = t + static_cast<Eigen::Index>(gift::detail::uniform_closed_open(bits) *
                                                          static_cast<double>(m - t));
          std::swap(columns[static_cast<std::size_t>(t)], columns[static_cast<std::size_t>(std::min(pick, m - 1))]);
        }
        std::sort(columns.begin(), columns.begin() + options.k);
        for (Eigen::Index t = 0; t < options.k; ++t) positions.emplace_back(i, columns[static_cast<std::size_t>(t)]);
      }
      break;
    }
    case svft_pattern::top_k: {
      gift::detail::require(options.k >= 1 && options.k <= m * m, "gift::model::svft_positions: k must be in 1..", m * m,
                            " (m² entries) for the top_k pattern, but is ", options.k);
      std::vector<std::pair<Eigen::Index, Eigen::Index>> all;
      all.reserve(static_cast<std::size_t>(m * m));
      for (Eigen::Index i = 0; i < m; ++i)
        for (Eigen::Index j = 0; j < m; ++j) all.emplace_back(i, j);
      const auto score = [&](const std::pair<Eigen::Index, Eigen::Index>& e) {
        return sigma[static_cast<std::size_t>(e.first)] * sigma[static_cast<std::size_t>(e.second)];
      };
      std::stable_sort(all.begin(), all.end(), [&](const auto& a, const auto& b) { return score(a) > score(b); });
      positions.assign(all.begin(), all.begin() + options.k);
      std::sort(positions.begin(), positions.end());
      break;
    }
  }
  return positions;
}

/// SVFT on one slot. At construction the weight's thin SVD `W = U Σ Vᵀ` is computed once in double
/// with Eigen's `BDCSVD` and its reconstruction error checked; the forward is
/// `y = ((x V) (Σ + M)ᵀ) Uᵀ`, two GEMMs of the thin factors plus the sparse `M`. `M` starts at
/// zero, so the slot starts equal to `U Σ Vᵀ` (= W to the SVD's rounding). The slot computes on
/// `Backend` (Eigen by default; a Thrust system with <gift/backend/thrust.hpp>): the products are
/// `gift::multiply`, and `Σ + M` runs one shared element arithmetic on every backend.
template <std::floating_point T, backend_tag Backend = backend::eigen>
class svft_linear final : public trainable_linear<T, Backend> {
public:
  /// The activations' (and the factors') matrix type.
  using matrix_type = backend_matrix_t<Backend, T>;

  /// Decomposes the host `out × in` `weight` and places `M`'s trained entries by `options`.
  /// \throws gift::error when the weight is empty or not finite, when the pattern does not fit,
  /// or when `U Σ Vᵀ` misses W by more than `reconstruction_tolerance` (relative Frobenius).
  svft_linear(const matrix<T>& weight, const svft_options& options) {
    gift::detail::require(weight.size() > 0, "gift::model::svft_linear: argument 'weight' must not be empty");
    gift::detail::require(weight.allFinite(), "gift::model::svft_linear: argument 'weight' holds NaN or Inf; SVD ",
                          "needs finite weights");
    const matrix<double> w = weight.template cast<double>();
    const Eigen::BDCSVD<matrix<double>> svd(w, Eigen::ComputeThinU | Eigen::ComputeThinV);
    const vector<double> sigma = svd.singularValues();
    const matrix<double> reconstructed = svd.matrixU() * sigma.asDiagonal() * svd.matrixV().transpose();
    const double norm = w.norm();
    reconstruction_error_ = norm > 0 ? (reconstructed - w).norm() / norm : 0.0;
    gift::detail::require(reconstruction_error_ <= reconstruction_tolerance, "gift::model::svft_linear: U Σ Vᵀ misses ",
                          "the ", weight.rows(), " x ", weight.cols(), " weight by ", reconstruction_error_,
                          " (relative Frobenius), more than ", reconstruction_tolerance, "; the SVD did not converge");
    u_ = storage::from_host(matrix<T>(svd.matrixU().template cast<T>()));
    v_ = storage::from_host(matrix<T>(svd.matrixV().template cast<T>()));
    sigma_host_ = sigma.template cast<T>();
    sigma_ = storage::from_host(matrix<T>(sigma_host_));
    positions_ = svft_positions(std::span<const double>(sigma.data(), static_cast<std::size_t>(sigma.size())), options);
    const auto m = static_cast<std::int64_t>(sigma.size());
    const auto entries = static_cast<std::int64_t>(positions_.size());
    std::vector<std::int64_t> row_first(static_cast<std::size_t>(m + 1), 0), column_first(static_cast<std::size_t>(m + 1), 0);
    std::vector<std::int64_t> entry_row, entry_column, column_entries(static_cast<std::size_t>(entries));
    for (const auto& [i, j] : positions_) {
      entry_row.push_back(i);
      entry_column.push_back(j);
      ++row_first[static_cast<std::size_t>(i + 1)];
      ++column_first[static_cast<std::size_t>(j + 1)];
    }
    for (std::size_t k = 1; k < row_first.size(); ++k) {
      row_first[k] += row_first[k - 1];
      column_first[k] += column_first[k - 1];
    }
    // Entries by column, ascending within a column (the positions are row-major, so e ascends).
    std::vector<std::int64_t> fill(column_first.begin(), column_first.end() - 1);
    for (std::int64_t e = 0; e < entries; ++e)
      column_entries[static_cast<std::size_t>(fill[static_cast<std::size_t>(entry_column[static_cast<std::size_t>(e)])]++)] = e;
    row_first_ = indices(row_first);
    entry_row_ = indices(entry_row);
    entry_column_ = indices(entry_column);
    column_first_ = indices(column_first);
    column_entries_ = indices(column_entries);
    values_ = storage::zeros(entries, 1);
    gradient_ = storage::zeros(entries, 1);
  }

  /// Largest accepted `‖U Σ Vᵀ − W‖_F / ‖W‖_F` (the SVD is computed in double; this leaves
  /// room for badly conditioned layers while catching a failed decomposition).
  static constexpr double reconstruction_tolerance = 1e-9;

  [[nodiscard]] Eigen::Index in_features() const override { return static_cast<Eigen::Index>(v_.rows()); }
  [[nodiscard]] Eigen::Index out_features() const override { return static_cast<Eigen::Index>(u_.rows()); }
  /// \copydoc linear_module::forward
  void forward(const matrix_type& x, matrix_type& y, const forward_context& context) override {
    gift::detail::require(x.cols() == v_.rows(), "gift::model::svft_linear::forward: argument 'x' must have ", v_.rows(),
                          " columns (in), but has ", x.cols());
    matrix_type h, g;
    gift::multiply(x, v_, h);
    backend::dispatch<ops::svft_mix>(Backend{}, h, g, layout());
    gift::multiply(g, u_, y, right_factor::transposed);
    if (context.record) hidden_ = std::move(h);
  }
  /// \copydoc linear_module::backward
  void backward(const matrix_type& dy, matrix_type& dx) override {
    gift::detail::require(dy.rows() == hidden_.rows() && dy.cols() == u_.rows(),
                          "gift::model::svft_linear::backward: argument 'dy' must be ", hidden_.rows(), " x ", u_.rows(),
                          " (the last recorded forward), but is ", dy.rows(), " x ", dy.cols());
    matrix_type dg, dh;
    gift::multiply(dy, u_, dg);
    backend::dispatch<ops::svft_mix_backward>(Backend{}, dg, hidden_, dh, layout());
    gift::multiply(dh, v_, dx, right_factor::transposed);
  }
  /// `U (Σ + M) Vᵀ`, on the host.
  [[nodiscard]] matrix<T> effective_weight() const override {
    return storage::to_host(u_) * coefficients() * storage::to_host(v_).transpose();
  }
  [[nodiscard]] std::vector<optim::parameter<T, Backend>> parameters() override {
    return {{span(values_), span(gradient_), true, "svft_m"}};
  }
  [[nodiscard]] std::string_view method() const override { return "svft"; }

  /// The dense `m × m` matrix `Σ + M`, on the host.
  [[nodiscard]] matrix<T> coefficients() const {
    matrix<T> s = sigma_host_.asDiagonal();
    const matrix<T> values = storage::to_host(values_);
    for (std::size_t e = 0; e < positions_.size(); ++e)
      s(positions_[e].first, positions_[e].second) += values(static_cast<Eigen::Index>(e), 0);
    return s;
  }
  /// Left singular vectors (`out × m`), on the host.
  [[nodiscard]] matrix<T> u() const { return storage::to_host(u_); }
  /// Right singular vectors (`in × m`), on the host.
  [[nodiscard]] matrix<T> v() const { return storage::to_host(v_); }
  /// Singular values, descending.
  [[nodiscard]] const vector<T>& sigma() const noexcept { return sigma_host_; }
  /// The trained positions of `M`, row-major.
  [[nodiscard]] const std::vector<std::pair<Eigen::Index, Eigen::Index>>& positions() const noexcept { return positions_; }
  /// The trained values of `M`, in the order of `positions()`: a view into the backend's memory.
  [[nodiscard]] std::span<T> values() noexcept { return span(values_); }
  /// `‖U Σ Vᵀ − W‖_F / ‖W‖_F` of the decomposition, in double.
  [[nodiscard]] double reconstruction_error() const noexcept { return reconstruction_error_; }

private:
  using storage = backend_storage<Backend, T>;
  using index_matrix = backend_matrix_t<Backend, std::int64_t>;  // n × 1: raw pointers on every backend

  static index_matrix indices(const std::vector<std::int64_t>& values) {
    matrix<std::int64_t> host(static_cast<Eigen::Index>(values.size()), 1);
    for (std::size_t e = 0; e < values.size(); ++e) host(static_cast<Eigen::Index>(e), 0) = values[e];
    return backend_storage<Backend, std::int64_t>::from_host(host);
  }
  static std::span<T> span(matrix_type& m) { return {m.data(), static_cast<std::size_t>(m.size())}; }
  gift::detail::svft_layout<T> layout() {
    gift::detail::svft_layout<T> plan;
    plan.sigma = sigma_.data();
    plan.row_first = row_first_.data();
    plan.entry_row = entry_row_.data();
    plan.entry_column = entry_column_.data();
    plan.column_first = column_first_.data();
    plan.column_entries = column_entries_.data();
    plan.values = values_.data();
    plan.gradient = gradient_.data();
    plan.m = static_cast<std::int64_t>(sigma_host_.size());
    plan.entries = static_cast<std::int64_t>(positions_.size());
    return plan;
  }

  matrix_type u_, v_, hidden_, sigma_, values_, gradient_;
  vector<T> sigma_host_;
  std::vector<std::pair<Eigen::Index, Eigen::Index>> positions_;
  index_matrix row_first_, entry_row_, entry_column_, column_first_, column_entries_;
  double reconstruction_error_ = 0;
};

/// Trained scalars of SVFT on an `out × in` weight with `options` (without building it).
[[nodiscard]] constexpr std::int64_t svft_parameters(std::int64_t out, std::int64_t in, const svft_options& options) noexcept {
  const std::int64_t m = out < in ? out : in;
  switch (options.pattern) {
    case svft_pattern::plain: return m;
    case svft_pattern::banded: {
      const std::int64_t d = options.width;
      return m * (2 * d + 1) - d * (d + 1);
    }
    case svft_pattern::random: return m * options.k;
    case svft_pattern::top_k: return options.k;
  }
  return 0;
}

}  // namespace gift::model
