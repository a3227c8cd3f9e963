#pragma once
/// \file gift/pipeline/compare.hpp
/// \brief `pipeline::compare_paired`: the difference between two models evaluated on the same
/// sequences, with a paired bootstrap confidence interval over the sequences.
///
/// Two evaluations of one evaluation set (`pipeline::evaluate` keeps every sequence's loss) are
/// compared sequence by sequence, so the variation between sequences — most of the spread of a
/// perplexity — cancels:
/// \code
/// const auto base = gift::pipeline::evaluate(quantized, set.tokens);
/// const auto tuned = gift::pipeline::evaluate(fine_tuned, set.tokens);
/// const auto d = gift::pipeline::compare_paired(base.sequences, tuned.sequences);
/// // d.difference: tuned − base in nats per token; [d.low, d.high]: its 95 % CI
/// \endcode

#include <gift/error.hpp>
#include <gift/model/cross_entropy.hpp>
#include <gift/random.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <span>
#include <vector>

namespace gift::pipeline {

/// How `compare_paired` resamples.
struct bootstrap_options {
  int resamples = 2000;      ///< bootstrap resamples of the sequences
  double level = 0.95;       ///< confidence level of the interval
  std::uint64_t seed = 0;    ///< draws the resamples (Philox, so every machine draws the same)
};

/// The paired difference `b − a` of two evaluations of the same sequences.
struct paired_difference {
  double difference = 0;     ///< mean nll per token of b minus that of a (nats); negative: b is better
  double low = 0;            ///< lower end of the percentile bootstrap interval of `difference`
  double high = 0;           ///< upper end of that interval (at confidence `level`)
  double level = 0.95;       ///< the interval's confidence level
  std::int64_t sequences = 0;  ///< sequences compared
  std::int64_t tokens = 0;     ///< predicted tokens compared
  int resamples = 0;           ///< bootstrap resamples drawn
  std::int64_t replicates = 1; ///< replicates (seeds) averaged (`compare_replicates`)

  /// b's perplexity over a's: `exp(difference)`.
  [[nodiscard]] double perplexity_ratio() const noexcept { return std::exp(difference); }
  /// Whether the interval excludes zero (the two differ at this level).
  [[nodiscard]] bool excludes_zero() const noexcept { return low > 0.0 || high < 0.0; }
};

namespace detail {
/// Element `i` of bootstrap draw number `draw` (stream `stream`): uniform in [0, n), from Philox
/// keyed by the options' seed, so every machine draws the same.
[[nodiscard]] inline std::size_t bootstrap_pick(std::uint64_t seed, std::uint32_t stream, std::uint32_t draw,
                                                std::size_t i, std::size_t n) {
  const noise_key key{seed, stream, draw};
  const std::uint32_t bits = gift::detail::noise_bits(key, i / 4).word[i % 4];
  return static_cast<std::size_t>((static_cast<std::uint64_t>(bits) * n) >> 32);
}
/// The percentile interval of `statistics` at `level` (sorts them; numpy's default interpolation).
inline void percentile_interval(std::vector<double>& statistics, double level, double& low, double& high) {
  std::sort(statistics.begin(), statistics.end());
  const auto quantile = [&](double q) {
    const double position = q * static_cast<double>(statistics.size() - 1);
    const auto below = static_cast<std::size_t>(std::floor(position));
    const std::size_t above = std::min(below + 1, statistics.size() - 1);
    const double t = position - static_cast<double>(below);
    return statistics[below] + t * (statistics[above] - statistics[below]);
  };
  low = quantile((1.0 - level) / 2.0);
  high = quantile((1.0 + level) / 2.0);
}
inline void check_bootstrap_options(const bootstrap_options& options, const char* where) {
  gift::detail::require(options.resamples >= 100, where, ": bootstrap_options::resamples must be at least 100, but is ",
                        options.resamples);
  gift::detail::require(options.level > 0.0 && options.level < 1.0, where,
                        ": bootstrap_options::level must be in (0, 1), but is ", options.level);
}
}  // namespace detail

/// The difference of the per-token mean losses, `Σ nll_b / Σ count − Σ nll_a / Σ count`, of two
/// evaluations of the same sequences (`a[i]` and `b[i]` must count the same tokens), and its
/// percentile bootstrap interval: `options.resamples` times, draw `n` sequences with replacement
/// (the same draw for a and b: paired) and recompute the difference; the interval is the
/// `(1 − level) / 2` and `(1 + level) / 2` quantiles of those (linear interpolation between order
/// statistics, as numpy's default). The draws come from Philox keyed by `options.seed` and the
/// resample's number, so the interval is the same on every machine.
/// \throws gift::error for empty or unequal inputs, sequences whose token counts differ, fewer
/// than 100 resamples, or a level outside (0, 1).
[[nodiscard]] inline paired_difference compare_paired(std::span<const model::loss_sum> a,
                                                      std::span<const model::loss_sum> b,
                                                      const bootstrap_options& options = {}) {
  const char* where = "gift::pipeline::compare_paired";
  gift::detail::require(!a.empty() && a.size() == b.size(), where,
                        ": expected two evaluations of the same sequences, but got ", a.size(), " and ", b.size(),
                        " sequence losses");
  gift::detail::require(a.size() < (std::size_t{1} << 32), where, ": at most 2^32 - 1 sequences, but got ", a.size());
  detail::check_bootstrap_options(options, where);
  const std::size_t n = a.size();
  std::vector<double> gap(n);
  std::vector<double> count(n);
  double gap_sum = 0, count_sum = 0;
  for (std::size_t i = 0; i < n; ++i) {
    gift::detail::require(a[i].count == b[i].count && a[i].count > 0, where, ": sequence ", i, " predicts ",
                          a[i].count, " token(s) in a and ", b[i].count,
                          " in b; compare two evaluations of the same evaluation set");
    gap[i] = b[i].nll - a[i].nll;
    count[i] = static_cast<double>(a[i].count);
    gap_sum += gap[i];
    count_sum += count[i];
  }
  paired_difference out;
  out.difference = gap_sum / count_sum;
  out.level = options.level;
  out.sequences = static_cast<std::int64_t>(n);
  out.tokens = static_cast<std::int64_t>(count_sum);
  out.resamples = options.resamples;
  std::vector<double> statistics(static_cast<std::size_t>(options.resamples));
  for (int r = 0; r < options.resamples; ++r) {
    double g = 0, c = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t pick = detail::bootstrap_pick(options.seed, 0x626f6f74u /* "boot" */,
                                                      static_cast<std::uint32_t>(r), i, n);
      g += gap[pick];
      c += count[pick];
    }
    statistics[static_cast<std::size_t>(r)] = g / c;
  }
  detail::percentile_interval(statistics, options.level, out.low, out.high);
  return out;
}

/// As above, for vectors.
[[nodiscard]] inline paired_difference compare_paired(const std::vector<model::loss_sum>& a,
                                                      const std::vector<model::loss_sum>& b,
                                                      const bootstrap_options& options = {}) {
  return compare_paired(std::span<const model::loss_sum>(a), std::span<const model::loss_sum>(b), options);
}

/// The paired difference `b − a` over replicates (e.g. training seeds) of two methods, each
/// evaluated on the same sequences: `a[r][i]` is sequence `i`'s loss in replicate `r` of a. Either
/// side may hold a single replicate — an arm with no random part, reported as one run — which is
/// then paired with every replicate of the other; otherwise both hold the same number and
/// replicate `r` of a is paired with replicate `r` of b (same seed: same data order, same noise).
/// The difference is the mean over replicates of the per-token mean-loss difference; its interval
/// is a two-level percentile bootstrap: each resample draws the replicates with replacement and,
/// independently, the sequences with replacement (one draw shared by every replicate, so the
/// pairing by sequence is kept), so the interval carries both the spread between seeds and the
/// spread between sequences. With one replicate on both sides it equals `compare_paired`.
/// \throws gift::error as `compare_paired`, or for replicate counts that cannot be paired.
[[nodiscard]] inline paired_difference compare_replicates(const std::vector<std::vector<model::loss_sum>>& a,
                                                          const std::vector<std::vector<model::loss_sum>>& b,
                                                          const bootstrap_options& options = {}) {
  const char* where = "gift::pipeline::compare_replicates";
  gift::detail::require(!a.empty() && !b.empty() && (a.size() == b.size() || a.size() == 1 || b.size() == 1), where,
                        ": expected the same number of replicates on both sides (or one on a side with no random "
                        "part), but got ", a.size(), " and ", b.size());
  detail::check_bootstrap_options(options, where);
  const std::size_t replicates = std::max(a.size(), b.size());
  if (replicates == 1) return compare_paired(a[0], b[0], options);
  const std::size_t n = a[0].size();
  gift::detail::require(n > 0 && n < (std::size_t{1} << 32), where, ": expected 1 to 2^32 - 1 sequences, got ", n);
  std::vector<double> count(n);
  std::vector<std::vector<double>> gap(replicates, std::vector<double>(n));
  double count_sum = 0;
  for (std::size_t r = 0; r < replicates; ++r) {
    const auto& left = a[a.size() == 1 ? 0 : r];
    const auto& right = b[b.size() == 1 ? 0 : r];
    gift::detail::require(left.size() == n && right.size() == n, where, ": replicate ", r, " holds ", left.size(),
                          " and ", right.size(), " sequence losses, but replicate 0 holds ", n,
                          "; every replicate must evaluate the same evaluation set");
    for (std::size_t i = 0; i < n; ++i) {
      gift::detail::require(left[i].count == right[i].count && left[i].count > 0 && left[i].count == a[0][i].count,
                            where, ": sequence ", i, " of replicate ", r, " predicts ", left[i].count, " token(s) in a "
                            "and ", right[i].count, " in b; compare evaluations of the same evaluation set");
      gap[r][i] = right[i].nll - left[i].nll;
    }
  }
  for (std::size_t i = 0; i < n; ++i) {
    count[i] = static_cast<double>(a[0][i].count);
    count_sum += count[i];
  }
  paired_difference out;
  for (std::size_t r = 0; r < replicates; ++r) {
    double g = 0;
    for (double x : gap[r]) g += x;
    out.difference += g / count_sum / static_cast<double>(replicates);
  }
  out.level = options.level;
  out.sequences = static_cast<std::int64_t>(n);
  out.tokens = static_cast<std::int64_t>(count_sum);
  out.resamples = options.resamples;
  out.replicates = static_cast<std::int64_t>(replicates);
  std::vector<double> statistics(static_cast<std::size_t>(options.resamples));
  std::vector<std::size_t> picks(n);
  for (int s = 0; s < options.resamples; ++s) {
    const auto draw = static_cast<std::uint32_t>(s);
    double c = 0;
    for (std::size_t i = 0; i < n; ++i) {
      picks[i] = detail::bootstrap_pick(options.seed, 0x626f6f74u /* "boot" */, draw, i, n);
      c += count[picks[i]];
    }
    double total = 0;
    for (std::size_t r = 0; r < replicates; ++r) {
      const std::size_t chosen = detail::bootstrap_pick(options.seed, 0x72657073u /* "reps" */, draw, r, replicates);
      double g = 0;
      for (std::size_t i = 0; i < n; ++i) g += gap[chosen][picks[i]];
      total += g / c;
    }
    statistics[static_cast<std::size_t>(s)] = total / static_cast<double>(replicates);
  }
  detail::percentile_interval(statistics, options.level, out.low, out.high);
  return out;
}

}  // namespace gift::pipeline
