#pragma once
/// \file gift/stats.hpp
/// \brief `gift::activation_stats`: streaming, mergeable per-input-column statistics of a
/// layer's activations (max|x_j|, Σx_j², Σ|x_j|, token count, and Σ|x_j|^P for chosen P).
///
/// Calibration feeds token batches (`tokens × in`) through `update`; no activation is stored.
/// Statistics of separate batches, threads or processes combine with `merge` (max and sums).
/// Within a batch every backend reduces in the fixed order of detail/column_norms.hpp, so one
/// batch gives the same bits on every backend.
///
/// `norm<Norm>()` gives ‖X_j‖ for `l1`, `l2`, `linf`, `lp<1>`, `lp<2>` from the accumulators; a
/// general `lp<P>` needs Σ|x|^P, which is accumulated only for the powers named at
/// construction (`activation_stats(in, {3})`), because each costs a pass of multiplications.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/eigen/stats.hpp>
#include <gift/backend/traits.hpp>
#include <gift/concepts.hpp>
#include <gift/error.hpp>
#include <gift/io/atomic_file.hpp>
#include <gift/fwd.hpp>
#include <gift/norm.hpp>
#include <gift/detail/stats.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <span>
#include <sstream>
#include <string>
#include <system_error>
#include <type_traits>
#include <vector>

namespace gift {

/// A matrix of activations: Eigen dense, or a `gift::thrust_matrix` (include the Thrust backend).
template <class M>
concept activation_batch = requires(const M& m) {
  { m.rows() } -> std::convertible_to<std::size_t>;
  { m.cols() } -> std::convertible_to<std::size_t>;
};

/// Streaming, mergeable statistics of every input column of one layer.
class activation_stats {
public:
  /// Statistics of a layer with `columns` inputs. `extra_powers` lists integer P ≥ 3 (at most
  /// 4, no repeats) whose Σ|x|^P is accumulated so that `norm<lp<P>>()` is available.
  /// \throws gift::error for zero columns or a bad power list.
  explicit activation_stats(std::size_t columns, std::vector<int> extra_powers = {})
      : columns_(columns), powers_(std::move(extra_powers)) {
    detail::require(columns > 0, "gift::activation_stats: argument 'columns' must be positive (the layer's input width)");
    detail::require(powers_.size() <= detail::max_extra_powers, "gift::activation_stats: at most ",
                    detail::max_extra_powers, " extra powers can be tracked, but ", powers_.size(), " were given");
    for (std::size_t e = 0; e < powers_.size(); ++e) {
      detail::require(powers_[e] >= 3 && powers_[e] <= 64, "gift::activation_stats: extra power ", powers_[e],
                      " must be in 3..64 (1 and 2 are always tracked as sum_abs and sum_squares)");
      detail::require(std::count(powers_.begin(), powers_.end(), powers_[e]) == 1,
                      "gift::activation_stats: extra power ", powers_[e], " is listed twice");
    }
    const std::size_t n = columns;
    max_abs_ = gift::vector<double>::Zero(static_cast<Eigen::Index>(n));
    sum_squares_ = max_abs_;
    sum_abs_ = max_abs_;
    sum_powers_.assign(powers_.size(), max_abs_);
  }

  /// Adds a batch `x` (tokens × columns) on `tag`'s backend.
  /// \throws gift::error when the width differs from `columns()` or `x` holds NaN/Inf; the
  /// statistics are unchanged then.
  template <backend_tag Backend, activation_batch Batch>
  void update(Backend tag, const Batch& x) {
    detail::require(static_cast<std::size_t>(x.cols()) == columns_, "gift::activation_stats::update: argument 'x' has ",
                    x.cols(), " columns, but the statistics are for ", columns_,
                    " input columns; pass activations as tokens x in for this layer");
    if (x.rows() == 0) return;
    const std::vector<double> moments = backend::dispatch<ops::column_moments>(tag, x, power_set());
    const std::size_t stride = detail::moment_stride(power_set());
    for (std::size_t j = 0; j < columns_; ++j) {
      if (!std::isfinite(moments[j * stride])) throw_non_finite(x, j);
    }
    const auto tokens = static_cast<std::uint64_t>(x.rows());
    detail::require(token_count_ + tokens >= token_count_, "gift::activation_stats::update: the token count overflows");
    for (std::size_t j = 0; j < columns_; ++j) {
      const Eigen::Index i = static_cast<Eigen::Index>(j);
      const double* m = moments.data() + j * stride;
      max_abs_(i) = linf::combine(max_abs_(i), m[0]);
      sum_squares_(i) += m[1];
      sum_abs_(i) += m[2];
      for (std::size_t e = 0; e < powers_.size(); ++e) sum_powers_[e](i) += m[3 + e];
    }
    token_count_ += tokens;
  }

  /// Adds a batch on the backend its type implies (Eigen: the CPU).
  template <activation_batch Batch>
    requires(!backend_tag<Batch>)
  void update(const Batch& x) {
    update(backend_for_t<Batch>{}, x);
  }

  /// Adds another object's statistics (same columns and powers): max of maxima, sums of sums.
  /// \throws gift::error when columns or powers differ.
  void merge(const activation_stats& other) {
    detail::require(other.columns_ == columns_, "gift::activation_stats::merge: statistics for ", other.columns_,
                    " columns cannot merge into statistics for ", columns_, " columns");
    detail::require(other.powers_ == powers_,
                    "gift::activation_stats::merge: both statistics must track the same extra powers");
    max_abs_ = max_abs_.cwiseMax(other.max_abs_);
    sum_squares_ += other.sum_squares_;
    sum_abs_ += other.sum_abs_;
    for (std::size_t e = 0; e < powers_.size(); ++e) sum_powers_[e] += other.sum_powers_[e];
    token_count_ += other.token_count_;
  }

  /// Statistics from their accumulators — what `max_abs()`, `sum_squares()`, `sum_abs()`,
  /// `sum_powers(P)` and `token_count()` return — e.g. after they were combined in another process
  /// (`gift::distributed::merge_shards`).
  /// \throws gift::error when a vector's length is not `columns`, `sum_powers` does not hold one
  /// vector per extra power, or a value is negative or not finite.
  [[nodiscard]] static activation_stats from_accumulators(std::size_t columns, std::vector<int> extra_powers,
                                                          std::uint64_t tokens, gift::vector<double> max_abs,
                                                          gift::vector<double> sum_squares, gift::vector<double> sum_abs,
                                                          std::vector<gift::vector<double>> sum_powers = {}) {
    activation_stats stats(columns, std::move(extra_powers));
    const char* where = "gift::activation_stats::from_accumulators";
    detail::require(sum_powers.size() == stats.powers_.size(), where, ": argument 'sum_powers' must hold one vector per ",
                    "extra power (", stats.powers_.size(), "), but holds ", sum_powers.size());
    const auto check = [&](const gift::vector<double>& v, const char* argument) {
      detail::require(static_cast<std::size_t>(v.size()) == columns, where, ": argument '", argument, "' must have ",
                      columns, " values (one per column), but has ", v.size());
      for (Eigen::Index j = 0; j < v.size(); ++j)
        detail::require(std::isfinite(v(j)) && v(j) >= 0, where, ": argument '", argument, "' holds ", v(j),
                        " for column ", j, "; statistics are finite and non-negative");
    };
    check(max_abs, "max_abs");
    check(sum_squares, "sum_squares");
    check(sum_abs, "sum_abs");
    for (const auto& v : sum_powers) check(v, "sum_powers");
    stats.max_abs_ = std::move(max_abs);
    stats.sum_squares_ = std::move(sum_squares);
    stats.sum_abs_ = std::move(sum_abs);
    stats.sum_powers_ = std::move(sum_powers);
    stats.token_count_ = tokens;
    return stats;
  }

  /// max_t |x_tj| per column.
  [[nodiscard]] const gift::vector<double>& max_abs() const noexcept { return max_abs_; }
  /// Σ_t x_tj² per column.
  [[nodiscard]] const gift::vector<double>& sum_squares() const noexcept { return sum_squares_; }
  /// Σ_t |x_tj| per column.
  [[nodiscard]] const gift::vector<double>& sum_abs() const noexcept { return sum_abs_; }
  /// Σ_t |x_tj|^P per column for a tracked extra power P.
  /// \throws gift::error when P was not named at construction.
  [[nodiscard]] const gift::vector<double>& sum_powers(int p) const {
    return sum_powers_[power_index(p, "gift::activation_stats::sum_powers")];
  }
  /// Tokens seen so far.
  [[nodiscard]] std::uint64_t token_count() const noexcept { return token_count_; }
  /// Input columns of the layer.
  [[nodiscard]] std::size_t columns() const noexcept { return columns_; }
  /// The extra powers P tracked.
  [[nodiscard]] const std::vector<int>& extra_powers() const noexcept { return powers_; }

  /// ‖X_j‖ under `Norm` for every column, from the accumulators.
  /// \throws gift::error for `lp<P>` with P ∉ {1, 2} not tracked.
  template <norm_policy Norm>
  [[nodiscard]] gift::vector<double> norm() const {
    if constexpr (std::is_same_v<Norm, linf>) {
      return max_abs_;
    } else if constexpr (Norm::p == 1.0) {
      return sum_abs_;
    } else if constexpr (Norm::p == 2.0) {
      return sum_squares_.unaryExpr([](double s) { return Norm::finish(s); });
    } else {
      const auto& sums = sum_powers_[power_index(static_cast<int>(Norm::p), "gift::activation_stats::norm")];
      return sums.unaryExpr([](double s) { return Norm::finish(s); });
    }
  }

  /// Writes the statistics to `path` (binary, little-endian host layout), atomically
  /// (`gift::io::write_file_atomically`: a temporary in the same folder, flushed to disk, renamed
  /// into place), so a reader never sees a half-written file.
  /// \throws gift::error when the file cannot be written.
  void save(const std::filesystem::path& path) const {
    std::ostringstream out(std::ios::binary);
    {
      out.write(magic, sizeof magic);
      write_value(out, static_cast<std::uint64_t>(columns_));
      write_value(out, token_count_);
      write_value(out, static_cast<std::uint32_t>(powers_.size()));
      for (const int p : powers_) write_value(out, static_cast<std::int32_t>(p));
      write_vector(out, max_abs_);
      write_vector(out, sum_squares_);
      write_vector(out, sum_abs_);
      for (const auto& s : sum_powers_) write_vector(out, s);
    }
    const std::string bytes = std::move(out).str();
    io::write_file_atomically(path, std::as_bytes(std::span<const char>(bytes.data(), bytes.size())));
  }

  /// Reads statistics written by `save`.
  /// \throws gift::error when the file is missing, truncated, of another format, or holds
  /// negative or non-finite statistics.
  static activation_stats load(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    detail::require(static_cast<bool>(in), "gift::activation_stats::load: cannot open '", path.string(), "'");
    char header[sizeof magic];
    in.read(header, sizeof header);
    detail::require(in && std::memcmp(header, magic, sizeof magic) == 0, "gift::activation_stats::load: '",
                    path.string(), "' is not a gift statistics file (bad magic)");
    const auto columns = read_value<std::uint64_t>(in, path);
    const auto tokens = read_value<std::uint64_t>(in, path);
    const auto count = read_value<std::uint32_t>(in, path);
    detail::require(columns > 0 && columns < (std::uint64_t{1} << 32) && count <= detail::max_extra_powers,
                    "gift::activation_stats::load: '", path.string(), "' has an implausible header (", columns,
                    " columns, ", count, " powers)");
    // The header's sizes must add up to the file's before anything is allocated: a crafted
    // header cannot make the reader allocate more than the file holds.
    std::error_code size_error;
    const std::uintmax_t file_bytes = std::filesystem::file_size(path, size_error);
    const std::uint64_t expected = sizeof magic + 8 + 8 + 4 + 4 * std::uint64_t{count} +
                                   8 * columns * (3 + std::uint64_t{count});
    detail::require(!size_error && file_bytes == expected, "gift::activation_stats::load: '", path.string(),
                    "' is ", file_bytes, " bytes, but its header (", columns, " columns, ", count,
                    " powers) needs ", expected, "; the file is truncated or corrupt: rerun gift calibrate");
    std::vector<int> powers;
    for (std::uint32_t e = 0; e < count; ++e) powers.push_back(read_value<std::int32_t>(in, path));
    activation_stats stats(static_cast<std::size_t>(columns), powers);
    read_vector(in, path, stats.max_abs_);
    read_vector(in, path, stats.sum_squares_);
    read_vector(in, path, stats.sum_abs_);
    for (auto& s : stats.sum_powers_) read_vector(in, path, s);
    in.peek();
    detail::require(in.eof(), "gift::activation_stats::load: '", path.string(), "' has trailing bytes");
    stats.token_count_ = tokens;
    return stats;
  }

private:
  static constexpr char magic[8] = {'G', 'I', 'F', 'T', 'S', 'T', 'A', '1'};

  [[nodiscard]] detail::power_set power_set() const {
    detail::power_set set;
    set.count = static_cast<int>(powers_.size());
    for (std::size_t e = 0; e < powers_.size(); ++e) set.power[e] = powers_[e];
    return set;
  }

  [[nodiscard]] std::size_t power_index(int p, const char* where) const {
    const auto found = std::find(powers_.begin(), powers_.end(), p);
    detail::require(found != powers_.end(), where, ": sum of |x|^", p,
                    " is not tracked; construct the statistics with activation_stats(columns, {", p, "})");
    return static_cast<std::size_t>(found - powers_.begin());
  }

  template <class Batch>
  [[noreturn]] static void throw_non_finite(const Batch& x, std::size_t column) {
    if constexpr (eigen_dense<Batch>) {
      for (Eigen::Index r = 0; r < x.rows(); ++r)
        detail::require_finite(x(r, static_cast<Eigen::Index>(column)), "gift::activation_stats::update", "x",
                               static_cast<std::size_t>(r), column);
    } else {
      const auto host = x.to_eigen();
      for (Eigen::Index r = 0; r < host.rows(); ++r)
        detail::require_finite(host(r, static_cast<Eigen::Index>(column)), "gift::activation_stats::update", "x",
                               static_cast<std::size_t>(r), column);
    }
    throw error(detail::concat("gift::activation_stats::update: argument 'x' holds a non-finite value in column ",
                               column));
  }

  template <class T>
  static void write_value(std::ostream& out, T value) {
    out.write(reinterpret_cast<const char*>(&value), sizeof value);
  }
  static void write_vector(std::ostream& out, const gift::vector<double>& v) {
    out.write(reinterpret_cast<const char*>(v.data()), static_cast<std::streamsize>(sizeof(double) * v.size()));
  }
  template <class T>
  static T read_value(std::ifstream& in, const std::filesystem::path& path) {
    T value{};
    in.read(reinterpret_cast<char*>(&value), sizeof value);
    detail::require(static_cast<bool>(in), "gift::activation_stats::load: '", path.string(), "' is truncated");
    return value;
  }
  static void read_vector(std::ifstream& in, const std::filesystem::path& path, gift::vector<double>& v) {
    in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(sizeof(double) * v.size()));
    detail::require(static_cast<bool>(in), "gift::activation_stats::load: '", path.string(), "' is truncated");
    for (Eigen::Index j = 0; j < v.size(); ++j)
      detail::require(std::isfinite(v(j)) && v(j) >= 0, "gift::activation_stats::load: '", path.string(),
                      "' holds an invalid statistic ", v(j), " for column ", j);
  }

  std::size_t columns_;
  std::vector<int> powers_;
  std::uint64_t token_count_ = 0;
  gift::vector<double> max_abs_, sum_squares_, sum_abs_;
  std::vector<gift::vector<double>> sum_powers_;
};

}  // namespace gift
