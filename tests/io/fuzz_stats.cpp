// libFuzzer target for the statistics reader (`gift::activation_stats::load`), the salient-column
// file reader (`gift::io::read_salient_file`) and the calibration manifest parser
// (`gift::io::calibration_set::parse`): any input must load or throw gift::error, never allocate
// more than the input justifies, never read out of bounds. The first two take a path, so each
// input goes to a file first. The first input byte chooses the reader (its value modulo 3).
#include <gift/io/calibration_set.hpp>
#include <gift/io/salient_file.hpp>
#include <gift/stats.hpp>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  static const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("gift_fuzz_stats_" + std::to_string(::getpid()));
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data + 1), static_cast<std::streamsize>(size - 1));
  }
  try {
    if (data[0] % 3 == 0) {
      const auto stats = gift::activation_stats::load(path);
      if (stats.max_abs().size() != static_cast<Eigen::Index>(stats.columns())) __builtin_trap();
    } else if (data[0] % 3 == 1) {
      for (const auto& [name, salient] : gift::io::read_salient_file(path))
        if (salient.size() > salient.columns()) __builtin_trap();
    } else {
      const std::string text(reinterpret_cast<const char*>(data + 1), size - 1);
      const auto manifest = gift::io::calibration_set::parse(text, "/nowhere", "fuzz");
      for (const auto& [name, file] : manifest.files())
        if (name.empty()) __builtin_trap();
    }
  } catch (const gift::error&) {
  }
  return 0;
}
