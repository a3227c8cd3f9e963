#pragma once
// The statistics of a sweep's results folder: groups.csv (each arm over its seeds: mean, std and a
// 95 % t-interval of the perplexity) and comparisons.csv (each arm against the config's
// "reference": the difference in mean loss per token with a two-level bootstrap interval over
// seeds and evaluation sequences, from the per-sequence losses every evaluation stores).
#include <gift/error.hpp>
#include <gift/io/atomic_file.hpp>
#include <gift/io/sequence_losses.hpp>
#include <gift/pipeline/compare.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "sweep_config.hpp"

namespace gift::cli {

/// One finished cell as the summary needs it.
struct sweep_result {
  sweep_cell cell;
  double ppl_in = 0, ppl_ood = 0;
  std::string losses_in, losses_ood;  ///< per-sequence loss files, relative to the results folder
};

/// The two-sided 95 % quantile of Student's t with `df` degrees of freedom.
inline double student_t_975(std::int64_t df) {
  static const double table[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                                 2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086};
  if (df <= 0) return std::nan("");
  if (df <= 20) return table[df - 1];
  return 1.960 + 2.4 / static_cast<double>(df);  // within 0.003 of the exact value for df > 20
}

/// The key of a cell's arm: its id without the seed.
inline std::string arm_of(const sweep_cell& cell) {
  sweep_cell arm = cell;
  arm.seed = 0;
  std::string id = arm.id();
  if (cell.method != "none") id.resize(id.size() - 3);  // drop "_s0"
  return id;
}

/// Whether arm `candidate` is the reference of arm `of` under `reference` (the named fields take
/// the reference's values, the others but the learning rate must match).
inline bool is_reference(const std::map<std::string, std::string>& reference, const sweep_cell& of,
                         const sweep_cell& candidate) {
  const auto field = [&](const std::string& key, const std::string& own, const std::string& theirs) {
    const auto it = reference.find(key);
    return it != reference.end() ? theirs == it->second : theirs == own;
  };
  const bool untrained = candidate.method == "none";
  return field("method", of.method, candidate.method) && field("metric", of.metric.slug(), candidate.metric.slug()) &&
         field("bits", std::to_string(of.bits), std::to_string(candidate.bits)) &&
         field("quantizer", of.quantizer, candidate.quantizer) &&
         (untrained || field("setting", of.setting, candidate.setting)) &&
         field(of.size_is_k ? "k" : "fraction", sweep_cell::number(of.size), sweep_cell::number(candidate.size)) &&
         of.size_is_k == candidate.size_is_k;
}

namespace detail_summary {
inline std::vector<model::loss_sum> losses_of(const std::filesystem::path& file) {
  std::vector<model::loss_sum> out;
  for (const auto& row : io::read_sequence_losses(file)) out.push_back({row.nll, row.tokens});
  return out;
}
inline std::string format(double value) {
  if (!std::isfinite(value)) return "";
  char text[40];
  std::snprintf(text, sizeof text, "%.6g", value);
  return text;
}
}  // namespace detail_summary

/// Writes groups.csv and comparisons.csv into `out` from `results` (finished cells, in order);
/// returns the number of comparisons written.
inline std::int64_t write_sweep_summary(const std::filesystem::path& out, const std::vector<sweep_result>& results,
                                        const std::map<std::string, std::string>& reference) {
  using detail_summary::format;
  std::vector<std::string> order;
  std::map<std::string, std::vector<const sweep_result*>> arms;
  for (const auto& r : results) {
    const std::string arm = arm_of(r.cell);
    if (arms.count(arm) == 0) order.push_back(arm);
    arms[arm].push_back(&r);
  }
  std::string groups = "arm,method,quantizer,bits,setting,lr,runs,domain,ppl_mean,ppl_std,ppl_ci_low,ppl_ci_high\n";
  for (const auto& arm : order) {
    const auto& runs = arms[arm];
    const sweep_cell& c = runs.front()->cell;
    for (const char* domain : {"in", "ood"}) {
      std::vector<double> values;
      for (const auto* r : runs) values.push_back(std::string(domain) == "in" ? r->ppl_in : r->ppl_ood);
      if (!std::isfinite(values.front())) continue;
      double mean = 0;
      for (double v : values) mean += v / static_cast<double>(values.size());
      double square = 0;
      for (double v : values) square += (v - mean) * (v - mean);
      const auto n = static_cast<std::int64_t>(values.size());
      // One run (an arm without a random part, or one seed) has no spread to report.
      const double sd = n > 1 ? std::sqrt(square / static_cast<double>(n - 1)) : std::nan("");
      const double half = n > 1 ? student_t_975(n - 1) * sd / std::sqrt(static_cast<double>(n)) : std::nan("");
      groups += arm + "," + c.method + "," + c.quantizer + "," + std::to_string(c.bits) + "," + c.setting + "," +
                format(c.lr) + "," + std::to_string(n) + "," + domain + "," + format(mean) + "," + format(sd) + "," +
                format(mean - half) + "," + format(mean + half) + "\n";
    }
  }
  io::write_file_atomically(out / "groups.csv", std::as_bytes(std::span<const char>(groups.data(), groups.size())));

  std::string table = "arm,reference,domain,replicates,sequences,tokens,difference_nats,ci_low,ci_high,"
                      "ppl_ratio,ratio_ci_low,ratio_ci_high,excludes_zero\n";
  std::int64_t written = 0;
  if (!reference.empty()) {
    for (const auto& arm : order) {
      const sweep_cell& c = arms[arm].front()->cell;
      std::vector<std::string> matches;
      for (const auto& other : order)
        if (other != arm && is_reference(reference, c, arms[other].front()->cell)) matches.push_back(other);
      if (matches.empty()) continue;  // the reference itself, or an arm without one
      gift::detail::require(matches.size() == 1, "gift sweep: \"reference\" matches ", matches.size(), " arms for ",
                            arm, " (", matches.front(), ", ", matches.back(), ", ...); name more fields of the "
                            "reference arm (e.g. \"bits\", \"quantizer\") so that it names one");
      const auto& ref_runs = arms[matches.front()];
      const auto& own_runs = arms[arm];
      // Pair by seed when both sides have seeds; a side with one run pairs with every run.
      std::vector<const sweep_result*> a, b;
      if (ref_runs.size() == 1 || own_runs.size() == 1) {
        a = ref_runs;
        b = own_runs;
      } else {
        for (const auto* r : own_runs)
          for (const auto* q : ref_runs)
            if (q->cell.seed == r->cell.seed) {
              a.push_back(q);
              b.push_back(r);
            }
        if (a.empty()) continue;
      }
      for (const char* domain : {"in", "ood"}) {
        const bool in = std::string(domain) == "in";
        std::vector<std::vector<model::loss_sum>> la, lb;
        for (const auto* r : a)
          if (!(in ? r->losses_in : r->losses_ood).empty())
            la.push_back(detail_summary::losses_of(out / (in ? r->losses_in : r->losses_ood)));
        for (const auto* r : b)
          if (!(in ? r->losses_in : r->losses_ood).empty())
            lb.push_back(detail_summary::losses_of(out / (in ? r->losses_in : r->losses_ood)));
        if (la.size() != a.size() || lb.size() != b.size()) continue;  // evaluated without stored losses
        const auto d = pipeline::compare_replicates(la, lb);
        table += arm + "," + matches.front() + "," + domain + "," + std::to_string(d.replicates) + "," +
                 std::to_string(d.sequences) + "," + std::to_string(d.tokens) + "," + format(d.difference) + "," +
                 format(d.low) + "," + format(d.high) + "," + format(std::exp(d.difference)) + "," +
                 format(std::exp(d.low)) + "," + format(std::exp(d.high)) + "," +
                 (d.excludes_zero() ? "true" : "false") + "\n";
        ++written;
      }
    }
  }
  io::write_file_atomically(out / "comparisons.csv", std::as_bytes(std::span<const char>(table.data(), table.size())));
  return written;
}

}  // namespace gift::cli
