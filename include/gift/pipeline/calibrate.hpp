#pragma once
/// \file gift/pipeline/calibrate.hpp
/// \brief `pipeline::calibrate`: run a model over calibration sequences and keep, for every linear
/// layer, the streaming statistics of its input columns (what the sensitivity metrics read) and
/// optionally its Gram matrix `XᵀX` (what GPTQ reads), on any backend and optionally spread over
/// the ranks of a `distributed::communicator`; `save_calibration` writes them as the calibration
/// folder `gift select` and `gift quantize` read (`io::calibration_set`).
///
/// \code
/// const auto sequences = gift::model::wrapped_sequences(ids, 256, 0, ids.size() / 256);
/// const auto calibration = gift::pipeline::calibrate(model, sequences, {.batch = 4, .gram = true});
/// const auto scores = gift::column_sensitivity<gift::gift_sw>(
///     W, calibration.stats(0, gift::model::projection::q), quantizer);
/// gift::pipeline::save_calibration(calibration, "calib");   // for gift select / quantize
/// \endcode
///
/// q, k and v read one normalised input, and so do gate and up: each group keeps one set of
/// statistics (and one Gram matrix), found under every member (`model::input_owner`).

#include <gift/distributed/communicator.hpp>
#include <gift/distributed/merge_shards.hpp>
#include <gift/distributed/ordered_fold.hpp>
#include <gift/distributed/shard_plan.hpp>
#include <gift/error.hpp>
#include <gift/gram.hpp>
#include <gift/io/calibration_set.hpp>
#include <gift/io/safetensors.hpp>
#include <gift/model/cross_entropy.hpp>
#include <gift/model/linear_module.hpp>
#include <gift/model/llama.hpp>
#include <gift/model/tokens.hpp>
#include <gift/stats.hpp>

#include <algorithm>
#include <concepts>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace gift::pipeline {

/// Told after every batch: sequences run so far (by this rank), of how many, and their loss.
using calibrate_progress = std::function<void(std::int64_t done, std::int64_t of, const model::loss_sum& so_far)>;

/// How `calibrate` runs.
struct calibrate_options {
  std::int64_t batch = 4;        ///< sequences per forward pass (the statistics do not depend on it beyond float rounding)
  bool gram = false;             ///< also accumulate every layer's `XᵀX` (in × in doubles per input group: GPTQ needs it)
  calibrate_progress progress;   ///< optional: called after every batch
};

/// What `calibrate` measured: per-layer input statistics (and Gram matrices), and the model's
/// loss on the calibration text (a sanity figure: a broken model shows here first).
class calibration {
public:
  /// An empty calibration of a model with `layers` blocks (what `calibrate` fills).
  explicit calibration(int layers) : layers_(layers), stats_(slots(layers)), grams_(slots(layers)) {}

  /// The model's blocks.
  [[nodiscard]] int layers() const noexcept { return layers_; }
  /// Whether Gram matrices were accumulated (`calibrate_options::gram`).
  [[nodiscard]] bool has_gram() const noexcept { return !grams_.empty() && grams_.front().has_value(); }
  /// The statistics of the input of layer `p` of `block` (shared by q/k/v and by gate/up).
  /// \throws gift::error for a block outside the model.
  [[nodiscard]] const activation_stats& stats(int block, model::projection p) const {
    return *stats_[slot(block, p, "stats")];
  }
  /// The Gram matrix accumulator of the input of layer `p` of `block`.
  /// \throws gift::error for a block outside the model or a calibration without Gram matrices.
  [[nodiscard]] const gram_accumulator& gram(int block, model::projection p) const {
    gift::require(has_gram(), "gift::pipeline::calibration::gram: this calibration holds no Gram matrices; ",
                  "run calibrate with calibrate_options::gram = true");
    return *grams_[slot(block, p, "gram")];
  }
  /// A copy of every layer's statistics indexed by `model::layer_id` (what `model::metric_sweep`
  /// and `model::select_model` take).
  [[nodiscard]] std::vector<activation_stats> stats_by_layer() const {
    std::vector<activation_stats> out;
    out.reserve(stats_.size());
    for (int b = 0; b < layers_; ++b)
      for (model::projection p : model::all_projections) out.push_back(stats(b, p));
    return out;
  }

  model::loss_sum loss;        ///< next-token loss over the calibration sequences (shard sums in shard order)
  std::int64_t tokens = 0;     ///< tokens run through the model

  /// Sets the statistics (and Gram matrix) of an input group (`p` its owner); for `calibrate`.
  void set_group(int block, model::projection p, activation_stats stats, std::optional<gram_accumulator> gram) {
    const std::size_t at = group_slot(block, p, "set_group");
    stats_[at].emplace(std::move(stats));
    grams_[at] = std::move(gram);
  }

private:
  static std::size_t slots(int layers) {
    gift::require(layers >= 1, "gift::pipeline::calibration: argument 'layers' must be at least 1, but is ", layers);
    return static_cast<std::size_t>(layers) * model::projections_per_block;
  }
  // Where the statistics of `p`'s input group live.
  [[nodiscard]] std::size_t group_slot(int block, model::projection p, const char* what) const {
    gift::require(block >= 0 && block < layers_, "gift::pipeline::calibration::", what, ": block ", block,
                  " is outside the model's 0..", layers_ - 1);
    return static_cast<std::size_t>(model::layer_id(block, model::input_owner(p)));
  }
  // As above, for a group that holds statistics.
  [[nodiscard]] std::size_t slot(int block, model::projection p, const char* what) const {
    const std::size_t at = group_slot(block, p, what);
    gift::require(stats_[at].has_value(), "gift::pipeline::calibration::", what, ": no statistics for block ", block,
                  " (", model::short_name(p), "); the calibration was not filled by calibrate");
    return at;
  }
  int layers_;
  std::vector<std::optional<activation_stats>> stats_;   // filled at each input group's owner
  std::vector<std::optional<gram_accumulator>> grams_;
};

/// `calibrate` spread over the ranks of `comm`: the sequences are cut into `plan.shards()`
/// contiguous shards, each rank runs its own, each shard accumulates from zero and the shards are
/// merged in shard order — so the result depends on the shard count, never on the ranks or
/// threads, and every rank gets all of it. Every rank must pass the same `sequences`.
/// The model's calibration hook is restored (emptied) afterwards, also when this throws.
/// \throws gift::error for an empty set, sequences shorter than 2 tokens, a batch below 1, a plan
/// that does not match `comm`, fewer sequences than shards, or what the model throws (bad ids,
/// non-finite activations).
template <std::floating_point T, backend_tag Backend>
[[nodiscard]] calibration calibrate(model::llama_model<T, Backend>& model, const token_matrix& sequences,
                                    const calibrate_options& options, distributed::communicator& comm,
                                    const distributed::shard_plan& plan) {
  const char* where = "gift::pipeline::calibrate";
  gift::require(options.batch >= 1, where, ": calibrate_options::batch must be at least 1, but is ", options.batch);
  gift::require(sequences.rows() >= 1 && sequences.cols() >= 2, where, ": expected at least one sequence of at ",
                "least 2 tokens, but got ", sequences.rows(), " x ", sequences.cols());
  gift::require(plan.ranks() == comm.size(), where, ": the plan spreads its shards over ", plan.ranks(),
                " rank(s), but the communicator has ", comm.size());
  const std::int64_t rows = sequences.rows();
  (void)distributed::shard_plan::items_of(rows, plan.shards(), 0);  // every shard needs a sequence
  const int me = comm.rank();
  const auto owned = static_cast<std::size_t>(plan.count(me));
  const int blocks = model.config().layers;
  const auto layers = static_cast<std::size_t>(blocks) * model::projections_per_block;
  std::vector<std::vector<activation_stats>> stats(layers);
  std::vector<std::vector<gram_accumulator>> grams(layers);
  for (int b = 0; b < blocks; ++b)
    for (model::projection p : model::all_projections) {
      if (model::input_owner(p) != p) continue;
      const auto id = static_cast<std::size_t>(model::layer_id(b, p));
      const auto in = static_cast<std::size_t>(model.linear(b, p).in_features());
      stats[id].assign(owned, activation_stats(in));
      if (options.gram) grams[id].assign(owned, gram_accumulator(in));
    }
  std::size_t shard = 0;
  model.set_calibration_hook([&](int block, model::projection p, const backend_matrix_t<Backend, T>& x) {
    if (model::input_owner(p) != p) return;
    const auto id = static_cast<std::size_t>(model::layer_id(block, p));
    stats[id][shard].update(Backend{}, x);
    if (options.gram) grams[id][shard].update(Backend{}, x);
  });
  std::int64_t mine = 0, done = 0;
  for (std::int64_t k = 0; k < plan.count(me); ++k) {
    const auto [begin, end] = distributed::shard_plan::items_of(rows, plan.shards(), plan.first(me) + k);
    mine += end - begin;
  }
  std::vector<double> shard_losses;  // nll, count per owned shard
  try {
    for (shard = 0; shard < owned; ++shard) {
      const auto [begin, end] =
          distributed::shard_plan::items_of(rows, plan.shards(), plan.first(me) + static_cast<std::int64_t>(shard));
      model::loss_sum loss;
      for (std::int64_t first = begin; first < end; first += options.batch) {
        const std::int64_t count = std::min(options.batch, end - first);
        loss += model.evaluate(token_matrix(sequences.middleRows(first, count)));
        done += count;
        if (options.progress) options.progress(done, mine, loss);
      }
      shard_losses.push_back(loss.nll);
      shard_losses.push_back(static_cast<double>(loss.count));
    }
  } catch (...) {
    model.set_calibration_hook({});
    throw;
  }
  model.set_calibration_hook({});
  std::vector<double> total(2);
  distributed::ordered_sum(comm, plan, std::span<const double>(shard_losses), std::span<double>(total));
  calibration result(blocks);
  result.loss = {total[0], static_cast<std::int64_t>(total[1])};
  result.tokens = rows * sequences.cols();
  for (int b = 0; b < blocks; ++b)
    for (model::projection p : model::all_projections) {
      if (model::input_owner(p) != p) continue;
      const auto id = static_cast<std::size_t>(model::layer_id(b, p));
      activation_stats merged = distributed::merge_shards(comm, plan, std::span<const activation_stats>(stats[id]));
      stats[id].clear();
      std::optional<gram_accumulator> gram;
      if (options.gram) {
        gram.emplace(distributed::merge_shards(comm, plan, std::span<const gram_accumulator>(grams[id])));
        grams[id].clear();
      }
      result.set_group(b, p, std::move(merged), std::move(gram));
    }
  return result;
}

/// The input statistics (and Gram matrices) of every linear layer of `model` over `sequences`, in
/// one process: `calibrate` with one shard.
template <std::floating_point T, backend_tag Backend>
[[nodiscard]] calibration calibrate(model::llama_model<T, Backend>& model, const token_matrix& sequences,
                                    const calibrate_options& options = {}) {
  distributed::single_process one;
  return calibrate(model, sequences, options, one, distributed::shard_plan(1, 1));
}

/// Writes `calibration` as a calibration folder: `<layer>.stats` for every layer
/// (`model::layer_name`; q/k/v and gate/up get their group's statistics), `gram.safetensors` with
/// `<layer>.gram` (float) when it holds Gram matrices, and last `manifest.txt` (`io::calibration_set`),
/// so a write stopped half-way leaves a folder that readers refuse. Creates `folder` if needed.
/// \throws gift::error when a file cannot be written.
inline void save_calibration(const calibration& calibration, const std::filesystem::path& folder) {
  std::filesystem::create_directories(folder);
  auto manifest = io::calibration_set::begin(folder, static_cast<std::uint64_t>(calibration.tokens));
  io::safetensors_writer gram_file;
  for (int b = 0; b < calibration.layers(); ++b)
    for (model::projection p : model::all_projections) {
      const std::string name = model::layer_name(b, p);
      calibration.stats(b, p).save(folder / (name + ".stats"));
      manifest.add(name + ".stats");
      if (calibration.has_gram()) gram_file.add(name + ".gram", calibration.gram(b, p).gram().cast<float>());
    }
  if (calibration.has_gram()) {
    gram_file.write(folder / "gram.safetensors");
    manifest.add("gram.safetensors");
  }
  manifest.commit();
}

}  // namespace gift::pipeline
