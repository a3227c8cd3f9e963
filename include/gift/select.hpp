#pragma once
/// \file gift/select.hpp
/// \brief `gift::select_salient(scores, k)`: the k columns with the largest sensitivity.
///
/// Ties go to the lower column index, a strict total order, so every backend selects the same
/// columns. The result holds the indices in ascending order (`std::int64_t`) and a mask.

#include <gift/backend/dispatch.hpp>
#include <gift/backend/eigen/select.hpp>
#include <gift/backend/traits.hpp>
#include <gift/error.hpp>
#include <gift/detail/select.hpp>
#include <gift/salient_columns.hpp>

#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>

namespace gift {

/// A share of a layer's columns, in (0, 1]: `fraction{0.03}` selects 3% of `in`.
struct fraction {
  double value;  ///< the share, in (0, 1]
};

/// A container of one score per column: an Eigen vector, or a Thrust vector with an explicit tag.
template <class S>
concept score_container = requires(const S& s) {
  { s.size() } -> std::convertible_to<std::size_t>;
};

namespace detail {
inline void require_salient_count(std::int64_t k, std::size_t columns) {
  require(columns > 0, "gift::select_salient: argument 'scores' is empty; pass one score per input column");
  require(k >= 1, "gift::select_salient: argument 'k' must be at least 1, but it is ", k,
          "; a layer without salient columns needs no selection");
  require(static_cast<std::size_t>(k) <= columns, "gift::select_salient: argument 'k' (", k,
          ") must not exceed the number of columns (", columns, "); lower k or use gift::fraction");
}

/// `round(share · columns)`, at least 1.
inline std::int64_t salient_count(fraction share, std::size_t columns) {
  require(std::isfinite(share.value) && share.value > 0.0 && share.value <= 1.0,
          "gift::select_salient: the fraction of salient columns must be in (0, 1], but it is ", share.value,
          "; e.g. gift::fraction{0.03} for 3%");
  const auto k = static_cast<std::int64_t>(std::llround(share.value * static_cast<double>(columns)));
  return k < 1 ? 1 : k;
}
}  // namespace detail

/// The `k` columns with the largest `scores` (one per input column), on `tag`'s backend.
/// \throws gift::error for k < 1, k > number of scores, empty or non-finite scores.
template <backend_tag Backend, score_container Scores>
salient_columns select_salient(Backend tag, const Scores& scores, std::int64_t k) {
  detail::require_salient_count(k, static_cast<std::size_t>(scores.size()));
  return backend::dispatch<ops::select_salient>(tag, scores, k);
}

/// The `round(share · in)` (at least 1) columns with the largest `scores`, on `tag`'s backend.
template <backend_tag Backend, score_container Scores>
salient_columns select_salient(Backend tag, const Scores& scores, fraction share) {
  return select_salient(tag, scores, detail::salient_count(share, static_cast<std::size_t>(scores.size())));
}

/// As above, on the backend the scores' type implies (Eigen vectors: the CPU).
template <score_container Scores>
  requires(!backend_tag<Scores>)
salient_columns select_salient(const Scores& scores, std::int64_t k) {
  return select_salient(backend_for_t<Scores>{}, scores, k);
}

/// As above, with k a fraction of the columns.
template <score_container Scores>
  requires(!backend_tag<Scores>)
salient_columns select_salient(const Scores& scores, fraction share) {
  return select_salient(backend_for_t<Scores>{}, scores, share);
}

}  // namespace gift
