#pragma once
// Data-parallel runs of calibrate, finetune and eval (`mpirun -np N gift ...`): the ranks of this
// invocation, the --shards option and its plan, the check that every rank runs the same command on
// the same model and text, and the sharded perplexity loop. Results are fixed by the shards, never
// by the ranks: `mpirun -np N gift <command> --shards S` writes the bits that
// `gift <command> --shards S` writes in one process (S defaults to the number of ranks).
#include <gift/distributed/agreement.hpp>
#include <gift/distributed/communicator.hpp>
#include <gift/distributed/ordered_fold.hpp>
#include <gift/distributed/shard_plan.hpp>
#include <gift/error.hpp>
#include <gift/model/llama.hpp>

#include <cstdint>
#include <cstdio>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "args.hpp"
#include "common.hpp"
#include "progress.hpp"

namespace gift::cli {

/// The ranks of this invocation: one process unless main joined an MPI run.
inline distributed::communicator*& world_pointer() {
  static distributed::single_process one;
  static distributed::communicator* current = &one;
  return current;
}
/// \copydoc world_pointer
inline distributed::communicator& world() { return *world_pointer(); }

/// Declares --shards (calibrate, finetune, eval).
inline void shard_options(arguments& args, const std::string& unit) {
  args.integer_option("shards", "0",
                      "cut the work into this many shards of " + unit + ", computed separately and combined in shard "
                      "order: the result depends on the shards, not on the MPI ranks that compute them (0: one per "
                      "rank; mpirun -np N equals --shards N in one process)",
                      0, 1 << 20);
}

/// The shard plan of --shards over this run's ranks.
inline distributed::shard_plan shard_plan_of(const arguments& args) {
  const int ranks = world().size();
  const std::int64_t shards = args.integer("shards") > 0 ? args.integer("shards") : ranks;
  gift::require(shards >= ranks, "gift: --shards ", shards, " is fewer than the ", ranks,
                " MPI ranks; give at least --shards ", ranks, " (or leave it 0: one per rank)");
  return {shards, ranks};
}

/// The options' values as the ranks must share them: numbers canonically, every option except
/// --threads (nodes may differ in cores; results do not depend on it) and paths, whose contents
/// are compared instead (a model file may live at another path on another node).
inline std::uint64_t options_fingerprint(const arguments& args) {
  static const std::set<std::string> paths = {"model", "weights", "docs", "data", "salient", "resume",
                                              "out", "output-json", "loss-log", "stats"};
  distributed::fingerprint_hasher hash;
  for (const auto& [name, value] : args.effective_values()) {
    if (name == "threads") continue;
    hash.add(name);
    // --data also names the built-in corpora; for a path only whether it is given counts.
    const bool is_path = paths.count(name) != 0 && !(name == "data" && (value == "linux-doc" || value == "fortunes"));
    hash.add(is_path ? std::string(value.empty() ? "-" : "+") : value);
  }
  return hash.value();
}

/// Fingerprint of the weights outside the linear layers: embedding, norms and head, which a
/// finetune checkpoint does not hold (they always come from --model).
inline std::uint64_t base_weights_fingerprint(const model::llama_model<float>& model) {
  distributed::fingerprint_hasher hash;
  const auto add = [&](const auto& m) { hash.add_values(std::span<const float>(m.data(), static_cast<std::size_t>(m.size()))); };
  add(model.token_embedding());
  add(model.output_norm());
  if (!model.config().tied_embeddings) add(model.output_head());
  for (int b = 0; b < model.config().layers; ++b) {
    add(model.norms(b).attention);
    add(model.norms(b).feed_forward);
  }
  return hash.value();
}

/// Fingerprint of every weight of the model: the base weights and the linear layers as they compute.
inline std::uint64_t model_fingerprint(const model::llama_model<float>& model) {
  distributed::fingerprint_hasher hash;
  const std::uint64_t base = base_weights_fingerprint(model);
  hash.add_values(std::span<const std::uint64_t>(&base, 1));
  for (int b = 0; b < model.config().layers; ++b)
    for (model::projection p : model::all_projections) {
      const auto weight = model.linear(b, p).effective_weight();
      hash.add_values(std::span<const float>(weight.data(), static_cast<std::size_t>(weight.size())));
    }
  return hash.value();
}

/// Stops every rank with one clear error unless all ranks run this command with the same options,
/// model weights and token stream (plus `extra`). Free with one process.
inline void require_same_run(const arguments& args, const std::string& command, const model::llama_model<float>& model,
                             const std::vector<std::int32_t>& ids, std::vector<distributed::fingerprint> extra = {}) {
  if (world().size() == 1) return;
  std::vector<distributed::fingerprint> items = {
      {"the options (every option but --threads and the paths)", options_fingerprint(args)},
      {"the model weights (the GGUF file and --weights/--resume)", model_fingerprint(model)},
      {"the token stream (the text, its split and --tokens)",
       distributed::fingerprint_hasher().add_values(std::span<const std::int32_t>(ids)).value()}};
  items.insert(items.end(), extra.begin(), extra.end());
  distributed::require_agreement(world(), items, "gift " + command);
}

/// How many of `rows` sequences this rank evaluates under `plan` (for its progress bar).
inline std::int64_t rows_of_this_rank(std::int64_t rows, const distributed::shard_plan& plan) {
  if (plan.shards() == 1) return rows;
  std::int64_t mine = 0;
  for (std::int64_t k = 0; k < plan.count(world().rank()); ++k) {
    const auto [begin, end] = distributed::shard_plan::items_of(rows, plan.shards(), plan.first(world().rank()) + k);
    mine += end - begin;
  }
  return mine;
}

}  // namespace gift::cli
