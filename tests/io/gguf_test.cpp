// GGUF reader on hand-written files: every value type, v2 and v3, alignment, each dequantized
// type against hand-computed values, and corrupt or truncated files (every prefix length).
#include <boost/test/unit_test.hpp>

#include <gift/io/gguf.hpp>

#include "gguf_builder.hpp"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <bit>
#include <limits>
#include <random>
#include <string>
#include <vector>

// Every case of this file belongs to the CTest test io_gguf (tests/CMakeLists.txt: gift_add_test).
BOOST_AUTO_TEST_SUITE(io_gguf)

using gift::io::ggml_type;
using gift::io::gguf_file;
using gift::io::gguf_value_type;
using gift_test::byte_writer;
using gift_test::tensor_spec;

namespace {

gguf_file parse(std::vector<std::byte> bytes) {
  return gguf_file::parse(gift::io::mapped_file::from_bytes(std::move(bytes), "test.gguf"));
}

// Expects parsing to throw gift::error whose message contains every fragment.
void expect_error(std::vector<std::byte> bytes, std::initializer_list<std::string> fragments) {
  try {
    (void)parse(std::move(bytes));
    BOOST_ERROR("parsing succeeded, but an error mentioning '" << *fragments.begin() << "' was expected");
  } catch (const gift::error& e) {
    const std::string message = e.what();
    for (const auto& fragment : fragments) {
      BOOST_TEST(message.find(fragment) != std::string::npos, "'" << message << "' lacks '" << fragment << "'");
    }
  }
}

std::vector<std::uint8_t> half_bytes(std::uint16_t bits) {
  return {static_cast<std::uint8_t>(bits & 0xFF), static_cast<std::uint8_t>(bits >> 8)};
}

// A file with just one tensor and no metadata.
std::vector<std::byte> single_tensor(std::uint32_t type, std::vector<std::uint64_t> shape, std::vector<std::uint8_t> data) {
  return gift_test::build_gguf(3, 0, [](byte_writer&) {}, {tensor_spec{"t", type, std::move(shape), std::move(data)}});
}

// Patch helper: overwrite bytes at `offset` with the little-endian `value`.
template <class T>
void patch(std::vector<std::byte>& bytes, std::size_t offset, T value) {
  std::uint64_t bits = 0;
  std::memcpy(&bits, &value, sizeof(T));
  for (std::size_t i = 0; i < sizeof(T); ++i) bytes[offset + i] = static_cast<std::byte>((bits >> (8 * i)) & 0xFF);
}

// Offset of the first occurrence of `needle` (a key or tensor name) in the file.
std::size_t find(const std::vector<std::byte>& bytes, std::string_view needle) {
  for (std::size_t i = 0; i + needle.size() <= bytes.size(); ++i) {
    if (std::memcmp(bytes.data() + i, needle.data(), needle.size()) == 0) return i;
  }
  throw std::runtime_error("needle not found");
}

}  // namespace

BOOST_AUTO_TEST_SUITE(half_precision)

BOOST_AUTO_TEST_CASE(every_half_widens_exactly_and_round_trips) {
  for (std::uint32_t bits = 0; bits < 65536; ++bits) {
    const auto h = static_cast<std::uint16_t>(bits);
    const float value = gift::io::half_to_float(h);
    // Double-precision reference straight from the definition of binary16.
    const int exponent = (bits >> 10) & 0x1F;
    const int mantissa = bits & 0x3FF;
    const double sign = (bits & 0x8000) ? -1.0 : 1.0;
    double expected;
    if (exponent == 0) expected = sign * std::ldexp(mantissa, -24);
    else if (exponent == 31) expected = mantissa ? std::numeric_limits<double>::quiet_NaN() : sign * INFINITY;
    else expected = sign * std::ldexp(1024 + mantissa, exponent - 25);
    if (std::isnan(expected)) {
      BOOST_TEST(std::isnan(value));
      BOOST_TEST(std::isnan(gift::io::half_to_float(gift::io::float_to_half(value))));
    } else {
      BOOST_TEST(static_cast<double>(value) == expected);
      BOOST_TEST(gift::io::float_to_half(value) == h);
    }
  }
}

BOOST_AUTO_TEST_CASE(half_rounds_to_nearest_even) {
  using gift::io::float_to_half;
  BOOST_TEST(float_to_half(1.0f + std::ldexp(1.0f, -11)) == 0x3C00);      // tie, even stays
  BOOST_TEST(float_to_half(1.0f + 3 * std::ldexp(1.0f, -11)) == 0x3C02);  // tie, odd rounds up
  BOOST_TEST(float_to_half(1.0f + std::ldexp(1.0f, -11) + std::ldexp(1.0f, -20)) == 0x3C01);
  BOOST_TEST(float_to_half(65504.0f) == 0x7BFF);
  BOOST_TEST(float_to_half(65520.0f) == 0x7C00);  // halfway to the next binade: overflows to inf
  BOOST_TEST(float_to_half(1e10f) == 0x7C00);
  BOOST_TEST(float_to_half(-1e10f) == 0xFC00);
  BOOST_TEST(float_to_half(std::ldexp(1.0f, -25)) == 0x0000);               // tie to even zero
  BOOST_TEST(float_to_half(std::ldexp(1.0f, -25) * 1.5f) == 0x0001);
  BOOST_TEST(float_to_half(std::ldexp(3.0f, -25)) == 0x0002);              // 1.5 ulp: tie to even 2
  BOOST_TEST(float_to_half(-0.0f) == 0x8000);
}

BOOST_AUTO_TEST_CASE(bfloat16_conversions) {
  using gift::io::bfloat16_to_float;
  using gift::io::float_to_bfloat16;
  BOOST_TEST(bfloat16_to_float(0x3F80) == 1.0f);
  BOOST_TEST(bfloat16_to_float(0xC0A0) == -5.0f);
  BOOST_TEST(float_to_bfloat16(1.0f + std::ldexp(1.0f, -8)) == 0x3F80);      // tie to even
  BOOST_TEST(float_to_bfloat16(1.0f + 3 * std::ldexp(1.0f, -8)) == 0x3F82);
  BOOST_TEST(float_to_bfloat16(1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20)) == 0x3F81);
  BOOST_TEST(std::isnan(bfloat16_to_float(float_to_bfloat16(std::numeric_limits<float>::quiet_NaN()))));
  for (std::uint32_t bits = 0; bits < 65536; ++bits) {  // every finite bfloat16 round-trips
    const auto b = static_cast<std::uint16_t>(bits);
    const float value = bfloat16_to_float(b);
    if (!std::isnan(value)) BOOST_TEST(float_to_bfloat16(value) == b);
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(gguf_metadata)

BOOST_AUTO_TEST_CASE(every_value_type_in_v3_and_v2) {
  for (std::uint32_t version : {2u, 3u}) {
    BOOST_TEST_CONTEXT("version " << version) {
      const gguf_file file = parse(gift_test::small_valid_gguf(version));
      BOOST_TEST(file.version() == version);
      BOOST_TEST(file.metadata().size() == 15u);
      BOOST_TEST(file.metadata("general.architecture").as_string() == "llama");
      BOOST_TEST(file.metadata("a.u8").get<std::uint8_t>() == 250);
      BOOST_TEST(file.metadata("a.i8").get<std::int8_t>() == -128);
      BOOST_TEST(file.metadata("a.u16").get<std::uint16_t>() == 65535);
      BOOST_TEST(file.metadata("a.i16").get<std::int16_t>() == -2);
      BOOST_TEST(file.metadata("a.u32").get<std::uint32_t>() == 4294967295u);
      BOOST_TEST(file.metadata("a.i32").get<std::int32_t>() == std::numeric_limits<std::int32_t>::min());
      BOOST_TEST(file.metadata("a.f32").get<float>() == 1.5f);
      BOOST_TEST(file.metadata("a.bool").as_bool() == true);
      BOOST_TEST(file.metadata("a.u64").get<std::uint64_t>() == ~0ull);
      BOOST_TEST(file.metadata("a.i64").get<std::int64_t>() == std::numeric_limits<std::int64_t>::min());
      BOOST_TEST(file.metadata("a.f64").get<double>() == -0.1);
      BOOST_TEST(file.metadata("a.empty").as_string().empty());

      const auto strings = file.metadata("a.strings").array_of<std::string>();
      BOOST_TEST(strings == (std::vector<std::string>{"x", "", "h\xc3\xa9"}), boost::test_tools::per_element());
      const auto& nested = file.metadata("a.nested");
      BOOST_TEST(nested.element_type() == gguf_value_type::array);
      BOOST_REQUIRE(nested.size() == 2u);
      BOOST_TEST(nested.as_array()[0].element_type() == gguf_value_type::int16);
      BOOST_TEST(nested.as_array()[0].array_of<std::int16_t>() == (std::vector<std::int16_t>{7, -7}),
                 boost::test_tools::per_element());
      BOOST_TEST(nested.as_array()[1].element_type() == gguf_value_type::uint8);
      BOOST_TEST(nested.as_array()[1].size() == 0u);

      // Order is the file's order.
      BOOST_TEST(file.metadata()[1].key == "a.u8");
      BOOST_TEST(file.metadata()[1].value.key() == "a.u8");
    }
  }
}

BOOST_AUTO_TEST_CASE(conversions_and_type_errors) {
  const gguf_file file = parse(gift_test::small_valid_gguf());
  BOOST_TEST(file.metadata("a.u8").as_int() == 250);
  BOOST_TEST(file.metadata("a.i16").as_int() == -2);
  BOOST_TEST(file.metadata("a.u32").as_uint() == 4294967295u);
  BOOST_TEST(file.metadata("a.u64").as_uint() == ~0ull);
  BOOST_TEST(file.metadata("a.i32").as_float() == -2147483648.0);
  BOOST_TEST(file.metadata("a.f32").as_float() == 1.5);
  BOOST_CHECK_THROW((void)file.metadata("a.u64").as_int(), gift::error);    // above INT64_MAX
  BOOST_CHECK_THROW((void)file.metadata("a.i16").as_uint(), gift::error);   // negative
  BOOST_CHECK_THROW((void)file.metadata("a.f32").as_int(), gift::error);
  BOOST_CHECK_THROW((void)file.metadata("a.bool").as_float(), gift::error);
  BOOST_CHECK_THROW((void)file.metadata("a.strings").array_of<std::int32_t>(), gift::error);
  BOOST_CHECK_THROW((void)file.metadata("missing.key"), gift::error);
  BOOST_TEST(file.find_metadata("missing.key") == nullptr);
  BOOST_TEST(file.has_metadata("a.u16"));
  try {
    (void)file.metadata("a.u32").get<std::uint64_t>();
    BOOST_ERROR("get<uint64_t> on a uint32 must throw");
  } catch (const gift::error& e) {
    const std::string message = e.what();
    BOOST_TEST(message.find("'a.u32'") != std::string::npos);
    BOOST_TEST(message.find("uint32") != std::string::npos);
  }
  BOOST_TEST(file.metadata("a.strings").to_string() == "string[3] {\"x\", \"\", \"h\xc3\xa9\"}");
  BOOST_TEST(file.metadata("a.nested").to_string() == "array[2] {int16[2] {7, -7}, uint8[0] {}}");
}

BOOST_AUTO_TEST_CASE(tensor_infos_alignment_and_data_offset) {
  const auto bytes = gift_test::small_valid_gguf();
  const gguf_file file = parse(bytes);
  BOOST_TEST(file.alignment() == 32u);
  BOOST_TEST(file.data_offset() % 32 == 0u);
  BOOST_REQUIRE(file.tensors().size() == 2u);
  const auto& vec = file.tensor("vec");
  BOOST_TEST(vec.type == ggml_type::f32);
  BOOST_TEST(vec.shape == (std::vector<std::uint64_t>{4}), boost::test_tools::per_element());
  BOOST_TEST(vec.offset == 0u);
  BOOST_TEST(vec.file_offset == file.data_offset());
  BOOST_TEST(vec.byte_size == 16u);
  const auto& mat = file.tensor("mat");
  BOOST_TEST(mat.offset == 32u);  // 16 bytes padded to the alignment
  BOOST_TEST(mat.byte_size == 34u);
  BOOST_TEST(mat.rows() == 1u);
  BOOST_TEST(mat.columns() == 32u);
  BOOST_TEST(file.data_offset() + 32 + 34 == bytes.size());
  BOOST_CHECK_THROW((void)file.tensor("nope"), gift::error);

  // A declared alignment moves the data section and the offsets.
  std::vector<std::uint8_t> data(8, 0);
  const auto aligned = gift_test::build_gguf(
      3, 1, [](byte_writer& w) { w.str("general.alignment"); w.u32(gift_test::t_u32); w.u32(256); },
      {tensor_spec{"a", 0, {2}, data}, tensor_spec{"b", 0, {2}, data}}, 256);
  const gguf_file file256 = parse(aligned);
  BOOST_TEST(file256.alignment() == 256u);
  BOOST_TEST(file256.data_offset() == 256u);
  BOOST_TEST(file256.tensor("b").offset == 256u);
  BOOST_TEST(file256.tensor("b").file_offset == 512u);

  // Data regions that overlap are refused, naming both tensors (two 8-byte tensors both
  // declared at data offset 0).
  const auto overlapping = gift_test::build_gguf(
      3, 0, [](byte_writer&) {}, {tensor_spec{"a", 0, {2}, data}, tensor_spec{"b", 0, {2}, data, 0}}, 32);
  BOOST_CHECK_EXCEPTION((void)parse(overlapping), gift::error, [](const gift::error& e) {
    const std::string what = e.what();
    return what.find("'b' data") != std::string::npos && what.find("overlap 'a'") != std::string::npos;
  });
}

BOOST_AUTO_TEST_CASE(open_reads_a_file_from_disk) {
  const auto path = std::filesystem::temp_directory_path() / "gift_io_gguf_open_test.gguf";
  const auto bytes = gift_test::small_valid_gguf();
  {
    std::ofstream out(path, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  }
  const gguf_file file = gguf_file::open(path);
  BOOST_TEST(file.file_size() == bytes.size());
  BOOST_TEST(file.dequantize_vector("vec")(1) == -2.5f);
  std::filesystem::remove(path);
  BOOST_CHECK_THROW((void)gguf_file::open(path), gift::error);  // gone now
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(gguf_dequantize)

BOOST_AUTO_TEST_CASE(f32_f16_bf16) {
  std::vector<std::uint8_t> f32;
  for (float v : {1.5f, -2.0f, 0.25f, 1e-30f}) {
    const auto bits = std::bit_cast<std::uint32_t>(v);
    for (int i = 0; i < 4; ++i) f32.push_back(static_cast<std::uint8_t>(bits >> (8 * i)));
  }
  const auto m32 = parse(single_tensor(0, {2, 2}, f32)).dequantize("t");
  BOOST_TEST(m32.rows() == 2);
  BOOST_TEST(m32(0, 0) == 1.5f);
  BOOST_TEST(m32(0, 1) == -2.0f);
  BOOST_TEST(m32(1, 0) == 0.25f);
  BOOST_TEST(m32(1, 1) == 1e-30f);

  std::vector<std::uint8_t> f16;
  for (std::uint16_t bits : {0x3C00, 0xC000, 0x3555, 0x0001, 0x7BFF, 0xFC00}) {
    for (auto b : half_bytes(bits)) f16.push_back(b);
  }
  const auto v16 = parse(single_tensor(1, {6}, f16)).dequantize_vector("t");
  BOOST_TEST(v16(0) == 1.0f);
  BOOST_TEST(v16(1) == -2.0f);
  BOOST_TEST(v16(2) == 0.333251953125f);  // 0x3555 = 1 + 341/1024, times 2^-2
  BOOST_TEST(v16(3) == std::ldexp(1.0f, -24));
  BOOST_TEST(v16(4) == 65504.0f);
  BOOST_TEST(v16(5) == -INFINITY);

  std::vector<std::uint8_t> bf16;
  for (std::uint16_t bits : {0x3F80, 0xC0A0, 0x3E20}) {
    for (auto b : half_bytes(bits)) bf16.push_back(b);
  }
  const auto vb = parse(single_tensor(30, {3}, bf16)).dequantize("t");
  BOOST_TEST(vb.rows() == 1);
  BOOST_TEST(vb(0, 0) == 1.0f);
  BOOST_TEST(vb(0, 1) == -5.0f);
  BOOST_TEST(vb(0, 2) == 0.15625f);
}

BOOST_AUTO_TEST_CASE(q4_0) {
  // d = 0.5; byte j holds value j in its low nibble and value 15 - j in its high nibble.
  std::vector<std::uint8_t> block = half_bytes(0x3800);
  for (int j = 0; j < 16; ++j) block.push_back(static_cast<std::uint8_t>(j | ((15 - j) << 4)));
  const auto v = parse(single_tensor(2, {32}, block)).dequantize_vector("t");
  for (int j = 0; j < 16; ++j) {
    BOOST_TEST(v(j) == 0.5f * static_cast<float>(j - 8));        // -4 .. 3.5
    BOOST_TEST(v(j + 16) == 0.5f * static_cast<float>(7 - j));   // 3.5 .. -4
  }
}

BOOST_AUTO_TEST_CASE(q4_1) {
  // d = 0.25, m = -1: value = 0.25 * nibble - 1.
  std::vector<std::uint8_t> block = half_bytes(0x3400);
  for (auto b : half_bytes(0xBC00)) block.push_back(b);
  for (int j = 0; j < 16; ++j) block.push_back(static_cast<std::uint8_t>(j | ((15 - j) << 4)));
  const auto v = parse(single_tensor(3, {32}, block)).dequantize_vector("t");
  BOOST_TEST(v(0) == -1.0f);
  BOOST_TEST(v(15) == 2.75f);
  BOOST_TEST(v(16) == 2.75f);
  BOOST_TEST(v(31) == -1.0f);
  BOOST_TEST(v(5) == 0.25f);
}

BOOST_AUTO_TEST_CASE(q8_0_in_a_two_row_matrix) {
  // Row r: d = 2^r; values j - 16 except the extremes -128 and 127 at the ends.
  std::vector<std::uint8_t> data;
  for (int r = 0; r < 2; ++r) {
    for (auto b : half_bytes(r == 0 ? 0x3C00 : 0x4000)) data.push_back(b);
    for (int j = 0; j < 32; ++j) {
      const int q = j == 0 ? -128 : j == 31 ? 127 : j - 16;
      data.push_back(static_cast<std::uint8_t>(q & 0xFF));
    }
  }
  const auto m = parse(single_tensor(8, {32, 2}, data)).dequantize("t");
  BOOST_TEST(m.rows() == 2);
  BOOST_TEST(m.cols() == 32);
  BOOST_TEST(m(0, 0) == -128.0f);
  BOOST_TEST(m(0, 31) == 127.0f);
  BOOST_TEST(m(0, 5) == -11.0f);
  BOOST_TEST(m(1, 0) == -256.0f);
  BOOST_TEST(m(1, 20) == 8.0f);
}

BOOST_AUTO_TEST_CASE(q6_k) {
  // A block with distinct low bits, high bits and scales everywhere; the expected values follow
  // the documented layout written independently, index by index, in double precision.
  std::vector<std::uint8_t> block(210);
  for (int i = 0; i < 128; ++i) block[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>((i * 37 + 11) & 0xFF);     // ql
  for (int i = 0; i < 64; ++i) block[static_cast<std::size_t>(128 + i)] = static_cast<std::uint8_t>((i * 101 + 7) & 0xFF); // qh
  for (int i = 0; i < 16; ++i) block[static_cast<std::size_t>(192 + i)] = static_cast<std::uint8_t>((i * 13 - 100) & 0xFF); // scales
  block[208] = 0x00;  // d = 0.125 (0x3000)
  block[209] = 0x30;
  const auto v = parse(single_tensor(14, {256}, block)).dequantize_vector("t");
  for (int index = 0; index < 256; ++index) {
    const int half = index / 128, within = index % 128, quarter = within / 32, lane = within % 32;
    const int low_byte = block[static_cast<std::size_t>(64 * half + lane + 32 * (quarter % 2))];
    const int low = quarter < 2 ? (low_byte & 0xF) : (low_byte >> 4);
    const int high = (block[static_cast<std::size_t>(128 + 32 * half + lane)] >> (2 * quarter)) & 3;
    const int scale = static_cast<std::int8_t>(block[static_cast<std::size_t>(192 + index / 16)]);
    const double expected = 0.125 * scale * ((low | (high << 4)) - 32);
    BOOST_TEST(static_cast<double>(v(index)) == expected, "index " << index);
  }
  // One value by hand: index 0 uses ql[0] = 11 (low nibble 11), qh[0] = 7 (bits 0-1 = 3),
  // scales[0] = -100: q = 11 + 48 - 32 = 27, value = 0.125 * -100 * 27 = -337.5.
  BOOST_TEST(v(0) == -337.5f);
}

BOOST_AUTO_TEST_CASE(unsupported_types_throw_on_dequantize_only) {
  const gguf_file file = parse(single_tensor(12, {256}, std::vector<std::uint8_t>(144, 0)));  // Q4_K
  BOOST_TEST(file.tensor("t").byte_size == 144u);  // sized correctly, listed
  BOOST_CHECK_THROW((void)file.dequantize("t"), gift::error);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(gguf_corruption)

BOOST_AUTO_TEST_CASE(every_truncation_throws) {
  const auto bytes = gift_test::small_valid_gguf();
  BOOST_REQUIRE_NO_THROW((void)parse(bytes));
  for (std::size_t length = 0; length < bytes.size(); ++length) {
    std::vector<std::byte> prefix(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(length));
    BOOST_CHECK_THROW((void)parse(std::move(prefix)), gift::error);
  }
}

BOOST_AUTO_TEST_CASE(messages_name_offset_and_field) {
  const auto good = gift_test::small_valid_gguf();
  {
    auto bytes = good;
    bytes.resize(10);
    expect_error(bytes, {"byte offset 8", "header.tensor_count", "needs 8 bytes but only 2 remain"});
  }
  {
    auto bytes = good;
    bytes[0] = std::byte{'P'};
    expect_error(bytes, {"byte offset 0", "header.magic", "not a GGUF file"});
  }
  for (std::uint32_t version : {0u, 1u, 4u, 0x03000000u}) {
    auto bytes = good;
    patch(bytes, 4, version);
    expect_error(bytes, {"byte offset 4", "header.version", "unsupported version"});
  }
  {
    auto bytes = good;
    patch(bytes, 8, std::uint64_t{1} << 40);
    expect_error(bytes, {"byte offset 8", "header.tensor_count", "cannot fit"});
  }
  {
    auto bytes = good;
    patch(bytes, 16, std::uint64_t{1} << 40);
    expect_error(bytes, {"byte offset 16", "header.metadata_kv_count", "cannot fit"});
  }
  {  // the first key's length runs past the end
    auto bytes = good;
    patch(bytes, 24, std::uint64_t{1} << 62);
    expect_error(bytes, {"byte offset 24", "metadata[0].key", "runs past the end"});
  }
  {  // the first value's string length runs past the end
    auto bytes = good;
    const std::size_t at = find(bytes, "general.architecture") + 20 + 4;
    patch(bytes, at, ~std::uint64_t{0});
    expect_error(bytes, {"byte offset " + std::to_string(at), "metadata 'general.architecture'", "runs past the end"});
  }
  {  // unknown value type
    auto bytes = good;
    const std::size_t at = find(bytes, "a.u8") + 4;
    patch(bytes, at, std::uint32_t{13});
    expect_error(bytes, {"byte offset " + std::to_string(at), "metadata 'a.u8' (value type)", "unknown value type 13"});
  }
  {  // bool that is neither 0 nor 1
    auto bytes = good;
    const std::size_t at = find(bytes, "a.bool") + 6 + 4;
    patch(bytes, at, std::uint8_t{2});
    expect_error(bytes, {"byte offset " + std::to_string(at), "metadata 'a.bool'", "bool must be 0 or 1"});
  }
  {  // an array count far beyond the file
    auto bytes = good;
    const std::size_t at = find(bytes, "a.strings") + 9 + 4 + 4;
    patch(bytes, at, std::uint64_t{1} << 50);
    expect_error(bytes, {"byte offset " + std::to_string(at), "metadata 'a.strings' (array length)", "cannot fit"});
  }
  {  // a nested array element's string is cut: the field path names the element
    auto bytes = good;
    const std::size_t at = find(bytes, "a.strings") + 9 + 4 + 4 + 8 + 8 + 1;  // element [1]
    patch(bytes, at, std::uint64_t{1000});
    expect_error(bytes, {"byte offset " + std::to_string(at), "metadata 'a.strings'[1]"});
  }
  {  // duplicate key
    auto bytes = good;
    const std::size_t at = find(bytes, "a.i8");
    bytes[at + 2] = std::byte{'u'};  // "a.u8" twice
    expect_error(bytes, {"byte offset " + std::to_string(at - 8), "duplicate key 'a.u8'"});
  }
  {  // unknown tensor type
    auto bytes = good;
    const std::size_t at = find(bytes, "vec") + 3 + 4 + 8;
    patch(bytes, at, std::uint32_t{99});
    expect_error(bytes, {"byte offset " + std::to_string(at), "tensor_info[0] 'vec' type", "unknown GGML tensor type 99"});
  }
  {  // n_dims out of range
    for (std::uint32_t dims : {0u, 5u}) {
      auto bytes = good;
      const std::size_t at = find(bytes, "vec") + 3;
      patch(bytes, at, dims);
      expect_error(bytes, {"byte offset " + std::to_string(at), "tensor_info[0] 'vec' n_dims"});
    }
  }
  {  // misaligned tensor offset
    auto bytes = good;
    const std::size_t at = find(bytes, "mat") + 3 + 4 + 16 + 4;
    patch(bytes, at, std::uint64_t{33});
    expect_error(bytes, {"byte offset " + std::to_string(at), "tensor_info[1] 'mat' offset", "not a multiple of the alignment 32"});
  }
  {  // tensor data out of range
    auto bytes = good;
    const std::size_t at = find(bytes, "mat") + 3 + 4 + 16 + 4;
    patch(bytes, at, std::uint64_t{64});
    expect_error(bytes, {"tensor_info[1] 'mat' data", "run past the end of the file"});
  }
  {  // a huge offset must not wrap around
    auto bytes = good;
    const std::size_t at = find(bytes, "mat") + 3 + 4 + 16 + 4;
    patch(bytes, at, ~std::uint64_t{0} - 31);
    expect_error(bytes, {"tensor_info[1] 'mat' data", "run past the end of the file"});
  }
  {  // dimensions whose product overflows
    auto bytes = good;
    const std::size_t at = find(bytes, "mat") + 3 + 4;
    patch(bytes, at, std::uint64_t{1} << 32);
    patch(bytes, at + 8, std::uint64_t{1} << 32);
    expect_error(bytes, {"byte offset " + std::to_string(at + 8), "tensor_info[1] 'mat' ne[1]", "overflow"});
  }
  {  // a row length that is not a whole number of blocks
    auto bytes = good;
    const std::size_t at = find(bytes, "mat") + 3 + 4;
    patch(bytes, at, std::uint64_t{31});
    expect_error(bytes, {"tensor_info[1] 'mat' ne[0]", "not a multiple of the Q8_0 block size 32"});
  }
  {  // duplicate tensor name
    auto bytes = good;
    const std::size_t at = find(bytes, "mat");
    bytes[at] = std::byte{'v'};
    bytes[at + 1] = std::byte{'e'};
    bytes[at + 2] = std::byte{'c'};
    expect_error(bytes, {"byte offset " + std::to_string(at - 8), "duplicate tensor name 'vec'"});
  }
}

BOOST_AUTO_TEST_CASE(bad_alignment_values) {
  for (std::uint32_t alignment : {0u, 3u, 48u}) {
    const auto bytes = gift_test::build_gguf(
        3, 1, [&](byte_writer& w) { w.str("general.alignment"); w.u32(gift_test::t_u32); w.u32(alignment); }, {});
    expect_error(bytes, {"general.alignment", "power of two"});
  }
  const auto wrong_type = gift_test::build_gguf(
      3, 1, [](byte_writer& w) { w.str("general.alignment"); w.u32(gift_test::t_u64); w.u64(32); }, {});
  expect_error(wrong_type, {"general.alignment", "must be uint32"});
}

BOOST_AUTO_TEST_CASE(deep_nesting_is_rejected_not_recursed) {
  const auto bytes = gift_test::build_gguf(
      3, 1,
      [](byte_writer& w) {
        w.str("deep");
        w.u32(gift_test::t_array);
        for (int level = 0; level < 1000; ++level) {
          w.u32(gift_test::t_array);
          w.u64(1);
        }
        w.u32(gift_test::t_u8);
        w.u64(0);
      },
      {});
  expect_error(bytes, {"nested deeper than"});
}

BOOST_AUTO_TEST_CASE(random_mutations_never_crash) {
  // Flipped bytes anywhere: the parser either accepts the file (then every tensor decodes or
  // throws gift::error) or throws gift::error. Sanitizer builds turn any overrun into a failure.
  const auto good = gift_test::small_valid_gguf();
  std::mt19937 rng(12345);
  std::size_t accepted = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    auto bytes = good;
    const int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) {
      bytes[rng() % bytes.size()] = static_cast<std::byte>(rng() & 0xFF);
    }
    try {
      const gguf_file file = parse(std::move(bytes));
      ++accepted;
      for (const auto& info : file.tensors()) {
        try {
          const auto values = file.dequantize(info.name);
          BOOST_TEST(static_cast<std::uint64_t>(values.size()) == info.element_count);
        } catch (const gift::error&) {
        }
      }
    } catch (const gift::error&) {
    }
  }
  BOOST_TEST(accepted > 0u);  // some flips hit data bytes and must still parse
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE_END()  // io_gguf
