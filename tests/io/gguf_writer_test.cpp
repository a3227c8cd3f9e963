// The GGUF writer: what it writes, gift's reader reads back (metadata of every type, tensors of
// every writable type, alignment); Q8_0 against a hand-computed block; bad input refused; and
// (suite python_crosscheck, its own ctest test) a file that gguf_writer_reference.py checks
// with PyPI `gguf`: values, and Q8_0/F16/BF16 bytes equal to gguf's own quantizers.
#include <boost/test/unit_test.hpp>

#include "expect_error.hpp"

#include <gift/io/gguf.hpp>
#include <gift/io/gguf_writer.hpp>

#include "reference_files.hpp"

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

// Every case of this file belongs to the CTest test io_gguf_writer (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(io_gguf_writer)

using gift::io::ggml_type;
using gift::io::gguf_file;
using gift::io::gguf_value;
using gift::io::gguf_value_type;
using gift::io::gguf_writer;

namespace {

gguf_file parse(const gguf_writer& writer) {
  return gguf_file::parse(gift::io::mapped_file::from_bytes(writer.serialize(), "written.gguf"));
}

// Values with a spread of magnitudes, exact halves of Q8_0 steps and signed zeros.
gift::matrix<float> sample(Eigen::Index rows, Eigen::Index cols, float scale) {
  gift::matrix<float> m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) {
    const auto k = static_cast<double>(i);
    m.data()[i] = static_cast<float>(scale * std::sin(0.37 * k + 0.1) * (1.0 + (i % 7 == 0 ? 9.0 : 0.0)));
  }
  m(0, 1) = -0.0f;
  return m;
}

using gift_test::expect_error;

// The file the Python check reads: every writable type of the same values, plus metadata.
gguf_writer shared_file() {
  gguf_writer out;
  out.set_string("general.architecture", "llama");
  out.set("test.u8", gguf_value::make(std::uint8_t{200}));
  out.set("test.i8", gguf_value::make(std::int8_t{-100}));
  out.set("test.u16", gguf_value::make(std::uint16_t{60000}));
  out.set("test.i16", gguf_value::make(std::int16_t{-30000}));
  out.set("test.u32", gguf_value::make(std::uint32_t{4000000000u}));
  out.set("test.i32", gguf_value::make(std::int32_t{-2000000000}));
  out.set("test.f32", gguf_value::make(0.1f));
  out.set("test.u64", gguf_value::make(std::uint64_t{18000000000000000000ull}));
  out.set("test.i64", gguf_value::make(std::int64_t{-9000000000000000000ll}));
  out.set("test.f64", gguf_value::make(-1.0 / 3.0));
  out.set("test.bool", gguf_value::make(true));
  out.set_string("test.string", "h\xc3\xa9llo \xe2\x9c\x93");
  out.set_strings("test.strings", {"a", "", "Ġthe"});
  out.set_array<std::int32_t>("test.ints", {1, -2, 3});
  const gift::matrix<float> m = sample(3, 64, 0.5f);
  out.add_tensor("m.f32", m, ggml_type::f32);
  out.add_tensor("m.f16", m, ggml_type::f16);
  out.add_tensor("m.bf16", m, ggml_type::bf16);
  out.add_tensor("m.q8_0", m, ggml_type::q8_0);
  gift::vector<float> v(5);
  v << 1.0f, -2.5f, 3.25f, 1e-3f, 7.0f;
  out.add_vector("v.f32", v);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(gguf_writer_round_trip)

BOOST_AUTO_TEST_CASE(metadata_of_every_type_reads_back) {
  const gguf_file file = parse(shared_file());
  BOOST_TEST(file.version() == 3u);
  BOOST_TEST(file.metadata("general.architecture").as_string() == "llama");
  BOOST_TEST(file.metadata("test.u8").get<std::uint8_t>() == 200);
  BOOST_TEST(file.metadata("test.i8").get<std::int8_t>() == -100);
  BOOST_TEST(file.metadata("test.u16").get<std::uint16_t>() == 60000);
  BOOST_TEST(file.metadata("test.i16").get<std::int16_t>() == -30000);
  BOOST_TEST(file.metadata("test.u32").get<std::uint32_t>() == 4000000000u);
  BOOST_TEST(file.metadata("test.i32").get<std::int32_t>() == -2000000000);
  BOOST_TEST(file.metadata("test.f32").get<float>() == 0.1f);
  BOOST_TEST(file.metadata("test.u64").get<std::uint64_t>() == 18000000000000000000ull);
  BOOST_TEST(file.metadata("test.i64").get<std::int64_t>() == -9000000000000000000ll);
  BOOST_TEST(file.metadata("test.f64").get<double>() == -1.0 / 3.0);
  BOOST_TEST(file.metadata("test.bool").as_bool());
  BOOST_TEST(file.metadata("test.string").as_string() == "h\xc3\xa9llo \xe2\x9c\x93");
  const std::vector<std::string> strings = file.metadata("test.strings").array_of<std::string>();
  BOOST_TEST((strings == std::vector<std::string>{"a", "", "Ġthe"}));
  const std::vector<std::int32_t> ints = file.metadata("test.ints").array_of<std::int32_t>();
  BOOST_TEST((ints == std::vector<std::int32_t>{1, -2, 3}));
  BOOST_TEST(file.metadata().size() == 15u);
}

BOOST_AUTO_TEST_CASE(tensors_read_back_per_type) {
  const gift::matrix<float> m = sample(3, 64, 0.5f);
  const gguf_file file = parse(shared_file());
  BOOST_TEST(file.tensor("m.f32").shape == (std::vector<std::uint64_t>{64, 3}));
  BOOST_TEST(file.tensor("m.q8_0").type == ggml_type::q8_0);
  for (const auto& info : file.tensors()) BOOST_TEST(info.file_offset % 32 == 0u, info.name);
  const gift::matrix<float> f32 = file.dequantize("m.f32");
  BOOST_TEST((f32.array() == m.array()).all());
  BOOST_TEST(std::signbit(f32(0, 1)));  // -0 kept
  const gift::matrix<float> f16 = file.dequantize("m.f16");
  const gift::matrix<float> bf16 = file.dequantize("m.bf16");
  for (Eigen::Index i = 0; i < m.size(); ++i) {
    BOOST_TEST(f16.data()[i] == gift::io::half_to_float(gift::io::float_to_half(m.data()[i])));
    BOOST_TEST(bf16.data()[i] == gift::io::bfloat16_to_float(gift::io::float_to_bfloat16(m.data()[i])));
  }
  // Q8_0: each value within half a step of its block's scale (plus the scale's fp16 rounding).
  const gift::matrix<float> q8 = file.dequantize("m.q8_0");
  for (Eigen::Index r = 0; r < m.rows(); ++r) {
    for (Eigen::Index b = 0; b < m.cols(); b += 32) {
      const float largest = m.row(r).segment(b, 32).cwiseAbs().maxCoeff();
      const double step = largest / 127.0;
      for (Eigen::Index j = b; j < b + 32; ++j)
        BOOST_TEST(std::abs(static_cast<double>(q8(r, j)) - m(r, j)) <= 0.5 * step + 1e-3 * largest);
    }
  }
  BOOST_TEST((file.dequantize_vector("v.f32").array() == (gift::vector<float>(5) << 1.0f, -2.5f, 3.25f, 1e-3f, 7.0f).finished().array()).all());
}

BOOST_AUTO_TEST_CASE(q8_0_block_by_hand) {
  // max |x| = 127 gives d = 1 exactly: codes are the rounded values, halves away from zero.
  std::vector<float> values(32, 0.0f);
  values[0] = 127.0f;
  values[1] = 2.5f;
  values[2] = -2.5f;
  values[3] = 0.49f;
  values[4] = -126.6f;
  std::vector<std::byte> bytes;
  gift::io::encode_ggml(ggml_type::q8_0, values, bytes);
  BOOST_TEST_REQUIRE(bytes.size() == 34u);
  BOOST_TEST(std::to_integer<unsigned>(bytes[0]) == 0x00u);  // fp16 1.0 = 0x3C00, little-endian
  BOOST_TEST(std::to_integer<unsigned>(bytes[1]) == 0x3Cu);
  const auto code = [&](int j) { return static_cast<std::int8_t>(std::to_integer<unsigned>(bytes[2 + static_cast<std::size_t>(j)])); };
  BOOST_TEST(code(0) == 127);
  BOOST_TEST(code(1) == 3);
  BOOST_TEST(code(2) == -3);
  BOOST_TEST(code(3) == 0);
  BOOST_TEST(code(4) == -127);
  // An all-zero block has scale 0 and codes 0.
  bytes.clear();
  gift::io::encode_ggml(ggml_type::q8_0, std::vector<float>(32, 0.0f), bytes);
  for (const auto b : bytes) BOOST_TEST(std::to_integer<unsigned>(b) == 0u);
}

BOOST_AUTO_TEST_CASE(alignment_other_than_32_is_stored_and_honoured) {
  gguf_writer out;
  out.set_alignment(64);
  out.add_tensor("a", sample(1, 3, 1.0f));
  out.add_tensor("b", sample(2, 5, 1.0f));
  const gguf_file file = parse(out);
  BOOST_TEST(file.alignment() == 64u);
  for (const auto& info : file.tensors()) BOOST_TEST(info.file_offset % 64 == 0u);
  BOOST_TEST((file.dequantize("b").array() == sample(2, 5, 1.0f).array()).all());
}

BOOST_AUTO_TEST_CASE(replacing_a_key_keeps_one_entry) {
  gguf_writer out;
  out.set_string("k", "first");
  out.set_string("other", "x");
  out.set_string("k", "second");
  const gguf_file file = parse(out);
  BOOST_TEST(file.metadata().size() == 2u);
  BOOST_TEST(file.metadata().front().key == "k");
  BOOST_TEST(file.metadata("k").as_string() == "second");
}

BOOST_AUTO_TEST_CASE(bad_input_is_refused) {
  gguf_writer out;
  gift::matrix<float> bad = sample(2, 32, 1.0f);
  bad(1, 7) = std::numeric_limits<float>::quiet_NaN();
  expect_error([&] { out.add_tensor("bad", bad); }, "value 39 is nan");
  bad(1, 7) = std::numeric_limits<float>::infinity();
  expect_error([&] { out.add_tensor("bad", bad, ggml_type::q8_0); }, "finite");
  expect_error([&] { out.add_tensor("odd", sample(2, 31, 1.0f), ggml_type::q8_0); }, "whole number of Q8_0 blocks");
  expect_error([&] { out.add_tensor("q4", sample(2, 32, 1.0f), ggml_type::q4_1); }, "Q4_1 cannot be written");
  out.add_tensor("once", sample(1, 2, 1.0f));
  expect_error([&] { out.add_tensor("once", sample(1, 2, 1.0f)); }, "added twice");
  expect_error([&] { out.set_alignment(48); }, "power of two");
  expect_error([&] { out.set("", gguf_value::make(1.0f)); }, "must not be empty");
  std::vector<gguf_value> mixed{gguf_value::make(std::int32_t{1}), gguf_value::make(2.0f)};
  expect_error([&] { out.set("mixed", gguf_value::make(std::move(mixed), gguf_value_type::int32)); },
               "array of int32, but holds a float32");
  expect_error([&] { out.add_raw("raw", ggml_type::f16, {4}, std::vector<std::byte>(6)); }, "need 8");
}

BOOST_AUTO_TEST_CASE(atomic_write_leaves_no_temporary) {
  const auto folder = std::filesystem::temp_directory_path() / "gift_gguf_writer_test";
  std::filesystem::remove_all(folder);
  std::filesystem::create_directories(folder);
  shared_file().write(folder / "x.gguf");
  BOOST_TEST(gguf_file::open(folder / "x.gguf").tensors().size() == 5u);
  int entries = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(folder)) ++entries;
  BOOST_TEST(entries == 1);
  std::filesystem::remove_all(folder);
}

BOOST_AUTO_TEST_SUITE_END()

// Run separately (ctest io_gguf_writer_python): writes the file gguf_writer_reference.py checks.
BOOST_AUTO_TEST_SUITE(python_crosscheck)

BOOST_AUTO_TEST_CASE(write_the_file_for_pypi_gguf) {
  const auto dir = gift_test::reference_dir();
  BOOST_TEST_REQUIRE(!dir.empty(), "GIFT_IO_REFERENCE_DIR is not set; run through ctest");
  std::filesystem::create_directories(dir);
  shared_file().write(dir / "cpp_written.gguf");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END()  // io_gguf_writer
