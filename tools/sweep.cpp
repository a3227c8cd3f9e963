// gift sweep: one command for a grid of (metric × bit-width × salient size × quantizer × method
// × setting × learning rate × seed) described in a JSON file. Calibration statistics are computed
// once; selections and quantized models are shared by the cells that need them. Each cell runs
// select → quantize → eval (in-domain, out-of-domain) → optionally fine-tune → eval, through the
// same code as the single commands. Results are appended to <out>/results.jsonl as cells finish
// and mirrored to <out>/results.csv; a sweep started again with the same --out skips the cells
// already in results.jsonl, so a killed sweep continues where it stopped.
#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/model_io.hpp"
#include "cli/progress.hpp"
#include "cli/report.hpp"
#include "cli/sweep_config.hpp"
#include "cli/sweep_summary.hpp"

#include <algorithm>
#include <gift/io/atomic_file.hpp>
#include <gift/version.hpp>
#include <gift/io/text_data.hpp>
#include <gift/io/json.hpp>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace gift::cli {

namespace {
namespace fs = std::filesystem;
using gift::io::json_value;

// Runs one gift command in this process (the same code path as on the command line).
void invoke(const std::vector<std::string>& words) {
  std::vector<std::string> full = {"gift"};
  full.insert(full.end(), words.begin(), words.end());
  std::vector<char*> argv;
  for (auto& w : full) argv.push_back(w.data());
  argv.push_back(nullptr);
  const int argc = static_cast<int>(full.size());
  const std::string& command = full[1];
  int status = 0;
  if (command == "calibrate") status = run_calibrate(argc, argv.data());
  else if (command == "select") status = run_select(argc, argv.data());
  else if (command == "quantize") status = run_quantize(argc, argv.data());
  else if (command == "finetune") status = run_finetune(argc, argv.data());
  else if (command == "eval") status = run_eval(argc, argv.data());
  else throw error("gift sweep: internal: unknown command " + command);
  gift::require(status == 0, "gift sweep: gift ", command, " exited with status ", status);
}

json_value read_json(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  gift::require(static_cast<bool>(in), "gift sweep: cannot read '", path.string(), "'");
  std::ostringstream content;
  content << in.rdbuf();
  const std::string body = content.str();
  return gift::io::parse_json(body, "gift sweep: '" + path.string() + "'");
}
double number_of(const json_value& object, const char* key) {
  const json_value* v = object.find(key);
  return v != nullptr && v->type == json_value::kind::number ? v->number : std::nan("");
}

// The ids of the cells already finished (status ok) in results.jsonl. A line cut short by a kill
// does not parse and is ignored: its cell runs again.
std::set<std::string> finished_cells(const fs::path& results) {
  std::set<std::string> done;
  std::ifstream in(results);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    try {
      const json_value row = gift::io::parse_json(line, "results.jsonl");
      const json_value* id = row.find("cell");
      const json_value* status = row.find("status");
      if (id != nullptr && status != nullptr && status->string == "ok") done.insert(id->string);
    } catch (const error&) {
    }
  }
  return done;
}

// The latest row of each cell in results.jsonl, and the cells in order of first appearance.
struct result_rows {
  std::map<std::string, json_value> rows;
  std::vector<std::string> order;
};
result_rows latest_rows(const fs::path& results) {
  result_rows out;
  std::ifstream in(results);
  std::string line;
  while (std::getline(in, line)) {
    try {
      json_value row = gift::io::parse_json(line, "results.jsonl");
      const json_value* id = row.find("cell");
      if (id == nullptr) continue;
      if (out.rows.count(id->string) == 0) out.order.push_back(id->string);
      out.rows[id->string] = std::move(row);
    } catch (const error&) {
    }
  }
  return out;
}

// The CSV mirror of results.jsonl (latest row per cell), rewritten atomically.
void write_csv(const fs::path& results, const fs::path& csv, const std::vector<std::string>& columns) {
  auto [rows, order] = latest_rows(results);
  std::string out;
  for (std::size_t c = 0; c < columns.size(); ++c) out += (c ? "," : "") + columns[c];
  out += "\n";
  for (const auto& id : order) {
    const json_value& row = rows[id];
    for (std::size_t c = 0; c < columns.size(); ++c) {
      if (c) out += ",";
      const json_value* v = row.find(columns[c]);
      if (v == nullptr) continue;
      if (v->type == json_value::kind::number) {
        char text[40];
        std::snprintf(text, sizeof text, "%.10g", v->number);
        out += text;
      } else if (v->type == json_value::kind::string) {
        std::string s = v->string;
        for (auto& ch : s)
          if (ch == ',' || ch == '\n') ch = ';';
        out += s;
      } else if (v->type == json_value::kind::boolean) {
        out += v->boolean ? "true" : "false";
      }
    }
    out += "\n";
  }
  io::write_file_atomically(csv, std::as_bytes(std::span<const char>(out.data(), out.size())));
}

struct sweep_run {
  const sweep_config& config;
  fs::path out, shared;
  std::vector<std::string> common;  // --model, --threads, --docs for every command
  std::int64_t computed_steps = 0;   // commands actually run (a resumed sweep that runs none proves nothing recomputed)
  std::string docs;                  // --docs for the commands that read text

  // The calibration statistics a cell reads: the shared sample's, or its seed's own.
  fs::path stats(const sweep_cell& cell) const { return stats_of(cell.calibration_seed); }
  fs::path stats_of(std::int64_t calibration_seed) const {
    return calibration_seed < 0 ? shared / "stats" : shared / ("stats-c" + std::to_string(calibration_seed));
  }
  // Runs `words` unless `product` exists already (every product is written atomically, so it is
  // whole when it exists).
  void make(const fs::path& product, std::vector<std::string> words) {
    if (fs::exists(product)) return;
    words.insert(words.end(), common.begin(), common.end());
    invoke(words);
    ++computed_steps;
  }
  std::vector<std::string> with_text(std::vector<std::string> words) const {
    words.push_back("--docs");
    words.push_back(docs);
    return words;
  }

  // Calibrates on the shared sample (`calibration_seed` −1) or on the one that seed draws.
  void calibrate(std::int64_t calibration_seed) {
    const std::string suffix = calibration_seed < 0 ? "" : "-c" + std::to_string(calibration_seed);
    std::vector<std::string> words = {"calibrate", "--split", "train", "--tokens",
                                      std::to_string(config.calibration_tokens), "--seq",
                                      std::to_string(config.calibration_seq), "--out",
                                      stats_of(calibration_seed).string(), "--output-json",
                                      (shared / ("calibrate" + suffix + ".json")).string()};
    if (calibration_seed >= 0) words.insert(words.end(), {"--data-seed", std::to_string(calibration_seed)});
    if (config.needs_gram) words.push_back("--gram");
    make(shared / ("calibrate" + suffix + ".json"), with_text(words));
  }
  // What a cell's seed draws, for its row.
  std::string seed_drives(const sweep_cell& cell) const {
    std::vector<std::string> parts;
    if (cell.method != "none") {
      parts.push_back("training noise and initialisation");
      if (config.vary_data) parts.push_back("training documents and order");
    }
    if (cell.calibration_seed >= 0) parts.push_back("calibration sample");
    std::string out;
    for (const auto& part : parts) out += (out.empty() ? "" : "; ") + part;
    return out.empty() ? std::string("nothing (one run)") : out;
  }
  // Perplexity of `weights` (empty: the GGUF model) on `data`'s evaluation split; cached in `json`,
  // with every sequence's loss beside it (<json stem>.losses.csv).
  double evaluate(const fs::path& json, const std::string& weights, const std::string& data) {
    return evaluate_split(json, weights, data, config.eval_split);
  }
  double evaluate_split(const fs::path& json, const std::string& weights, const std::string& data,
                        const std::string& split) {
    std::vector<std::string> words = {"eval", "--split", split, "--data", data, "--seq",
                                      std::to_string(config.eval_seq), "--output-json", json.string()};
    if (config.eval_files > 0) {
      words.insert(words.end(), {"--files", std::to_string(config.eval_files), "--windows-per-file",
                                 std::to_string(config.eval_windows_per_file), "--sample-seed",
                                 std::to_string(config.eval_sample_seed), "--batch", std::to_string(config.eval_batch),
                                 "--sequence-losses", losses_of(json).string()});
    } else {
      words.insert(words.end(), {"--tokens", std::to_string(config.eval_tokens)});
    }
    if (!weights.empty()) {
      words.push_back("--weights");
      words.push_back(weights);
    }
    make(json, with_text(words));
    return number_of(read_json(json), "perplexity");
  }
  // Zero-shot accuracy (eval.task) of `weights` on `data`'s items, cached in `json` with each
  // item's correctness beside it (<json stem>.items.csv); adds `name`, its Wilson interval and its
  // length-normalised value to `row`, and returns the stored item file ("" without a task).
  std::string score_task(report& row, const std::string& name, const fs::path& json, const std::string& weights,
                         const std::string& data) {
    if (config.task.empty()) return {};
    fs::path items = json;
    items.replace_extension(".items.csv");
    std::vector<std::string> words = {"eval", "--task", config.task, "--task-items", std::to_string(config.task_items),
                                      "--task-context", std::to_string(config.task_context), "--task-continuation",
                                      std::to_string(config.task_continuation), "--task-choices",
                                      std::to_string(config.task_choices), "--split", config.eval_split, "--data", data,
                                      "--sample-seed", std::to_string(config.eval_sample_seed), "--item-results",
                                      items.string(), "--output-json", json.string()};
    if (!weights.empty()) words.insert(words.end(), {"--weights", weights});
    make(json, with_text(words));
    const json_value result = read_json(json);
    row.add(name, number_of(result, "accuracy"))
        .add(name + "_ci_low", number_of(result, "accuracy_ci_low"))
        .add(name + "_ci_high", number_of(result, "accuracy_ci_high"))
        .add(name + "_norm", number_of(result, "accuracy_norm"));
    return stored(items);
  }
  // Where the per-sequence losses of the evaluation cached in `json` are.
  static fs::path losses_of(const fs::path& json) {
    fs::path file = json;
    file.replace_extension(".losses.csv");
    return file;
  }
  // `file` relative to the results folder, if it exists ("" otherwise: an evaluation without them).
  std::string stored(const fs::path& file) const {
    return fs::exists(file) ? fs::relative(file, out).generic_string() : std::string();
  }
  fs::path selection(const sweep_cell& cell) {
    if (cell.fully_quantized()) return {};  // no salient column: nothing to select
    const fs::path file = salient_path(cell);
    std::vector<std::string> words = {"select", "--stats", stats(cell).string(), "--bits", std::to_string(cell.bits),
                                      "--alpha", config.alpha, "--out", file.string()};
    for (const auto& w : cell.metric.select_options()) words.push_back(w);
    if (cell.group_size > 0) words.insert(words.end(), {"--group-size", std::to_string(cell.group_size)});
    words.push_back(cell.size_is_k ? "--k" : "--fraction");
    words.push_back(cell.size_is_k ? std::to_string(static_cast<std::int64_t>(cell.size)) : sweep_cell::number(cell.size));
    make(file, words);
    return file;
  }
  std::vector<std::string> quantize_words(const sweep_cell& cell, const fs::path& salient, const fs::path& to) const {
    std::vector<std::string> words = {"quantize", "--bits", std::to_string(cell.bits), "--alpha", config.alpha,
                                      "--method", cell.quantizer, "--out", to.string()};
    if (cell.group_size > 0) words.insert(words.end(), {"--group-size", std::to_string(cell.group_size)});
    if (salient.empty()) words.push_back("--no-salient");  // every column quantized
    else words.insert(words.end(), {"--salient", salient.string()});
    if (cell.quantizer == "gptq") {
      words.push_back("--gram");
      words.push_back((stats(cell) / "gram.safetensors").string());
    }
    return words;
  }
  fs::path quantized(const sweep_cell& cell, const fs::path& salient) {
    if (cell.quantizer == "none") return {};  // the GGUF model itself
    const fs::path file = quantized_path(cell);
    make(file, quantize_words(cell, salient, file));
    return file;
  }

  // gift_sw_no_noise and npft_no_noise: the base method with --no-noise.
  static std::string base_method(const std::string& method) {
    const std::string suffix = "_no_noise";
    const bool no_noise = method == "gift_sw" + suffix || method == "npft" + suffix;
    return no_noise ? method.substr(0, method.size() - suffix.size()) : method;
  }
  // pre: the fine-tuned full-precision weights are quantized after training (STE trains on the
  // grid already; QUIK + LoRA adapts the quantized model).
  static bool quantized_after_training(const sweep_cell& cell) {
    const std::string method = base_method(cell.method);
    return cell.setting == "pre" && cell.quantizer != "none" && method != "ste" && method != "quik_lora";
  }
  // The files a cell reads, named without making them.
  fs::path salient_path(const sweep_cell& cell) const {
    return cell.fully_quantized() ? fs::path() : shared / ("salient-" + cell.selection_id() + ".txt");
  }
  fs::path quantized_path(const sweep_cell& cell) const {
    return cell.quantizer == "none" ? fs::path() : shared / ("q-" + cell.quantized_id() + ".safetensors");
  }
  // The `gift finetune` words of a cell, without its output files: what decides the trained model.
  std::vector<std::string> training_words(const sweep_cell& cell) const {
    const std::string method = base_method(cell.method);
    const bool adapter = method == "lora" || method == "dora" || method == "quik_lora";
    std::vector<std::string> words = {"finetune", "--method", method, "--split", "train",
                                      "--steps", std::to_string(config.steps), "--batch", std::to_string(config.batch),
                                      "--seq", std::to_string(config.seq), "--lr", sweep_cell::number(cell.lr),
                                      "--seed", std::to_string(cell.seed)};
    // A replicate varies the training documents and their order too (gift finetune --data-seed).
    if (config.vary_data) words.insert(words.end(), {"--data-seed", std::to_string(cell.seed)});
    // The bits and the α search set GIFT-SW's noise and STE's grid; the other methods ignore them.
    if (method == "gift_sw" || method == "ste") {
      const int grid = method == "gift_sw" && cell.noise_bits > 0 ? cell.noise_bits : cell.bits;
      words.insert(words.end(), {"--bits", std::to_string(grid), "--alpha", config.alpha});
    }
    if (const fs::path salient = salient_path(cell); !salient.empty())
      words.insert(words.end(), {"--salient", salient.string()});
    if (method != cell.method) words.push_back("--no-noise");
    if (adapter) {
      words.insert(words.end(), {"--rank", std::to_string(config.rank), "--lora-alpha",
                                 sweep_cell::number(config.lora_alpha)});
      if (config.match_params) words.push_back("--match-params");
    }
    if (const auto extra = config.method_options.find(method); extra != config.method_options.end()) {
      std::istringstream split(extra->second);
      for (std::string word; split >> word;) words.push_back(word);
    }
    // post: train from the quantized model; pre: train the original, then quantize.
    if (const fs::path quantized_model = quantized_path(cell);
        !quantized_model.empty() && (cell.setting == "post" || method == "quik_lora")) {
      words.insert(words.end(), {"--weights", quantized_model.string()});
      // The quantized file carries the target grid's Δ, which gift finetune would take over --bits:
      // another noise grid is asked for by name.
      if (method == "gift_sw" && cell.noise_bits > 0 && cell.noise_bits != cell.bits)
        words.insert(words.end(), {"--noise-bits", std::to_string(cell.noise_bits)});
    }
    return words;
  }
  // "pre-<hash of the training words>" for a pre cell whose model is shared, else "".
  std::string shared_training_stem(const sweep_cell& cell) const {
    if (cell.method == "none" || !quantized_after_training(cell)) return {};
    std::string key;
    for (const auto& word : training_words(cell)) key += word + '\n';
    return "pre-" + hex64(io::fnv1a64(key));
  }
  // Removes a shared trained model and its logs (together, so that a resumed run retrains).
  void drop_shared_training(const std::string& stem) const {
    for (const char* ending : {".json", ".safetensors", ".loss.csv"}) fs::remove(shared / (stem + ending));
  }

  // One cell, start to end; returns its row.
  report run_cell(const sweep_cell& cell) {
    report row("sweep");
    row.add("cell", cell.id())
        .add("metric", cell.metric.slug())
        .add("bits", static_cast<std::int64_t>(cell.bits))
        .add(cell.size_is_k ? "k" : "fraction", cell.size)
        .add("quantizer", cell.quantizer)
        .add("method", cell.method)
        .add("setting", cell.method == "none" ? std::string("-") : cell.setting)
        .add("lr", cell.lr)
        .add("seed", cell.seed)
        .add("noise_bits", static_cast<std::int64_t>(cell.method == "gift_sw" ? (cell.noise_bits > 0 ? cell.noise_bits : cell.bits) : 0))
        .add("group_size", cell.group_size)
        .add("seed_drives", seed_drives(cell));
    const auto start = std::chrono::steady_clock::now();
    const fs::path salient = selection(cell);
    const fs::path quantized_model = quantized(cell, salient);
    const std::string qid = cell.quantizer == "none" ? std::string("original") : cell.quantized_id();
    const double q_in = evaluate(shared / ("q-" + qid + ".eval-in.json"), quantized_model.string(), "linux-doc");
    row.add("quantized_ppl_in", q_in);
    double q_ood = std::nan("");
    if (!config.out_of_domain.empty())
      q_ood = evaluate(shared / ("q-" + qid + ".eval-ood.json"), quantized_model.string(), config.out_of_domain);
    row.add("quantized_ppl_ood", q_ood);
    std::string items_in = score_task(row, "quantized_acc_in", shared / ("q-" + qid + ".task-in.json"),
                                      quantized_model.string(), "linux-doc");
    std::string items_ood;
    if (!config.out_of_domain.empty())
      items_ood = score_task(row, "quantized_acc_ood", shared / ("q-" + qid + ".task-ood.json"),
                             quantized_model.string(), config.out_of_domain);
    double ppl_in = q_in, ppl_ood = q_ood;
    std::string losses_in = stored(losses_of(shared / ("q-" + qid + ".eval-in.json")));
    std::string losses_ood = stored(losses_of(shared / ("q-" + qid + ".eval-ood.json")));
    if (cell.method != "none") {
      const fs::path dir = out / "cells" / cell.id();
      fs::create_directories(dir);
      // A pre cell's fine-tune does not depend on the quantizer (nor, but for gift_sw and ste, on
      // the bits): cells with the same training words share one trained model in shared/.
      const std::string stem = shared_training_stem(cell);
      const fs::path tuned = stem.empty() ? dir / "finetuned.safetensors" : shared / (stem + ".safetensors");
      const fs::path log = stem.empty() ? dir / "loss.csv" : shared / (stem + ".loss.csv");
      const fs::path json = stem.empty() ? dir / "finetune.json" : shared / (stem + ".json");
      std::vector<std::string> words = training_words(cell);
      words.insert(words.end(), {"--out", tuned.string(), "--loss-log", log.string(), "--output-json", json.string()});
      make(json, with_text(words));
      if (!stem.empty()) {
        fs::copy_file(json, dir / "finetune.json", fs::copy_options::overwrite_existing);
        fs::copy_file(log, dir / "loss.csv", fs::copy_options::overwrite_existing);
      }
      const json_value trained = read_json(dir / "finetune.json");
      row.add("first_loss", number_of(trained, "first_loss"))
          .add("last_loss", number_of(trained, "smoothed_loss"))
          .add("trainable_parameters", static_cast<std::int64_t>(number_of(trained, "trainable_parameters")))
          .add("rank", static_cast<std::int64_t>(number_of(trained, "rank")));
      fs::path final_model = tuned;
      // pre: the trained full-precision weights are quantized now (STE's are on the grid already).
      if (quantized_after_training(cell)) {
        final_model = dir / "quantized.safetensors";
        std::vector<std::string> words_q = quantize_words(cell, salient, final_model);
        words_q.insert(words_q.end(), {"--weights", tuned.string()});  // the fine-tuned weights, not the GGUF ones
        make(final_model, words_q);
      }
      ppl_in = evaluate(dir / "eval-in.json", final_model.string(), "linux-doc");
      losses_in = stored(losses_of(dir / "eval-in.json"));
      if (!config.out_of_domain.empty()) {
        ppl_ood = evaluate(dir / "eval-ood.json", final_model.string(), config.out_of_domain);
        losses_ood = stored(losses_of(dir / "eval-ood.json"));
      }
      // The dev split chooses the learning rate (finetune.choose_lr_on_dev); validation reports.
      if (config.choose_lr_on_dev) {
        row.add("ppl_dev", evaluate_split(dir / "eval-dev.json", final_model.string(), "linux-doc", "dev"));
        row.add("losses_dev", stored(losses_of(dir / "eval-dev.json")));
      }
      items_in = score_task(row, "acc_in", dir / "task-in.json", final_model.string(), "linux-doc");
      if (!config.out_of_domain.empty())
        items_ood = score_task(row, "acc_ood", dir / "task-ood.json", final_model.string(), config.out_of_domain);
      // The numbers are kept; the models (hundreds of MB each) are not (a shared one goes when
      // the last cell that needs it is done).
      if (stem.empty()) fs::remove(tuned);
      fs::remove(dir / "quantized.safetensors");
    }
    row.add("ppl_in", ppl_in).add("ppl_ood", ppl_ood).add("losses_in", losses_in).add("losses_ood", losses_ood);
    if (!config.task.empty()) {
      // An untrained cell's accuracy is its quantized model's.
      if (cell.method == "none") {
        const json_value q_in_task = read_json(shared / ("q-" + qid + ".task-in.json"));
        for (const char* suffix : {"", "_ci_low", "_ci_high", "_norm"})
          row.add(std::string("acc_in") + suffix, number_of(q_in_task, (std::string("accuracy") + suffix).c_str()));
        if (!config.out_of_domain.empty()) {
          const json_value q_ood_task = read_json(shared / ("q-" + qid + ".task-ood.json"));
          for (const char* suffix : {"", "_ci_low", "_ci_high", "_norm"})
            row.add(std::string("acc_ood") + suffix, number_of(q_ood_task, (std::string("accuracy") + suffix).c_str()));
        }
      }
      row.add("items_in", items_in).add("items_ood", items_ood);
    }
    row.add("seconds", std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    row.add("status", std::string("ok"));
    return row;
  }
};

// The first line of a command's output ("" if it fails).
std::string first_line_of(const std::string& command) {
  std::string line;
  if (FILE* pipe = popen(command.c_str(), "r")) {
    char buffer[256];
    if (std::fgets(buffer, sizeof buffer, pipe) != nullptr) line = buffer;
    pclose(pipe);
  }
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  return line;
}
// Where the sweep's numbers came from: gift's version and commit (with "+changes" when the source
// tree differed from it), the CPU, the threads and this invocation's wall time. One file per run,
// provenance.json, replaced by each run of the sweep (the per-cell wall time is in every row).
void write_provenance(const fs::path& file, std::int64_t threads, double seconds, std::int64_t cells_run) {
  const std::string source = GIFT_SOURCE_DIR;
  std::string commit = first_line_of("git -C '" + source + "' rev-parse HEAD 2>/dev/null");
  if (!commit.empty() && !first_line_of("git -C '" + source + "' status --porcelain --untracked-files=no 2>/dev/null").empty())
    commit += "+changes";
  std::string cpu;
  {
    std::ifstream info("/proc/cpuinfo");
    for (std::string line; cpu.empty() && std::getline(info, line);)
      if (line.rfind("model name", 0) == 0 && line.find(':') != std::string::npos) cpu = line.substr(line.find(':') + 2);
  }
  report row("sweep");
  row.add("gift_version", std::string(GIFT_VERSION_STRING))
      .add("commit", commit.empty() ? std::string("unknown") : commit)
      .add("cpu", cpu.empty() ? std::string("unknown") : cpu)
      .add("hardware_threads", static_cast<std::int64_t>(std::thread::hardware_concurrency()))
      .add("threads", threads)
      .add("cells_run", cells_run)
      .add("seconds", seconds);
  const std::string body = row.json() + "\n";
  io::write_file_atomically(file, std::as_bytes(std::span<const char>(body.data(), body.size())));
}

// The shared settings of a folder's first run bind every later run in it: writes `settings`
// to `out`/settings.txt on the first run, and refuses a later run whose settings differ (an input
// line, docs or model, is compared only where both runs name it).
void bind_settings(const fs::path& out, const std::string& settings, const std::string& config_file) {
  const fs::path settings_file = out / "settings.txt";
  if (fs::exists(settings_file)) {
    std::ifstream in(settings_file, std::ios::binary);
    std::ostringstream old;
    old << in.rdbuf();
    // Compare line by line; an input line (docs, model) the old folder lacks is not compared.
    const auto lines_of = [](const std::string& text) {
      std::vector<std::string> out_lines;
      std::istringstream split(text);
      for (std::string line; std::getline(split, line);) out_lines.push_back(line);
      return out_lines;
    };
    const auto is_input = [](const std::string& line) {
      return line.rfind("docs=", 0) == 0 || line.rfind("model=", 0) == 0 || line.rfind("model.bytes=", 0) == 0;
    };
    const auto was_lines = lines_of(old.str()), now_lines = lines_of(settings);
    const bool old_has_inputs = std::any_of(was_lines.begin(), was_lines.end(), is_input);
    const std::vector<std::string>& was_kept = was_lines;
    std::vector<std::string> now_kept;
    for (const auto& line : now_lines)
      if (old_has_inputs || !is_input(line)) now_kept.push_back(line);
    // Only the inputs both sides name are compared (a run without --model has no model line).
    const auto drop_unshared = [&](std::vector<std::string>& a, const std::vector<std::string>& b) {
      std::vector<std::string> kept;
      for (const auto& line : a) {
        const std::string key = line.substr(0, line.find('=') + 1);
        const bool shared = !is_input(line) || std::any_of(b.begin(), b.end(), [&](const std::string& other) {
          return other.rfind(key, 0) == 0;
        });
        if (shared) kept.push_back(line);
      }
      a = std::move(kept);
    };
    auto was_compared = was_kept, now_compared = now_kept;
    drop_unshared(was_compared, now_kept);
    drop_unshared(now_compared, was_kept);
    if (was_compared != now_compared) {
      std::size_t i = 0;
      while (i < was_compared.size() && i < now_compared.size() && was_compared[i] == now_compared[i]) ++i;
      const std::string was = i < was_compared.size() ? was_compared[i] : std::string("(nothing)");
      const std::string now = i < now_compared.size() ? now_compared[i] : std::string("(nothing)");
      throw error("gift sweep: --out '" + out.string() + "' holds cells computed with " + was + ", but this run has " +
                  now + " (--config '" + config_file + "', --model, --docs); use another --out (or the old "
                  "settings) so that the results stay comparable");
    }
  } else {
    io::write_file_atomically(settings_file, std::as_bytes(std::span<const char>(settings.data(), settings.size())));
  }
}

// Copies `from` to `to` (written atomically).
void copy_file_atomically(const fs::path& from, const fs::path& to) {
  std::ifstream in(from, std::ios::binary);
  std::ostringstream copy;
  copy << in.rdbuf();
  const std::string body = copy.str();
  io::write_file_atomically(to, std::as_bytes(std::span<const char>(body.data(), body.size())));
}

// Appends one JSON row to results.jsonl. A line cut short by a kill has no newline: it is ended
// first, or this row would join it.
void append_row(const fs::path& results, const std::string& line) {
  bool ends_clean = true;
  if (std::ifstream tail(results, std::ios::binary | std::ios::ate); tail && tail.tellg() > 0) {
    tail.seekg(-1, std::ios::end);
    ends_clean = tail.get() == '\n';
  }
  std::ofstream append(results, std::ios::app);
  if (!ends_clean) append << "\n";
  append << line << "\n";
  append.flush();
  gift::require(static_cast<bool>(append), "gift sweep: cannot append to '", results.string(), "'");
}

// The finished cells of `config` (their latest row in results.jsonl, status ok), in config order,
// with what the statistics need: perplexities, per-sequence loss files, accuracies, dev perplexity.
std::vector<sweep_result> finished_results(const fs::path& results, const sweep_config& config) {
  std::vector<sweep_result> finished;
  const auto latest = latest_rows(results);
  const auto text_of = [](const json_value& row, const char* key) {
    const json_value* v = row.find(key);
    return v != nullptr && v->type == json_value::kind::string ? v->string : std::string();
  };
  for (const auto& cell : config.cells) {
    const auto it = latest.rows.find(cell.id());
    if (it == latest.rows.end() || text_of(it->second, "status") != "ok") continue;
    sweep_result result{cell, number_of(it->second, "ppl_in"), number_of(it->second, "ppl_ood"),
                        text_of(it->second, "losses_in"), text_of(it->second, "losses_ood"), {}, {}};
    for (const char* domain : {"in", "ood"}) {
      sweep_result::accuracy_of& acc = std::string(domain) == "in" ? result.acc_in : result.acc_ood;
      const std::string key = std::string("acc_") + domain;
      acc.value = number_of(it->second, key.c_str());
      acc.low = number_of(it->second, (key + "_ci_low").c_str());
      acc.high = number_of(it->second, (key + "_ci_high").c_str());
      acc.items = text_of(it->second, (std::string("items_") + domain).c_str());
    }
    result.ppl_dev = number_of(it->second, "ppl_dev");
    finished.push_back(std::move(result));
  }
  return finished;
}

const std::vector<std::string> csv_columns = {
    "cell", "metric", "bits", "fraction", "k", "quantizer", "method", "setting", "lr", "seed", "quantized_ppl_in",
    "quantized_ppl_ood", "ppl_in", "ppl_ood", "first_loss", "last_loss", "trainable_parameters", "rank", "seconds",
    "losses_in", "losses_ood", "quantized_acc_in", "quantized_acc_ood", "acc_in", "acc_in_ci_low", "acc_in_ci_high",
    "acc_in_norm", "acc_ood", "acc_ood_ci_low", "acc_ood_ci_high", "acc_ood_norm", "items_in", "items_ood",
    "ppl_dev", "losses_dev", "noise_bits", "group_size", "seed_drives", "status", "error"};
// Runs the cells of `todo` in order (their calibration samples first), appending each row to
// `out`/results.jsonl and mirroring results.csv as it goes; a failed cell is a row with its error.
// Shared quantized and fine-tuned models are dropped after the last cell that needs them.
// Returns how many cells failed.
std::int64_t run_cells(sweep_run& run, const std::vector<const sweep_cell*>& todo, const fs::path& out) {
  std::int64_t failed = 0;
  progress_bar bar("sweep", static_cast<std::int64_t>(todo.size()), "cell", true);
  if (!todo.empty()) {
    nested_command = true;
    try {
      // Every calibration sample a cell to run needs (the shared one also when none does, as
      // before per-seed calibration existed: its folder stays complete).
      std::set<std::int64_t> samples;
      for (const auto* cell : todo) samples.insert(cell->uses_calibration() ? cell->calibration_seed : -1);
      for (const std::int64_t sample : samples) run.calibrate(sample);
    } catch (...) {
      nested_command = false;
      throw;
    }
    nested_command = false;
  }
  for (std::size_t i = 0; i < todo.size(); ++i) {
    const sweep_cell& cell = *todo[i];
    std::string line;
    nested_command = true;
    try {
      line = run.run_cell(cell).json();
    } catch (const std::exception& e) {
      report row("sweep");
      row.add("cell", cell.id()).add("status", std::string("failed")).add("error", std::string(e.what()));
      line = row.json();
      std::cerr << "\ngift sweep: cell " << cell.id() << " failed: " << e.what() << std::endl;
      ++failed;
    }
    nested_command = false;
    append_row(out / "results.jsonl", line);
    write_csv(out / "results.jsonl", out / "results.csv", csv_columns);
    // A quantized model is shared by consecutive cells only: drop it when the next cell needs another.
    const bool last_of_model = i + 1 == todo.size() || todo[i + 1]->quantized_id() != cell.quantized_id();
    if (last_of_model) fs::remove(run.shared / ("q-" + cell.quantized_id() + ".safetensors"));
    // A shared fine-tuned model goes when no cell still to run trains the same.
    if (const std::string stem = run.shared_training_stem(cell); !stem.empty()) {
      const auto later = todo.begin() + static_cast<std::ptrdiff_t>(i + 1);
      const bool needed = std::any_of(later, todo.end(), [&](const auto* next) {
        return run.shared_training_stem(*next) == stem;
      });
      if (!needed) run.drop_shared_training(stem);
    }
    bar.advance(1, cell.id());
  }
  return failed;
}

}  // namespace

int run_sweep(int argc, char** argv) {
  arguments args("sweep",
                 "Runs a grid of experiments described in a JSON file (metrics, bits, salient sizes, quantizers, "
                 "fine-tuning methods, settings, learning rates, seeds): each cell selects, quantizes, evaluates "
                 "in-domain (linux-doc) and out-of-domain (fortunes), optionally fine-tunes and evaluates again. "
                 "Results go to <out>/results.jsonl and results.csv as cells finish; running it again with the same "
                 "--out continues where it stopped. See experiments/ for the paper's experiments.");
  args.option("config", "", "the sweep's JSON file (see experiments/*.json)", true)
      .option("out", "", "folder for results, shared files and per-cell logs (created)", true)
      .option("model", "", "GGUF model file (default: $GIFT_MODEL)")
      .integer_option("threads", "0", "OpenMP threads (0: the runtime's default)", 0, 256)
      .option("docs", "/usr/share/doc/linux-doc-6.1/Documentation", "where linux-doc's .rst.gz files are")
      .flag("dry-run", "list the cells (and which are finished) without running anything")
      .result_options("summary");
  if (!args.parse(argc, argv, 2)) return 0;
  const sweep_config config = read_sweep_config(args.get("config"));
  const fs::path out = args.get("out");
  const fs::path results = out / "results.jsonl";
  const std::set<std::string> done = finished_cells(results);
  std::vector<const sweep_cell*> todo;
  for (const auto& cell : config.cells)
    if (done.count(cell.id()) == 0) todo.push_back(&cell);
  // With a calibration sample per seed every seed has its own quantized models: run the cells of
  // one quantized model together, so that each is made once (it is dropped after its last cell).
  if (config.vary_calibration)
    std::stable_sort(todo.begin(), todo.end(),
                     [](const sweep_cell* a, const sweep_cell* b) { return a->quantized_id() < b->quantized_id(); });
  if (args.on("dry-run")) {
    for (const auto& cell : config.cells)
      std::cout << (done.count(cell.id()) ? "done  " : "to do ") << cell.id() << "\n";
    std::cout << config.cells.size() << " cells, " << todo.size() << " to run" << std::endl;
    return 0;
  }
  // A file, an unwritable place or a second sweep on the same folder is refused before any cell.
  {
    std::error_code status;
    gift::require(!fs::exists(out, status) || fs::is_directory(out, status), "gift sweep: --out '",
                  out.string(), "' exists and is not a folder; name a results folder");
  }
  require_writable_folder(out, "--out");
  const auto out_lock = io::output_lock::acquire(out, "gift sweep: --out");
  fs::create_directories(out / "shared");
  fs::create_directories(out / "cells");
  // The inputs every cell reads besides the config: the model (path and size) and the docs. A
  // folder from before they were recorded is accepted without them.
  std::string inputs = "docs=" + args.get("docs") + "\n";
  if (const char* env = std::getenv("GIFT_MODEL"); !args.get("model").empty() || (env != nullptr && *env != 0)) {
    const std::string model = model_path(args);
    std::error_code size_error;
    const auto bytes = fs::file_size(model, size_error);
    inputs += "model=" + model + "\nmodel.bytes=" + (size_error ? std::string("folder") : std::to_string(bytes)) + "\n";
  }
  bind_settings(out, config.shared_settings() + inputs, args.get("config"));
  copy_file_atomically(args.get("config"), out / "config.json");
  const auto start = std::chrono::steady_clock::now();
  sweep_run run{config, out, out / "shared",
                {"--threads", std::to_string(args.integer("threads"))}, 0, args.get("docs")};
  if (!todo.empty()) run.common.insert(run.common.end(), {"--model", model_path(args)});
  const std::int64_t failed = run_cells(run, todo, out);
  // Statistics over the finished cells of this config: groups.csv and comparisons.csv.
  std::vector<sweep_result> finished = finished_results(results, config);
  if (config.choose_lr_on_dev) finished = choose_learning_rates(out, finished);
  const std::int64_t comparisons = write_sweep_summary(out, finished, config.reference);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  write_provenance(out / "provenance.json", args.integer("threads"), seconds, static_cast<std::int64_t>(todo.size()));
  report summary("sweep");
  summary.add("cells", static_cast<std::int64_t>(config.cells.size()))
      .add("already_finished", static_cast<std::int64_t>(config.cells.size() - todo.size()))
      .add("ran", static_cast<std::int64_t>(todo.size()))
      .add("failed", failed)
      .add("commands_run", run.computed_steps)
      .add("comparisons", comparisons)
      .add("results", results.string())
      .add("seconds", seconds);
  summary.emit(args.on("json"), args.get("output-json"));
  return failed == 0 ? 0 : 1;
}

}  // namespace gift::cli
