#pragma once
/// \file gift/gram.hpp
/// \brief `gift::gram_accumulator`: the Gram matrix XᵀX of a layer's inputs over all calibration
/// tokens, accumulated in double (what GPTQ and OWQ call the Hessian, up to a factor 2).

#include <gift/backend/dispatch.hpp>
#include <gift/backend/eigen/gram.hpp>
#include <gift/backend/traits.hpp>
#include <gift/error.hpp>
#include <gift/fwd.hpp>
#include <gift/detail/gram.hpp>
#include <gift/stats.hpp>

#include <cstdint>

namespace gift {

/// Streaming, mergeable `XᵀX` (in × in, double) of token batches `x` (tokens × in).
class gram_accumulator {
public:
  /// An accumulator for a layer with `columns` inputs. Memory: columns² doubles.
  explicit gram_accumulator(std::size_t columns) : gram_(gift::matrix<double>::Zero(checked(columns), checked(columns))) {}

  /// Adds `xᵀx` of a batch on `tag`'s backend (Eigen: a symmetric rank update, Thrust: one dot
  /// product per entry, meant for the GPU).
  /// \throws gift::error for a width mismatch or NaN/Inf in `x` (the Gram is unchanged then).
  template <backend_tag Backend, activation_batch Batch>
  void update(Backend tag, const Batch& x) {
    const auto columns = static_cast<std::size_t>(gram_.cols());
    detail::require(static_cast<std::size_t>(x.cols()) == columns, "gift::gram_accumulator::update: argument 'x' has ",
                    x.cols(), " columns, but the accumulator is for ", columns, " input columns");
    if (x.rows() == 0) return;
    // The moments double as the finiteness check (the max is NaN-propagating).
    activation_stats check(columns);
    try {
      check.update(tag, x);
    } catch (const error& e) {
      throw error(std::string("gift::gram_accumulator::update: ") + e.what());
    }
    backend::dispatch<ops::gram_update>(tag, x, gram_);
    tokens_ += static_cast<std::uint64_t>(x.rows());
  }

  /// Adds a batch on the backend its type implies.
  template <activation_batch Batch>
    requires(!backend_tag<Batch>)
  void update(const Batch& x) {
    update(backend_for_t<Batch>{}, x);
  }

  /// Adds another accumulator of the same width.
  void merge(const gram_accumulator& other) {
    detail::require(other.gram_.cols() == gram_.cols(), "gift::gram_accumulator::merge: widths differ (",
                    other.gram_.cols(), " vs ", gram_.cols(), ")");
    gram_.triangularView<Eigen::Lower>() += other.gram_;
    tokens_ += other.tokens_;
  }

  /// An accumulator holding `gram` (its lower triangle is read) over `tokens` tokens, e.g. a
  /// Gram combined in another process (`gift::distributed::merge_shards`).
  /// \throws gift::error when `gram` is empty or not square, or its lower triangle holds NaN/Inf.
  [[nodiscard]] static gram_accumulator from_gram(const gift::matrix<double>& gram, std::uint64_t tokens) {
    detail::require(gram.rows() == gram.cols() && gram.rows() > 0, "gift::gram_accumulator::from_gram: argument ",
                    "'gram' must be square and non-empty, but is ", gram.rows(), " x ", gram.cols());
    gram_accumulator result(static_cast<std::size_t>(gram.cols()));
    for (Eigen::Index c = 0; c < gram.cols(); ++c)
      for (Eigen::Index r = c; r < gram.rows(); ++r) {
        detail::require_finite(gram(r, c), "gift::gram_accumulator::from_gram", "gram", static_cast<std::size_t>(r),
                               static_cast<std::size_t>(c));
        result.gram_(r, c) = gram(r, c);
      }
    result.tokens_ = tokens;
    return result;
  }

  /// The full symmetric `XᵀX`.
  [[nodiscard]] gift::matrix<double> gram() const {
    gift::matrix<double> full = gram_.selfadjointView<Eigen::Lower>();
    return full;
  }
  /// Tokens seen so far.
  [[nodiscard]] std::uint64_t token_count() const noexcept { return tokens_; }
  /// Input columns.
  [[nodiscard]] std::size_t columns() const noexcept { return static_cast<std::size_t>(gram_.cols()); }

private:
  static Eigen::Index checked(std::size_t columns) {
    detail::require(columns > 0, "gift::gram_accumulator: argument 'columns' must be positive");
    return static_cast<Eigen::Index>(columns);
  }
  gift::matrix<double> gram_;  // lower triangle is authoritative
  std::uint64_t tokens_ = 0;
};

}  // namespace gift
