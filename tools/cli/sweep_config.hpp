#pragma once
// The configuration of `gift sweep` (a small JSON file) and the grid of cells it describes.
//
//   {
//     "metrics":   ["gift_sw", "quik", {"tau": "2", "rho": "inf", "gamma": "1"}],
//     "bits":      [2, 3, 4],
//     "fraction":  [0.03125],              (or "k": [32]; one of the two)
//     "quantizer": ["rtn", "gptq"],        (or "none": fine-tune and evaluate the full-precision model)
//     "alpha":     "grid100",
//     "settings":  ["post"],               (post: quantize, then fine-tune; pre: fine-tune, then quantize)
//     "methods":   ["none", "gift_sw", "gift_sw_no_noise", "lora", "dora", "full", "ste", "quik_lora",
//                   "svft", "npft"],
//     "lr":        [1e-4],                 (one list for every method, or an object {"lora": [...], ...})
//     "seeds":     [0, 1, 2],
//     "noise_bits": [2, 3, 4],             (GIFT-SW's noise grid as a factor; default: the grid of "bits")
//     "group_size": [0, 64],               (columns per quantizer scale, rtn only; 0: one per row)
//     "calibration": {"tokens": 4096, "seq": 256, "vary_with_seed": true},
//     "eval":      {"files": 64, "windows_per_file": 1, "sample_seed": 0, "split": "validation",
//                   "seq": 256, "batch": 8, "out_of_domain": "fortunes",
//                   "task": {"name": "next_passage", "items": 64, "context": 96, "continuation": 32, "choices": 4}},
//     "finetune":  {"steps": 40, "batch": 1, "seq": 256, "match_params": true, "rank": 8, "lora_alpha": 16,
//                   "vary_data": true, "choose_lr_on_dev": true,
//                   "method_options": {"npft": "--rank 16 --lora-alpha 32", "svft": "--svft-pattern banded"}},
//     "reference": {"method": "lora"}
//   }
//
// Evaluation: with "files" > 0 each domain is evaluated on a fixed sample of windows, "files"
// documents of the split times "windows_per_file" windows of "seq" tokens (gift eval --files),
// the same for every cell; without it, on the split's first "tokens" tokens (the old design, kept
// so that old result folders stay comparable). "split": "dev" evaluates on the development split
// (for choosing learning rates), "validation" on the reported one. Every evaluation writes its
// per-sequence losses beside its JSON (<name>.losses.csv), so any two cells compare paired.
// "task" adds zero-shot accuracy on each domain (gift eval --task, items drawn from the same split
// with "sample_seed"): rows get acc_in/acc_ood with a Wilson interval, and each item's
// correctness is stored beside the JSON (<name>.items.csv) for paired accuracy comparisons.
//
// Replicates: a seed drives GIFT-SW's noise and an adapter's initialisation and, with "vary_data"
// (the default), also which training documents fill the token budget and their order
// (gift finetune --data-seed). With "calibration": {"vary_with_seed": true} a seed also draws the
// calibration sample (gift calibrate --data-seed): every seed selects its own salient columns and
// quantizes with its own statistics, and method "none" then runs once per seed. Without it the
// calibration sample is the same for every seed. Each row's "seed_drives" says what its seed drew.
//
// "choose_lr_on_dev": every trained cell is also evaluated on the dev split of linux-doc (the same
// window design, disjoint files); for each arm the learning rate with the lowest mean dev loss
// over its seeds is chosen (lr_selection.csv lists every candidate), and groups.csv and
// comparisons.csv report the chosen learning rate's validation numbers only. Validation never
// decides anything. Needs "eval.files" (the window design) and "eval.split" validation.
//
// "reference" names the arm every other arm is compared with: its fields (method, metric, bits,
// quantizer, setting, fraction or k) replace a cell's, the others (but the learning rate) must
// match. The sweep writes groups.csv (mean, std and a 95 % t-interval over seeds) and
// comparisons.csv (the difference in mean loss against the reference with a two-level bootstrap
// interval over seeds and evaluation sequences, pipeline::compare_replicates).
//
// "noise_bits" trains GIFT-SW with the noise of another grid than the target's: post-quantization
// GIFT-SW at 3 bits with 4-bit noise separates "noise hurts" from "3-bit noise hurts". Without it
// the noise is that of "bits" (the paper's choice: the target grid's Δ). Other methods ignore it.
//
// "group_size" quantizes with one scale per group of columns (gift quantize --group-size, rtn
// only); the salient selection's D uses the same groups (gift select --group-size). GIFT-SW's
// training noise stays one scale per row (gift finetune has no group-wise noise yet).
//
// "method_options" appends options to `gift finetune` for that method ("rank"/"lora_alpha" apply
// to lora, dora and quik_lora; NPFT's adapter is sized by its own options). "npft_no_noise" is NPFT
// with --no-noise (its LoRA alone), as "gift_sw_no_noise" is GIFT-SW's; both take their base
// method's options.
//
// A size of 0 ("fraction": [0] or "k": [0]) keeps no salient column: `gift quantize --no-salient`
// quantizes every column, as NPFT's end product. Methods that train or keep salient columns
// (gift_sw, gift_sw_no_noise, ste, and --match-params adapters) are refused there.
//
// "grids": [{...}, {...}] runs several grids over the same shared settings (calibration, eval,
// finetune, alpha): each object may set the grid fields (metrics, bits, fraction or k, quantizer,
// settings, methods, lr, seeds), and takes the top level's value for those it leaves out. A cell
// two grids both describe runs once.
//
// Every field is optional except "metrics". Method "none" evaluates the quantized model without
// training; it has no learning rate, seed or setting, so it is one cell per (metric, bits, size,
// quantizer). A custom metric defaults its unset exponents as `gift select` does.
#include <gift/error.hpp>
#include <gift/io/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace gift::cli {

/// One metric of the sweep: a preset name, or τ/ρ/γ of a custom metric.
struct sweep_metric {
  std::string preset;           ///< "gift_sw", ... (empty for a custom metric)
  std::string tau, rho, gamma;  ///< a custom metric's exponents
  /// A short name for file names and tables ("gift_sw", "t2-rinf-g1").
  [[nodiscard]] std::string slug() const { return preset.empty() ? "t" + tau + "-r" + rho + "-g" + gamma : preset; }
  /// The `gift select` options that choose it.
  [[nodiscard]] std::vector<std::string> select_options() const {
    if (!preset.empty()) return {"--metric", preset};
    return {"--tau", tau, "--rho", rho, "--gamma", gamma};
  }
};

/// One cell: everything that decides its numbers.
struct sweep_cell {
  sweep_metric metric;
  int bits = 4;
  double size = 0.03125;  ///< fraction, or k when `size_is_k`
  bool size_is_k = false;
  std::string quantizer = "rtn";
  std::string setting = "post";
  std::string method = "none";
  double lr = 0;
  std::int64_t seed = 0;
  std::int64_t calibration_seed = -1;  ///< draws the calibration sample; −1: the sweep's one shared sample
  int noise_bits = 0;  ///< GIFT-SW's noise grid when it differs from `bits` (0: the grid of `bits`)
  std::int64_t group_size = 0;  ///< columns per quantizer scale (0: one scale per row)

  /// True when no column is salient (size 0): every column is quantized.
  [[nodiscard]] bool fully_quantized() const { return size == 0; }
  /// True when the calibration statistics decide its model: a salient selection, or GPTQ's Gram.
  [[nodiscard]] bool uses_calibration() const { return !fully_quantized() || quantizer == "gptq"; }
  /// The selection it uses (shared by every cell with the same metric, bits and size).
  [[nodiscard]] std::string selection_id() const {
    return metric.slug() + "_b" + std::to_string(bits) + (group_size > 0 ? "_g" + std::to_string(group_size) : "") +
           (size_is_k ? "_k" : "_f") + number(size) + (calibration_seed >= 0 ? "_c" + std::to_string(calibration_seed) : "");
  }
  /// The quantized model it starts from (post) or compares with.
  [[nodiscard]] std::string quantized_id() const { return selection_id() + "_" + quantizer; }
  /// Its own id: a file name, and the key a resumed sweep recognises it by.
  [[nodiscard]] std::string id() const {
    if (method == "none") return quantized_id() + "_none";
    return quantized_id() + (setting == "-" ? "" : "_" + setting) + "_" + method +
           (noise_bits > 0 ? "_nb" + std::to_string(noise_bits) : "") + "_lr" + number(lr) + "_s" +
           std::to_string(seed);
  }
  /// A number written short for an id (0.03125, 1e-04), with as many digits as it takes to read
  /// back exactly: two distinct values never share an id (1e-4 and 1.0000001e-4 differ).
  static std::string number(double value) {
    char text[40];
    for (int digits = 6; digits <= 17; ++digits) {
      std::snprintf(text, sizeof text, "%.*g", digits, value);
      if (std::strtod(text, nullptr) == value) break;
    }
    return text;
  }
};

/// The parsed configuration.
struct sweep_config {
  std::vector<sweep_cell> cells;
  std::int64_t calibration_tokens = 4096, calibration_seq = 256;
  std::int64_t eval_tokens = 8192, eval_seq = 256;
  std::int64_t eval_files = 0, eval_windows_per_file = 1, eval_sample_seed = 0, eval_batch = 4;
  std::string eval_split = "validation";
  std::string task;  ///< zero-shot task scored beside perplexity ("" for none; gift eval --task)
  std::int64_t task_items = 64, task_context = 96, task_continuation = 32, task_choices = 4;
  std::string out_of_domain = "fortunes";  ///< --data of the second evaluation ("" to skip)
  bool vary_data = true;                   ///< a seed also draws the training documents and their order
  bool vary_calibration = false;           ///< a seed also draws the calibration sample
  bool choose_lr_on_dev = false;           ///< report each arm at the learning rate best on the dev split
  std::map<std::string, std::string> reference;  ///< the fields that name the reference arm
  std::int64_t steps = 40, batch = 1, seq = 256, rank = 8;
  double lora_alpha = 16;
  bool match_params = true;
  std::map<std::string, std::string> method_options;  ///< extra `gift finetune` options per method
  std::string alpha = "grid100";
  bool needs_gram = false;  ///< some cell quantizes with GPTQ

  /// The settings every cell shares (not part of a cell's id): a sweep continued in the same
  /// folder must use the same ones, or its old and new cells would not be comparable.
  [[nodiscard]] std::string shared_settings() const {
    std::ostringstream out;
    out << "calibration.tokens=" << calibration_tokens << "\ncalibration.seq=" << calibration_seq
        << "\neval.tokens=" << eval_tokens << "\neval.seq=" << eval_seq << "\neval.out_of_domain=" << out_of_domain;
    // Written only when set, so that folders of sweeps from before these keys stay valid.
    if (eval_files > 0)
      out << "\neval.files=" << eval_files << "\neval.windows_per_file=" << eval_windows_per_file
          << "\neval.sample_seed=" << eval_sample_seed << "\neval.batch=" << eval_batch;
    if (eval_split != "validation") out << "\neval.split=" << eval_split;
    if (!task.empty())
      out << "\neval.task=" << task << "\neval.task.items=" << task_items << "\neval.task.context=" << task_context
          << "\neval.task.continuation=" << task_continuation << "\neval.task.choices=" << task_choices;
    if (!vary_data) out << "\nfinetune.vary_data=false";
    if (vary_calibration) out << "\ncalibration.vary_with_seed=true";
    if (choose_lr_on_dev) out << "\nfinetune.choose_lr_on_dev=true";
    out
        << "\nfinetune.steps=" << steps << "\nfinetune.batch=" << batch << "\nfinetune.seq=" << seq
        << "\nfinetune.rank=" << rank << "\nfinetune.lora_alpha=" << sweep_cell::number(lora_alpha)
        << "\nfinetune.match_params=" << (match_params ? "true" : "false") << "\nalpha=" << alpha << "\n";
    for (const auto& [method, options] : method_options) out << "finetune.method_options." << method << "=" << options << "\n";
    return out.str();
  }
};

namespace detail_sweep {
using gift::io::json_value;

[[noreturn]] inline void bad(const std::string& file, const std::string& field, const std::string& expected,
                             const json_value& got) {
  throw error("gift sweep: '" + file + "' field \"" + field + "\" must be " + expected + ", but is " +
              gift::io::json_kind_name(got.type));
}
inline std::vector<const json_value*> list(const json_value& root, const std::string& file, const char* key) {
  std::vector<const json_value*> items;
  const json_value* value = root.find(key);
  if (value == nullptr) return items;
  if (value->type != json_value::kind::array) {
    items.push_back(value);  // a single value is a list of one
    return items;
  }
  if (value->array.empty()) throw error("gift sweep: '" + file + "' field \"" + key + "\" is an empty list");
  for (const auto& item : value->array) items.push_back(&item);
  return items;
}
inline double number(const json_value& v, const std::string& file, const std::string& field) {
  if (v.type != json_value::kind::number || !std::isfinite(v.number)) bad(file, field, "a number", v);
  return v.number;
}
inline std::int64_t integer(const json_value& v, const std::string& file, const std::string& field, std::int64_t lo,
                            std::int64_t hi) {
  const double x = number(v, file, field);
  if (x != std::floor(x) || x < static_cast<double>(lo) || x > static_cast<double>(hi))
    throw error("gift sweep: '" + file + "' field \"" + field + "\" must be an integer in [" + std::to_string(lo) + ", " +
                std::to_string(hi) + "], but is " + std::to_string(x));
  return static_cast<std::int64_t>(x);
}
inline std::string text(const json_value& v, const std::string& file, const std::string& field) {
  if (v.type == json_value::kind::number) return sweep_cell::number(v.number);
  if (v.type != json_value::kind::string) bad(file, field, "a string", v);
  return v.string;
}
inline void check_keys(const json_value& object, const std::string& file, const std::string& where,
                       const std::vector<std::string>& known) {
  for (const auto& [key, value] : object.object) {
    bool ok = false;
    for (const auto& k : known) ok = ok || k == key;
    if (!ok) {
      std::string all;
      for (const auto& k : known) all += (all.empty() ? "" : ", ") + k;
      throw error("gift sweep: '" + file + "' has an unknown field \"" + key + "\"" + where + "; known: " + all);
    }
  }
}
}  // namespace detail_sweep

namespace detail_sweep {
/// The fields that describe a grid (a "grids" entry may set them); the rest are shared settings.
inline const std::vector<std::string> grid_fields = {"metrics", "bits",  "fraction", "k",          "quantizer", "settings",
                                                     "methods", "lr",    "seeds",    "noise_bits", "group_size"};

/// Appends the cells of one grid (`grid` holds the grid fields; `file` names it in messages) to
/// `config`, whose shared settings are read already.
// The "metrics" of a grid: preset names and {tau, rho, gamma} objects.
inline std::vector<sweep_metric> read_grid_metrics(const json_value& grid, const std::string& file) {
  std::vector<sweep_metric> metrics;
  for (const json_value* m : list(grid, file, "metrics")) {
    sweep_metric metric;
    if (m->type == json_value::kind::string) {
      metric.preset = m->string;
    } else if (m->type == json_value::kind::object) {
      check_keys(*m, file, " in a metric", {"tau", "rho", "gamma"});
      const auto get = [&](const char* key, const char* fallback) {
        const json_value* v = m->find(key);
        return v == nullptr ? std::string(fallback) : text(*v, file, std::string("metrics.") + key);
      };
      metric.tau = get("tau", "inf");
      metric.rho = get("rho", "inf");
      metric.gamma = get("gamma", "1");
    } else {
      bad(file, "metrics", "a list of preset names and {tau, rho, gamma} objects", *m);
    }
    metrics.push_back(metric);
  }
  gift::require(!metrics.empty(), "gift sweep: '", file, "' needs \"metrics\" (e.g. [\"gift_sw\", \"quik\"])");
  return metrics;
}

// The axes of one grid, as its JSON gives them (defaults filled in).
struct grid_axes {
  std::vector<sweep_metric> metrics;
  std::vector<int> bits;
  std::vector<std::int64_t> group_sizes;
  std::vector<double> sizes;  ///< salient fractions, or counts when size_is_k
  bool size_is_k = false;
  std::vector<std::string> quantizers, settings, methods;
  std::map<std::string, std::vector<double>> rates;  ///< per method, or "*" for all
  std::vector<std::int64_t> seeds;
  std::vector<int> noise_bits;  ///< GIFT-SW's noise grids (empty: the target's)
};

// Reads and checks the axes of `grid` (a top-level config or one of its "grids").
inline grid_axes read_grid_axes(const json_value& grid, const std::string& file) {
  grid_axes a;
  a.metrics = read_grid_metrics(grid, file);
  for (const json_value* b : list(grid, file, "bits")) a.bits.push_back(static_cast<int>(integer(*b, file, "bits", 2, 8)));
  if (a.bits.empty()) a.bits = {4};
  for (const json_value* g : list(grid, file, "group_size")) a.group_sizes.push_back(integer(*g, file, "group_size", 0, 1 << 20));
  if (a.group_sizes.empty()) a.group_sizes = {0};
  gift::require(grid.find("fraction") == nullptr || grid.find("k") == nullptr, "gift sweep: '", file,
                "' gives both \"fraction\" and \"k\"; give one");
  a.size_is_k = grid.find("k") != nullptr;
  for (const json_value* f : list(grid, file, a.size_is_k ? "k" : "fraction")) {
    // 0: no salient column, every column quantized.
    const double x = a.size_is_k ? static_cast<double>(integer(*f, file, "k", 0, 1 << 20)) : number(*f, file, "fraction");
    gift::require(a.size_is_k || (x >= 0 && x <= 1), "gift sweep: '", file, "' fraction ", x,
                  " is not in [0, 1] (0: every column quantized)");
    a.sizes.push_back(x);
  }
  if (a.sizes.empty()) a.sizes = {0.03125};
  for (const json_value* q : list(grid, file, "quantizer")) {
    a.quantizers.push_back(text(*q, file, "quantizer"));
    gift::require(a.quantizers.back() == "rtn" || a.quantizers.back() == "gptq" || a.quantizers.back() == "none",
                  "gift sweep: '", file, "' quantizer must be rtn, gptq or none (fine-tune the full-precision ",
                  "model), but is '", a.quantizers.back(), "'");
  }
  if (a.quantizers.empty()) a.quantizers = {"rtn"};
  for (const json_value* s : list(grid, file, "settings")) {
    a.settings.push_back(text(*s, file, "settings"));
    gift::require(a.settings.back() == "post" || a.settings.back() == "pre", "gift sweep: '", file,
                  "' settings must be post or pre, but is '", a.settings.back(), "'");
  }
  if (a.settings.empty()) a.settings = {"post"};
  for (const json_value* m : list(grid, file, "methods")) {
    a.methods.push_back(text(*m, file, "methods"));
    const std::string& name = a.methods.back();
    gift::require(name == "none" || name == "gift_sw" || name == "gift_sw_no_noise" || name == "lora" ||
                              name == "dora" || name == "full" || name == "ste" || name == "quik_lora" ||
                              name == "svft" || name == "npft" || name == "npft_no_noise",
                  "gift sweep: '", file, "' method '", name, "' is not one of none, gift_sw, gift_sw_no_noise, ",
                  "lora, dora, full, ste, quik_lora, svft, npft, npft_no_noise");
  }
  if (a.methods.empty()) a.methods = {"none"};
  // Learning rates: one list for all, or per method.
  if (const json_value* lr = grid.find("lr"); lr != nullptr && lr->type == json_value::kind::object) {
    for (const auto& [method, value] : lr->object) {
      if (value.type != json_value::kind::array) {
        a.rates[method].push_back(number(value, file, "lr." + method));
        continue;
      }
      for (const auto& r : value.array) a.rates[method].push_back(number(r, file, "lr." + method));
    }
  } else {
    for (const json_value* r : list(grid, file, "lr")) a.rates["*"].push_back(number(*r, file, "lr"));
  }
  for (const json_value* s : list(grid, file, "seeds")) a.seeds.push_back(integer(*s, file, "seeds", 0, 1LL << 53));
  if (a.seeds.empty()) a.seeds = {0};
  // GIFT-SW's noise grid as a factor of its own (the others have no noise grid to vary).
  for (const json_value* b : list(grid, file, "noise_bits"))
    a.noise_bits.push_back(static_cast<int>(integer(*b, file, "noise_bits", 2, 8)));
  return a;
}

// Appends the cells of `a` to `config.cells`, in a fixed order: metric, bits, size, quantizer,
// group size, method, setting, noise grid, lr, seed.
inline void append_cells(const grid_axes& a, const std::string& file, sweep_config& config) {
  for (const auto& metric : a.metrics)
    for (int b : a.bits)
      for (double size : a.sizes)
        for (const auto& q : a.quantizers)
          for (const std::int64_t group : q == "none" ? std::vector<std::int64_t>{0} : a.group_sizes) {
          config.needs_gram = config.needs_gram || q == "gptq";
          gift::require(group == 0 || q == "rtn", "gift sweep: '", file, "' pairs group_size ", group,
                        " with quantizer ", q, "; scale groups work with rtn only (gift quantize --group-size)");
          for (const auto& method : a.methods) {
            sweep_cell cell{metric, b, size, a.size_is_k, q, "post", method, 0, 0};
            cell.group_size = group;
            if (cell.fully_quantized()) {
              gift::require(method != "gift_sw" && method != "gift_sw_no_noise" && method != "ste",
                            "gift sweep: '", file, "' pairs method ", method, " with ",
                            a.size_is_k ? "k" : "fraction", " 0, which keeps no salient column for it to ",
                            method == "ste" ? "keep in full precision" : "train",
                            "; put it in a grid with a positive size (see \"grids\")");
              gift::require(!config.match_params || (method != "lora" && method != "dora" && method != "quik_lora"),
                            "gift sweep: '", file, "' pairs method ", method, " with ", a.size_is_k ? "k" : "fraction",
                            " 0, but finetune.match_params sizes its rank to the salient columns, of which ",
                            "there are none; set \"match_params\": false and a \"rank\"");
            }
            // A seed that draws the calibration sample gives the untrained arm replicates too.
            const bool per_seed_calibration = config.vary_calibration && cell.uses_calibration();
            if (method == "none") {
              for (auto seed : per_seed_calibration ? a.seeds : std::vector<std::int64_t>{-1}) {
                cell.seed = std::max<std::int64_t>(seed, 0);
                cell.calibration_seed = seed;
                config.cells.push_back(cell);
              }
              continue;
            }
            const auto it = a.rates.count(method) ? a.rates.find(method) : a.rates.find("*");
            gift::require(it != a.rates.end(), "gift sweep: '", file, "' gives no learning rate for method ",
                          method, " (\"lr\": [1e-4] or {\"", method, "\": [...]})");
            gift::require(q != "none" || method != "quik_lora", "gift sweep: '", file, "' pairs method ",
                          "quik_lora with quantizer none; QUIK + LoRA adapts a quantized model");
            // Without a quantizer there is no before/after: one setting.
            const std::vector<std::string> own = q == "none" ? std::vector<std::string>{"-"} : a.settings;
            const std::vector<int> noises =
                method == "gift_sw" && !a.noise_bits.empty() ? a.noise_bits : std::vector<int>{0};
            for (const auto& setting : own)
              for (int noise : noises)
                for (double lr : it->second)
                  for (auto seed : a.seeds) {
                    cell.setting = setting;
                    cell.noise_bits = noise == b ? 0 : noise;  // the grid of `bits` itself: the usual id
                    cell.lr = lr;
                    cell.seed = seed;
                    cell.calibration_seed = per_seed_calibration ? seed : -1;
                    config.cells.push_back(cell);
                  }
          }
        }
}

// Each object of "grids", merged with the top level's grid fields.

inline void append_grid(const json_value& grid, const std::string& file, sweep_config& config) {
  append_cells(read_grid_axes(grid, file), file, config);
}
inline void append_grids(const json_value& root, const json_value& grids_value, const std::string& file,
                         sweep_config& config) {
  const json_value* grids = &grids_value;
  if (grids->type != json_value::kind::array || grids->array.empty())
    bad(file, "grids", "a non-empty list of objects with grid fields", *grids);
  for (std::size_t g = 0; g < grids->array.size(); ++g) {
    const json_value& own = grids->array[g];
    const std::string where = file + " (grids[" + std::to_string(g) + "])";
    if (own.type != json_value::kind::object) bad(file, "grids[" + std::to_string(g) + "]", "an object", own);
    std::vector<std::string> known = grid_fields;
    known.push_back("comment");
    check_keys(own, file, " in grids[" + std::to_string(g) + "] (shared settings stay at the top level)", known);
    // The grid's own fields, then the top level's for the rest (a size given here replaces both
    // "fraction" and "k" of the top level).
    json_value merged;
    merged.type = json_value::kind::object;
    const bool own_size = own.find("fraction") != nullptr || own.find("k") != nullptr;
    for (const auto& member : own.object)
      if (member.key != "comment") merged.object.push_back(member);
    for (const auto& member : root.object) {
      const bool is_grid_field = std::find(grid_fields.begin(), grid_fields.end(), member.key) != grid_fields.end();
      const bool is_size = member.key == "fraction" || member.key == "k";
      if (is_grid_field && own.find(member.key) == nullptr && !(is_size && own_size)) merged.object.push_back(member);
    }
    append_grid(merged, where, config);
  }
}

/// The "calibration" section: the calibration sample's size and whether each seed draws its own.
inline void read_calibration(const json_value& c, const std::string& file, sweep_config& config) {
  check_keys(c, file, " in \"calibration\"", {"tokens", "seq", "vary_with_seed"});
  if (const json_value* v = c.find("vary_with_seed")) {
    if (v->type != json_value::kind::boolean) bad(file, "calibration.vary_with_seed", "true or false", *v);
    config.vary_calibration = v->boolean;
  }
  if (const json_value* v = c.find("tokens")) config.calibration_tokens = integer(*v, file, "calibration.tokens", 1, 1LL << 40);
  if (const json_value* v = c.find("seq")) config.calibration_seq = integer(*v, file, "calibration.seq", 2, 1 << 20);
}

/// "eval.task": the zero-shot multiple-choice task each cell is scored on.
inline void read_task(const json_value& t, const std::string& file, sweep_config& config) {
  if (t.type != json_value::kind::object) bad(file, "eval.task", "an object {\"name\": \"next_passage\", ...}", t);
  check_keys(t, file, " in \"eval.task\"", {"name", "items", "context", "continuation", "choices"});
  const json_value* name = t.find("name");
  gift::require(name != nullptr, "gift sweep: '", file, "' eval.task needs a \"name\" (next_passage or final_word)");
  config.task = text(*name, file, "eval.task.name");
  gift::require(config.task == "next_passage" || config.task == "final_word", "gift sweep: '", file,
                "' eval.task.name must be next_passage or final_word, but is '", config.task, "'");
  if (const json_value* v = t.find("items")) config.task_items = integer(*v, file, "eval.task.items", 1, 1000000);
  if (const json_value* v = t.find("context")) config.task_context = integer(*v, file, "eval.task.context", 1, 1 << 20);
  if (const json_value* v = t.find("continuation"))
    config.task_continuation = integer(*v, file, "eval.task.continuation", 1, 1 << 20);
  if (const json_value* v = t.find("choices")) config.task_choices = integer(*v, file, "eval.task.choices", 2, 26);
}

/// The "eval" section: the evaluation design (windows from files, or a token budget), its split,
/// batch and out-of-domain text.
inline void read_eval(const json_value& e, const std::string& file, sweep_config& config) {
  check_keys(e, file, " in \"eval\"",
             {"tokens", "seq", "out_of_domain", "files", "windows_per_file", "sample_seed", "split", "batch", "task"});
  if (const json_value* t = e.find("task")) read_task(*t, file, config);
  if (const json_value* v = e.find("files")) config.eval_files = integer(*v, file, "eval.files", 1, 1 << 20);
  if (const json_value* v = e.find("windows_per_file"))
    config.eval_windows_per_file = integer(*v, file, "eval.windows_per_file", 1, 1000000);
  if (const json_value* v = e.find("sample_seed"))
    config.eval_sample_seed = integer(*v, file, "eval.sample_seed", 0, 1LL << 53);
  if (const json_value* v = e.find("batch")) config.eval_batch = integer(*v, file, "eval.batch", 1, 4096);
  if (const json_value* v = e.find("split")) {
    config.eval_split = text(*v, file, "eval.split");
    gift::require(config.eval_split == "validation" || config.eval_split == "dev", "gift sweep: '", file,
                  "' eval.split must be validation (report) or dev (choose hyper-parameters), but is '",
                  config.eval_split, "'");
  }
  if (const json_value* v = e.find("tokens")) config.eval_tokens = integer(*v, file, "eval.tokens", 1, 1LL << 40);
  if (const json_value* v = e.find("seq")) config.eval_seq = integer(*v, file, "eval.seq", 2, 1 << 20);
  if (const json_value* v = e.find("out_of_domain")) config.out_of_domain = text(*v, file, "eval.out_of_domain");
}

/// The "finetune" section: steps, batch, sequence length, adapter sizes, per-method options and
/// what the seed varies.
inline void read_finetune(const json_value& f, const std::string& file, sweep_config& config) {
  check_keys(f, file, " in \"finetune\"",
             {"steps", "batch", "seq", "match_params", "rank", "lora_alpha", "method_options", "vary_data",
              "choose_lr_on_dev"});
  if (const json_value* v = f.find("choose_lr_on_dev")) {
    if (v->type != json_value::kind::boolean) bad(file, "finetune.choose_lr_on_dev", "true or false", *v);
    config.choose_lr_on_dev = v->boolean;
  }
  if (const json_value* v = f.find("vary_data")) {
    if (v->type != json_value::kind::boolean) bad(file, "finetune.vary_data", "true or false", *v);
    config.vary_data = v->boolean;
  }
  if (const json_value* v = f.find("steps")) config.steps = integer(*v, file, "finetune.steps", 1, 1000000000);
  if (const json_value* v = f.find("batch")) config.batch = integer(*v, file, "finetune.batch", 1, 4096);
  if (const json_value* v = f.find("seq")) config.seq = integer(*v, file, "finetune.seq", 2, 1 << 20);
  if (const json_value* v = f.find("rank")) config.rank = integer(*v, file, "finetune.rank", 1, 65536);
  if (const json_value* v = f.find("lora_alpha")) config.lora_alpha = number(*v, file, "finetune.lora_alpha");
  if (const json_value* v = f.find("match_params")) {
    if (v->type != json_value::kind::boolean) bad(file, "finetune.match_params", "true or false", *v);
    config.match_params = v->boolean;
  }
  if (const json_value* v = f.find("method_options")) {
    if (v->type != json_value::kind::object) bad(file, "finetune.method_options", "an object {\"method\": \"options\"}", *v);
    for (const auto& [method, options] : v->object)
      config.method_options[method] = text(options, file, "finetune.method_options." + method);
  }
}

/// "reference": the arm every other cell is compared with.
inline void read_reference(const json_value& r, const std::string& file, sweep_config& config) {
  if (r.type != json_value::kind::object || r.object.empty())
    bad(file, "reference", "an object naming the reference arm, e.g. {\"method\": \"lora\"}", r);
  check_keys(r, file, " in \"reference\"",
             {"method", "metric", "bits", "quantizer", "group_size", "setting", "fraction", "k"});
  for (const auto& [key, value] : r.object) config.reference[key] = text(value, file, "reference." + key);
}
}  // namespace detail_sweep

/// Reads and validates a sweep configuration; every message names the file and the field.
inline sweep_config read_sweep_config(const std::string& file) {
  using namespace detail_sweep;
  std::ifstream in(file, std::ios::binary);
  gift::require(static_cast<bool>(in), "gift sweep: cannot read --config '", file, "'");
  std::ostringstream content;
  content << in.rdbuf();
  const std::string body = content.str();
  const json_value root = gift::io::parse_json(body, "gift sweep: '" + file + "'");
  if (root.type != json_value::kind::object) bad(file, "(top level)", "an object", root);
  check_keys(root, file, "",
             {"metrics", "bits", "fraction", "k", "quantizer", "alpha", "settings", "methods", "lr", "seeds", "noise_bits",
              "group_size", "calibration", "eval", "finetune", "grids", "reference", "comment"});
  sweep_config config;
  if (const json_value* a = root.find("alpha")) config.alpha = text(*a, file, "alpha");
  if (const json_value* c = root.find("calibration")) read_calibration(*c, file, config);
  if (const json_value* e = root.find("eval")) read_eval(*e, file, config);
  if (const json_value* f = root.find("finetune")) read_finetune(*f, file, config);
  gift::require(!config.choose_lr_on_dev || (config.eval_files > 0 && config.eval_split == "validation"),
                "gift sweep: '", file, "' sets finetune.choose_lr_on_dev, which evaluates the dev split with "
                "the window design and reports validation: give \"eval\": {\"files\": N} and leave "
                "eval.split at validation");
  if (const json_value* r = root.find("reference")) read_reference(*r, file, config);
  const json_value* grids = root.find("grids");
  if (grids == nullptr) append_grid(root, file, config);
  else detail_sweep::append_grids(root, *grids, file, config);
  // A cell described twice (by two grids, or a value listed twice as in "seeds": [0, 0]) runs
  // once: the first description stands (they are equal).
  std::vector<sweep_cell> unique;
  std::set<std::string> seen;
  for (auto& cell : config.cells)
    if (seen.insert(cell.id()).second) unique.push_back(std::move(cell));
  config.cells = std::move(unique);
  return config;
}

}  // namespace gift::cli
