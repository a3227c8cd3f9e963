// safetensors: round trips, exact encodings, corrupt headers, atomic writes, and (suite
// python_crosscheck, run as its own ctest test) files exchanged with safetensors_reference.py.
#include <boost/test/unit_test.hpp>

#include <gift/io/safetensors.hpp>

#include "reference_files.hpp"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

// Every case of this file belongs to the CTest test io_safetensors (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(io_safetensors)

using gift::io::safetensors_dtype;
using gift::io::safetensors_file;
using gift::io::safetensors_writer;

namespace {

safetensors_file parse(std::vector<std::byte> bytes) {
  return safetensors_file::parse(gift::io::mapped_file::from_bytes(std::move(bytes), "test.safetensors"));
}

// A file from a header text and a data section of `data_size` zero bytes.
std::vector<std::byte> with_header(const std::string& header, std::size_t data_size) {
  std::vector<std::byte> out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<std::byte>((header.size() >> (8 * i)) & 0xFF));
  for (char c : header) out.push_back(static_cast<std::byte>(c));
  out.resize(out.size() + data_size);
  return out;
}

void expect_error(const std::vector<std::byte>& bytes, const std::string& fragment) {
  try {
    (void)parse(bytes);
    BOOST_ERROR("parsing succeeded, but an error mentioning '" << fragment << "' was expected");
  } catch (const gift::error& e) {
    BOOST_TEST(std::string(e.what()).find(fragment) != std::string::npos, "'" << e.what() << "' lacks '" << fragment << "'");
  }
}

// The values shared with safetensors_reference.py (see expected() there).
gift::matrix<float> shared_weight() {
  gift::matrix<float> w(3, 5);
  for (int i = 0; i < 15; ++i) w(i / 5, i % 5) = static_cast<float>(((i * 37) % 101 - 50) / 8.0);
  return w;
}
gift::vector<float> shared_bias() {
  gift::vector<float> b(5);
  for (int i = 0; i < 5; ++i) b(i) = static_cast<float>(1.0 + i / 1000.0);
  return b;
}
gift::matrix<float> shared_norm() {
  gift::matrix<float> n(2, 3);
  for (int i = 0; i < 6; ++i) n(i / 3, i % 3) = static_cast<float>(-(i + 0.5) * 0.3);
  return n;
}

safetensors_writer shared_file() {
  safetensors_writer out;
  out.set_metadata("format", "pt");
  out.set_metadata("note", "\xc3\xbc" "n\xc3\xaf" "code \"quoted\"\n");
  out.add("layers.0.weight", shared_weight());
  out.add_vector("layers.0.bias", shared_bias(), safetensors_dtype::f16);
  out.add("norm", shared_norm(), safetensors_dtype::bf16);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(safetensors_round_trip)

BOOST_AUTO_TEST_CASE(f32_exact_f16_bf16_rounded) {
  const safetensors_file file = parse(shared_file().serialize());
  BOOST_TEST(file.data_offset() % 8 == 0u);
  BOOST_TEST(file.metadata().at("format") == "pt");
  BOOST_TEST(file.metadata().at("note") == "\xc3\xbc" "n\xc3\xaf" "code \"quoted\"\n");
  BOOST_REQUIRE(file.tensors().size() == 3u);
  BOOST_TEST(file.tensors()[0].name == "layers.0.weight");  // insertion order kept
  const auto& weight = file.tensor("layers.0.weight");
  BOOST_TEST(weight.shape == (std::vector<std::uint64_t>{3, 5}), boost::test_tools::per_element());
  BOOST_TEST((file.read_matrix("layers.0.weight") == shared_weight()));
  const auto& bias = file.tensor("layers.0.bias");
  BOOST_TEST(bias.dtype == safetensors_dtype::f16);
  BOOST_TEST(bias.shape == (std::vector<std::uint64_t>{5}), boost::test_tools::per_element());
  const auto bias_read = file.read_vector("layers.0.bias");
  for (int i = 0; i < 5; ++i) {
    const float want = gift::io::half_to_float(gift::io::float_to_half(shared_bias()(i)));
    BOOST_TEST(bias_read(i) == want);
    BOOST_TEST(std::abs(bias_read(i) - shared_bias()(i)) <= 1.0f / 2048);  // half an f16 ulp at 1..2
  }
  const auto norm_read = file.read_matrix("norm");
  for (int r = 0; r < 2; ++r) {
    for (int c = 0; c < 3; ++c) {
      BOOST_TEST(norm_read(r, c) == gift::io::bfloat16_to_float(gift::io::float_to_bfloat16(shared_norm()(r, c))));
    }
  }
}

BOOST_AUTO_TEST_CASE(column_major_and_double_inputs_are_stored_row_major) {
  Eigen::MatrixXd column_major(2, 3);
  column_major << 1, 2, 3, 4, 5, 6;
  safetensors_writer out;
  out.add("m", column_major);
  const safetensors_file file = parse(out.serialize());
  const auto data = file.tensor_data(file.tensor("m"));
  float second;
  std::memcpy(&second, data.data() + 4, 4);
  BOOST_TEST(second == 2.0f);  // row 0, column 1 comes second on disk
  BOOST_TEST((file.read_matrix("m") == column_major.cast<float>()));
}

BOOST_AUTO_TEST_CASE(empty_file_and_empty_tensor) {
  const safetensors_file empty = parse(safetensors_writer().serialize());
  BOOST_TEST(empty.tensors().empty());
  safetensors_writer out;
  out.add("nothing", gift::matrix<float>(0, 4));
  const safetensors_file file = parse(out.serialize());
  BOOST_TEST(file.read_matrix("nothing").rows() == 0);
  BOOST_TEST(file.tensor("nothing").shape == (std::vector<std::uint64_t>{0, 4}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(writer_rejects_bad_input) {
  safetensors_writer out;
  out.add("a", gift::matrix<float>::Ones(1, 1));
  BOOST_CHECK_THROW(out.add("a", gift::matrix<float>::Ones(1, 1)), gift::error);
  BOOST_CHECK_THROW(out.add("__metadata__", gift::matrix<float>::Ones(1, 1)), gift::error);
  BOOST_CHECK_THROW(out.add("b", gift::matrix<float>::Ones(1, 1), safetensors_dtype::i32), gift::error);
  BOOST_CHECK_THROW(out.add_vector("c", gift::matrix<float>::Ones(2, 2)), gift::error);
  const std::vector<float> three(3, 1.0f);
  BOOST_CHECK_THROW(out.add_values("d", {2, 2}, three), gift::error);
}

BOOST_AUTO_TEST_CASE(atomic_write_replaces_and_leaves_no_temporary) {
  namespace fs = std::filesystem;
  const fs::path folder = fs::temp_directory_path() / "gift_io_safetensors_atomic";
  fs::remove_all(folder);
  fs::create_directories(folder);
  const fs::path path = folder / "model.safetensors";
  shared_file().write(path);
  safetensors_writer second;
  second.add("only", gift::matrix<float>::Constant(1, 2, 7.0f));
  second.write(path);  // replaces
  const safetensors_file file = safetensors_file::open(path);
  BOOST_TEST(file.tensors().size() == 1u);
  BOOST_TEST(file.read_matrix("only")(0, 1) == 7.0f);
  std::size_t entries = 0;
  for ([[maybe_unused]] const auto& entry : fs::directory_iterator(folder)) ++entries;
  BOOST_TEST(entries == 1u);  // no temporary file left behind
  // A folder that does not exist: an error, and nothing is created.
  BOOST_CHECK_THROW(second.write(folder / "missing" / "x.safetensors"), gift::error);
  BOOST_TEST(!fs::exists(folder / "missing"));
  fs::remove_all(folder);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(safetensors_corruption)

BOOST_AUTO_TEST_CASE(corrupt_headers_name_the_problem) {
  expect_error({}, "needs 8 bytes");
  expect_error(std::vector<std::byte>(5), "needs 8 bytes");
  {
    auto bytes = with_header("{}", 0);
    bytes[0] = std::byte{0xFF};  // header length beyond the file
    expect_error(bytes, "header length 255 exceeds");
  }
  expect_error(with_header("[1]", 0), "JSON object starting with '{'");
  expect_error(with_header("{\"a\":", 0), "unexpected end of JSON text");
  expect_error(with_header("{\"a\" 1}", 0), "expected ':'");
  expect_error(with_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}  x", 4),
               "unexpected text after the JSON value");
  expect_error(with_header("{\"a\":{\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "unknown dtype \"F33\"");
  expect_error(with_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4), "exactly the keys dtype, shape and data_offsets");
  expect_error(with_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}", 4), "non-negative integer");
  expect_error(with_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.5],\"data_offsets\":[0,4]}}", 4), "non-negative integer");
  expect_error(with_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4), "need 8");
  expect_error(with_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,8]}}", 4), "begin <= end <= 4");
  expect_error(with_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,0]}}", 4), "begin <= end");
  expect_error(with_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 8), "trailing or missing data");
  expect_error(with_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8), "starts at data offset 4");
  expect_error(with_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                           "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "must not overlap");
  expect_error(with_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                           "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8), "duplicate tensor 'a'");
  expect_error(with_header("{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", 4),
               "overflows");
  expect_error(with_header("{\"__metadata__\":{\"k\":1}}", 0), "__metadata__ value 'k' must be a string");
  expect_error(with_header("{\"a\":\"\\ud800\"}", 0), "lone high surrogate");
  expect_error(with_header("{\"a\":\"\x01\"}", 0), "control character");
  expect_error(with_header("{\"a\":" + std::string(200, '[') + std::string(200, ']') + "}", 0), "nested deeper");
  // The offset points into the header: byte 8 is the header's first byte.
  expect_error(with_header("{\"a\":{\"dtype\":\"F33\",\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "byte offset 22");
}

BOOST_AUTO_TEST_CASE(every_truncation_throws) {
  const auto bytes = shared_file().serialize();
  for (std::size_t length = 0; length < bytes.size(); ++length) {
    std::vector<std::byte> prefix(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(length));
    BOOST_CHECK_THROW((void)parse(std::move(prefix)), gift::error);
  }
}

BOOST_AUTO_TEST_CASE(random_mutations_never_crash) {
  const auto good = shared_file().serialize();
  std::mt19937 rng(777);
  for (int trial = 0; trial < 3000; ++trial) {
    auto bytes = good;
    for (int f = 0; f < 1 + static_cast<int>(rng() % 3); ++f) bytes[rng() % bytes.size()] = static_cast<std::byte>(rng() & 0xFF);
    try {
      const safetensors_file file = parse(std::move(bytes));
      for (const auto& info : file.tensors()) {
        try {
          BOOST_TEST(static_cast<std::uint64_t>(file.read_vector(info.name).size()) == info.element_count);
        } catch (const gift::error&) {
        }
      }
    } catch (const gift::error&) {
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

// Run separately (ctest io_safetensors_python): needs the file written by the Python fixture, and
// leaves a file for the Python check that runs after it.
BOOST_AUTO_TEST_SUITE(python_crosscheck)

BOOST_AUTO_TEST_CASE(read_the_python_file_and_write_ours) {
  const auto dir = gift_test::reference_dir();
  gift_test::require_files_or_skip({dir / "python_written.safetensors"},
                                   "Run through ctest (fixture io_safetensors_python_write) with numpy installed.");
  const safetensors_file file = safetensors_file::open(dir / "python_written.safetensors");
  BOOST_TEST(file.metadata().at("note") == "\xc3\xbc" "n\xc3\xaf" "code \"quoted\"\n");
  BOOST_TEST(file.tensors().size() == 5u);
  BOOST_TEST((file.read_matrix("layers.0.weight") == shared_weight()));
  const auto bias = file.read_vector("layers.0.bias");
  for (int i = 0; i < 5; ++i) BOOST_TEST(bias(i) == gift::io::half_to_float(gift::io::float_to_half(shared_bias()(i))));
  const auto norm = file.read_matrix("norm");
  for (int i = 0; i < 6; ++i) {
    BOOST_TEST(norm(i / 3, i % 3) == gift::io::bfloat16_to_float(gift::io::float_to_bfloat16(shared_norm()(i / 3, i % 3))));
  }
  const auto& steps = file.tensor("steps");  // listed, not converted
  BOOST_TEST(steps.dtype == safetensors_dtype::i64);
  BOOST_CHECK_THROW((void)file.read_vector("steps"), gift::error);
  const auto& scalar = file.tensor("scalar");
  BOOST_TEST(scalar.shape.empty());
  BOOST_TEST(file.read_matrix("scalar")(0, 0) == 42.0f);

  shared_file().write(dir / "cpp_written.safetensors");  // checked by io_safetensors_python_check
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END()  // io_safetensors
