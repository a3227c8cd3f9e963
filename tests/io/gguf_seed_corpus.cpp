// Writes the fuzzer's seed corpus: the hand-made GGUF files of the unit tests (v2, v3, one file
// per dequantized type, a file with a custom alignment). Usage: gguf_seed_corpus <folder>...
#include "gguf_builder.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s <seed folder> [more folders to create]\n", argv[0]);
    return 2;
  }
  for (int i = 1; i < argc; ++i) std::filesystem::create_directories(argv[i]);
  const std::filesystem::path folder = argv[1];
  const auto save = [&](const std::string& name, const std::vector<std::byte>& bytes) {
    std::ofstream out(folder / name, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  };
  save("v2.gguf", gift_test::small_valid_gguf(2));
  save("v3.gguf", gift_test::small_valid_gguf(3));
  // One tensor per type: GGML type number, values per block, bytes per block.
  const struct { const char* name; std::uint32_t type, block, size; } types[] = {
      {"f32", 0, 1, 4}, {"f16", 1, 1, 2}, {"bf16", 30, 1, 2}, {"q4_0", 2, 32, 18},
      {"q4_1", 3, 32, 20}, {"q8_0", 8, 32, 34}, {"q6_k", 14, 256, 210}};
  for (const auto& t : types) {
    std::vector<std::uint8_t> data(2 * t.size);
    for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 37 + 11);
    save(std::string(t.name) + ".gguf",
         gift_test::build_gguf(3, 1,
                               [](gift_test::byte_writer& w) {
                                 w.str("general.alignment"); w.u32(gift_test::t_u32); w.u32(64);
                               },
                               {{"t", t.type, {2 * t.block}, data}, {"u", t.type, {t.block, 1}, std::vector<std::uint8_t>(data.begin(), data.begin() + t.size)}}, 64));
  }
  return 0;
}
