#pragma once
/// \file gift/model/open_model.hpp
/// \brief Opens a model wherever it is stored: a GGUF file, a Hugging Face checkpoint folder, or
/// a folder in gift's packed layout — the model, its tokenizer and its card, by one path.

#include <gift/error.hpp>
#include <gift/io/gguf.hpp>
#include <gift/io/hf_checkpoint.hpp>
#include <gift/io/tokenizer.hpp>
#include <gift/model/hf_checkpoint.hpp>
#include <gift/model/llama.hpp>
#include <gift/model/load_gguf.hpp>
#include <gift/model/model_card.hpp>
#include <gift/model/stored_linear.hpp>
#include <gift/stored_weight.hpp>

#include <filesystem>
#include <string>
#include <string_view>

namespace gift::model {

/// How a model is stored.
enum class model_format {
  gguf,    ///< a GGUF file (llama.cpp)
  hf,      ///< a Hugging Face checkpoint folder, dense weights
  packed,  ///< a checkpoint folder in gift's packed mixed-precision layout
};

/// The name of a format ("gguf", "hf", "packed").
[[nodiscard]] constexpr std::string_view name_of(model_format format) noexcept {
  return format == model_format::gguf ? "gguf" : format == model_format::hf ? "hf" : "packed";
}

/// The format of the model at `path`: a folder is a checkpoint (packed when its config.json says
/// so), a file must be GGUF. \throws gift::error when the path is neither.
[[nodiscard]] inline model_format model_format_of(const std::filesystem::path& path) {
  std::error_code status;
  if (std::filesystem::is_directory(path, status)) {
    return packed_bits(io::hf_checkpoint::open(path)) > 0 ? model_format::packed : model_format::hf;
  }
  gift::detail::require(std::filesystem::is_regular_file(path, status), "gift::model::model_format_of: '", path.string(),
                        "' does not exist; pass a .gguf file or a Hugging Face checkpoint folder");
  return model_format::gguf;
}

/// The model at `path` (a GGUF file or a checkpoint folder, dense or packed), linear weights held
/// in `storage` (bf16: a GGUF file is read one layer at a time into bf16; a checkpoint folder is
/// read in fp32 and then moved into bf16, so its peak memory is the fp32 model's).
[[nodiscard]] inline llama_model<float> open_llama(const std::filesystem::path& path,
                                                   gift::weight_storage storage = gift::weight_storage::f32) {
  std::error_code status;
  if (std::filesystem::is_directory(path, status)) {
    auto model = load_llama(io::hf_checkpoint::open(path));
    if (storage != gift::weight_storage::f32) (void)store_frozen_weights(model, storage);
    return model;
  }
  return load_llama(io::gguf_file::open(path), storage);
}

/// The tokenizer of the model at `path`: from the GGUF metadata or the folder's tokenizer.json.
[[nodiscard]] inline io::tokenizer open_tokenizer(const std::filesystem::path& path) {
  std::error_code status;
  if (std::filesystem::is_directory(path, status)) return io::hf_checkpoint::open(path).tokenizer().tokenizer;
  return io::tokenizer::from_gguf(io::gguf_file::open(path));
}

/// The card of the model at `path`: a GGUF file's name, chat template and `general.*` metadata;
/// a folder's `_name_or_path` and chat template.
[[nodiscard]] inline model_card open_model_card(const std::filesystem::path& path) {
  std::error_code status;
  if (!std::filesystem::is_directory(path, status)) return model_card::from_gguf(io::gguf_file::open(path));
  const auto folder = io::hf_checkpoint::open(path);
  model_card card;
  card.name = folder.config_string("_name_or_path");
  card.chat_template = folder.tokenizer().extras.chat_template;
  return card;
}

}  // namespace gift::model
