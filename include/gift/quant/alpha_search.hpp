#pragma once
/// \file gift/quant/alpha_search.hpp
/// \brief How the clipping value α_i of a row is chosen: candidates `ratio · max|w|`, keep the one
/// with the least `Σ |w − Q(w)|^p` over the row's non-salient weights.
///
/// Two presets matter:
/// - `alpha_search::paper_grid(N)` — the paper's Eq. 4: a linear grid over (0, max|w|],
///   ratios N/N, (N−1)/N, …, 1/N (default N = 100);
/// - `alpha_search::reference_code()` — the authors' public code: 80 candidates 1.00, 0.99, …,
///   0.21 of max|w| (it stops at 20% shrink), squared error.
/// Candidates are tried in the listed order and ties go to the earlier one (the larger α).
/// The error exponent p is 2 by default; the paper also uses 2.4. Any p in (0, 4] works: p = 2
/// squares, other p use a vectorised `2^(p log2|e/Δ|)` accurate to about 2e-6 (a few times
/// slower than p = 2).

#include <gift/error.hpp>

#include <cmath>
#include <concepts>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace gift {

/// A runtime α-search policy: the candidate ratios of `max|w|` and the error exponent p.
struct alpha_search {
  std::vector<float> ratios{1.0f};  ///< candidate fractions of max|w|, in (0, 1], tried in order
  double error_exponent = 2.0;      ///< p in Σ|w − Q(w)|^p
  std::string label = "max";        ///< short name for logs

  /// No search: α = max|w| (plain round-to-nearest with the absmax scale).
  static alpha_search max_abs() { return alpha_search{}; }

  /// The paper's grid: `points` ratios k/points for k = points, …, 1.
  static alpha_search paper_grid(int points = 100, double error_exponent = 2.0) {
    detail::require(points >= 1, "gift::alpha_search::paper_grid: argument 'points' must be at least 1, but it is ",
                    points);
    alpha_search search;
    search.ratios.clear();
    for (int k = points; k >= 1; --k) search.ratios.push_back(static_cast<float>(static_cast<double>(k) / points));
    search.error_exponent = error_exponent;
    search.label = gift::detail::concat("grid", points, exponent_suffix(error_exponent));
    search.validate("gift::alpha_search::paper_grid");
    return search;
  }

  /// The authors' code: 80 ratios 1 − i/100 for i = 0..79 (1.00 down to 0.21).
  static alpha_search reference_code(double error_exponent = 2.0) {
    alpha_search search;
    search.ratios.clear();
    for (int i = 0; i < 80; ++i) search.ratios.push_back(static_cast<float>(1.0 - i / 100.0));
    search.error_exponent = error_exponent;
    search.label = gift::detail::concat("ref80", exponent_suffix(error_exponent));
    search.validate("gift::alpha_search::reference_code");
    return search;
  }

  /// Printable name, e.g. `grid100`, `ref80/p2.4`.
  [[nodiscard]] std::string name() const { return label; }

  /// Throws `gift::error` (naming `where`) unless there is at least one ratio, every ratio is in
  /// (0, 1] and p is in (0, 4].
  void validate(const char* where) const {
    detail::require(!ratios.empty(), where, ": the alpha search has no candidate ratios; use alpha_search::max_abs() for none");
    for (std::size_t c = 0; c < ratios.size(); ++c) {
      detail::require(ratios[c] > 0.0f && ratios[c] <= 1.0f, where, ": alpha candidate ", c,
                      " must be a ratio of max|w| in (0, 1], but it is ", ratios[c]);
    }
    detail::require(std::isfinite(error_exponent) && error_exponent > 0.0 && error_exponent <= 4.0, where,
                    ": the alpha search's error exponent must be in (0, 4] (2 or 2.4 in the paper), but it is ",
                    error_exponent);
  }

private:
  static std::string exponent_suffix(double p) {
    if (p == 2.0) return "";
    std::ostringstream out;
    out << "/p" << p;
    return out.str();
  }
};

/// A compile-time α-search policy (for quantizer types used inside metric policies).
template <class S>
concept alpha_search_policy = requires {
  { S::make() } -> std::same_as<alpha_search>;
  { S::name() } -> std::convertible_to<std::string>;
};

/// α = max|w|: round-to-nearest with the absmax scale.
struct max_abs_alpha {
  /// The run-time search this policy names.
  static alpha_search make() { return alpha_search::max_abs(); }
  /// Printable name for sweep logs: `max`.
  static std::string name() { return "max"; }
};

/// The paper's linear grid of `Points` candidates.
template <int Points = 100>
struct paper_alpha_grid {
  static_assert(Points >= 1, "gift::paper_alpha_grid<Points>: Points must be at least 1");
  /// The run-time search this policy names.
  static alpha_search make() { return alpha_search::paper_grid(Points); }
  /// Printable name for sweep logs, e.g. `grid100`.
  static std::string name() { return gift::detail::concat("grid", Points); }
};

/// The authors' code: 80 candidates 1.00 … 0.21.
struct reference_code_alpha {
  /// The run-time search this policy names.
  static alpha_search make() { return alpha_search::reference_code(); }
  /// Printable name for sweep logs: `ref80`.
  static std::string name() { return "ref80"; }
};

}  // namespace gift
