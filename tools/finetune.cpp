// gift finetune: GIFT-SW — train only the salient columns of every linear layer, with fresh
// quantization noise ½·Δ_i·Ω_ij on the frozen columns at every step — or one of the baselines
// (LoRA, DoRA, full, STE, QUIK + LoRA) in the same model, trainer and data; checkpoints written
// atomically.
#include "cli/args.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/device.hpp"
#include "cli/device_training.hpp"
#include "cli/distributed.hpp"
#include "cli/methods.hpp"
#include "cli/model_io.hpp"
#include "cli/report.hpp"
#include "cli/text.hpp"

#include <gift/fisher_diagonal.hpp>
#include <gift/io/atomic_file.hpp>
#include <gift/model/data_parallel.hpp>
#include <gift/model/memory_estimate.hpp>
#include <gift/model/empirical_fisher.hpp>
#include <gift/stored_weight.hpp>
#include <gift/io/safetensors.hpp>
#include <gift/io/salient_file.hpp>
#include <gift/io/training_checkpoint.hpp>
#include <gift/optim/adam.hpp>
#include <gift/optim/schedule.hpp>
#include <gift/pipeline/trainer.hpp>
#include <gift/quant/symmetric.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cmath>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace gift::cli {

namespace {
/// The settings that decide every bit of a run's trajectory, as a checkpoint records them (a
/// resumed run must repeat them). Numbers are written canonically: 1e-3 and 0.001 are one setting.
io::training_run run_settings_of(const arguments& args) {
  const auto number = [&](const char* name) {
    char text[32];
    std::snprintf(text, sizeof text, "%.17g", args.number(name));
    return std::string(text);
  };
  const auto integer = [&](const char* name) { return std::to_string(args.integer(name)); };
  io::training_run run;
  run.settings = {{"gift.seed", integer("seed")},         {"gift.steps", integer("steps")},
                  {"gift.batch", integer("batch")},       {"gift.seq", integer("seq")},
                  {"gift.lr", number("lr")},              {"gift.schedule", args.get("schedule")},
                  {"gift.warmup", number("warmup")},      {"gift.weight_decay", number("weight-decay")},
                  {"gift.clip", number("clip")},          {"gift.noise", args.on("no-noise") ? "off" : "on"},
                  {"gift.tokens", integer("tokens")},     {"gift.data", args.get("data")},
                  {"gift.split", args.get("split")},      {"gift.bits", integer("bits")},
                  {"gift.alpha", args.get("alpha")},      {"gift.method", args.get("method")}};
  // Recorded only when not the default, so checkpoints written before --storage existed resume;
  // read_inputs refuses a bf16 checkpoint resumed without --storage bf16 (the key is absent then).
  if (args.get("storage") != "f32") run.settings["gift.storage"] = args.get("storage");
  return run;
}

/// Declares gift finetune's options.
void declare_finetune_options(arguments& args) {
  model_options(args);
  text_options(args, "train");
  args.option("method", "gift_sw", finetune_method_names)
      .option("salient", "", "salient-column file from gift select (gift_sw, ste, --match-params)")
      .option("out", "", "safetensors file for the fine-tuned weights (also the checkpoint)", true)
      .integer_option("steps", "100", "optimizer steps", 1, 1000000000)
      .integer_option("batch", "1", "sequences per step", 1, 4096)
      .integer_option("seq", "256", "sequence length", 2, 1 << 20)
      .integer_option("tokens", "0", "training tokens to read (0: steps * batch * seq)", 0, 1000000000000)
      .number_option("lr", "1e-4", "peak learning rate", 0.0, 1.0)
      .option("schedule", "cosine", "constant | linear | cosine (with warmup)")
      .number_option("warmup", "0.03", "warmup share of the steps", 0.0, 1.0)
      .number_option("weight-decay", "0", "AdamW decoupled weight decay", 0.0, 1.0)
      .number_option("clip", "1.0", "clip the global gradient norm to this (0: off)", 0.0, 1e6)
      .integer_option("bits", "4", "target bit-width: its step delta scales gift_sw's noise and is ste's grid, "
                                   "when --weights holds no <layer>.delta (--noise-bits overrides it for "
                                   "gift_sw's noise)", 2, 8)
      .option("alpha", "grid100", "scale search for that delta: max | grid<N> (the paper's grid; default grid100) "
                                  "| ref80")
      .integer_option("noise-bits", "0", "gift_sw: scale the noise by the step of this grid instead (the noise-grid "
                                         "ablation), computed from the trained weights even when --weights holds a "
                                         "<layer>.delta (0: --bits, or the file's delta)", 0, 8)
      .flag("no-noise", "gift_sw without noise injection (ablation)")
      .flag("noisy-weight-cache", "gift_sw on --device eigen: keep each layer's noisy weight from forward to backward "
                                  "instead of generating the noise twice (faster; the same bits; as much more memory "
                                  "as the linear weights take)")
      .option("storage", "f32", "gift_sw on --device eigen: how the frozen weights are held: f32 | bf16 (half the "
                                "memory, each weight rounded once; salient columns, noise and products stay fp32)")
      .integer_option("rank", "8", "LoRA/DoRA rank r", 1, 65536)
      .number_option("lora-alpha", "16", "LoRA/DoRA alpha (the update is scaled by alpha / r)", 1e-6, 1e6)
      .option("svft-pattern", "plain", "svft: which entries of M train: plain (diagonal) | banded | random | top_k")
      .integer_option("svft-width", "1", "svft banded: half-width of the band around the diagonal", 0, 65535)
      .integer_option("svft-k", "4", "svft random: entries per row; top_k: entries per layer", 1, 1LL << 40)
      .number_option("npft-share", "0.05", "npft: share of each layer's weights perturbed (by Fisher score)", 1e-6, 1.0)
      .integer_option("fisher-sequences", "16", "npft: calibration sequences (of --seq tokens, from the start of the "
                                                "training text) for the empirical Fisher diagonal", 1, 1000000)
      .number_option("npft-noise-scale", "1", "npft: multiplies the perturbation (1: uniform over the row's full "
                                              "outlier range, as the authors' code)", 0.0, 1e6)
      .integer_option("npft-epochs", "3", "npft: the perturbation is re-drawn this many times over --steps", 1,
                      1000000000)
      .flag("match-params", "choose --rank so that LoRA/DoRA train as many parameters as GIFT-SW with --salient")
      .integer_option("seed", "0", "noise seed", 0, 9223372036854775807LL)
      .integer_option("checkpoint-every", "0", "also write --out every N steps (0: only at the end)", 0, 1000000000)
      .option("resume", "", "continue the run that wrote this checkpoint (its --out), with the same options; "
                            "its weights, noise scales, optimizer state and step are restored")
      .integer_option("stop-after", "0", "end this invocation after step N, writing the checkpoint (0: run all "
                                         "--steps); continue later with --resume", 0, 1000000000)
      .option("loss-log", "", "write the loss of every step of this invocation to this CSV file (step,loss)")
      .result_options();
  shard_options(args, "each step's --batch sequences (and of --fisher-sequences)");
  device_option(args);
}

/// What the options ask for, checked before the model is read — in the order the command has
/// always checked them, so a request with two problems names the same one first.
struct finetune_request {
  device chosen = device::eigen;
  alpha_search noise_alpha;
  finetune_method method = finetune_method::gift_sw;
  std::string method_name;
  model::svft_pattern svft_pattern{};
  std::int64_t steps = 0, batch = 0, length = 0;
  distributed::shard_plan plan{1, 1};
  std::string resume;
  gift::weight_storage storage = gift::weight_storage::f32;
  int noise_bits = 0;  ///< --noise-bits: 0, or the grid whose step scales GIFT-SW's noise
};

finetune_request read_request(const arguments& args, device chosen) {
  finetune_request r;
  r.chosen = chosen;
  r.noise_alpha = parse_alpha(args.get("alpha"), "--alpha");
  r.method = parse_finetune_method(args.get("method"));
  r.method_name = args.get("method");
  const finetune_method method = r.method;
  const std::string& method_name = r.method_name;
  gift::require(!uses_salient(method) || !args.get("salient").empty(), "gift finetune: --method ", method_name,
                " needs --salient (the salient-column file from gift select)");
  gift::require(!args.on("match-params") || (uses_adapter(method) && !args.get("salient").empty()),
                "gift finetune: --match-params sizes a LoRA/DoRA rank to GIFT-SW's count: use it with "
                "--method lora, dora or quik_lora and give --salient");
  gift::require(!args.on("no-noise") || method == finetune_method::gift_sw || method == finetune_method::npft,
                "gift finetune: --no-noise applies to --method gift_sw and npft only");
  gift::require(!args.on("noisy-weight-cache") || (method == finetune_method::gift_sw && r.chosen == device::eigen),
                "gift finetune: --noisy-weight-cache applies to --method gift_sw on --device eigen (the other "
                "devices' layers generate the noise twice); drop it");
  r.noise_bits = static_cast<int>(args.integer("noise-bits"));
  gift::require(r.noise_bits != 1, "gift finetune: --noise-bits must be 0 (off) or 2..8, but is 1");
  gift::require(r.noise_bits == 0 || method == finetune_method::gift_sw,
                "gift finetune: --noise-bits sets gift_sw's noise grid; drop it for --method ", method_name);
  const auto storage = gift::weight_storage_named(args.get("storage"));
  gift::require(storage.has_value(), "gift finetune: --storage must be f32 or bf16, but is '", args.get("storage"), "'");
  r.storage = *storage;
  gift::require(r.storage == gift::weight_storage::f32 || (method == finetune_method::gift_sw && r.chosen == device::eigen),
                "gift finetune: --storage bf16 applies to --method gift_sw on --device eigen (the other methods and ",
                "devices hold f32 weights); drop it or use --storage f32");
  try {
    r.svft_pattern = model::parse_svft_pattern(args.get("svft-pattern"));
  } catch (const error&) {
    throw error("gift finetune: --svft-pattern must be plain, banded, random or top_k, but is '" +
                args.get("svft-pattern") + "'");
  }
  gift::require(method != finetune_method::quik_lora || !args.get("weights").empty() || !args.get("resume").empty(),
                "gift finetune: --method quik_lora adapts a quantized model: give --weights from ",
                "gift quantize (--method gptq for QUIK)");
  // Off Eigen: GIFT-SW in one process (the other methods' slots and the data-parallel step are
  // Eigen's), with checkpoints and --resume as on Eigen.
  gift::require(chosen == device::eigen || method == finetune_method::gift_sw, "gift finetune: --device ",
                args.get("device"), " trains --method gift_sw only; use --device eigen for ", method_name);
  r.steps = args.integer("steps");
  r.batch = args.integer("batch");
  r.length = args.integer("seq");
  gift::require(r.steps > 0 && r.batch > 0 && r.length >= 2, "gift finetune: --steps and --batch must be positive, "
                                                             "--seq at least 2");
  r.plan = shard_plan_of(args);
  gift::require(chosen == device::eigen || (r.plan.shards() == 1 && world().size() == 1), "gift finetune: --device ",
                args.get("device"), " runs one shard in one process; use --device eigen for --shards or mpirun");
  gift::require(r.plan.shards() <= r.batch, "gift finetune: --batch ", r.batch, " cannot fill ", r.plan.shards(),
                " shards (one per MPI rank unless --shards says otherwise): each shard of a step needs a "
                "sequence; raise --batch (the global batch) to at least ", r.plan.shards());
  r.resume = args.get("resume");
  gift::require(r.resume.empty() || args.get("weights").empty(), "gift finetune: give --resume or --weights, ",
                "not both: a checkpoint holds the weights it continues from");
  gift::require(r.resume.empty() || method == finetune_method::gift_sw, "gift finetune: --resume continues gift_sw ",
                "runs only; restart a ", method_name, " run from the beginning (its checkpoint holds merged weights, "
                "not the adapter or base it trains)");
  return r;
}

/// The settings every layer's module is made with.
method_settings settings_of(const arguments& args, const finetune_request& r, const layer_totals& totals) {
  method_settings settings;
  settings.method = r.method;
  settings.bits = static_cast<int>(args.integer("bits"));
  settings.seed = static_cast<std::uint64_t>(args.integer("seed"));
  settings.adapter.rank = args.on("match-params") ? match_params_rank(r.method, totals) : static_cast<int>(args.integer("rank"));
  settings.adapter.alpha = args.number("lora-alpha");
  settings.svft.pattern = r.svft_pattern;
  settings.svft.width = static_cast<int>(args.integer("svft-width"));
  settings.svft.k = args.integer("svft-k");
  const std::int64_t npft_epochs = std::min(args.integer("npft-epochs"), r.steps);
  settings.npft_steps_per_draw = (r.steps + npft_epochs - 1) / npft_epochs;
  settings.npft_noise_scale = args.number("npft-noise-scale");
  settings.noisy_weight_cache = args.on("noisy-weight-cache");
  settings.storage = r.storage;
  gift::require(!trains_adapter(r.method) || settings.adapter.rank <= totals.max_rank, "gift finetune: --rank ",
                settings.adapter.rank, " exceeds the narrowest layer (", totals.max_rank, ")");
  return settings;
}

/// The model with every linear layer replaced by a module of the method (on Eigen), or the layers
/// to build on another device; and the noise scales every checkpoint saves.
struct method_slots {
  std::vector<optim::parameter<float>> parameters;
  std::int64_t trainable = 0, delta_from_file = 0, outlier_count = 0;
  std::map<std::string, gift::vector<float>> deltas;  // saved with every checkpoint: a resume reuses them
  std::vector<device_layer> device_layers;             // --device other than eigen: built there
};

method_slots install_method(model::llama_model<float>& model, const arguments& args, const finetune_request& r,
                            const method_settings& settings, const io::salient_selection& selection,
                            const std::optional<io::safetensors_file>& weights_file, const std::vector<std::int32_t>& ids) {
  const finetune_method method = r.method;
  const device chosen = r.chosen;
  const std::int64_t length = r.length;
  const auto& plan = r.plan;
  const alpha_search& noise_alpha = r.noise_alpha;
  const auto salient_or_none = [&](const std::string& name, Eigen::Index in) {
    return selection.empty() ? salient_columns::none(static_cast<std::size_t>(in)) : io::salient_of(selection, name);
  };
  method_slots out;
  (void)length;
  (void)plan;
  (void)ids;
  // NPFT's outliers: the largest entries of each layer's empirical Fisher diagonal over the first
  // --fisher-sequences sequences of the training text, with the model as loaded.
  std::vector<fisher_diagonal> fisher;
#if !GIFT_TOOL_CUDA  // gift-cuda trains gift_sw only (checked above): no Fisher, no Eigen slots, no Eigen loop
  if (method == finetune_method::npft) {
    const std::int64_t count = args.integer("fisher-sequences");
    const auto sequences = wrapped_sequences(ids, length, 0, count);
    progress_bar bar("fisher", count, "sequence");
    gift::require(count >= plan.shards(), "gift finetune: --fisher-sequences ", count, " cannot fill ",
                  plan.shards(), " shards; give at least ", plan.shards());
    fisher = model::sharded_empirical_fisher(model, sequences, world(), plan, [&] { bar.advance(1); });
  }
#endif

  // Every linear layer becomes a module of the method.
  for (int b = 0; b < model.config().layers; ++b) {
    for (model::projection p : model::all_projections) {
      const std::string name = layer_name(b, p);
      const gift::matrix<float> weight = model.linear(b, p).effective_weight();
      const salient_columns salient = salient_or_none(name, weight.cols());
      gift::vector<float> delta;
      if (uses_salient(method)) {
        // A quantized --weights carries the target grid's Δ; --noise-bits asks for another grid's,
        // computed from the weights. A resumed run reuses the Δ its checkpoint saved.
        const bool file_delta = weights_file && weights_file->find_tensor(name + ".delta") != nullptr &&
                                (r.noise_bits == 0 || !r.resume.empty());
        if (file_delta) {
          const auto count = weights_file->find_tensor(name + ".delta")->element_count;
          gift::require(count == static_cast<std::uint64_t>(weight.rows()), "gift finetune: '", name,
                        ".delta' in the weights file holds ", count, " noise scales, but the layer has ",
                        weight.rows(), " rows; the file is damaged or from another model");
          delta = weights_file->read_vector(name + ".delta");
          ++out.delta_from_file;
        } else {
          delta = row_deltas(weight, r.noise_bits > 0 ? r.noise_bits : settings.bits, noise_alpha, salient);
        }
        out.deltas.emplace(name + ".delta", delta);
      }
      layer_inputs inputs{&salient, &delta, {}, p};
      const int id = model::layer_id(b, p);
      if (method == finetune_method::npft) {
        inputs.outliers = fisher[static_cast<std::size_t>(id)].top_share(args.number("npft-share"));
        out.outlier_count += static_cast<std::int64_t>(inputs.outliers.size());
      }
      if (chosen != device::eigen) {
        out.device_layers.push_back({b, p, weight, salient, delta, static_cast<std::uint32_t>(id)});
        continue;
      }
#if !GIFT_TOOL_CUDA
      auto layer = pipeline::make_slot(settings, weight, std::move(inputs), static_cast<std::uint32_t>(id));
      for (auto& view : layer->parameters()) out.parameters.push_back(view);
      out.trainable += layer->trainable_parameters();
      model.replace_linear(b, p, std::move(layer));
#endif
    }
  }
  // A run that trains nothing would still write a checkpoint that looks like a result.
  gift::require(chosen != device::eigen || out.trainable > 0, "gift finetune: --method ", args.get("method"),
                " has no parameter to train (the --salient file selects no column?); select salient columns "
                "with gift select --k or --fraction, or choose a method with its own parameters (lora)");
  return out;
}

/// The learning rate of every step (--schedule, --lr, --warmup).
std::function<double(std::uint64_t)> schedule_of(const arguments& args, std::int64_t steps) {
  const std::string name = args.get("schedule");
  try {
    return optim::named_schedule(name, args.number("lr"), static_cast<std::uint64_t>(steps), args.number("warmup"));
  } catch (const error&) {
    throw error("gift finetune: --schedule must be constant, linear or cosine, but is '" + name + "'");
  }
}

/// --resume: the optimizer continues exactly where the checkpoint stopped. The block count is
/// compared before anything is sized by it; each block's moments are compared with the block (on
/// Eigen; other devices build their blocks later and check again) before they are read. On Eigen
/// the moments go into `optimizer`; for other devices into `first` and `second`.
void restore_moments(const io::training_checkpoint& checkpoint, const method_slots& slots, device chosen,
                     std::int64_t first_step, optim::adamw<float>& optimizer, std::vector<std::vector<float>>& first,
                     std::vector<std::vector<float>>& second) {
  const std::size_t blocks = chosen == device::eigen ? slots.parameters.size() : slots.device_layers.size();
  checkpoint.require_blocks(blocks);
  first.assign(blocks, {});
  second.assign(blocks, {});
  for (std::size_t b = 0; b < blocks; ++b) {
    auto moments = chosen == device::eigen
                       ? checkpoint.read_moments(b, static_cast<std::uint64_t>(slots.parameters[b].value.size()))
                       : checkpoint.read_moments(b);
    first[b] = std::move(moments.first);
    second[b] = std::move(moments.second);
  }
  if (chosen != device::eigen) return;
  optimizer.restore(static_cast<std::uint64_t>(first_step), first, second);
  first.clear();
  second.clear();
}

/// Every rank must train from the same state: the selected blocks, the noise scales and the
/// optimizer state (--salient, --resume).
void require_same_start_on_every_rank(const method_slots& slots, optim::adamw<float>& optimizer) {
  if (world().size() == 1) return;
  distributed::fingerprint_hasher hash;
  for (std::size_t b = 0; b < slots.parameters.size(); ++b) {
    hash.add_values(std::span<const float>(slots.parameters[b].value));
    hash.add_values(std::span<const float>(optimizer.first_moment(b)));
    hash.add_values(std::span<const float>(optimizer.second_moment(b)));
  }
  for (const auto& [name, delta] : slots.deltas)
    hash.add(name).add_values(std::span<const float>(delta.data(), static_cast<std::size_t>(delta.size())));
  const distributed::fingerprint state{"the trainable weights, noise scales and optimizer state (--salient, --resume)",
                                       hash.value()};
  distributed::require_agreement(world(), std::span<const distributed::fingerprint>(&state, 1), "gift finetune");
}

/// What a run trains from besides its options: the checkpoint it resumes (if any), the model, the
/// token ids, the salient set, the run's record (settings and input fingerprints) and the file the
/// noise scales are read from. Read and checked in the order the command has always used, so a run
/// with two problems names the same one first.
struct finetune_inputs {
  std::optional<io::training_checkpoint> checkpoint;
  model::llama_model<float> model;
  std::vector<std::int32_t> ids;
  io::salient_selection selection;
  io::training_run record;
  std::optional<io::safetensors_file> weights_file;
  std::int64_t first_step = 0;
};

finetune_inputs read_inputs(const arguments& args, const finetune_request& request) {
  const std::string& resume = request.resume;
  const auto& plan = request.plan;
  io::training_run record = run_settings_of(args);
  std::optional<io::training_checkpoint> checkpoint;
  if (!resume.empty()) checkpoint.emplace(io::training_checkpoint::open(resume, "gift finetune: --resume"));
  // bf16 from the base model alone: read into bf16 layer by layer (the fp32 model is never held;
  // the salient columns then start from the rounded values, as from a bf16 checkpoint). From
  // --weights or a checkpoint: read in fp32, so the slots take the file's salient columns exactly
  // (a resume continues the same bits) and round only the frozen ones.
  const bool from_file = !resume.empty() || !args.get("weights").empty();
  auto model = load_model(args, resume, from_file ? gift::weight_storage::f32 : request.storage);
  require_within_context(model, request.length, "--seq");
  // A step's saved activations, estimated before any data is read (host backends; one shard's
  // share of the batch per process): a batch too large for the machine is refused at once.
  if (request.chosen != device::cuda) {
    const std::int64_t per_process = (request.batch + plan.shards() - 1) / plan.shards();
    model::require_memory(model::training_bytes(model.config(), per_process, request.length),
                          "gift finetune: a step of " + std::to_string(per_process) + " sequences of " +
                              std::to_string(request.length) + " tokens",
                          "--batch or --seq");
  }
  const auto tokenizer = load_tokenizer(args);
  const std::int64_t wanted =
      args.integer("tokens") > 0 ? args.integer("tokens") : request.steps * request.batch * request.length;
  auto ids = load_text_tokens(args, tokenizer, wanted);
  require_same_run(args, "finetune", model, ids);
  io::salient_selection selection =
      args.get("salient").empty() ? io::salient_selection{} : io::read_salient_file(args.get("salient"));
  // What the run trains from besides its options, by content (paths may move): the base model's
  // weights that a checkpoint does not hold (embedding, norms, head) and the salient set. A resume
  // from another model or another selection would silently train a different run.
  record.inputs = {
      {"gift.base_fingerprint",
       {hex64(base_weights_fingerprint(model)), "another model (its embedding, norms or head differ from --model's)"}},
      {"gift.salient_fingerprint",
       {hex64(io::salient_fingerprint(selection)), "another salient set (--salient's columns differ)"}}};
  const std::int64_t first_step = checkpoint ? checkpoint->step() : 0;
  if (checkpoint) {
    checkpoint->require_same_run(record, plan.shards(), request.steps);
    gift::require(request.storage != gift::weight_storage::f32 || checkpoint->value("gift.storage") == "(none)",
                  "gift finetune: --resume ", resume, " was written with storage = ", checkpoint->value("gift.storage"),
                  ", but this run has f32; resume with the options of the original run");
  }
  std::optional<io::safetensors_file> weights_file;
  if (checkpoint) {
    weights_file.emplace(io::safetensors_file::open(resume));  // the deltas are read through it
  } else if (!args.get("weights").empty()) {
    weights_file.emplace(io::safetensors_file::open(args.get("weights")));
  }
  return {std::move(checkpoint), std::move(model),        std::move(ids), std::move(selection),
          std::move(record),     std::move(weights_file), first_step};
}

/// A checkpoint: the merged weights, the noise scales, the optimizer's moments (the Eigen
/// optimizer's, or those a device run handed back), the step and the run's settings, in one file
/// written atomically by rank 0.
void save_checkpoint(const arguments& args, const finetune_inputs& in, const method_slots& slots,
                     const optim::adamw<float>& optimizer, const device_outcome* on_device, std::int64_t step,
                     std::int64_t shards) {
  std::map<std::string, gift::vector<float>> extra = slots.deltas;
  const std::size_t blocks = on_device ? on_device->first_moment.size() : slots.parameters.size();
  for (std::size_t b = 0; b < blocks; ++b) {
    const auto m = on_device ? on_device->first_moment[b] : optimizer.first_moment(b);
    const auto v = on_device ? on_device->second_moment[b] : optimizer.second_moment(b);
    extra.emplace(io::training_moment_name(b, false),
                  Eigen::Map<const gift::vector<float>>(m.data(), static_cast<Eigen::Index>(m.size())));
    extra.emplace(io::training_moment_name(b, true),
                  Eigen::Map<const gift::vector<float>>(v.data(), static_cast<Eigen::Index>(v.size())));
  }
  auto metadata = io::training_checkpoint_metadata(in.record, step, blocks, shards);
  metadata["gift.salient"] = args.get("salient");
  save_weights(in.model, args.get("out"), extra, metadata);
}

/// The trainer's options from the command line: the steps this invocation takes, the schedule,
/// clipping, noise and the checkpoint interval.
pipeline::train_options train_options_of(const arguments& args, const finetune_request& request,
                                         std::int64_t first_step, std::int64_t stop_after) {
  pipeline::train_options run;
  run.steps = request.steps;
  run.first_step = first_step;
  run.stop_after = stop_after;
  run.schedule = schedule_of(args, request.steps);
  run.clip = args.number("clip");
  run.noise = !args.on("no-noise");
  run.checkpoint_every = args.integer("checkpoint-every");
  run.label = "gift finetune";
  return run;
}

/// --device other than eigen: the GIFT-SW layers trained there by the same trainer; the host model
/// gets the trained weights back, and the moments come back for the checkpoint.
device_outcome train_on_device(const arguments& args, device chosen, finetune_inputs& in, method_slots& slots,
                               const pipeline::train_options& run, const pipeline::batch_source& batches,
                               std::uint64_t seed, std::vector<std::vector<float>>& resume_first,
                               std::vector<std::vector<float>>& resume_second) {
  gift::require(run.checkpoint_every == 0, "gift finetune: --checkpoint-every writes from the Eigen loop; with ",
                "--device ", args.get("device"), " use --stop-after and --resume to checkpoint");
  device_training on_device_settings;
  on_device_settings.options = run;
  on_device_settings.batches = batches;
  on_device_settings.weight_decay = args.number("weight-decay");
  on_device_settings.seed = seed;
  if (in.checkpoint) {
    on_device_settings.resume_first = &resume_first;
    on_device_settings.resume_second = &resume_second;
  }
  return train_gift_sw_on_device(chosen, in.model, slots.device_layers, on_device_settings);
}

/// Everything the command prints or writes as JSON about a finished invocation.
report report_of(const arguments& args, const finetune_request& request, const method_settings& settings,
                 const method_slots& slots, const layer_totals& totals, const pipeline::train_result& trained,
                 std::int64_t first_step, std::int64_t stop_after, std::int64_t trainable,
                 std::size_t state_values, double seconds) {
  const finetune_method method = request.method;
  // An invocation that took no step (resumed at its end) reports zeros, as it always has.
  const bool took_steps = !trained.losses.empty();
  report result("finetune");
  result.add("method", request.method_name)
      .add("steps", request.steps)
      .add("first_step", first_step)
      .add("last_step", std::max(first_step, stop_after))
      .add("batch", request.batch)
      .add("seq", request.length)
      .add("lr", args.number("lr"))
      .add("schedule", args.get("schedule"))
      .add("noise", !args.on("no-noise") && (method == finetune_method::gift_sw || method == finetune_method::npft))
      .add("rank", trains_adapter(method) ? settings.adapter.rank : 0)
      .add("lora_alpha", trains_adapter(method) ? settings.adapter.alpha : 0.0)
      .add("delta_from_weights_file", slots.delta_from_file)
      .add("npft_outliers", slots.outlier_count)
      .add("npft_steps_per_draw", method == finetune_method::npft ? settings.npft_steps_per_draw : 0)
      .add("svft_pattern", method == finetune_method::svft ? args.get("svft-pattern") : std::string("-"))
      .add("trainable_parameters", trainable)
      .add("gift_sw_parameters", totals.salient_weights)
      .add("optimizer_state_values", static_cast<std::int64_t>(state_values))
      .add("device", args.get("device"))
      .add("shards", request.plan.shards())
      .add("ranks", static_cast<std::int64_t>(world().size()))
      .add("combined_gradient_values", static_cast<std::int64_t>(trained.combined_values))
      .add("combine_seconds", trained.combine_seconds)
      .add("first_loss", took_steps ? trained.first_loss() : 0.0)
      .add("last_loss", took_steps ? trained.last_loss() : 0.0)
      .add("smoothed_loss", trained.smoothed_loss)
      .add("train_tokens_per_second",
           static_cast<double>(std::max<std::int64_t>(0, stop_after - first_step) * request.batch * request.length) /
               seconds)
      .add("storage", args.get("storage"))
      .add("peak_resident_mib", static_cast<double>(model::peak_resident_bytes()) / (1 << 20))
      .add("out", args.get("out"))
      .add("seconds", seconds);
  return result;
}
}  // namespace

int run_finetune(int argc, char** argv) {
  arguments args("finetune",
                 "Fine-tuning with AdamW. --method gift_sw (default): only the salient columns train; the other "
                 "columns are frozen and get fresh Gaussian noise 1/2 * delta_i * N(0,1) in every training step. "
                 "Baselines in the same model and trainer: lora, dora (rank --rank, scale --lora-alpha / rank; "
                 "--match-params sizes the rank to GIFT-SW's trainable count), full (every weight), ste "
                 "(quantization-aware training, straight-through, salient columns fp), quik_lora (LoRA on a "
                 "quantized --weights), svft (only a sparse M in W = U (Sigma + M) V^T trains; --svft-pattern), npft "
                 "(the --npft-share of weights with the largest empirical Fisher diagonal over --fisher-sequences "
                 "sequences get per-row uniform noise, re-drawn --npft-epochs times; LoRA --rank on q, k, v, o, up, "
                 "down). Writes the merged weights.");
  declare_finetune_options(args);
  if (!args.parse(argc, argv, 2)) return 0;
  const device chosen = parse_device(args);
  hand_over_to_cuda_build(chosen, world().size(), argv);
  const bool writer = world().rank() == 0;  // rank 0 writes the checkpoints and logs for all ranks
  const auto out_lock = writer ? require_writable_outputs(args, out_kind::file, "finetune") : io::output_lock{};
  const finetune_request request = read_request(args, chosen);
  set_threads(args);
  const auto start = std::chrono::steady_clock::now();
  const std::int64_t steps = request.steps, batch = request.batch, length = request.length;
  finetune_inputs in = read_inputs(args, request);
  // Sizes first: --match-params needs the totals over all layers before any module is built.
  const layer_totals totals = pipeline::layer_totals_of(in.model, [&](int b, model::projection p) {
    return in.selection.empty() ? std::int64_t{0}
                                : static_cast<std::int64_t>(io::salient_of(in.selection, layer_name(b, p)).size());
  });
  const method_settings settings = settings_of(args, request, totals);
  method_slots slots = install_method(in.model, args, request, settings, in.selection, in.weights_file, in.ids);
  optim::adamw<float> optimizer(slots.parameters, args.number("weight-decay"));
  std::vector<std::vector<float>> resume_first, resume_second;  // --device other than eigen: passed on
  if (in.checkpoint)
    restore_moments(*in.checkpoint, slots, chosen, in.first_step, optimizer, resume_first, resume_second);
  require_same_start_on_every_rank(slots, optimizer);
  std::optional<device_outcome> on_device_run;  // --device other than eigen: its losses and moments
  const auto save = [&](std::int64_t step) {
    if (writer)
      save_checkpoint(args, in, slots, optimizer, on_device_run ? &*on_device_run : nullptr, step,
                      request.plan.shards());
  };
  const std::int64_t stop_after = args.integer("stop-after") > 0 ? std::min(args.integer("stop-after"), steps) : steps;
  // One trainer for every backend (pipeline::train); this command adds the loss log, the progress
  // bar and the checkpoints through its callbacks.
  std::string loss_log = "step,loss\n";
  progress_bar bar("finetune", stop_after - std::min(in.first_step, stop_after), "step");
  pipeline::train_options run = train_options_of(args, request, in.first_step, stop_after);
  run.on_step = [&](const pipeline::train_step& done) {
    char line[64];
    std::snprintf(line, sizeof line, "%lld,%.9g\n", static_cast<long long>(done.step), done.loss);
    loss_log += line;
    bar.advance(1, "loss " + std::to_string(done.smoothed_loss));
  };
  const pipeline::batch_source batches = [&](std::int64_t step) {
    return wrapped_sequences(in.ids, length, step * batch, batch);
  };
  pipeline::train_result trained;
  std::int64_t trainable = slots.trainable;
  if (chosen != device::eigen) {
    on_device_run = train_on_device(args, chosen, in, slots, run, batches, settings.seed, resume_first, resume_second);
    trained = on_device_run->trained;
    trainable = on_device_run->trainable;
  } else {
#if !GIFT_TOOL_CUDA
    run.on_checkpoint = [&](std::int64_t step) { save(step); };
    trained = pipeline::train(in.model, slots.parameters, optimizer, batches, run, &world(), &request.plan);
#endif
  }
  save(std::max(in.first_step, stop_after));
  if (writer && !args.get("loss-log").empty())
    io::write_file_atomically(args.get("loss-log"), std::as_bytes(std::span<const char>(loss_log.data(), loss_log.size())));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const std::size_t state_values = on_device_run ? on_device_run->state_values : optimizer.state_elements();
  report_of(args, request, settings, slots, totals, trained, in.first_step, stop_after, trainable, state_values, seconds)
      .emit(args.on("json"), args.get("output-json"));
  return 0;
}

}  // namespace gift::cli
