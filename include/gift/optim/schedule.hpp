#pragma once
/// \file gift/optim/schedule.hpp
/// \brief Learning-rate schedules: constant, linear warmup then linear decay, and cosine with a
/// warmup ratio (the GIFT-SW paper uses 0.03). Each maps the 0-based optimizer step to a rate
/// with the same formulas as Hugging Face `transformers`, so runs can be compared.
/// `named_schedule` picks one by name (a front end's `--schedule` option).

#include <gift/error.hpp>

#include <cmath>
#include <concepts>
#include <cstdint>
#include <functional>
#include <numbers>
#include <string>
#include <string_view>

namespace gift::optim {

/// A schedule: a callable from the 0-based step to the learning rate.
template <class S>
concept learning_rate_schedule = requires(const S& schedule, std::uint64_t step) {
  { schedule(step) } -> std::convertible_to<double>;
};

namespace detail {
inline void check_rate(double peak, const char* where) {
  gift::detail::require(std::isfinite(peak) && peak >= 0.0, where,
                        ": argument 'peak' (the learning rate) must be finite and >= 0, but it is ", peak);
}
inline std::uint64_t warmup_steps_from_ratio(double ratio, std::uint64_t total_steps, const char* where) {
  gift::detail::require(ratio >= 0.0 && ratio <= 1.0, where, ": argument 'warmup_ratio' must lie in [0, 1], but it is ",
                        ratio);
  gift::detail::require(total_steps > 0, where, ": argument 'total_steps' must be > 0");
  return static_cast<std::uint64_t>(std::ceil(ratio * static_cast<double>(total_steps)));
}
/// step / warmup for step < warmup (0 at step 0, as in transformers), else 1.
inline double warmup_factor(std::uint64_t step, std::uint64_t warmup) {
  return step < warmup ? static_cast<double>(step) / static_cast<double>(warmup) : 1.0;
}
}  // namespace detail

/// The same rate at every step, optionally after a linear warmup of `warmup_steps`.
struct constant_schedule {
  double peak;                    ///< the learning rate
  std::uint64_t warmup_steps = 0;  ///< steps of linear warmup from 0

  /// \throws gift::error on a negative or non-finite rate.
  explicit constant_schedule(double rate, std::uint64_t warmup = 0) : peak(rate), warmup_steps(warmup) {
    detail::check_rate(rate, "gift::optim::constant_schedule");
  }
  /// The rate at 0-based `step`.
  [[nodiscard]] double operator()(std::uint64_t step) const { return peak * detail::warmup_factor(step, warmup_steps); }
};

/// Linear warmup over `ceil(warmup_ratio · total_steps)` steps to `peak`, then linear decay to 0
/// at `total_steps` (transformers' "linear" schedule).
struct linear_schedule {
  double peak;                  ///< rate at the end of warmup
  std::uint64_t total_steps;    ///< steps of the whole run
  std::uint64_t warmup_steps;   ///< derived from the ratio

  /// \throws gift::error on a bad rate, a ratio outside [0, 1] or zero total steps.
  linear_schedule(double rate, std::uint64_t total, double warmup_ratio = 0.03)
      : peak(rate), total_steps(total),
        warmup_steps(detail::warmup_steps_from_ratio(warmup_ratio, total, "gift::optim::linear_schedule")) {
    detail::check_rate(rate, "gift::optim::linear_schedule");
  }
  /// The rate at 0-based `step`.
  [[nodiscard]] double operator()(std::uint64_t step) const {
    if (step < warmup_steps) return peak * detail::warmup_factor(step, warmup_steps);
    if (step >= total_steps) return 0.0;
    const double remaining = static_cast<double>(total_steps - step);
    const double span = static_cast<double>(total_steps - warmup_steps);
    return peak * remaining / (span > 0 ? span : 1.0);
  }
};

/// Linear warmup over `ceil(warmup_ratio · total_steps)` steps to `peak`, then half a cosine down
/// to `floor` at `total_steps` (transformers' "cosine" schedule when floor = 0).
struct cosine_schedule {
  double peak;                 ///< rate at the end of warmup
  std::uint64_t total_steps;   ///< steps of the whole run
  std::uint64_t warmup_steps;  ///< derived from the ratio
  double floor = 0.0;          ///< the final rate

  /// \throws gift::error on a bad rate or floor, a ratio outside [0, 1] or zero total steps.
  cosine_schedule(double rate, std::uint64_t total, double warmup_ratio = 0.03, double final_rate = 0.0)
      : peak(rate), total_steps(total),
        warmup_steps(detail::warmup_steps_from_ratio(warmup_ratio, total, "gift::optim::cosine_schedule")),
        floor(final_rate) {
    detail::check_rate(rate, "gift::optim::cosine_schedule");
    gift::detail::require(std::isfinite(final_rate) && final_rate >= 0.0 && final_rate <= rate,
                          "gift::optim::cosine_schedule: argument 'final_rate' must lie in [0, peak], but it is ",
                          final_rate);
  }
  /// The rate at 0-based `step`.
  [[nodiscard]] double operator()(std::uint64_t step) const {
    if (step < warmup_steps) return peak * detail::warmup_factor(step, warmup_steps);
    if (step >= total_steps) return floor;
    const double span = static_cast<double>(total_steps - warmup_steps);
    const double progress = static_cast<double>(step - warmup_steps) / (span > 0 ? span : 1.0);
    return floor + (peak - floor) * 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
  }
};

/// The schedule called `name` — "constant" (after a warmup of `ceil(warmup_ratio · total_steps)`
/// steps), "linear" or "cosine" — with peak rate `rate` over `total_steps` steps.
/// \throws gift::error for another name (listing the three), or what the schedule itself refuses.
[[nodiscard]] inline std::function<double(std::uint64_t)> named_schedule(std::string_view name, double rate,
                                                                        std::uint64_t total_steps, double warmup_ratio) {
  if (name == "constant")
    return constant_schedule(rate, detail::warmup_steps_from_ratio(warmup_ratio, total_steps, "gift::optim::named_schedule"));
  if (name == "linear") return linear_schedule(rate, total_steps, warmup_ratio);
  if (name == "cosine") return cosine_schedule(rate, total_steps, warmup_ratio);
  throw error("gift::optim::named_schedule: the schedule must be constant, linear or cosine, but is '" +
              std::string(name) + "'");
}

}  // namespace gift::optim
