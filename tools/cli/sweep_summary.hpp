#pragma once
// The statistics of a sweep's results folder: groups.csv (each arm over its seeds: mean, std and a
// 95 % t-interval of the perplexity) and comparisons.csv (each arm against the config's
// "reference": the difference in mean loss per token with a two-level bootstrap interval over
// seeds and evaluation sequences, from the per-sequence losses every evaluation stores).
#include <gift/error.hpp>
#include <gift/io/atomic_file.hpp>
#include <gift/io/sequence_losses.hpp>
#include <gift/pipeline/compare.hpp>
#include <gift/pipeline/multiple_choice.hpp>

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
  /// Zero-shot accuracy on one domain (eval.task); NaN without a task.
  struct accuracy_of {
    double value = std::nan(""), low = std::nan(""), high = std::nan("");  ///< accuracy and its Wilson interval
    std::string items;  ///< per-item correctness file, relative to the results folder
  };
  sweep_cell cell;
  double ppl_in = 0, ppl_ood = 0;
  std::string losses_in, losses_ood;  ///< per-sequence loss files, relative to the results folder
  accuracy_of acc_in, acc_ood;
  double ppl_dev = std::nan("");  ///< perplexity on the dev split (finetune.choose_lr_on_dev)
};

/// The two-sided 95 % quantile of Student's t with `df` degrees of freedom.
inline double student_t_975(std::int64_t df) {
  static const double table[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
                                 2.201,  2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086};
  if (df <= 0) return std::nan("");
  if (df <= 20) return table[df - 1];
  return 1.960 + 2.4 / static_cast<double>(df);  // within 0.003 of the exact value for df > 20
}

/// The key of a cell's arm: its id without the seed (and without the calibration sample the seed drew).
inline std::string arm_of(const sweep_cell& cell) {
  sweep_cell arm = cell;
  arm.seed = 0;
  arm.calibration_seed = -1;
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
         field("group_size", std::to_string(of.group_size), std::to_string(candidate.group_size)) &&
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

namespace detail_summary {
/// Mean, sample standard deviation and the half-width of the 95 % t-interval of `values` (the
/// last two NaN for a single value: one run has no spread to report).
struct spread {
  double mean = 0, sd = std::nan(""), half = std::nan("");
};
inline spread spread_of(const std::vector<double>& values) {
  spread out;
  for (double v : values) out.mean += v / static_cast<double>(values.size());
  const auto n = static_cast<std::int64_t>(values.size());
  if (n < 2) return out;
  double square = 0;
  for (double v : values) square += (v - out.mean) * (v - out.mean);
  out.sd = std::sqrt(square / static_cast<double>(n - 1));
  out.half = student_t_975(n - 1) * out.sd / std::sqrt(static_cast<double>(n));
  return out;
}
}  // namespace detail_summary

/// The arm of a cell with its learning rate left out: the cells among which the dev split chooses.
inline std::string arm_without_lr(const sweep_cell& cell) {
  sweep_cell arm = cell;
  arm.lr = 0;
  std::string id = arm_of(arm);
  if (id.size() > 4 && id.compare(id.size() - 4, 4, "_lr0") == 0) id.resize(id.size() - 4);
  return id;
}

/// finetune.choose_lr_on_dev: for each arm (learning rate left out), the learning rate whose runs
/// have the lowest mean dev loss (mean of log perplexity over seeds); writes lr_selection.csv
/// (every candidate, its runs, its mean dev perplexity and whether it was chosen) and returns the
/// untrained cells and the trained cells of the chosen learning rates. Only arms whose every
/// learning rate has the same seeds are compared (a learning rate with fewer finished seeds would
/// be judged on other data); the others keep all their cells and are listed as "incomplete".
inline std::vector<sweep_result> choose_learning_rates(const std::filesystem::path& out,
                                                        const std::vector<sweep_result>& results) {
  using detail_summary::format;
  struct candidate {
    std::vector<std::int64_t> seeds;
    double log_sum = 0;
    bool finite = true;
  };
  std::vector<std::string> order;
  std::map<std::string, std::map<double, candidate>> arms;
  for (const auto& r : results) {
    if (r.cell.method == "none") continue;
    const std::string arm = arm_without_lr(r.cell);
    if (arms.count(arm) == 0) order.push_back(arm);
    candidate& c = arms[arm][r.cell.lr];
    c.seeds.push_back(r.cell.seed);
    c.finite = c.finite && std::isfinite(r.ppl_dev);
    c.log_sum += std::log(r.ppl_dev);
  }
  std::map<std::string, double> chosen;
  std::string table = "arm,lr,runs,dev_ppl_mean,chosen\n";
  for (const auto& arm : order) {
    auto& candidates = arms[arm];
    bool comparable = true;
    for (auto& [lr, c] : candidates) {
      std::sort(c.seeds.begin(), c.seeds.end());
      comparable = comparable && c.finite && c.seeds == candidates.begin()->second.seeds;
    }
    double best = std::nan("");
    if (comparable) {
      double best_loss = 0;
      for (const auto& [lr, c] : candidates)
        if (std::isnan(best) || c.log_sum < best_loss) {
          best = lr;
          best_loss = c.log_sum;
        }
      chosen[arm] = best;
    }
    for (const auto& [lr, c] : candidates) {
      const double mean = std::exp(c.log_sum / static_cast<double>(c.seeds.size()));
      table += arm + "," + format(lr) + "," + std::to_string(c.seeds.size()) + "," + format(mean) + "," +
               (comparable ? (lr == best ? "yes" : "no") : "incomplete") + "\n";
    }
  }
  io::write_file_atomically(out / "lr_selection.csv", std::as_bytes(std::span<const char>(table.data(), table.size())));
  std::vector<sweep_result> kept;
  for (const auto& r : results) {
    if (r.cell.method != "none") {
      const auto it = chosen.find(arm_without_lr(r.cell));
      if (it != chosen.end() && it->second != r.cell.lr) continue;
    }
    kept.push_back(r);
  }
  return kept;
}

/// Writes groups.csv and comparisons.csv into `out` from `results` (finished cells, in order);
/// returns the number of comparisons written. groups.csv: per arm and domain, the perplexity's
/// mean, std and 95 % t-interval over its runs (std and interval empty for one run) and, with a
/// task, the accuracy's mean and interval (one run: its Wilson interval; several: the hull of the
/// t-interval over runs and the Wilson interval of the mean accuracy over the items, since every
/// run scores the same items). comparisons.csv: per arm, domain and measure, the difference against the
/// reference with its two-level bootstrap interval — "loss" in nats per token (b − a; negative is
/// better, with the perplexity ratio), "accuracy" as a fraction (positive is better).
namespace detail_summary {
/// The runs of a sweep grouped by arm (every field but the seed), in the order of first appearance.
struct arm_runs {
  std::vector<std::string> order;
  std::map<std::string, std::vector<const sweep_result*>> arms;
};

inline arm_runs group_by_arm(const std::vector<sweep_result>& results) {
  arm_runs grouped;
  for (const auto& r : results) {
    const std::string arm = arm_of(r.cell);
    if (grouped.arms.count(arm) == 0) grouped.order.push_back(arm);
    grouped.arms[arm].push_back(&r);
  }
  return grouped;
}

/// groups.csv: per arm and domain, perplexity and accuracy over the seeds (mean, std, 95 % CI).
inline std::string groups_table(const std::filesystem::path& out, const arm_runs& grouped) {
  const auto& order = grouped.order;
  const auto& arms = grouped.arms;
  std::string groups = "arm,method,quantizer,bits,setting,lr,runs,domain,ppl_mean,ppl_std,ppl_ci_low,ppl_ci_high,"
                       "acc_mean,acc_std,acc_ci_low,acc_ci_high\n";
  for (const auto& arm : order) {
    const auto& runs = arms.at(arm);
    const sweep_cell& c = runs.front()->cell;
    for (const char* domain : {"in", "ood"}) {
      const bool in = std::string(domain) == "in";
      std::vector<double> values, accuracies;
      for (const auto* r : runs) {
        values.push_back(in ? r->ppl_in : r->ppl_ood);
        accuracies.push_back((in ? r->acc_in : r->acc_ood).value);
      }
      if (!std::isfinite(values.front())) continue;
      const auto ppl = detail_summary::spread_of(values);
      groups += arm + "," + c.method + "," + c.quantizer + "," + std::to_string(c.bits) + "," + c.setting + "," +
                format(c.lr) + "," + std::to_string(values.size()) + "," + domain + "," + format(ppl.mean) + "," +
                format(ppl.sd) + "," + format(ppl.mean - ppl.half) + "," + format(ppl.mean + ppl.half) + ",";
      // The accuracy's interval must carry the item sample as well as the seeds: every run scores
      // the same items, so a t-interval over seeds alone is zero when the runs agree. Reported:
      // the hull of the t-interval and the Wilson interval of the mean accuracy over the items.
      const auto acc = detail_summary::spread_of(accuracies);
      const auto& single = in ? runs.front()->acc_in : runs.front()->acc_ood;
      double low = single.low, high = single.high;
      if (runs.size() > 1 && std::isfinite(acc.mean) && !single.items.empty()) {
        const auto items = static_cast<double>(io::read_sequence_losses(out / single.items).size());
        const auto [w_low, w_high] = pipeline::choice_scores::wilson_interval(acc.mean * items, items);
        low = std::min(w_low, acc.mean - acc.half);
        high = std::max(w_high, acc.mean + acc.half);
      }
      groups += format(acc.mean) + "," + format(acc.sd) + "," + format(low) + "," + format(high) + "\n";
    }
  }
  return groups;
}

/// comparisons.csv: each arm against its reference, paired by seed, loss and accuracy per domain,
/// with the paired bootstrap CI of the difference; `written` counts the rows.
inline std::string comparisons_table(const std::filesystem::path& out, const arm_runs& grouped,
                                     const std::map<std::string, std::string>& reference, std::int64_t& written) {
  const auto& order = grouped.order;
  const auto& arms = grouped.arms;
  std::string table = "arm,reference,domain,measure,replicates,sequences,tokens,difference,ci_low,ci_high,"
                      "ppl_ratio,ratio_ci_low,ratio_ci_high,excludes_zero\n";
  if (reference.empty()) return table;
  for (const auto& arm : order) {
    const sweep_cell& c = arms.at(arm).front()->cell;
    std::vector<std::string> matches;
    for (const auto& other : order)
      if (other != arm && is_reference(reference, c, arms.at(other).front()->cell)) matches.push_back(other);
    if (matches.empty()) continue;  // the reference itself, or an arm without one
    // An untrained arm has no setting: with pre and post references it has no single one.
    if (matches.size() > 1 && c.method == "none") continue;
    gift::require(matches.size() == 1, "gift sweep: \"reference\" matches ", matches.size(), " arms for ",
                  arm, " (", matches.front(), ", ", matches.back(), ", ...); name more fields of the "
                  "reference arm (e.g. \"bits\", \"quantizer\") so that it names one");
    const auto& ref_runs = arms.at(matches.front());
    const auto& own_runs = arms.at(arm);
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
    for (const char* domain : {"in", "ood"})
      for (const bool accuracy : {false, true}) {
        const bool in = std::string(domain) == "in";
        // The stored file of a run: its per-sequence losses, or its items' 1 − correct (a loss of
        // one token each, so the mean-loss difference is minus the accuracy difference).
        const auto file_of = [&](const sweep_result* r) -> const std::string& {
          if (accuracy) return in ? r->acc_in.items : r->acc_ood.items;
          return in ? r->losses_in : r->losses_ood;
        };
        std::vector<std::vector<model::loss_sum>> la, lb;
        for (const auto* r : a)
          if (!file_of(r).empty()) la.push_back(detail_summary::losses_of(out / file_of(r)));
        for (const auto* r : b)
          if (!file_of(r).empty()) lb.push_back(detail_summary::losses_of(out / file_of(r)));
        if (la.size() != a.size() || lb.size() != b.size()) continue;  // evaluated without stored files
        const auto d = pipeline::compare_replicates(la, lb);
        table += arm + "," + matches.front() + "," + domain + "," + (accuracy ? "accuracy" : "loss") + "," +
                 std::to_string(d.replicates) + "," + std::to_string(d.sequences) + "," + std::to_string(d.tokens) +
                 ",";
        if (accuracy)
          table += format(0.0 - d.difference) + "," + format(0.0 - d.high) + "," + format(0.0 - d.low) + ",,,,";
        else
          table += format(d.difference) + "," + format(d.low) + "," + format(d.high) + "," +
                   format(std::exp(d.difference)) + "," + format(std::exp(d.low)) + "," + format(std::exp(d.high)) +
                   ",";
        table += std::string(d.excludes_zero() ? "true" : "false") + "\n";
        ++written;
      }
  }
  return table;
}
}  // namespace detail_summary

inline std::int64_t write_sweep_summary(const std::filesystem::path& out, const std::vector<sweep_result>& results,
                                        const std::map<std::string, std::string>& reference) {
  const auto grouped = detail_summary::group_by_arm(results);
  const std::string groups = detail_summary::groups_table(out, grouped);
  io::write_file_atomically(out / "groups.csv", std::as_bytes(std::span<const char>(groups.data(), groups.size())));
  std::int64_t written = 0;
  const std::string table = detail_summary::comparisons_table(out, grouped, reference, written);
  io::write_file_atomically(out / "comparisons.csv", std::as_bytes(std::span<const char>(table.data(), table.size())));
  return written;
}

}  // namespace gift::cli
