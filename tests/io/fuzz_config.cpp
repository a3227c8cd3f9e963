// libFuzzer target for a checkpoint folder's config.json (`gift::model::llama_config_from_hf`):
// any text must give a configuration within `llama_config_limits` or throw gift::error — never
// allocate by an unchecked number, never read out of bounds, never accept a value the model
// cannot use. The reader takes a folder, so each input becomes the folder's config.json beside a
// fixed, empty model.safetensors.
#include <gift/model/hf_checkpoint.hpp>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::filesystem::path folder = [] {
    const auto path = std::filesystem::temp_directory_path() / ("gift_fuzz_config_" + std::to_string(::getpid()));
    std::filesystem::create_directories(path);
    // A safetensors file with an empty header: the folder opens, its weights hold nothing.
    std::ofstream weights(path / "model.safetensors", std::ios::binary | std::ios::trunc);
    const std::string header = "{}      ";
    const std::uint64_t length = header.size();
    weights.write(reinterpret_cast<const char*>(&length), 8);
    weights.write(header.data(), static_cast<std::streamsize>(header.size()));
    return path;
  }();
  {
    std::ofstream out(folder / "config.json", std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  }
  try {
    const auto checkpoint = gift::io::hf_checkpoint::open(folder);
    const gift::model::llama_config c = gift::model::llama_config_from_hf(checkpoint);
    using limits = gift::model::llama_config_limits;
    const bool sizes_ok = c.layers >= 1 && c.layers <= limits::max_layers && c.hidden >= 1 &&
                          c.hidden <= limits::max_width && c.ffn >= 1 && c.ffn <= limits::max_width &&
                          c.heads >= 1 && c.kv_heads >= 1 && c.heads % c.kv_heads == 0 && c.head_dim >= 1 &&
                          c.vocab >= 1 && c.vocab <= limits::max_vocab;
    const bool numbers_ok = std::isfinite(c.rope_base) && c.rope_base > 0 && std::isfinite(c.rms_epsilon) &&
                            c.rms_epsilon > 0;
    if (!sizes_ok || !numbers_ok) __builtin_trap();
  } catch (const gift::error&) {
  }
  return 0;
}
