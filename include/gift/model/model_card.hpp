#pragma once
/// \file gift/model/model_card.hpp
/// \brief `gift::model::model_card`: what a model file says about the model besides its weights
/// and tokenizer — its name, chat template, and (from a GGUF source) the `general.*` metadata —
/// so that an export carries it over to the next format.

#include <gift/io/gguf.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace gift::model {

/// Descriptive metadata of a model, read from its source file and written into every export.
struct model_card {
  std::string name;                 ///< `general.name` (GGUF) or `_name_or_path` (config.json); may be empty
  std::string chat_template;        ///< Jinja chat template; empty when the source has none
  std::string gguf_pre_tokenizer;   ///< `tokenizer.ggml.pre` of a GGUF source (empty: derived on export)
  std::vector<io::gguf_metadata_entry> gguf_general;  ///< other `general.*` entries of a GGUF source

  /// The card of a GGUF file: name, chat template, pre-tokenizer name and the `general.*` entries
  /// an export can copy unchanged (not the architecture, file type, quantization version or
  /// alignment, which describe the file itself).
  [[nodiscard]] static model_card from_gguf(const io::gguf_file& file) {
    model_card card;
    if (const auto* name = file.find_metadata("general.name"); name != nullptr && name->type() == io::gguf_value_type::string)
      card.name = name->as_string();
    if (const auto* chat = file.find_metadata("tokenizer.chat_template");
        chat != nullptr && chat->type() == io::gguf_value_type::string)
      card.chat_template = chat->as_string();
    if (const auto* pre = file.find_metadata("tokenizer.ggml.pre"); pre != nullptr && pre->type() == io::gguf_value_type::string)
      card.gguf_pre_tokenizer = pre->as_string();
    for (const auto& entry : file.metadata()) {
      if (entry.key.rfind("general.", 0) != 0) continue;
      if (entry.key == "general.architecture" || entry.key == "general.name" || entry.key == "general.file_type" ||
          entry.key == "general.quantization_version" || entry.key == "general.alignment")
        continue;
      card.gguf_general.push_back(entry);
    }
    return card;
  }
};

}  // namespace gift::model
