// libFuzzer target for the training-checkpoint reader (`gift::io::training_checkpoint`): any
// input must be refused with gift::error or give counts, comparisons and moments that agree with
// what the file declares — never allocate beyond what the input holds, never read out of bounds.
#include <gift/io/training_checkpoint.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::byte> bytes(size);
  for (std::size_t i = 0; i < size; ++i) bytes[i] = static_cast<std::byte>(data[i]);
  try {
    auto file = gift::io::safetensors_file::parse(gift::io::mapped_file::from_bytes(std::move(bytes), "fuzz"));
    const auto checkpoint = gift::io::training_checkpoint::from_file(std::move(file), "fuzz");
    if (checkpoint.step() < 0 || checkpoint.blocks() < 0 || checkpoint.shards() < 0) __builtin_trap();
    gift::io::training_run run;
    run.settings = {{"gift.lr", "0.001"}, {"gift.method", "gift_sw"}};
    run.inputs = {{"gift.base_fingerprint", {"00000000000000ff", "another model"}}};
    try {
      checkpoint.require_same_run(run, 1, 100);
    } catch (const gift::error&) {
    }
    // A count the caller has not confirmed sizes nothing: only blocks the file can hold are read.
    const auto blocks = static_cast<std::size_t>(std::min<std::int64_t>(checkpoint.blocks(), 64));
    for (std::size_t b = 0; b < blocks; ++b) {
      try {
        const auto moments = checkpoint.read_moments(b);
        if (moments.first.size() != moments.second.size()) __builtin_trap();
        const auto again = checkpoint.read_moments(b, moments.first.size());
        // The same tensor read twice gives the same bits.
        if (!moments.first.empty() &&
            std::memcmp(again.first.data(), moments.first.data(), moments.first.size() * sizeof(float)) != 0)
          __builtin_trap();
      } catch (const gift::error&) {
      }
    }
  } catch (const gift::error&) {
  }
  return 0;
}
