// libFuzzer target for the GGUF parser: any input must either parse or throw gift::error, and every
// tensor of a parsed file must dequantize or throw gift::error. Sanitizers (address, undefined)
// turn any out-of-bounds read or undefined behaviour into a reported crash.
#include <gift/io/gguf.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::byte> bytes(size);
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<std::byte>(data[i]);
  try {
    const auto file = gift::io::gguf_file::parse(gift::io::mapped_file::from_bytes(std::move(bytes), "fuzz"));
    for (const auto& entry : file.metadata()) (void)entry.value.to_string();
    for (const auto& info : file.tensors()) {
      try {
        const auto values = file.dequantize(info.name);
        if (static_cast<std::uint64_t>(values.size()) != info.element_count) __builtin_trap();
      } catch (const gift::error&) {
      }
    }
  } catch (const gift::error&) {
  }
  return 0;
}
