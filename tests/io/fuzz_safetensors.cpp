// libFuzzer target for the safetensors reader: any input must either parse or throw gift::error,
// and every tensor of a parsed file must convert to float or throw gift::error (never read
// outside the file: the sanitizers report any out-of-bounds access).
#include <gift/io/safetensors.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::byte> bytes(size);
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<std::byte>(data[i]);
  try {
    const auto file = gift::io::safetensors_file::parse(gift::io::mapped_file::from_bytes(std::move(bytes), "fuzz"));
    for (const auto& info : file.tensors()) {
      if (info.element_count > (std::uint64_t{1} << 24)) continue;  // a valid but large tensor: skip the copy
      try {
        std::vector<float> values(static_cast<std::size_t>(info.element_count));
        file.read_into(info, values);
      } catch (const gift::error&) {
      }
    }
  } catch (const gift::error&) {
  }
  return 0;
}
